/*
 * kube_json_pods — the jansson adapter's reader of a label-selected core/v1
 * PodList page (what the stable-control search needs of each pod: name, the
 * hash label, phase, the Ready condition, podIP, deletionTimestamp), and of
 * an owner's spec.selector (a Rollout's, read and rendered exactly as a
 * Deployment's). Untrusted bytes: nesting checked before jansson recurses,
 * every size bounded, a wrong type anywhere refuses the page. Never does
 * I/O or logs.
 */
#include "sidecar/kube/kube_json-int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* An optional string member (absent or null: *ret NULL); no NUL, shorter than max. */
static int opt_str(json_t *obj, const char *where, const char *key, size_t max, const char **ret,
                   char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);

    *ret = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return kube_json_fail(err, errlen, "%s%s: expected a string", where, key);
    if (json_string_length(v) >= max)
        return kube_json_fail(err, errlen, "%s%s: longer than %zu bytes", where, key, max - 1);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return kube_json_fail(err, errlen, "%s%s: contains a NUL byte", where, key);
    *ret = json_string_value(v);
    return 0;
}

/* An optional object member (absent or null: *ret NULL). */
static int opt_obj(json_t *obj, const char *where, const char *key, json_t **ret, char *err,
                   size_t errlen)
{
    json_t *v = json_object_get(obj, key);

    *ret = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return kube_json_fail(err, errlen, "%s%s: expected an object", where, key);
    *ret = v;
    return 0;
}

static int pod_meta(json_t *md, const char *hash_label, struct kube_pod_brief *p, char *err,
                    size_t errlen)
{
    const char *name, *del, *k;
    json_t *labels, *v;
    int64_t t;
    int r;

    if ((r = opt_str(md, "metadata.", "name", KUBE_NAME_MAX, &name, err, errlen)) < 0)
        return r;
    if (!name || !name[0])
        return kube_json_fail(err, errlen, "metadata.name: missing");
    strcpy(p->name, name);
    if ((r = opt_str(md, "metadata.", "deletionTimestamp", KUBE_TIME_MAX, &del, err, errlen)) < 0)
        return r;
    if (del && kube_time_parse(del, &t) < 0)
        return kube_json_fail(err, errlen, "metadata.deletionTimestamp: not RFC 3339");
    p->terminating = del != NULL;
    if ((r = opt_obj(md, "metadata.", "labels", &labels, err, errlen)) < 0 || !labels)
        return r;
    if (json_object_size(labels) > KUBE_MAP_MAX)
        return kube_json_fail(err, errlen, "metadata.labels: more than %d", KUBE_MAP_MAX);
    json_object_foreach(labels, k, v)
    {
        if (!json_is_string(v))
            return kube_json_fail(err, errlen, "metadata.labels: expected strings");
    }
    if ((r = opt_str(labels, "metadata.labels.", hash_label, sizeof(p->hash), &k, err, errlen)) < 0)
        return r;
    if (k && !kube_label_value_ok(k))
        return kube_json_fail(err, errlen, "metadata.labels.%s: not a label value", hash_label);
    if (k)
        strcpy(p->hash, k);
    return 0;
}

static int pod_status(json_t *st, struct kube_pod_brief *p, char *err, size_t errlen)
{
    const char *phase, *ip;
    json_t *conds, *c;
    bool ready_true = false, ready_other = false;
    size_t i;
    int r;

    if ((r = opt_str(st, "status.", "phase", 64, &phase, err, errlen)) < 0 ||
        (r = opt_str(st, "status.", "podIP", KUBE_POD_IP_MAX, &ip, err, errlen)) < 0)
        return r;
    p->running = phase && !strcmp(phase, "Running");
    if (ip && ip[0]) {
        unsigned char a[16];

        if (inet_pton(strchr(ip, ':') ? AF_INET6 : AF_INET, ip, a) != 1)
            return kube_json_fail(err, errlen, "status.podIP: not an IP address");
        strcpy(p->ip, ip);
    }
    conds = json_object_get(st, "conditions");
    if (!conds || json_is_null(conds))
        return 0;
    if (!json_is_array(conds))
        return kube_json_fail(err, errlen, "status.conditions: expected an array");
    if (json_array_size(conds) > KUBE_POD_CONDITIONS_MAX)
        return kube_json_fail(err, errlen, "status.conditions: more than %d",
                              KUBE_POD_CONDITIONS_MAX);
    json_array_foreach(conds, i, c)
    {
        const char *type, *status;

        if (!json_is_object(c))
            return kube_json_fail(err, errlen, "status.conditions[%zu]: expected an object", i);
        if ((r = opt_str(c, "status.conditions[].", "type", 128, &type, err, errlen)) < 0 ||
            (r = opt_str(c, "status.conditions[].", "status", 32, &status, err, errlen)) < 0)
            return r;
        if (!type || strcmp(type, "Ready"))
            continue;
        if (status && !strcmp(status, "True"))
            ready_true = true;
        else
            ready_other = true;
    }
    p->ready = ready_true && !ready_other;
    return 0;
}

