/*
 * identity — who this pod is, learnt once at start: pod -> ReplicaSet ->
 * owner (Deployment or Rollout, the target says which) through controller
 * ownerReferences, uids checked at every step; retried with a doubling,
 * jittered wait (the longest after 403/404). Then the start-of-life Lease
 * read of a fresh revision: the frozen stable baseline, and the
 * BadRevisionReapplied warning when a rolled-back hash is current again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/base/log.h"
#include "sidecar/rollback/rollback-int.h"

/* A DNS-1123 subdomain or label as the downward API gives it: safe in a URL path. */
bool rb_valid_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n >= KUBE_NAME_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' ||
              (*s >= 'A' && *s <= 'Z') || *s == '_'))
            return false;
    return true;
}

static void identity_step(struct rollback *rb);

static void identity_failed(struct rollback *rb, const char *msg, bool permanent)
{
    int64_t wait = ROLLBACK_IDENTITY_RETRY_MIN_MS;

    snprintf(rb->id_error, sizeof(rb->id_error), "%s", msg);
    rb->id_failures++;
    for (unsigned i = 1; i < rb->id_failures && wait < ROLLBACK_IDENTITY_RETRY_MAX_MS; i++)
        wait *= 2;
    if (wait > ROLLBACK_IDENTITY_RETRY_MAX_MS)
        wait = ROLLBACK_IDENTITY_RETRY_MAX_MS;
    wait += (int64_t)(rb_rnd(rb) * (double)wait * 0.2);
    if (permanent)
        wait = ROLLBACK_IDENTITY_RETRY_MAX_MS;
    if (rb->id_failures == 1 || permanent)
        log_event(LOG_LVL_WARN, "rollback_identity_failed", LF_S("error", msg),
                  LF_I("retry_in_ms", wait));
    rb->id_step = 0;
    rb_timer_arm(&rb->id_timer, wait);
}

/*
 * At start, for a pod of a fresh revision: take the stable revision's
 * baseline (read once, so it stays frozen for this pod), and warn once about
 * a re-applied bad hash. Writes only in the re-applied case.
 */
static int mutate_start(struct rollback *rb, struct lease_txn *t)
{
    struct kube_lease *l = &t->lease;
    const char *json;
    char from[KUBE_NAME_MAX];
    int64_t at;
    bool changed = false;

    if (lease_baseline_get(l, &json, from, &at) == 0 && strcmp(from, rb->id.hash)) {
        char *copy = strdup(json);

        if (copy) {
            free(rb->stable_baseline);
            rb->stable_baseline = copy;
            snprintf(rb->stable_from, sizeof(rb->stable_from), "%s", from);
            rb->stable_gen++;
        }
    }
    if (rb->id.current_at_start && lease_record_has(l, LEASE_ANN_ROLLED_BACK, rb->id.hash))
        rb->id.reapplied = true;
    if (rb->id.reapplied && !lease_record_has(l, LEASE_ANN_WARNED, rb->id.hash)) {
        if (lease_record_add(l, LEASE_ANN_WARNED, rb->id.hash) < 0)
            return -ENOMEM;
        rb->warn_reapply = true;
        changed = true;
    }
    return changed ? 1 : 0;
}

static void start_lease_done(struct rollback *rb, struct lease_txn *t, int result)
{
    if (result < 0)
        log_event(LOG_LVL_WARN, "rollback_lease_read_failed", LF_S("error", t->error));
    if (result == 0 && rb->warn_reapply) {
        char msg[700];

        snprintf(msg, sizeof(msg),
                 "pod-template-hash %s was rolled back by rollguard before and has been applied "
                 "again (a GitOps re-sync?); rollguard will not roll it back a second time",
                 rb->id.hash);
        rb_event_post(rb, "Warning", ROLLBACK_REAPPLY_REASON, msg, NULL, NULL);
        log_event(LOG_LVL_WARN, "rollback_bad_revision_reapplied", LF_S("hash", rb->id.hash),
                  LF_S("name", rb->id.owner_name));
    }
    rb->warn_reapply = false;
    kube_lease_done(&t->lease);
    rb_publish_arm(rb, true);
}

static void identity_done(struct rollback *rb)
{
    bool is_new = guard_in_window(rb_wall_s(rb), rb->id.rs_created,
                                  (int64_t)rb->cfg->rollback.guard_window_ms / 1000);

    rb->id.known = true;
    rb->id_failures = 0;
    rb->id_error[0] = '\0';
    snprintf(rb->id.lease_name, sizeof(rb->id.lease_name), "%.220s%s", rb->id.owner_name,
             LEASE_NAME_SUFFIX);
    log_event(LOG_LVL_INFO, "rollback_identity", LF_S("pod", rb->id.pod),
              LF_S("namespace", rb->id.ns), LF_S("hash", rb->id.hash),
              LF_S("replicaset", rb->id.rs_name), LF_S("owner_kind", rb->id.owner_kind),
              LF_S("owner", rb->id.owner_name), LF_I("revision", rb->id.rs_revision),
              LF_I("rollout_start", rb->id.rs_created), LF_B("current", rb->id.current_at_start),
              LF_B("new_revision", is_new), LF_B("reapplied", rb->id.reapplied),
              LF_S("mode", cfg_rollback_mode_name(rb->cfg->rollback.mode)));
    /*
     * Only a pod of a fresh revision (or of a re-applied bad one) reads the
     * Lease at start: it needs the frozen baseline. Stable pods do not.
     */
    if (is_new || rb->id.reapplied)
        rb_txn_start(rb, &rb->start_txn, mutate_start, start_lease_done);
    else
        rb_publish_arm(rb, true);
}

