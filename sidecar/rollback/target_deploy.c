/*
 * target_deploy — rollback.target: deployment. The undo `kubectl rollout
 * undo` would do (undo.c plans and renders it), pinned to the newest
 * revision whose hash differs from the bad one, as one JSON patch with
 * test ops (uid, generation, revision) and fieldManager=rollguard. Reads
 * the Deployment and all its ReplicaSets (paginated) before deciding.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/rollback/rollback-int.h"

static void deploy_owner_path(const struct rollback *rb, char *buf, size_t size, const char *suffix)
{
    snprintf(buf, size, "/apis/apps/v1/namespaces/%s/deployments/%s%s", rb->id.ns,
             rb->id.owner_name, suffix);
}

static long deploy_rs_revision(const struct kube_rs *rs)
{
    return undo_revision(&rs->meta.annotations);
}

static int deploy_identity_owner(struct rollback *rb, const struct rb_resp *r, char *err,
                                 size_t errlen)
{
    struct kube_deployment d;
    char perr[200];

    if (kube_json_deployment_parse(r->body, r->body_len, &d, perr, sizeof(perr)) < 0) {
        snprintf(err, errlen, "deployment: %s", perr);
        return -EINVAL;
    }
    if (strcmp(d.meta.uid, rb->id.owner_uid)) {
        kube_deployment_done(&d);
        snprintf(err, errlen, "the Deployment's uid differs from the ownerReference");
        return -EINVAL;
    }
    /* The selector the undo's ReplicaSet LIST uses: the pods LIST of control.c uses it too. */
    free(rb->id.selector);
    rb->id.selector = d.selector;
    d.selector = NULL;
    rb->id.current_at_start = !strcmp(d.template_norm, rb->own_rs.template_norm);
    rb->id.replicas = d.replicas > 0 ? d.replicas : 1;
    /* Re-applied: recorded as rolled back, yet current again (a GitOps re-sync). */
    rb->id.reapplied =
        rb->id.current_at_start &&
        undo_record_has(kube_map_get(&d.meta.annotations, UNDO_RECORD_ANN), rb->id.hash);
    kube_deployment_done(&d);
    return 0;
}

static int deploy_read(struct rollback *rb, const struct rb_resp *r, char *err, size_t errlen)
{
    return kube_json_deployment_parse(r->body, r->body_len, &rb->job.dep, err, errlen);
}

static const char *deploy_uid(const struct rollback *rb)
{
    return rb->job.dep.meta.uid;
}

static void deploy_decide_plan(struct rollback *rb)
{
    struct rb_job *j = &rb->job;
    struct guard_facts f;
    enum guard_reason g;
    const char *current_hash, *record;
    char path[RB_PATH_MAX];

    /* First kubectl's view, to find the current ReplicaSet (and so the bad hash). */
    undo_plan_done(&j->plan);
    memset(&j->req, 0, sizeof(j->req));
    j->req.to_revision = j->to_revision;
    if (undo_plan_make(&j->dep, &j->rs, &j->req, &j->plan) < 0) {
        rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, "out of memory");
        return;
    }
    current_hash = j->plan.current ? j->plan.current->hash : "";
    snprintf(j->bad_hash, sizeof(j->bad_hash), "%s", j->manual ? current_hash : rb->id.hash);
    /*
     * Then the real plan: pinned to the newest revision whose hash differs
     * from the bad one (unless --to-revision), recording the bad hash.
     */
    undo_plan_done(&j->plan);
    record = kube_map_get(&j->dep.meta.annotations, UNDO_RECORD_ANN);
    j->req.bad_hash = j->bad_hash[0] ? j->bad_hash : NULL;
    j->req.exclude = record;
    j->req.record = true;
    j->req.test_generation = true;
    if (undo_plan_make(&j->dep, &j->rs, &j->req, &j->plan) < 0) {
        rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, "out of memory");
        return;
    }
    j->from_rev = j->plan.current_revision;
    j->to_rev = j->plan.target_revision;
    snprintf(j->target_hash, sizeof(j->target_hash), "%s",
             j->plan.target ? j->plan.target->hash : "");

    rb_job_facts(rb, &f);
    f.deployment_read = true;
    f.already_rolled_back = j->already_rolled_back || undo_record_has(record, j->bad_hash);
    f.is_current = j->plan.current && !strcmp(j->plan.current->hash, rb->id.hash);
    f.revision_not_found = j->plan.revision_not_found;
    f.no_history = j->plan.no_history;
    f.paused = j->dep.paused;
    f.template_equal = j->plan.template_equal;
    g = guard_decide(&f);
    if (j->patch_maybe_applied && !j->manual && undo_record_has(record, rb->id.hash) &&
        !f.is_current) {
        /* Our PATCH went through although its answer was lost. */
        rb_job_rolled_back(rb, j->dep.meta.resource_version);
        return;
    }
    if (g == GUARD_OK) {
        buf_reset(&j->patch);
        if (undo_patch_render(&j->dep, &j->plan, &j->req, &j->patch) < 0) {
            rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, "the patch is too large");
            return;
        }
    }
    deploy_owner_path(rb, path, sizeof(path), "?fieldManager=" ROLLBACK_FIELD_MANAGER);
    rb_job_act(rb, g, path, "application/json-patch+json");
}

