/*
 * kube_types — struct kube_map and the lifetimes of the API structs: freeing
 * what the decoders allocated, appending list pages. Plain C over libc:
 * never parses or renders JSON, never does I/O, never reads the clock.
 */
#include "sidecar/kube/kube_types.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Pages of one ReplicaSet list, all together. */
#define KUBE_RS_LIST_TOTAL_MAX (KUBE_LIST_MAX * 8)

/* --- struct kube_map ------------------------------------------------------ */

const char *kube_map_get(const struct kube_map *m, const char *key)
{
    for (size_t i = 0; m && i < m->n; i++)
        if (!strcmp(m->kv[i].key, key))
            return m->kv[i].value;
    return NULL;
}

int kube_map_set(struct kube_map *m, const char *key, const char *value)
{
    char *v;

    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->kv[i].key, key))
            continue;
        v = strdup(value);
        if (!v)
            return -ENOMEM;
        free(m->kv[i].value);
        m->kv[i].value = v;
        return 0;
    }
    if (m->n >= KUBE_MAP_MAX)
        return -E2BIG;
    struct kube_kv *kv = realloc(m->kv, (m->n + 1) * sizeof(*kv));
    if (!kv)
        return -ENOMEM;
    m->kv = kv;
    kv[m->n].key = strdup(key);
    kv[m->n].value = strdup(value);
    if (!kv[m->n].key || !kv[m->n].value) {
        free(kv[m->n].key);
        free(kv[m->n].value);
        return -ENOMEM;
    }
    m->n++;
    return 0;
}

void kube_map_del(struct kube_map *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->kv[i].key, key))
            continue;
        free(m->kv[i].key);
        free(m->kv[i].value);
        memmove(&m->kv[i], &m->kv[i + 1], (m->n - i - 1) * sizeof(m->kv[0]));
        m->n--;
        return;
    }
}

int kube_map_copy(struct kube_map *dst, const struct kube_map *src)
{
    for (size_t i = 0; i < src->n; i++) {
        int r = kube_map_set(dst, src->kv[i].key, src->kv[i].value);
        if (r < 0) {
            kube_map_done(dst);
            return r;
        }
    }
    return 0;
}

void kube_map_done(struct kube_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->kv[i].key);
        free(m->kv[i].value);
    }
    free(m->kv);
    m->kv = NULL;
    m->n = 0;
}

/* --- the API structs ----------------------------------------------------- */

void kube_meta_done(struct kube_meta *m)
{
    if (!m)
        return;
    kube_map_done(&m->labels);
    kube_map_done(&m->annotations);
}

void kube_deployment_done(struct kube_deployment *d)
{
    if (!d)
        return;
    kube_meta_done(&d->meta);
    free(d->selector);
    free(d->template_json);
    free(d->template_norm);
    memset(d, 0, sizeof(*d));
}

void kube_rs_done(struct kube_rs *rs)
{
    if (!rs)
        return;
    kube_meta_done(&rs->meta);
    free(rs->template_json);
    free(rs->template_norm);
    memset(rs, 0, sizeof(*rs));
}

void kube_rs_list_done(struct kube_rs_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        kube_rs_done(&l->items[i]);
    free(l->items);
    free(l->continue_token);
    memset(l, 0, sizeof(*l));
}

int kube_rs_list_append(struct kube_rs_list *dst, struct kube_rs_list *src)
{
    struct kube_rs *items;

    if (dst->n + src->n > KUBE_RS_LIST_TOTAL_MAX)
        return -E2BIG;
    items = realloc(dst->items, (dst->n + src->n + 1) * sizeof(*items));
    if (!items)
        return -ENOMEM;
    dst->items = items;
    if (src->n) /* a page without items has none to copy (and src->items may be NULL) */
        memcpy(items + dst->n, src->items, src->n * sizeof(*items));
    dst->n += src->n;
    free(src->items);
    src->items = NULL;
    src->n = 0;
    return 0;
}

void kube_pod_done(struct kube_pod *p)
{
    if (p)
        kube_meta_done(&p->meta);
}

void kube_lease_done(struct kube_lease *l)
{
    if (l)
        kube_meta_done(&l->meta);
}

void kube_rollout_done(struct kube_rollout *r)
{
    if (r)
        kube_meta_done(&r->meta);
}
