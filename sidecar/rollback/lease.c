/*
 * lease — leader election and rollguard's shared records on a Lease object,
 * as pure transformations of struct kube_lease. The caller performs every
 * request and supplies both clocks (monotonic for observations, wall for
 * the times written); nothing here does I/O or logs.
 */
#include "sidecar/rollback/lease.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/rollback/undo.h"

int lease_init(struct kube_lease *l, const char *name, const char *ns)
{
    memset(l, 0, sizeof(*l));
    snprintf(l->meta.name, sizeof(l->meta.name), "%s", name);
    snprintf(l->meta.namespace, sizeof(l->meta.namespace), "%s", ns);
    return kube_map_set(&l->meta.labels, "app.kubernetes.io/managed-by", "rollguard");
}

void lease_observe(struct lease_view *v, const struct kube_lease *l, int64_t now_ms)
{
    if (!v->seen || v->record_fp != l->record_fp) {
        v->seen = true;
        v->record_fp = l->record_fp;
        v->observed_ms = now_ms;
    }
}

bool lease_held_by_other(const struct lease_view *v, const struct kube_lease *l, const char *me,
                         int64_t now_ms)
{
    if (!l->holder[0] || !strcmp(l->holder, me))
        return false;
    if (!v->seen)
        return true;
    return v->observed_ms + (int64_t)l->duration_s * 1000 > now_ms;
}

void lease_take(struct kube_lease *l, const char *me, int32_t duration_s, int64_t now_us)
{
    char t[KUBE_TIME_MAX];

    kube_time_render_micro(now_us, t, sizeof(t));
    if (strcmp(l->holder, me) || !l->acquire_time[0]) {
        if (strcmp(l->holder, me))
            l->transitions++;
        snprintf(l->acquire_time, sizeof(l->acquire_time), "%s", t);
    }
    snprintf(l->holder, sizeof(l->holder), "%s", me);
    snprintf(l->renew_time, sizeof(l->renew_time), "%s", t);
    l->duration_s = duration_s;
}

void lease_release(struct kube_lease *l, int64_t now_us)
{
    char t[KUBE_TIME_MAX];

    kube_time_render_micro(now_us, t, sizeof(t));
    l->holder[0] = '\0';
    l->duration_s = 1;
    snprintf(l->acquire_time, sizeof(l->acquire_time), "%s", t);
    snprintf(l->renew_time, sizeof(l->renew_time), "%s", t);
}

/* --- votes: "<hash>;<pod>=<unix>,<pod>=<unix>" --------------------------- */

struct vote {
    char pod[KUBE_NAME_MAX];
    int64_t at;
};

/* Parse the votes of hash (valid at now_s) into v (max LEASE_MAX_VOTERS). Returns the count. */
static unsigned votes_parse(const struct kube_lease *l, const char *hash, int64_t now_s,
                            int64_t ttl_s, struct vote *v)
{
    const char *s = kube_map_get(&l->meta.annotations, LEASE_ANN_VOTES), *semi;
    size_t hl = strlen(hash);
    unsigned n = 0;

    if (!s || !(semi = strchr(s, ';')) || (size_t)(semi - s) != hl || memcmp(s, hash, hl))
        return 0;
    for (const char *p = semi + 1; *p && n < LEASE_MAX_VOTERS;) {
        const char *e = strchr(p, ','), *eq;
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char item[KUBE_NAME_MAX + 32];

        if (len > 0 && len < sizeof(item)) {
            memcpy(item, p, len);
            item[len] = '\0';
            eq = strchr(item, '=');
            if (eq && eq > item && (size_t)(eq - item) < KUBE_NAME_MAX) {
                char *end;
                long long at = strtoll(eq + 1, &end, 10);

                if (!*end && end != eq + 1 && at <= now_s + 300 && now_s - at <= ttl_s) {
                    memcpy(v[n].pod, item, (size_t)(eq - item));
                    v[n].pod[eq - item] = '\0';
                    v[n].at = at;
                    n++;
                }
            }
        }
        if (!e)
            break;
        p = e + 1;
    }
    return n;
}