static void rs_list_next(struct rollback *rb, const char *cont);

static void rs_on_list(const struct rb_resp *r, void *arg)
{
    struct rollback *rb = arg;
    struct rb_job *j = &rb->job;
    struct kube_rs_list page;
    char err[300], perr[200];

    j->call = NULL;
    if (r->status != 200) {
        rb_resp_error(r, "listing ReplicaSets", err, sizeof(err));
        rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, err);
        return;
    }
    if (kube_json_rs_list_parse(r->body, r->body_len, &page, perr, sizeof(perr)) < 0) {
        snprintf(err, sizeof(err), "ReplicaSet list: %s", perr);
        rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, err);
        return;
    }
    if (kube_rs_list_append(&j->rs, &page) < 0) {
        kube_rs_list_done(&page);
        rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, "too many ReplicaSets");
        return;
    }
    if (page.continue_token) {
        rs_list_next(rb, page.continue_token);
        kube_rs_list_done(&page);
        return;
    }
    kube_rs_list_done(&page);
    deploy_decide_plan(rb);
}

static void rs_list_next(struct rollback *rb, const char *cont)
{
    struct rb_job *j = &rb->job;
    char sel[2048], c[2048], path[4800];

    if (kube_query_escape(j->dep.selector, sel, sizeof(sel)) < 0 ||
        (cont && kube_query_escape(cont, c, sizeof(c)) < 0)) {
        rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, "selector too long");
        return;
    }
    snprintf(path, sizeof(path),
             "/apis/apps/v1/namespaces/%s/replicasets?labelSelector=%s&limit=%d%s%s", rb->id.ns,
             sel, ROLLBACK_LIST_LIMIT, cont ? "&continue=" : "", cont ? c : "");
    if (rb_call(rb, KUBE_LIST, path, NULL, NULL, rs_on_list, rb, &j->call) < 0)
        rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, "could not start the LIST");
}

static void deploy_decide(struct rollback *rb)
{
    rs_list_next(rb, NULL);
}

static bool deploy_patch_failed(struct rollback *rb, const struct rb_resp *r)
{
    (void)rb;
    (void)r;
    return false;
}

static void deploy_event_message(const struct rollback *rb, const char *why, char *msg, size_t size)
{
    const struct rb_job *j = &rb->job;
    char votes[160];

    rb_job_votes_text(rb, votes, sizeof(votes));
    snprintf(msg, size,
             "rollguard rolled back deployment \"%s\" from revision %ld (pod-template-hash %s) to "
             "revision %ld (%s) %s; pod %s, %s",
             rb->id.owner_name, j->from_rev, j->bad_hash, j->to_rev, j->target_hash, why,
             rb->id.pod, votes);
}

const struct rb_target_ops rb_target_deploy = {
    .name = "deployment",
    .kind = "Deployment",
    .api_version = "apps/v1",
    .hash_label = KUBE_HASH_LABEL,
    .owner_path = deploy_owner_path,
    .rs_revision = deploy_rs_revision,
    .identity_owner = deploy_identity_owner,
    .read = deploy_read,
    .uid = deploy_uid,
    .decide = deploy_decide,
    .patch_failed = deploy_patch_failed,
    .event_message = deploy_event_message,
};
