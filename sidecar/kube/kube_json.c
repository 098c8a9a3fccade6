/*
 * kube_json — the jansson adapter: decodes the Kubernetes objects rollguard
 * reads (Deployment, ReplicaSet and lists of them, Pod, Lease, Rollout,
 * Status) from untrusted bytes into the plain structs of kube_types, and
 * renders the bodies it writes (Lease, Event). Owns the normalisation that
 * stands in for kubectl's equalIgnoreHash. With kube_json_summary.c (a
 * peer's GET /summary answer) the only files with <jansson.h>; no jansson
 * type leaves them. Never does I/O, reads the clock or logs; every size
 * that comes from the input is bounded. A little over 800 lines: every
 * line left here calls jansson.
 */
#include "sidecar/kube/kube_json-int.h"

#include "config/utf8.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define KUBE_EVENT_MESSAGE_MAX 1024

int kube_json_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

int kube_json_scan(const char *buf, size_t n, kube_json_scan_fn *fn, void *arg)
{
    bool str = false, esc = false;
    int depth = 0, r;

    for (size_t i = 0; i < n; i++) {
        char c = buf[i];

        if (str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                str = false;
            continue;
        }
        if (c == '"') {
            str = true;
            continue;
        }
        if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']')
            depth--;
        if ((r = fn(buf, n, &i, depth, arg)) != 0)
            return r;
    }
    return 0;
}

/* --- decoding helpers -------------------------------------------------------- */

/* Nesting deeper than *(int *)arg: refused before jansson recurses into it. */
static int too_deep(const char *buf, size_t n, size_t *i, int depth, void *arg)
{
    (void)n;
    return (buf[*i] == '{' || buf[*i] == '[') && depth > *(const int *)arg;
}

json_t *kube_json_load(const char *buf, size_t len, int max_depth, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root;

    if (!buf) {
        kube_json_fail(err, errlen, "no body");
        return NULL;
    }
    if (max_depth > 0 && kube_json_scan(buf, len, too_deep, &max_depth) != 0) {
        kube_json_fail(err, errlen, "nested deeper than %d", max_depth);
        return NULL;
    }
    root = json_loadb(buf, len, 0, &je);
    if (!root) {
        kube_json_fail(err, errlen, "invalid JSON at line %d column %d: %s", je.line, je.column,
                       je.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        kube_json_fail(err, errlen, "expected a JSON object");
        return NULL;
    }
    return root;
}

static json_t *load(const char *buf, size_t len, char *err, size_t errlen)
{
    return kube_json_load(buf, len, 0, err, errlen);
}

int kube_json_list_items(json_t *root, json_t **ret, char *err, size_t errlen)
{
    json_t *items = json_object_get(root, "items");

    *ret = NULL;
    if (!items || json_is_null(items))
        return 0;
    if (!json_is_array(items))
        return kube_json_fail(err, errlen, "items: expected an array");
    if (json_array_size(items) > KUBE_LIST_MAX)
        return kube_json_fail(err, errlen, "items: more than %d", KUBE_LIST_MAX);
    *ret = items;
    return 0;
}

int kube_json_list_continue(json_t *root, char **ret, char *err, size_t errlen)
{
    json_t *md = json_object_get(root, "metadata"), *v;

    *ret = NULL;
    if (!md || json_is_null(md))
        return 0;
    if (!json_is_object(md))
        return kube_json_fail(err, errlen, "metadata: expected an object");
    v = json_object_get(md, "continue");
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) >= 1024 ||
        strlen(json_string_value(v)) != json_string_length(v))
        return kube_json_fail(err, errlen, "metadata.continue: not a string under 1024 bytes");
    if (json_string_length(v) == 0)
        return 0;
    *ret = strdup(json_string_value(v));
    return *ret ? 0 : -ENOMEM;
}

/* Copy an optional string member into dst; absent/null leaves "". */
static int get_str(json_t *obj, const char *key, char *dst, size_t size, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);

    dst[0] = '\0';
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return kube_json_fail(err, errlen, "%s: expected a string", key);
    if (json_string_length(v) >= size)
        return kube_json_fail(err, errlen, "%s: longer than %zu bytes", key, size - 1);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return kube_json_fail(err, errlen, "%s: contains a NUL byte", key);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int get_int(json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t *ret,
                   bool *present, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);

    if (present)
        *present = false;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return kube_json_fail(err, errlen, "%s: expected an integer", key);
    if (json_integer_value(v) < lo || json_integer_value(v) > hi)
        return kube_json_fail(err, errlen, "%s: out of range", key);
    *ret = json_integer_value(v);
    if (present)
        *present = true;
    return 0;
}