/* Step 0: the pod names its ReplicaSet. */
static int identity_pod(struct rollback *rb, const struct rb_resp *r, char *err, size_t errlen,
                        bool *permanent)
{
    char perr[200];

    kube_pod_done(&rb->pod);
    if (kube_json_pod_parse(r->body, r->body_len, &rb->pod, perr, sizeof(perr)) < 0) {
        snprintf(err, errlen, "pod: %s", perr);
        return -EINVAL;
    }
    if (!rb->pod.meta.has_controller || strcmp(rb->pod.meta.controller.kind, "ReplicaSet") ||
        strcmp(rb->pod.meta.controller.api_version, "apps/v1") ||
        !rb_valid_name(rb->pod.meta.controller.name)) {
        snprintf(err, errlen, "the pod is not controlled by an apps/v1 ReplicaSet");
        *permanent = true;
        return -EINVAL;
    }
    snprintf(rb->id.rs_name, sizeof(rb->id.rs_name), "%s", rb->pod.meta.controller.name);
    snprintf(rb->id.rs_uid, sizeof(rb->id.rs_uid), "%s", rb->pod.meta.controller.uid);
    return 0;
}

/* Step 1: the ReplicaSet carries the pod's hash and names the owner. */
static int identity_rs(struct rollback *rb, const struct rb_resp *r, char *err, size_t errlen,
                       bool *permanent)
{
    const struct rb_target_ops *tg = rb_target(rb);
    char perr[200];
    const char *h;

    kube_rs_done(&rb->own_rs);
    if (kube_json_rs_parse(r->body, r->body_len, &rb->own_rs, perr, sizeof(perr)) < 0) {
        snprintf(err, errlen, "replicaset: %s", perr);
        return -EINVAL;
    }
    if (strcmp(rb->own_rs.meta.uid, rb->id.rs_uid)) {
        snprintf(err, errlen, "the ReplicaSet's uid differs from the pod's ownerReference");
        return -EINVAL;
    }
    h = kube_map_get(&rb->own_rs.meta.labels, tg->hash_label);
    if (!h || strcmp(h, rb->id.hash)) {
        snprintf(err, errlen, "POD_TEMPLATE_HASH differs from the ReplicaSet's hash label");
        *permanent = true;
        return -EINVAL;
    }
    if (!rb->own_rs.meta.has_controller || strcmp(rb->own_rs.meta.controller.kind, tg->kind) ||
        !rb_valid_name(rb->own_rs.meta.controller.name)) {
        snprintf(err, errlen, "the ReplicaSet is not controlled by a %s (rollback.target: %s)",
                 tg->kind, cfg_rollback_target_name(rb->cfg->rollback.target));
        *permanent = true;
        return -EINVAL;
    }
    snprintf(rb->id.owner_kind, sizeof(rb->id.owner_kind), "%s", tg->kind);
    snprintf(rb->id.owner_name, sizeof(rb->id.owner_name), "%s", rb->own_rs.meta.controller.name);
    snprintf(rb->id.owner_uid, sizeof(rb->id.owner_uid), "%s", rb->own_rs.meta.controller.uid);
    rb->id.rs_created = rb->own_rs.meta.created;
    rb->id.rs_revision = tg->rs_revision(&rb->own_rs);
    return 0;
}

static void identity_on_resp(const struct rb_resp *r, void *arg)
{
    static const char *const what[] = {"reading the pod", "reading the ReplicaSet",
                                       "reading the owner"};
    struct rollback *rb = arg;
    char err[300];
    bool permanent = false;
    int rc;

    rb->id_call = NULL;
    err[0] = '\0';
    if (r->status != 200) {
        rb_resp_error(r, what[rb->id_step], err, sizeof(err));
        identity_failed(rb, err, r->status == 403 || r->status == 404);
        return;
    }
    if (rb->id_step == 0)
        rc = identity_pod(rb, r, err, sizeof(err), &permanent);
    else if (rb->id_step == 1)
        rc = identity_rs(rb, r, err, sizeof(err), &permanent);
    else
        rc = rb_target(rb)->identity_owner(rb, r, err, sizeof(err));
    if (rc < 0) {
        identity_failed(rb, err, permanent);
        return;
    }
    if (rb->id_step == 2) {
        kube_pod_done(&rb->pod);
        kube_rs_done(&rb->own_rs);
        identity_done(rb);
        return;
    }
    rb->id_step++;
    identity_step(rb);
}

static void identity_step(struct rollback *rb)
{
    char path[RB_PATH_MAX];

    if (rb->id_step == 0)
        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", rb->id.ns, rb->id.pod);
    else if (rb->id_step == 1)
        snprintf(path, sizeof(path), "/apis/apps/v1/namespaces/%s/replicasets/%s", rb->id.ns,
                 rb->id.rs_name);
    else
        rb_target(rb)->owner_path(rb, path, sizeof(path), "");
    if (rb_call(rb, KUBE_GET, path, NULL, NULL, identity_on_resp, rb, &rb->id_call) < 0)
        identity_failed(rb, "could not start a request", false);
}

void rb_identity_on_timer(struct rollback *rb)
{
    rb->id_step = 0;
    identity_step(rb);
}
