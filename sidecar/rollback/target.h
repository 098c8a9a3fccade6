/*
 * target — what the decision job needs to know about the owner it undoes,
 * as one function table per rollback.target (curl's struct Curl_ssl):
 * target_deploy.c (apps/v1 Deployment: kubectl's undo with test ops) and
 * target_argo.c (argoproj.io Rollout: abort). The job and the identity
 * walk never ask which one they have.
 */
#ifndef ROLLGUARD_ROLLBACK_TARGET_H
#define ROLLGUARD_ROLLBACK_TARGET_H

#include <stdbool.h>
#include <stddef.h>

struct rollback;
struct rb_resp;
struct kube_rs;

struct rb_target_ops {
    const char *name;        /* rollback.target as logged: "deployment", "argo-rollout" */
    const char *kind;        /* the owner's kind: "Deployment", "Rollout" */
    const char *api_version; /* the owner's apiVersion (Events) */
    const char *hash_label;  /* the ReplicaSet label holding the pod's hash */

    /* The owner's URL path, with suffix ("", "/status", "?query"). */
    void (*owner_path)(const struct rollback *rb, char *buf, size_t size, const char *suffix);
    /* The revision of this pod's ReplicaSet (0 when the target has none). */
    long (*rs_revision)(const struct kube_rs *rs);
    /*
     * Identity walk, last step: the owner as served (200). Checks the uid,
     * sets id.current_at_start, id.replicas, id.reapplied. Returns 0, or
     * -EINVAL with err set.
     */
    int (*identity_owner)(struct rollback *rb, const struct rb_resp *r, char *err, size_t errlen);
    /* Decision job: decode the owner as served (200) into the job. 0 or -EINVAL with err. */
    int (*read)(struct rollback *rb, const struct rb_resp *r, char *err, size_t errlen);
    /* The owner's uid as read by read(). */
    const char *(*uid)(const struct rollback *rb);
    /* Gather what else it needs, decide, and end in rb_job_act or rb_job_end. */
    void (*decide)(struct rollback *rb);
    /* A PATCH answer other than 200: true when the target handled it (Argo's 404 fallback). */
    bool (*patch_failed)(struct rollback *rb, const struct rb_resp *r);
    /* The RollbackTriggered Event's message; why: "after a FAIL verdict: ...". */
    void (*event_message)(const struct rollback *rb, const char *why, char *msg, size_t size);
};

extern const struct rb_target_ops rb_target_deploy;
extern const struct rb_target_ops rb_target_argo;

#endif