static int get_bool(json_t *obj, const char *key, bool *ret, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);

    *ret = false;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return kube_json_fail(err, errlen, "%s: expected a boolean", key);
    *ret = json_is_true(v);
    return 0;
}

/* An optional object member; absent/null gives NULL, anything else an error. */
static int get_obj(json_t *obj, const char *key, json_t **ret, char *err, size_t errlen)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;

    *ret = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return kube_json_fail(err, errlen, "%s: expected an object", key);
    *ret = v;
    return 0;
}

static int get_map(json_t *obj, const char *key, struct kube_map *m, char *err, size_t errlen)
{
    json_t *o, *v;
    const char *k;
    int r;

    r = get_obj(obj, key, &o, err, errlen);
    if (r < 0 || !o)
        return r;
    if (json_object_size(o) > KUBE_MAP_MAX)
        return kube_json_fail(err, errlen, "%s: more than %d entries", key, KUBE_MAP_MAX);
    json_object_foreach(o, k, v)
    {
        if (!json_is_string(v))
            return kube_json_fail(err, errlen, "%s[%s]: expected a string", key, k);
        if (json_string_length(v) > KUBE_VALUE_MAX ||
            strlen(json_string_value(v)) != json_string_length(v) || strlen(k) >= 1024)
            return kube_json_fail(err, errlen, "%s[%s]: too long or contains NUL", key, k);
        r = kube_map_set(m, k, json_string_value(v));
        if (r < 0)
            return r == -ENOMEM ? r : kube_json_fail(err, errlen, "%s: too many entries", key);
    }
    return 0;
}

static int parse_meta(json_t *root, struct kube_meta *m, char *err, size_t errlen)
{
    json_t *md, *refs;
    char ts[KUBE_TIME_MAX];
    int r;

    memset(m, 0, sizeof(*m));
    r = get_obj(root, "metadata", &md, err, errlen);
    if (r < 0)
        return r;
    if (!md)
        return kube_json_fail(err, errlen, "metadata: missing");
    if ((r = get_str(md, "name", m->name, sizeof(m->name), err, errlen)) < 0 ||
        (r = get_str(md, "namespace", m->namespace, sizeof(m->namespace), err, errlen)) < 0 ||
        (r = get_str(md, "uid", m->uid, sizeof(m->uid), err, errlen)) < 0 ||
        (r = get_str(md, "resourceVersion", m->resource_version, sizeof(m->resource_version), err,
                     errlen)) < 0 ||
        (r = get_int(md, "generation", 0, INT64_MAX, &m->generation, &m->has_generation, err,
                     errlen)) < 0 ||
        (r = get_str(md, "creationTimestamp", ts, sizeof(ts), err, errlen)) < 0)
        return r;
    if (ts[0] && kube_time_parse(ts, &m->created) < 0)
        return kube_json_fail(err, errlen, "creationTimestamp: not RFC 3339: %s", ts);
    if ((r = get_map(md, "labels", &m->labels, err, errlen)) < 0 ||
        (r = get_map(md, "annotations", &m->annotations, err, errlen)) < 0)
        return r;
    refs = json_object_get(md, "ownerReferences");
    if (refs && !json_is_null(refs)) {
        size_t i;
        json_t *ref;

        if (!json_is_array(refs))
            return kube_json_fail(err, errlen, "ownerReferences: expected an array");
        if (json_array_size(refs) > KUBE_MAP_MAX)
            return kube_json_fail(err, errlen, "ownerReferences: too many");
        json_array_foreach(refs, i, ref)
        {
            bool ctl;

            if (!json_is_object(ref))
                return kube_json_fail(err, errlen, "ownerReferences[%zu]: expected an object", i);
            if ((r = get_bool(ref, "controller", &ctl, err, errlen)) < 0)
                return r;
            if (!ctl || m->has_controller)
                continue;
            if ((r = get_str(ref, "apiVersion", m->controller.api_version,
                             sizeof(m->controller.api_version), err, errlen)) < 0 ||
                (r = get_str(ref, "kind", m->controller.kind, sizeof(m->controller.kind), err,
                             errlen)) < 0 ||
                (r = get_str(ref, "name", m->controller.name, sizeof(m->controller.name), err,
                             errlen)) < 0 ||
                (r = get_str(ref, "uid", m->controller.uid, sizeof(m->controller.uid), err,
                             errlen)) < 0)
                return r;
            m->has_controller = true;
        }
    }
    return 0;
}

