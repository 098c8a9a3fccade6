/*
 * undo — kubectl's rollback computation (kubectl pkg/polymorphichelpers
 * rollback.go: deploymentRevision, getDeploymentPatch, annotationsToSkip,
 * equalIgnoreHash) over decoded structs, and the guarded JSON patch.
 * Pure: no I/O, no clock, no logging.
 */
#include "sidecar/rollback/undo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const skip_annotations[] = {
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
};

#define N_SKIP (sizeof(skip_annotations) / sizeof(skip_annotations[0]))

static bool skipped(const char *key)
{
    for (size_t i = 0; i < N_SKIP; i++)
        if (!strcmp(key, skip_annotations[i]))
            return true;
    return false;
}

long undo_revision(const struct kube_map *annotations)
{
    const char *v = kube_map_get(annotations, KUBE_REVISION_ANN);
    char *end;
    long long n;

    if (!v)
        return 0;
    /* strconv.ParseInt(v, 10, 64): optional sign, digits only. */
    if (!*v || (*v != '+' && *v != '-' && (*v < '0' || *v > '9')))
        return -1;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno || *end || n < 0 || n > 0x7fffffffL)
        return -1;
    return (long)n;
}

bool undo_owned_by(const struct kube_rs *rs, const char *uid)
{
    return rs->meta.has_controller && uid && uid[0] && !strcmp(rs->meta.controller.uid, uid);
}

void undo_plan_done(struct undo_plan *p)
{
    if (!p)
        return;
    kube_map_done(&p->annotations);
    memset(p, 0, sizeof(*p));
}

bool undo_record_has(const char *record, const char *hash)
{
    size_t n;

    if (!record || !hash || !hash[0])
        return false;
    n = strlen(hash);
    for (const char *p = record; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);

        if (len == n && !memcmp(p, hash, n))
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

int undo_record_add(const char *record, const char *hash, char *buf, size_t size)
{
    const char *items[UNDO_RECORD_MAX + 1];
    size_t lens[UNDO_RECORD_MAX + 1], n = 0, first, used = 0;
    const char *p = record ? record : "";

    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);

        if (len && !(len == strlen(hash) && !memcmp(p, hash, len))) {
            if (n == UNDO_RECORD_MAX) {
                memmove(items, items + 1, (n - 1) * sizeof(items[0]));
                memmove(lens, lens + 1, (n - 1) * sizeof(lens[0]));
                n--;
            }
            items[n] = p;
            lens[n++] = len;
        }
        if (!e)
            break;
        p = e + 1;
    }
    items[n] = hash;
    lens[n++] = strlen(hash);
    first = n > UNDO_RECORD_MAX ? n - UNDO_RECORD_MAX : 0;
    if (size == 0)
        return -E2BIG;
    buf[0] = '\0';
    for (size_t i = first; i < n; i++) {
        size_t need = lens[i] + (i > first ? 1 : 0);

        if (used + need + 1 > size)
            return -E2BIG;
        if (i > first)
            buf[used++] = ',';
        memcpy(buf + used, items[i], lens[i]);
        used += lens[i];
        buf[used] = '\0';
    }
    return 0;
}

/* FindNewReplicaSet: the oldest owned RS whose template equals d's (then by name). */
static const struct kube_rs *find_current(const struct kube_deployment *d,
                                          const struct kube_rs_list *l)
{
    const struct kube_rs *best = NULL;

    for (size_t i = 0; i < l->n; i++) {
        const struct kube_rs *rs = &l->items[i];

        if (!undo_owned_by(rs, d->meta.uid) || strcmp(rs->template_norm, d->template_norm))
            continue;
        if (!best || rs->meta.created < best->meta.created ||
            (rs->meta.created == best->meta.created && strcmp(rs->meta.name, best->meta.name) < 0))
            best = rs;
    }
    return best;
}

