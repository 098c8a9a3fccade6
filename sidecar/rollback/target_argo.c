/*
 * target_argo — rollback.target: argo-rollout. Aborts the Rollout with the
 * merge patch {"status":{"abort":true}} on its status subresource, or on
 * the main resource when the status subresource answers 404 (CRDs without
 * it). Argo's controller then scales the stable ReplicaSet back up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/rollback/rollback-int.h"

#define ARGO_ABORT_PATCH "{\"status\":{\"abort\":true}}"
#define ARGO_PATCH_TYPE "application/merge-patch+json"

static void argo_owner_path(const struct rollback *rb, char *buf, size_t size, const char *suffix)
{
    snprintf(buf, size, "/apis/argoproj.io/v1alpha1/namespaces/%s/rollouts/%s%s", rb->id.ns,
             rb->id.owner_name, suffix);
}

static long argo_rs_revision(const struct kube_rs *rs)
{
    (void)rs;
    return 0;
}

static int argo_identity_owner(struct rollback *rb, const struct rb_resp *r, char *err,
                               size_t errlen)
{
    struct kube_rollout ro;
    char perr[200];

    if (kube_json_rollout_parse(r->body, r->body_len, &ro, perr, sizeof(perr)) < 0) {
        snprintf(err, errlen, "rollout: %s", perr);
        return -EINVAL;
    }
    if (strcmp(ro.meta.uid, rb->id.owner_uid)) {
        kube_rollout_done(&ro);
        snprintf(err, errlen, "the Rollout's uid differs from the ownerReference");
        return -EINVAL;
    }
    /* spec.selector, read from the same body (no request): the pods LIST of control.c. */
    free(rb->id.selector);
    rb->id.selector = NULL;
    if (kube_json_owner_selector_parse(r->body, r->body_len, &rb->id.selector, perr, sizeof(perr)) <
        0)
        rb->id.selector = NULL; /* control.c says so when asked */
    rb->id.current_at_start = !strcmp(ro.current_hash, rb->id.hash);
    rb->id.replicas = 1;
    kube_rollout_done(&ro);
    return 0;
}

static int argo_read(struct rollback *rb, const struct rb_resp *r, char *err, size_t errlen)
{
    return kube_json_rollout_parse(r->body, r->body_len, &rb->job.ro, err, errlen);
}

static const char *argo_uid(const struct rollback *rb)
{
    return rb->job.ro.meta.uid;
}

static void argo_decide(struct rollback *rb)
{
    struct rb_job *j = &rb->job;
    struct guard_facts f;
    enum guard_reason g;
    char path[RB_PATH_MAX];

    rb_job_facts(rb, &f);
    f.deployment_read = true;
    f.is_current = !strcmp(j->ro.current_hash, rb->id.hash);
    f.no_history = !j->ro.stable_hash[0] || !strcmp(j->ro.stable_hash, j->ro.current_hash);
    f.already_aborted = j->ro.aborted;
    snprintf(j->bad_hash, sizeof(j->bad_hash), "%s", j->ro.current_hash);
    snprintf(j->target_hash, sizeof(j->target_hash), "%s", j->ro.stable_hash);
    g = guard_decide(&f);
    if (g == GUARD_ALREADY_ABORTED && j->patch_maybe_applied) {
        rb_job_rolled_back(rb, j->ro.meta.resource_version);
        return;
    }
    if (g == GUARD_OK) {
        buf_reset(&j->patch);
        buf_puts(&j->patch, ARGO_ABORT_PATCH);
    }
    argo_owner_path(rb, path, sizeof(path), j->argo_main ? "" : "/status");
    rb_job_act(rb, g, path, ARGO_PATCH_TYPE);
}

static bool argo_patch_failed(struct rollback *rb, const struct rb_resp *r)
{
    struct rb_job *j = &rb->job;
    char path[RB_PATH_MAX];

    if (r->status != 404 || j->argo_main)
        return false;
    /* No status subresource: the same merge patch on the main resource. */
    j->argo_main = true;
    argo_owner_path(rb, path, sizeof(path), "");
    rb_job_act(rb, GUARD_OK, path, ARGO_PATCH_TYPE);
    return true;
}

static void argo_event_message(const struct rollback *rb, const char *why, char *msg, size_t size)
{
    const struct rb_job *j = &rb->job;
    char votes[160];

    rb_job_votes_text(rb, votes, sizeof(votes));
    snprintf(msg, size, "rollguard aborted rollout \"%s\" (pod-template-hash %s) %s; pod %s, %s",
             rb->id.owner_name, j->bad_hash, why, rb->id.pod, votes);
}

const struct rb_target_ops rb_target_argo = {
    .name = "argo-rollout",
    .kind = "Rollout",
    .api_version = "argoproj.io/v1alpha1",
    .hash_label = KUBE_ROLLOUT_HASH_LABEL,
    .owner_path = argo_owner_path,
    .rs_revision = argo_rs_revision,
    .identity_owner = argo_identity_owner,
    .read = argo_read,
    .uid = argo_uid,
    .decide = argo_decide,
    .patch_failed = argo_patch_failed,
    .event_message = argo_event_message,
};