/* parse_meta, then the identity every decoded object has: a name, and a uid when need_uid. */
static int parse_named(json_t *root, struct kube_meta *m, bool need_uid, char *err, size_t errlen)
{
    int r = parse_meta(root, m, err, errlen);

    if (r == 0 && (!m->name[0] || (need_uid && !m->uid[0])))
        r = kube_json_fail(err, errlen, "%s: missing",
                           need_uid ? "metadata.name/uid" : "metadata.name");
    return r;
}

/* Drop nulls and empty objects/arrays, recursively; returns a new reference or NULL (empty). */
static json_t *normalise(json_t *v)
{
    if (json_is_null(v))
        return NULL;
    if (json_is_object(v)) {
        json_t *out = json_object(), *c, *n;
        const char *k;

        if (!out)
            return NULL;
        json_object_foreach(v, k, c)
        {
            n = normalise(c);
            if (n)
                json_object_set_new(out, k, n);
        }
        if (json_object_size(out) == 0) {
            json_decref(out);
            return NULL;
        }
        return out;
    }
    if (json_is_array(v)) {
        json_t *out = json_array(), *c, *n;
        size_t i;

        if (!out)
            return NULL;
        json_array_foreach(v, i, c)
        {
            n = normalise(c);
            /* Keep positions: an element that vanished compares as null. */
            json_array_append_new(out, n ? n : json_null());
        }
        if (json_array_size(out) == 0) {
            json_decref(out);
            return NULL;
        }
        return out;
    }
    return json_incref(v);
}

/*
 * Render spec.template of root: *json compact without hash_label, *norm
 * normalised. hash_out (optional) receives the label's value.
 */