unsigned lease_votes(const struct kube_lease *l, const char *hash, int64_t now_s, int64_t ttl_s)
{
    struct vote *v = calloc(LEASE_MAX_VOTERS, sizeof(*v));
    unsigned n = 0;

    if (!v)
        return 0;
    n = votes_parse(l, hash, now_s, ttl_s, v);
    free(v);
    return n;
}

bool lease_has_vote(const struct kube_lease *l, const char *hash, const char *pod, int64_t now_s,
                    int64_t ttl_s)
{
    struct vote *v = calloc(LEASE_MAX_VOTERS, sizeof(*v));
    unsigned n;
    bool found = false;

    if (!v)
        return false;
    n = votes_parse(l, hash, now_s, ttl_s, v);
    for (unsigned i = 0; i < n && !found; i++)
        found = !strcmp(v[i].pod, pod);
    free(v);
    return found;
}

static bool plain_name(const char *s)
{
    return s[0] && !strpbrk(s, ";=,");
}

int lease_vote(struct kube_lease *l, const char *hash, const char *pod, int64_t now_s,
               int64_t ttl_s)
{
    struct vote *v;
    unsigned n, i;
    char *out, *p;
    int r;

    if (!plain_name(hash) || !plain_name(pod) || strlen(pod) >= KUBE_NAME_MAX)
        return -EINVAL;
    v = calloc(LEASE_MAX_VOTERS + 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    n = votes_parse(l, hash, now_s, ttl_s, v);
    for (i = 0; i < n; i++)
        if (!strcmp(v[i].pod, pod))
            break;
    if (i == n) {
        if (n >= LEASE_MAX_VOTERS) {
            free(v);
            return -E2BIG;
        }
        snprintf(v[n].pod, sizeof(v[n].pod), "%s", pod);
        n++;
    }
    v[i].at = now_s;
    out = malloc(strlen(hash) + 2 + (size_t)n * (KUBE_NAME_MAX + 24));
    if (!out) {
        free(v);
        return -ENOMEM;
    }
    p = out + sprintf(out, "%s;", hash);
    for (i = 0; i < n; i++)
        p += sprintf(p, "%s%s=%lld", i ? "," : "", v[i].pod, (long long)v[i].at);
    r = kube_map_set(&l->meta.annotations, LEASE_ANN_VOTES, out);
    free(out);
    free(v);
    return r;
}

int lease_record_add(struct kube_lease *l, const char *key, const char *hash)
{
    char rec[UNDO_RECORD_MAX * (KUBE_NAME_MAX + 1)];

    if (undo_record_add(kube_map_get(&l->meta.annotations, key), hash, rec, sizeof(rec)) < 0)
        return -E2BIG;
    return kube_map_set(&l->meta.annotations, key, rec);
}

bool lease_record_has(const struct kube_lease *l, const char *key, const char *hash)
{
    return undo_record_has(kube_map_get(&l->meta.annotations, key), hash);
}

int lease_baseline_set(struct kube_lease *l, const char *hash, const char *json, int64_t now_s)
{
    char from[KUBE_NAME_MAX + 32];
    int r;

    if (strlen(json) > LEASE_BASELINE_MAX)
        return -E2BIG;
    snprintf(from, sizeof(from), "%s@%lld", hash, (long long)now_s);
    if ((r = kube_map_set(&l->meta.annotations, LEASE_ANN_BASELINE, json)) < 0)
        return r;
    return kube_map_set(&l->meta.annotations, LEASE_ANN_BASELINE_FROM, from);
}

int lease_baseline_get(const struct kube_lease *l, const char **json, char *from_hash,
                       int64_t *at_s)
{
    const char *j = kube_map_get(&l->meta.annotations, LEASE_ANN_BASELINE);
    const char *from = kube_map_get(&l->meta.annotations, LEASE_ANN_BASELINE_FROM), *at;

    if (!j || !from || !(at = strchr(from, '@')) || (size_t)(at - from) >= KUBE_NAME_MAX)
        return -ENOENT;
    *json = j;
    memcpy(from_hash, from, (size_t)(at - from));
    from_hash[at - from] = '\0';
    *at_s = strtoll(at + 1, NULL, 10);
    return 0;
}