int undo_plan_make(const struct kube_deployment *d, const struct kube_rs_list *l,
                   const struct undo_req *req, struct undo_plan *ret)
{
    struct undo_plan p;
    const struct kube_rs *latest = NULL, *previous = NULL;
    long latest_rev = -1, previous_rev = -1;
    bool pinned = req->bad_hash && req->bad_hash[0];
    int r;

    memset(&p, 0, sizeof(p));
    p.current = find_current(d, l);
    p.current_revision = p.current ? undo_revision(&p.current->meta.annotations) : -1;
    p.target_revision = -1;
    for (size_t i = 0; i < l->n; i++) {
        const struct kube_rs *rs = &l->items[i];
        long v;

        if (!undo_owned_by(rs, d->meta.uid))
            continue;
        p.owned++;
        v = undo_revision(&rs->meta.annotations);
        if (v < 0)
            continue;
        if (req->to_revision > 0) {
            if (v == req->to_revision && !p.target) {
                p.target = rs;
                p.target_revision = v;
            }
            continue;
        }
        if (pinned) {
            if (!strcmp(rs->hash, req->bad_hash) || undo_record_has(req->exclude, rs->hash))
                continue;
            if (v > latest_rev) {
                latest_rev = v;
                latest = rs;
            }
            continue;
        }
        /* kubectl deploymentRevision with toRevision == 0 */
        if (latest_rev < v) {
            previous_rev = latest_rev;
            previous = latest;
            latest_rev = v;
            latest = rs;
        } else if (previous_rev < v) {
            previous_rev = v;
            previous = rs;
        }
    }
    if (req->to_revision > 0) {
        p.revision_not_found = !p.target;
    } else if (pinned) {
        p.target = latest;
        p.target_revision = latest_rev;
        p.no_history = !latest;
    } else {
        p.target = previous;
        p.target_revision = previous_rev;
        p.no_history = !previous;
    }
    if (!p.target) {
        *ret = p;
        return 0;
    }
    p.template_equal = !strcmp(p.target->template_norm, d->template_norm);

    /* Annotations: the skip-listed ones from the Deployment, the rest from the target. */
    for (size_t i = 0; i < N_SKIP; i++) {
        const char *v = kube_map_get(&d->meta.annotations, skip_annotations[i]);
        if (v && (r = kube_map_set(&p.annotations, skip_annotations[i], v)) < 0)
            goto fail;
    }
    for (size_t i = 0; i < p.target->meta.annotations.n; i++) {
        const struct kube_kv *kv = &p.target->meta.annotations.kv[i];
        if (!skipped(kv->key) && (r = kube_map_set(&p.annotations, kv->key, kv->value)) < 0)
            goto fail;
    }
    if (req->record) {
        const char *bad = pinned ? req->bad_hash : (p.current ? p.current->hash : "");
        char rec[UNDO_RECORD_MAX * (KUBE_NAME_MAX + 1)];

        /* The Deployment's record wins over whatever the target RS carried over. */
        kube_map_del(&p.annotations, UNDO_RECORD_ANN);
        if (bad[0]) {
            if (undo_record_add(kube_map_get(&d->meta.annotations, UNDO_RECORD_ANN), bad, rec,
                                sizeof(rec)) < 0) {
                r = -E2BIG;
                goto fail;
            }
            if ((r = kube_map_set(&p.annotations, UNDO_RECORD_ANN, rec)) < 0)
                goto fail;
        } else if (kube_map_get(&d->meta.annotations, UNDO_RECORD_ANN)) {
            r = kube_map_set(&p.annotations, UNDO_RECORD_ANN,
                             kube_map_get(&d->meta.annotations, UNDO_RECORD_ANN));
            if (r < 0)
                goto fail;
        }
    }
    *ret = p;
    return 0;
fail:
    undo_plan_done(&p);
    return r;
}

static int kv_cmp(const void *a, const void *b)
{
    return strcmp((*(const struct kube_kv *const *)a)->key,
                  (*(const struct kube_kv *const *)b)->key);
}

/* A Go map[string]string as encoding/json writes it: keys sorted. */
static void render_map(const struct kube_map *m, struct buf *b)
{
    const struct kube_kv **v = malloc((m->n ? m->n : 1) * sizeof(*v));

    if (!v) {
        b->failed = true;
        return;
    }
    for (size_t i = 0; i < m->n; i++)
        v[i] = &m->kv[i];
    qsort(v, m->n, sizeof(*v), kv_cmp);
    buf_puts(b, "{");
    for (size_t i = 0; i < m->n; i++) {
        buf_puts(b, i ? ",\"" : "\"");
        buf_json_escape(b, v[i]->key);
        buf_puts(b, "\":\"");
        buf_json_escape(b, v[i]->value);
        buf_puts(b, "\"");
    }
    buf_puts(b, "}");
    free(v);
}

static void render_replace_ops(const struct undo_plan *p, bool annotations_exist, struct buf *b)
{
    buf_puts(b, "{\"op\":\"replace\",\"path\":\"/spec/template\",\"value\":");
    buf_puts(b, p->target->template_json);
    buf_printf(b, "},{\"op\":\"%s\",\"path\":\"/metadata/annotations\",\"value\":",
               annotations_exist ? "replace" : "add");
    render_map(&p->annotations, b);
    buf_puts(b, "}");
}

int undo_kubectl_patch_render(const struct undo_plan *p, struct buf *b)
{
    if (!p->target)
        return -EINVAL;
    buf_puts(b, "[");
    render_replace_ops(p, true, b);
    buf_puts(b, "]");
    return b->failed ? -E2BIG : 0;
}

int undo_patch_render(const struct kube_deployment *d, const struct undo_plan *p,
                      const struct undo_req *req, struct buf *b)
{
    const char *rev = kube_map_get(&d->meta.annotations, KUBE_REVISION_ANN);

    if (!p->target)
        return -EINVAL;
    buf_puts(b, "[{\"op\":\"test\",\"path\":\"/metadata/uid\",\"value\":\"");
    buf_json_escape(b, d->meta.uid);
    if (req->test_generation && d->meta.has_generation) {
        buf_printf(b, "\"},{\"op\":\"test\",\"path\":\"/metadata/generation\",\"value\":%lld}",
                   (long long)d->meta.generation);
    } else {
        buf_puts(b, "\"},{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"");
        buf_json_escape(b, d->meta.resource_version);
        buf_puts(b, "\"}");
    }
    if (rev) {
        /* JSON Pointer: '/' in the key is ~1. */
        buf_puts(b, ",{\"op\":\"test\",\"path\":\"/metadata/annotations/"
                    "deployment.kubernetes.io~1revision\",\"value\":\"");
        buf_json_escape(b, rev);
        buf_puts(b, "\"}");
    }
    buf_puts(b, ",");
    render_replace_ops(p, d->meta.annotations.n > 0, b);
    buf_puts(b, "]");
    return b->failed ? -E2BIG : 0;
}