static int pod_from(json_t *item, const char *hash_label, struct kube_pod_brief *p, char *err,
                    size_t errlen)
{
    json_t *md, *st;
    int r;

    memset(p, 0, sizeof(*p));
    if (!json_is_object(item))
        return kube_json_fail(err, errlen, "expected an object");
    if ((r = opt_obj(item, "", "metadata", &md, err, errlen)) < 0)
        return r;
    if (!md)
        return kube_json_fail(err, errlen, "metadata: missing");
    if ((r = pod_meta(md, hash_label, p, err, errlen)) < 0 ||
        (r = opt_obj(item, "", "status", &st, err, errlen)) < 0)
        return r;
    return st ? pod_status(st, p, err, errlen) : 0;
}

void kube_pod_list_done(struct kube_pod_list *l)
{
    if (!l)
        return;
    free(l->items);
    free(l->continue_token);
    memset(l, 0, sizeof(*l));
}

int kube_json_pod_list_parse(const char *buf, size_t len, const char *hash_label,
                             struct kube_pod_list *ret, char *err, size_t errlen)
{
    struct kube_pod_list l;
    json_t *root, *items, *item;
    const char *kind;
    size_t i;
    int r;

    memset(&l, 0, sizeof(l));
    if (!hash_label || !hash_label[0])
        return kube_json_fail(err, errlen, "no hash label");
    root = kube_json_load(buf, len, KUBE_POD_LIST_DEPTH_MAX, err, errlen);
    if (!root)
        return -EINVAL;
    if ((r = opt_str(root, "", "kind", 64, &kind, err, errlen)) < 0)
        goto fail;
    if (kind && strcmp(kind, "PodList")) {
        r = kube_json_fail(err, errlen, "kind: %.40s, not PodList", kind);
        goto fail;
    }
    if ((r = kube_json_list_items(root, &items, err, errlen)) < 0)
        goto fail;
    if (items) {
        l.items = calloc(json_array_size(items) + 1, sizeof(*l.items));
        if (!l.items) {
            r = -ENOMEM;
            goto fail;
        }
        json_array_foreach(items, i, item)
        {
            char e2[200];

            if ((r = pod_from(item, hash_label, &l.items[l.n], e2, sizeof(e2))) < 0) {
                kube_json_fail(err, errlen, "items[%zu]: %s", i, e2);
                goto fail;
            }
            l.n++;
        }
    }
    if ((r = kube_json_list_continue(root, &l.continue_token, err, errlen)) < 0)
        goto fail;
    json_decref(root);
    *ret = l;
    return 0;
fail:
    json_decref(root);
    kube_pod_list_done(&l);
    return r;
}

/*
 * The selector is read by the adapter's one selector reader
 * (kube_json_selector_string), as a Deployment's is.
 */
int kube_json_owner_selector_parse(const char *buf, size_t len, char **ret, char *err,
                                   size_t errlen)
{
    json_t *root, *spec, *sel;
    int r;

    root = kube_json_load(buf, len, KUBE_POD_LIST_DEPTH_MAX, err, errlen);
    if (!root)
        return -EINVAL;
    if ((r = opt_obj(root, "", "spec", &spec, err, errlen)) < 0 ||
        (spec && (r = opt_obj(spec, "spec.", "selector", &sel, err, errlen)) < 0)) {
        json_decref(root);
        return r;
    }
    if (!spec || !sel) {
        json_decref(root);
        return kube_json_fail(err, errlen, "spec.selector: missing");
    }
    *ret = NULL;
    r = kube_json_selector_string(sel, ret, err, errlen);
    json_decref(root);
    return r;
}