static int template_strings(json_t *spec, const char *hash_label, char **json_out, char **norm_out,
                            char *hash_out, size_t hash_size, char *err, size_t errlen)
{
    json_t *tmpl, *copy = NULL, *tmd, *labels, *norm = NULL;
    int r;

    r = get_obj(spec, "template", &tmpl, err, errlen);
    if (r < 0)
        return r;
    if (!tmpl)
        return kube_json_fail(err, errlen, "spec.template: missing");
    copy = json_deep_copy(tmpl);
    if (!copy)
        return -ENOMEM;
    tmd = json_object_get(copy, "metadata");
    if (tmd && json_is_object(tmd)) {
        labels = json_object_get(tmd, "labels");
        if (labels && json_is_object(labels)) {
            json_t *h = json_object_get(labels, hash_label);

            if (hash_out && h && json_is_string(h)) {
                if (json_string_length(h) >= hash_size) {
                    json_decref(copy);
                    return kube_json_fail(err, errlen, "template label %s: too long", hash_label);
                }
                memcpy(hash_out, json_string_value(h), json_string_length(h) + 1);
            }
            json_object_del(labels, hash_label);
        }
    }
    *json_out = json_dumps(copy, JSON_COMPACT);
    norm = normalise(copy);
    *norm_out = norm ? json_dumps(norm, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
    json_decref(norm);
    json_decref(copy);
    if (!*json_out || !*norm_out) {
        free(*json_out);
        free(*norm_out);
        *json_out = *norm_out = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* --- label selector -------------------------------------------------------- */

/*
 * spec.selector (matchLabels, then matchExpressions) into *ret: the JSON is
 * checked here, in document order; kube_selector_render writes the string.
 */
int kube_json_selector_string(json_t *sel, char **ret, char *err, size_t errlen)
{
    json_t *ml = json_object_get(sel, "matchLabels"),
           *me = json_object_get(sel, "matchExpressions"), *v, *e;
    struct kube_selector_req *reqs;
    size_t n = 0, cap, i;
    const char *k;
    int r = 0;

    if (ml && !json_is_null(ml) && !json_is_object(ml))
        return kube_json_fail(err, errlen, "spec.selector.matchLabels: expected an object");
    if (me && !json_is_null(me) && !json_is_array(me))
        return kube_json_fail(err, errlen, "spec.selector.matchExpressions: expected an array");
    cap = (ml && json_is_object(ml) ? json_object_size(ml) : 0) +
          (me && json_is_array(me) ? json_array_size(me) : 0);
    if (cap > KUBE_MAP_MAX)
        return kube_json_fail(err, errlen, "spec.selector: too many requirements");
    reqs = calloc(cap ? cap : 1, sizeof(*reqs));
    if (!reqs)
        return -ENOMEM;
    /* jansson iterates nothing over NULL, so an absent or null member adds no requirement */
    json_object_foreach(json_is_object(ml) ? ml : NULL, k, v)
    {
        if (!json_is_string(v)) {
            r = kube_json_fail(err, errlen, "spec.selector.matchLabels[%s]: expected a string", k);
            goto out;
        }
        reqs[n++] = (struct kube_selector_req){k, KUBE_SELECTOR_EQUALS, json_string_value(v)};
    }
    json_array_foreach(json_is_array(me) ? me : NULL, i, e)
    {
        json_t *key = json_object_get(e, "key"), *op = json_object_get(e, "operator"),
               *vals = json_object_get(e, "values");
        size_t nv = json_is_array(vals) ? json_array_size(vals) : 0;
        const char *o, **vs;

        if (!json_is_string(key) || !json_is_string(op)) {
            r = kube_json_fail(err, errlen, "spec.selector.matchExpressions[%zu]: key/operator", i);
            goto out;
        }
        o = json_string_value(op);
        reqs[n].key = json_string_value(key);
        if (!strcmp(o, "Exists") || !strcmp(o, "DoesNotExist")) {
            reqs[n++].op = o[0] == 'E' ? KUBE_SELECTOR_EXISTS : KUBE_SELECTOR_DOES_NOT_EXIST;
            continue;
        }
        if (strcmp(o, "In") && strcmp(o, "NotIn")) {
            r = kube_json_fail(err, errlen, "spec.selector.matchExpressions[%zu]: operator %s", i,
                               o);
            goto out;
        }
        for (size_t j = 0; j < nv && nv <= KUBE_MAP_MAX; j++)
            if (!json_is_string(json_array_get(vals, j)))
                nv = 0;
        if (nv == 0 || nv > KUBE_MAP_MAX) {
            r = kube_json_fail(err, errlen, "spec.selector.matchExpressions[%zu]: values", i);
            goto out;
        }
        if (!(vs = calloc(nv, sizeof(*vs)))) {
            r = -ENOMEM;
            goto out;
        }
        for (size_t j = 0; j < nv; j++)
            vs[j] = json_string_value(json_array_get(vals, j));
        reqs[n].op = o[0] == 'I' ? KUBE_SELECTOR_IN : KUBE_SELECTOR_NOT_IN;
        reqs[n].values = vs;
        reqs[n++].n_values = nv;
    }
    r = kube_selector_render(reqs, n, ret);
out:
    for (i = 0; i < n; i++)
        free((void *)reqs[i].values); /* the arrays calloc'd above */
    free(reqs);
    return r;
}

/* --- decoders ------------------------------------------------------------- */

int kube_json_deployment_parse(const char *buf, size_t len, struct kube_deployment *ret, char *err,
                               size_t errlen)
{
    struct kube_deployment d;
    json_t *root, *spec, *sel;
    int64_t v;
    bool present;
    int r;

    memset(&d, 0, sizeof(d));
    root = load(buf, len, err, errlen);
    if (!root)
        return -EINVAL;
    if ((r = parse_named(root, &d.meta, true, err, errlen)) < 0)
        goto fail;
    r = get_obj(root, "spec", &spec, err, errlen);
    if (r < 0)
        goto fail;
    if (!spec) {
        r = kube_json_fail(err, errlen, "spec: missing");
        goto fail;
    }
    if ((r = get_bool(spec, "paused", &d.paused, err, errlen)) < 0)
        goto fail;
    d.replicas = 1;
    if ((r = get_int(spec, "replicas", 0, INT32_MAX, &v, &present, err, errlen)) < 0)
        goto fail;
    if (present)
        d.replicas = (int32_t)v;
    d.revision_history_limit = 10;
    if ((r = get_int(spec, "revisionHistoryLimit", 0, INT32_MAX, &v, &present, err, errlen)) < 0)
        goto fail;
    if (present)
        d.revision_history_limit = (int32_t)v;
    if ((r = get_obj(spec, "selector", &sel, err, errlen)) < 0)
        goto fail;
    if (!sel) {
        r = kube_json_fail(err, errlen, "spec.selector: missing");
        goto fail;
    }
    if ((r = kube_json_selector_string(sel, &d.selector, err, errlen)) < 0)
        goto fail;
    r = template_strings(spec, KUBE_HASH_LABEL, &d.template_json, &d.template_norm, NULL, 0, err,
                         errlen);
    if (r < 0)
        goto fail;
    json_decref(root);
    *ret = d;
    return 0;
fail:
    json_decref(root);
    kube_deployment_done(&d);
    return r;
}

static int rs_from(json_t *obj, struct kube_rs *rs, char *err, size_t errlen)
{
    json_t *spec, *status;
    const char *h;
    int64_t v;
    bool present;
    int r;

    memset(rs, 0, sizeof(*rs));
    if (!json_is_object(obj))
        return kube_json_fail(err, errlen, "expected an object");
    if ((r = parse_named(obj, &rs->meta, false, err, errlen)) < 0)
        goto fail;
    h = kube_map_get(&rs->meta.labels, KUBE_HASH_LABEL);
    if (h) {
        if (strlen(h) >= sizeof(rs->hash)) {
            r = kube_json_fail(err, errlen, "pod-template-hash: too long");
            goto fail;
        }
        strcpy(rs->hash, h);
    }
    r = get_obj(obj, "spec", &spec, err, errlen);
    if (r < 0)
        goto fail;
    if (!spec) {
        r = kube_json_fail(err, errlen, "spec: missing");
        goto fail;
    }
    r = template_strings(spec, KUBE_HASH_LABEL, &rs->template_json, &rs->template_norm,
                         rs->hash[0] ? NULL : rs->hash, sizeof(rs->hash), err, errlen);
    if (r < 0)
        goto fail;
    if (!kube_label_value_ok(rs->hash)) {
        r = kube_json_fail(err, errlen, "pod-template-hash: not a label value");
        goto fail;
    }
    if ((r = get_obj(obj, "status", &status, err, errlen)) < 0 ||
        (r = get_int(status, "readyReplicas", 0, INT32_MAX, &v, &present, err, errlen)) < 0)
        goto fail;
    if (present)
        rs->ready_replicas = (int32_t)v;
    return 0;
fail:
    kube_rs_done(rs);
    return r;
}

int kube_json_rs_parse(const char *buf, size_t len, struct kube_rs *ret, char *err, size_t errlen)
{
    struct kube_rs rs;
    json_t *root = load(buf, len, err, errlen);
    int r;

    if (!root)
        return -EINVAL;
    r = rs_from(root, &rs, err, errlen);
    json_decref(root);
    if (r < 0)
        return r;
    *ret = rs;
    return 0;
}

int kube_json_rs_list_parse(const char *buf, size_t len, struct kube_rs_list *ret, char *err,
                            size_t errlen)
{
    struct kube_rs_list l;
    json_t *root, *items, *item;
    size_t i;
    int r = 0;

    memset(&l, 0, sizeof(l));
    root = load(buf, len, err, errlen);
    if (!root)
        return -EINVAL;
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

            r = rs_from(item, &l.items[l.n], e2, sizeof(e2));
            if (r < 0) {
                if (r == -EINVAL)
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
    kube_rs_list_done(&l);
    return r;
}

int kube_json_pod_parse(const char *buf, size_t len, struct kube_pod *ret, char *err, size_t errlen)
{
    struct kube_pod p;
    json_t *root = load(buf, len, err, errlen);
    int r;

    if (!root)
        return -EINVAL;
    r = parse_named(root, &p.meta, false, err, errlen);
    json_decref(root);
    if (r < 0) {
        kube_pod_done(&p);
        return r;
    }
    *ret = p;
    return 0;
}

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

int kube_json_lease_parse(const char *buf, size_t len, struct kube_lease *ret, char *err,
                          size_t errlen)
{
    struct kube_lease l;
    json_t *root, *spec;
    int64_t v;
    bool present;
    int r;

    memset(&l, 0, sizeof(l));
    root = load(buf, len, err, errlen);
    if (!root)
        return -EINVAL;
    if ((r = parse_named(root, &l.meta, false, err, errlen)) < 0)
        goto fail;
    if ((r = get_obj(root, "spec", &spec, err, errlen)) < 0)
        goto fail;
    if (spec) {
        char *dump;

        if ((r = get_str(spec, "holderIdentity", l.holder, sizeof(l.holder), err, errlen)) < 0 ||
            (r = get_str(spec, "acquireTime", l.acquire_time, sizeof(l.acquire_time), err,
                         errlen)) < 0 ||
            (r = get_str(spec, "renewTime", l.renew_time, sizeof(l.renew_time), err, errlen)) < 0)
            goto fail;
        if ((r = get_int(spec, "leaseDurationSeconds", 0, INT32_MAX, &v, &present, err, errlen)) <
            0)
            goto fail;
        l.duration_s = present ? (int32_t)v : 0;
        if ((r = get_int(spec, "leaseTransitions", 0, INT32_MAX, &v, &present, err, errlen)) < 0)
            goto fail;
        l.transitions = present ? (int32_t)v : 0;
        dump = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
        if (!dump) {
            r = -ENOMEM;
            goto fail;
        }
        l.record_fp = fnv1a64(dump);
        free(dump);
    }
    json_decref(root);
    *ret = l;
    return 0;
fail:
    json_decref(root);
    kube_lease_done(&l);
    return r;
}

int kube_json_rollout_parse(const char *buf, size_t len, struct kube_rollout *ret, char *err,
                            size_t errlen)
{
    struct kube_rollout ro;
    json_t *root, *spec, *status;
    int r;

    memset(&ro, 0, sizeof(ro));
    root = load(buf, len, err, errlen);
    if (!root)
        return -EINVAL;
    if ((r = parse_named(root, &ro.meta, true, err, errlen)) < 0)
        goto fail;
    if ((r = get_obj(root, "spec", &spec, err, errlen)) < 0 ||
        (r = get_obj(root, "status", &status, err, errlen)) < 0)
        goto fail;
    if (spec && (r = get_bool(spec, "paused", &ro.paused, err, errlen)) < 0)
        goto fail;
    if (status && ((r = get_bool(status, "abort", &ro.aborted, err, errlen)) < 0 ||
                   (r = get_str(status, "currentPodHash", ro.current_hash, sizeof(ro.current_hash),
                                err, errlen)) < 0 ||
                   (r = get_str(status, "stableRS", ro.stable_hash, sizeof(ro.stable_hash), err,
                                errlen)) < 0))
        goto fail;
    if (!kube_label_value_ok(ro.current_hash) || !kube_label_value_ok(ro.stable_hash)) {
        r = kube_json_fail(err, errlen, "status.currentPodHash/stableRS: not a label value");
        goto fail;
    }
    json_decref(root);
    *ret = ro;
    return 0;
fail:
    json_decref(root);
    kube_rollout_done(&ro);
    return r;
}

int kube_json_status_parse(const char *buf, size_t len, struct kube_status *ret, char *err,
                           size_t errlen)
{
    struct kube_status st;
    json_t *root, *kind, *details;
    int64_t v;
    bool present;
    int r;

    memset(&st, 0, sizeof(st));
    root = load(buf, len, err, errlen);
    if (!root)
        return -EINVAL;
    kind = json_object_get(root, "kind");
    if (!json_is_string(kind) || strcmp(json_string_value(kind), "Status")) {
        r = kube_json_fail(err, errlen, "not a Status object");
        goto out;
    }
    if ((r = get_int(root, "code", 0, 999, &v, &present, err, errlen)) < 0)
        goto out;
    st.code = present ? (int)v : 0;
    if ((r = get_str(root, "reason", st.reason, sizeof(st.reason), err, errlen)) < 0)
        goto out;
    {
        /* Messages can be long (validation causes); keep the start. */
        json_t *m = json_object_get(root, "message");
        if (json_is_string(m))
            snprintf(st.message, sizeof(st.message), "%s", json_string_value(m));
    }
    if ((r = get_obj(root, "details", &details, err, errlen)) < 0)
        goto out;
    if (details &&
        (r = get_int(details, "retryAfterSeconds", 0, INT32_MAX, &v, &present, err, errlen)) < 0)
        goto out;
    if (details && present)
        st.retry_after_s = (int)v;
    *ret = st;
out:
    json_decref(root);
    return r;
}

/* --- encoders ------------------------------------------------------------- */

static json_t *map_json(const struct kube_map *m)
{
    json_t *o = json_object();

    for (size_t i = 0; o && i < m->n; i++)
        if (json_object_set_new(o, m->kv[i].key, json_string(m->kv[i].value)) < 0) {
            json_decref(o);
            return NULL;
        }
    return o;
}

static int dump_to(json_t *root, char **ret)
{
    char *s;

    if (!root)
        return -ENOMEM;
    s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

int kube_json_lease_render(const struct kube_lease *l, char **ret)
{
    json_t *root, *md, *spec;

    md = json_pack("{s:s, s:s}", "name", l->meta.name, "namespace", l->meta.namespace);
    spec = json_pack("{s:s}", "holderIdentity", l->holder);
    if (!md || !spec) {
        json_decref(md);
        json_decref(spec);
        return -ENOMEM;
    }
    if (l->meta.resource_version[0])
        json_object_set_new(md, "resourceVersion", json_string(l->meta.resource_version));
    if (l->meta.labels.n)
        json_object_set_new(md, "labels", map_json(&l->meta.labels));
    if (l->meta.annotations.n)
        json_object_set_new(md, "annotations", map_json(&l->meta.annotations));
    if (l->duration_s > 0)
        json_object_set_new(spec, "leaseDurationSeconds", json_integer(l->duration_s));
    if (l->acquire_time[0])
        json_object_set_new(spec, "acquireTime", json_string(l->acquire_time));
    if (l->renew_time[0])
        json_object_set_new(spec, "renewTime", json_string(l->renew_time));
    json_object_set_new(spec, "leaseTransitions", json_integer(l->transitions));
    root = json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "coordination.k8s.io/v1", "kind",
                     "Lease", "metadata", md, "spec", spec);
    return dump_to(root, ret);
}

/* Cut s to at most max bytes on a UTF-8 character boundary (copy in *out). */
static char *cut_utf8(const char *s, size_t max)
{
    size_t n = utf8_cut(s, strlen(s), max);
    char *out = malloc(n + 1);

    if (out) {
        memcpy(out, s, n);
        out[n] = '\0';
        /* jansson takes UTF-8 only: replace what is not, rather than lose the event */
        if (!utf8_valid(out, n))
            for (char *p = out; *p; p++)
                if ((unsigned char)*p >= 0x80)
                    *p = '?';
    }
    return out;
}

int kube_json_event_render(const struct kube_event *ev, char **ret)
{
    json_t *root, *md, *obj, *evidence = NULL;
    char *msg;

    if (ev->evidence_json) {
        json_error_t je;

        evidence = json_loads(ev->evidence_json, 0, &je);
        if (!evidence)
            return -EINVAL;
        json_decref(evidence);
    }
    msg = cut_utf8(ev->message ? ev->message : "", KUBE_EVENT_MESSAGE_MAX);
    if (!msg)
        return -ENOMEM;
    md = json_pack("{s:s, s:s}", "name", ev->name, "namespace", ev->namespace);
    obj = json_pack("{s:s, s:s, s:s, s:s, s:s}", "apiVersion", ev->obj_api_version, "kind",
                    ev->obj_kind, "namespace", ev->namespace, "name", ev->obj_name, "uid",
                    ev->obj_uid);
    if (md && ev->evidence_json) {
        json_t *ann = json_pack("{s:s}", "rollguard.io/evidence", ev->evidence_json);
        if (ann)
            json_object_set_new(md, "annotations", ann);
    }
    if (obj && ev->obj_resource_version && ev->obj_resource_version[0])
        json_object_set_new(obj, "resourceVersion", json_string(ev->obj_resource_version));
    root = json_pack("{s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:i, s:s, "
                     "s:s, s:s}",
                     "apiVersion", "v1", "kind", "Event", "metadata", md, "involvedObject", obj,
                     "reason", ev->reason, "message", msg, "type", ev->type, "source", "component",
                     ev->component, "host", ev->instance, "firstTimestamp", ev->timestamp,
                     "lastTimestamp", ev->timestamp, "count", 1, "action",
                     ev->action ? ev->action : "Rollback", "reportingComponent", ev->component,
                     "reportingInstance", ev->instance);
    free(msg);
    return dump_to(root, ret);
}
