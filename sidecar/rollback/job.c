/*
 * job — the decision job, from a FAIL verdict (or an operator's request)
 * to one result: vote on the Lease and hold it (lease_txn.c), re-read the
 * owner (the target's read/decide), guard (guard.c), PATCH or record the
 * dry-run, Event, release the Lease with the record, one log line, the
 * next-try schedule. Also the verdict entry, which refuses without a
 * request whatever guard_decide refuses before the Lease is read.
 *
 * States: idle -> [quorum auto: read the pod's ReplicaSet for its ready
 * replicas] -> lease (GET/PUT) -> [manual: wait a leaseDuration] ->
 * read owner -> decide -> patch -> [409/422/5xx/lost: read owner again,
 * at most ROLLBACK_REREADS] -> release (Lease PUT) -> idle.
 *
 * The quorum in force is decided where the votes are counted (the Lease
 * step): rollback.quorum when set, else attribution_quorum's majority of
 * the new ReplicaSet's ready pods, read just before (a count taken at
 * start would be of a rollout still scaling up).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/analysis/attribution.h"
#include "sidecar/base/log.h"
#include "sidecar/rollback/rollback-int.h"

static void job_read_target(struct rollback *rb);

/* A refusal that holds for this hash until the config changes. */
static bool final_reason(enum guard_reason r)
{
    switch (r) {
    case GUARD_ALREADY_ROLLED_BACK:
    case GUARD_NOT_CURRENT_REVISION:
    case GUARD_OUTSIDE_GUARD_WINDOW:
    case GUARD_NO_PREVIOUS_REVISION:
    case GUARD_TEMPLATE_ALREADY_EQUAL:
    case GUARD_ALREADY_ABORTED:
        return true;
    default:
        return false;
    }
}

void rb_job_clear(struct rb_job *j)
{
    kube_deployment_done(&j->dep);
    kube_rollout_done(&j->ro);
    kube_rs_list_done(&j->rs);
    undo_plan_done(&j->plan);
}

/* --- the quorum -------------------------------------------------------------- */

static bool quorum_auto(const struct rollback *rb)
{
    return rb->job.quorum_setting == CFG_QUORUM_AUTO;
}

/* The pods an auto quorum is a majority of: the ready ones, or the voters if more. */
static unsigned quorum_pods(const struct rb_job *j)
{
    unsigned ready = j->ready > 0 ? (unsigned)j->ready : 0;

    return ready > j->votes ? ready : j->votes;
}

/* Set the quorum in force from the config, the ready replicas read and the votes. */
static void job_set_quorum(struct rollback *rb)
{
    struct rb_job *j = &rb->job;

    j->quorum =
        attribution_quorum(j->quorum_setting, j->ready > 0 ? (uint32_t)j->ready : 0, j->votes);
}

void rb_job_quorum_basis(const struct rollback *rb, char *buf, size_t size)
{
    const struct rb_job *j = &rb->job;
    unsigned n = quorum_pods(j);

    if (!quorum_auto(rb))
        snprintf(buf, size, "rollback.quorum %u", j->quorum_setting);
    else if (j->ready >= 0 && (unsigned)j->ready >= j->votes)
        snprintf(buf, size, "majority of %u ready pod%s", n, n == 1 ? "" : "s");
    else
        snprintf(buf, size, "majority of %u pod%s that voted; %d ready", n, n == 1 ? "" : "s",
                 j->ready > 0 ? (int)j->ready : 0);
}

void rb_job_votes_text(const struct rollback *rb, char *buf, size_t size)
{
    const struct rb_job *j = &rb->job;
    char basis[96];

    if (j->manual) {
        snprintf(buf, size, "no votes needed (manual request)");
        return;
    }
    rb_job_quorum_basis(rb, basis, sizeof(basis));
    if (quorum_auto(rb))
        snprintf(buf, size, "votes %u of %u (%s)", j->votes, quorum_pods(j), basis);
    else if (j->votes <= j->quorum)
        snprintf(buf, size, "votes %u of %u (%s)", j->votes, j->quorum, basis);
    else
        snprintf(buf, size, "votes %u (%s)", j->votes, basis);
}

/* --- the end of a job ---------------------------------------------------------- */

static void job_log(struct rollback *rb, enum rollback_result res, enum guard_reason reason,
                    const char *error)
{
    struct rb_job *j = &rb->job;
    const char *target = rb_target(rb)->name;
    char basis[96] = "";

    if (j->quorum_counted)
        rb_job_quorum_basis(rb, basis, sizeof(basis));

    switch (res) {
    case ROLLBACK_RESULT_ROLLED_BACK:
        log_event(LOG_LVL_WARN, "rollback_performed", LF_I("id", j->id),
                  LF_S("trigger", j->manual ? "manual" : "verdict"), LF_S("target", target),
                  LF_S("namespace", rb->id.ns), LF_S("name", rb->id.owner_name),
                  LF_S("bad_hash", j->bad_hash), LF_S("target_hash", j->target_hash),
                  LF_I("from_revision", j->from_rev), LF_I("to_revision", j->to_rev),
                  LF_U("votes", j->votes), LF_U("quorum", j->quorum), LF_S("quorum_basis", basis),
                  LF_I("ready_replicas", j->ready),
                  LF_I("fail_to_patch_ms", j->manual ? -1 : rb->last_fail_to_patch_ms),
                  LF_S("config_hash", rb->cfg->hash),
                  LF_RAW("evidence", j->evidence ? j->evidence : "null"));
        break;
    case ROLLBACK_RESULT_DRY_RUN:
        log_event(LOG_LVL_WARN, "rollback_dry_run", LF_I("id", j->id),
                  LF_S("trigger", j->manual ? "manual" : "verdict"), LF_S("target", target),
                  LF_S("namespace", rb->id.ns), LF_S("name", rb->id.owner_name),
                  LF_S("bad_hash", j->bad_hash), LF_S("target_hash", j->target_hash),
                  LF_I("from_revision", j->from_rev), LF_I("to_revision", j->to_rev),
                  LF_S("quorum", "not evaluated: dry-run writes no votes"),
                  LF_S("config_hash", rb->cfg->hash),
                  LF_RAW("patch", j->patch.data && j->patch.len ? j->patch.data : "null"),
                  LF_RAW("evidence", j->evidence ? j->evidence : "null"));
        break;
    case ROLLBACK_RESULT_SKIPPED:
        log_event(LOG_LVL_INFO, "rollback_skipped", LF_I("id", j->id),
                  LF_S("trigger", j->manual ? "manual" : "verdict"), LF_S("target", target),
                  LF_S("name", rb->id.owner_name), LF_S("hash", rb->id.hash),
                  LF_S("reason", guard_reason_name(reason)),
                  LF_S("detail", guard_reason_text(reason)), LF_U("votes", j->votes),
                  LF_U("quorum", j->quorum), LF_S("quorum_basis", basis),
                  LF_I("ready_replicas", j->ready));
        break;
    default:
        log_event(LOG_LVL_ERROR, "rollback_failed", LF_I("id", j->id),
                  LF_S("trigger", j->manual ? "manual" : "verdict"), LF_S("target", target),
                  LF_S("name", rb->id.owner_name), LF_S("error", error ? error : ""));
    }
}

/* End the job: counters, status, one log line, the next-try schedule, the callback. */
static void job_finish(struct rollback *rb, enum rollback_result res, enum guard_reason reason,
                       const char *error)
{
    struct rb_job *j = &rb->job;

    j->active = false;
    rb->last_result = res;
    rb->last_reason = reason;
    rb->last_id = j->id;
    rb->last_manual = j->manual;
    rb->last_at = rb_wall_s(rb);
    rb->last_from = j->from_rev;
    rb->last_to = j->to_rev;
    snprintf(rb->last_error, sizeof(rb->last_error), "%s", error ? error : "");
    rb->last_votes = j->quorum_counted ? j->votes : 0;
    rb->last_quorum = j->quorum_counted ? j->quorum : 0;
    rb->last_quorum_basis[0] = '\0';
    if (j->quorum_counted)
        rb_job_quorum_basis(rb, rb->last_quorum_basis, sizeof(rb->last_quorum_basis));
    free(rb->last_patch);
    rb->last_patch = (res == ROLLBACK_RESULT_DRY_RUN || res == ROLLBACK_RESULT_ROLLED_BACK) &&
                             j->patch.data && !j->patch.failed
                         ? strdup(j->patch.data)
                         : NULL;
    rb->results[res]++;
    if (res == ROLLBACK_RESULT_SKIPPED)
        rb->skipped[reason]++;
    if (res == ROLLBACK_RESULT_ROLLED_BACK && j->patched_ms && !j->manual)
        rb->last_fail_to_patch_ms = j->patched_ms - rb->episode_start_ms;
    job_log(rb, res, reason, error);

    if (!j->manual) {
        bool fin = res == ROLLBACK_RESULT_ROLLED_BACK || res == ROLLBACK_RESULT_DRY_RUN ||
                   (res == ROLLBACK_RESULT_SKIPPED && final_reason(reason));

        if (fin) {
            rb->final_for_hash = true;
            rb->final_reason = res == ROLLBACK_RESULT_SKIPPED ? reason : GUARD_OK;
        } else {
            int64_t wait = rb->retry_ms;

            if (reason == GUARD_LEASE_HELD && wait < (int64_t)rb->cfg->kubernetes.lease_duration_ms)
                wait = rb->cfg->kubernetes.lease_duration_ms;
            rb->next_try_ms = rb->now_ms + wait + (int64_t)(rb_rnd(rb) * (double)wait * 0.5);
            rb->retry_ms =
                rb->retry_ms * 2 > ROLLBACK_RETRY_MAX_MS ? ROLLBACK_RETRY_MAX_MS : rb->retry_ms * 2;
        }
    }
    free(j->evidence);
    j->evidence = NULL;
    free(j->summary);
    j->summary = NULL;
    buf_done(&j->patch);
    rb_job_clear(j);
    if (rb->done_cb)
        rb->done_cb(rb, res, reason, rb->done_arg);
}

/* After the job acted as leader: give the Lease back, with the record. */
static int mutate_release(struct rollback *rb, struct lease_txn *t)
{
    struct rb_job *j = &rb->job;
    bool changed = false;

    if (!strcmp(t->lease.holder, rb->me)) {
        lease_release(&t->lease, rb_wall_us(rb));
        changed = true;
    }
    if (j->result == ROLLBACK_RESULT_ROLLED_BACK && j->bad_hash[0]) {
        if (lease_record_add(&t->lease, LEASE_ANN_ROLLED_BACK, j->bad_hash) < 0)
            return -ENOMEM;
        kube_map_del(&t->lease.meta.annotations, LEASE_ANN_VOTES);
        changed = true;
    }
    return changed ? 1 : 0;
}

static void release_done(struct rollback *rb, struct lease_txn *t, int result)
{
    struct rb_job *j = &rb->job;

    if (result < 0)
        log_event(LOG_LVL_WARN, "rollback_lease_release_failed", LF_S("error", t->error));
    kube_lease_done(&t->lease);
    job_finish(rb, j->result, j->reason, j->error[0] ? j->error : NULL);
}

void rb_job_end(struct rollback *rb, enum rollback_result res, enum guard_reason reason,
                const char *error)
{
    struct rb_job *j = &rb->job;

    j->result = res;
    j->reason = reason;
    snprintf(j->error, sizeof(j->error), "%s", error ? error : "");
    if (!j->leader && j->result != ROLLBACK_RESULT_ROLLED_BACK) {
        job_finish(rb, j->result, j->reason, j->error[0] ? j->error : NULL);
        return;
    }
    rb_txn_start(rb, &rb->job_txn, mutate_release, release_done);
}

void rb_job_rolled_back(struct rollback *rb, const char *owner_rv)
{
    struct rb_job *j = &rb->job;
    char msg[2400], why[900];

    j->patched_ms = rb->now_ms;
    /* One sentence for `kubectl describe`; the full evidence is the Event's annotation. */
    if (j->manual)
        snprintf(why, sizeof(why), "on manual request");
    else if (j->summary)
        snprintf(why, sizeof(why), "after a FAIL verdict: %s", j->summary);
    else
        snprintf(why, sizeof(why), "after a FAIL verdict; evidence: %s",
                 j->evidence ? j->evidence : "none");
    rb_target(rb)->event_message(rb, why, msg, sizeof(msg));
    rb_event_post(rb, "Warning", ROLLBACK_EVENT_REASON, msg, j->evidence, owner_rv);
    rb_job_end(rb, ROLLBACK_RESULT_ROLLED_BACK, GUARD_OK, NULL);
}

void rb_job_facts(const struct rollback *rb, struct guard_facts *f)
{
    const struct rb_job *j = &rb->job;

    memset(f, 0, sizeof(*f));
    f->mode = j->dry_run ? CFG_ROLLBACK_DRY_RUN : (int)rb->cfg->rollback.mode;
    f->manual = j->manual;
    f->in_cluster = rb->enabled;
    f->identity_known = rb->id.known;
    f->already_rolled_back = j->already_rolled_back;
    f->now_s = rb_wall_s(rb);
    f->rollout_start_s = rb->id.rs_created;
    f->guard_window_s = rb->cfg->rollback.guard_window_ms / 1000;
    f->votes = j->votes;
    f->quorum = j->quorum;
    f->quorum_checked = !j->dry_run;
    f->lease_held_by_other = j->held_by_other && !j->dry_run;
}

static void patch_on_done(const struct rb_resp *r, void *arg);

static void send_patch(struct rollback *rb, const char *path, const char *ctype)
{
    struct rb_job *j = &rb->job;

    if (rb_call(rb, KUBE_PATCH, path, ctype, j->patch.data, patch_on_done, rb, &j->call) < 0)
        rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, "could not start the PATCH");
}

void rb_job_act(struct rollback *rb, enum guard_reason g, const char *path, const char *ctype)
{
    struct rb_job *j = &rb->job;

    if (g != GUARD_OK) {
        rb_job_end(rb, ROLLBACK_RESULT_SKIPPED, g, NULL);
        return;
    }
    if (j->dry_run) {
        rb_job_end(rb, ROLLBACK_RESULT_DRY_RUN, GUARD_OK, NULL);
        return;
    }
    send_patch(rb, path, ctype);
}

static void patch_on_done(const struct rb_resp *r, void *arg)
{
    struct rollback *rb = arg;
    struct rb_job *j = &rb->job;
    char err[300];

    j->call = NULL;
    if (r->status == 200) {
        rb_job_rolled_back(rb, NULL);
        return;
    }
    if (rb_target(rb)->patch_failed(rb, r))
        return;
    if (r->status == 0 || r->status >= 500 || r->unsure)
        j->patch_maybe_applied = true; /* the write may have landed: look before deciding */
    if ((r->status == 409 || r->status == 422 || r->status == 0 || r->status >= 500) &&
        j->rereads++ < ROLLBACK_REREADS) {
        log_event(LOG_LVL_INFO, "rollback_redecide", LF_I("id", j->id), LF_I("status", r->status),
                  LF_S("error", r->error ? r->error : ""));
        rb_job_clear(j);
        job_read_target(rb);
        return;
    }
    rb_resp_error(r, "PATCH", err, sizeof(err));
    rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, err);
}

static void target_on_get(const struct rb_resp *r, void *arg)
{
    struct rollback *rb = arg;
    const struct rb_target_ops *tg = rb_target(rb);
    struct rb_job *j = &rb->job;
    char err[300], perr[200], what[80];

    j->call = NULL;
    if (r->status != 200) {
        snprintf(what, sizeof(what), "reading the %s", tg->kind);
        rb_resp_error(r, what, err, sizeof(err));
        rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, err);
        return;
    }
    if (tg->read(rb, r, perr, sizeof(perr)) < 0) {
        snprintf(err, sizeof(err), "decoding the owner: %s", perr);
        rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, err);
        return;
    }
    if (strcmp(tg->uid(rb), rb->id.owner_uid)) {
        rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK,
                   "the owner was replaced (uid changed); restart to learn the new identity");
        return;
    }
    tg->decide(rb);
}

static void job_read_target(struct rollback *rb)
{
    struct rb_job *j = &rb->job;
    char path[RB_PATH_MAX];

    rb_target(rb)->owner_path(rb, path, sizeof(path), "");
    if (rb_call(rb, KUBE_GET, path, NULL, NULL, target_on_get, rb, &j->call) < 0)
        rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, "could not start the GET");
}

/* The Lease step of a decision: read the records, vote, try to hold it. */
static int mutate_decide(struct rollback *rb, struct lease_txn *t)
{
    struct rb_job *j = &rb->job;
    struct kube_lease *l = &t->lease;
    int64_t now_s = rb_wall_s(rb);
    bool changed = false;
    int r;

    j->already_rolled_back = !j->manual && lease_record_has(l, LEASE_ANN_ROLLED_BACK, rb->id.hash);
    j->held_by_other = lease_held_by_other(&rb->view, l, rb->me, rb->now_ms);
    j->leader = false;
    j->votes = lease_votes(l, rb->id.hash, now_s, ROLLBACK_VOTE_TTL_S);
    job_set_quorum(rb);
    j->quorum_counted = !j->dry_run && !j->manual;
    if (j->dry_run || j->already_rolled_back)
        return 0; /* dry-run writes nothing; a recorded hash needs no vote */
    if (!j->manual) {
        if (!lease_has_vote(l, rb->id.hash, rb->id.pod, now_s, ROLLBACK_VOTE_TTL_S)) {
            r = lease_vote(l, rb->id.hash, rb->id.pod, now_s, ROLLBACK_VOTE_TTL_S);
            if (r < 0 && r != -E2BIG)
                return r;
            j->votes = lease_votes(l, rb->id.hash, now_s, ROLLBACK_VOTE_TTL_S);
            job_set_quorum(rb);
            changed = r == 0;
        }
        if (j->votes < j->quorum)
            return changed ? 1 : 0;
    }
    if (j->held_by_other)
        return changed ? 1 : 0;
    lease_take(l, rb->me, (int32_t)(rb->cfg->kubernetes.lease_duration_ms / 1000), rb_wall_us(rb));
    j->leader = true;
    return 1;
}

static void job_on_lease(struct rollback *rb, struct lease_txn *t, int result)
{
    struct rb_job *j = &rb->job;
    struct guard_facts f;
    enum guard_reason g;

    if (result < 0) {
        char err[300];

        snprintf(err, sizeof(err), "%s", t->error);
        j->leader = false;
        kube_lease_done(&t->lease);
        rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, err);
        return;
    }
    if (j->leader && strcmp(t->lease.holder, rb->me))
        j->leader = false;
    kube_lease_done(&t->lease);
    rb_job_facts(rb, &f);
    g = guard_decide(&f);
    if (g == GUARD_LEASE_HELD && j->manual) {
        /* client-go: wait a full leaseDuration of an unchanged record, then take over. */
        int64_t wait = (int64_t)rb->cfg->kubernetes.lease_duration_ms + 200;

        if (rb->now_ms + wait < j->deadline_ms) {
            log_event(LOG_LVL_INFO, "rollback_lease_wait", LF_I("id", j->id),
                      LF_I("wait_ms", wait));
            rb_timer_arm(&rb->job_timer, wait);
            return;
        }
    }
    if (g != GUARD_OK) {
        rb_job_end(rb, ROLLBACK_RESULT_SKIPPED, g, NULL);
        return;
    }
    job_read_target(rb);
}

void rb_job_on_wait(struct rollback *rb)
{
    if (rb->job.active)
        rb_txn_start(rb, &rb->job_txn, mutate_decide, job_on_lease);
}

void rb_job_on_deferred(struct rollback *rb)
{
    struct guard_facts f;

    rb_job_facts(rb, &f);
    f.quorum_checked = false;
    rb_job_end(rb, ROLLBACK_RESULT_SKIPPED, guard_decide(&f), NULL);
}

/* The pod's own ReplicaSet (the new revision's, if it is current): its ready replicas. */
static void ready_on_get(const struct rb_resp *r, void *arg)
{
    struct rollback *rb = arg;
    struct rb_job *j = &rb->job;
    struct kube_rs rs;
    char err[300], perr[200];

    j->call = NULL;
    if (r->status != 200) {
        rb_resp_error(r, "reading the ReplicaSet", err, sizeof(err));
        rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, err);
        return;
    }
    if (kube_json_rs_parse(r->body, r->body_len, &rs, perr, sizeof(perr)) < 0) {
        snprintf(err, sizeof(err), "decoding the ReplicaSet: %s", perr);
        rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, err);
        return;
    }
    if (strcmp(rs.meta.uid, rb->id.rs_uid)) {
        kube_rs_done(&rs);
        rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK,
                   "the ReplicaSet was replaced (uid changed); restart to learn the new identity");
        return;
    }
    j->ready = rs.ready_replicas;
    kube_rs_done(&rs);
    rb_txn_start(rb, &rb->job_txn, mutate_decide, job_on_lease);
}

static void job_read_ready(struct rollback *rb)
{
    struct rb_job *j = &rb->job;
    char path[RB_PATH_MAX];

    snprintf(path, sizeof(path), "/apis/apps/v1/namespaces/%s/replicasets/%s", rb->id.ns,
             rb->id.rs_name);
    if (rb_call(rb, KUBE_GET, path, NULL, NULL, ready_on_get, rb, &j->call) < 0)
        rb_job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, "could not start the GET");
}

static int64_t job_start(struct rollback *rb, bool manual, long to_revision, bool dry_run)
{
    struct rb_job *j = &rb->job;
    struct guard_facts f;

    rb_job_clear(j);
    memset(j, 0, sizeof(*j));
    j->active = true;
    j->manual = manual;
    j->to_revision = to_revision;
    j->dry_run = dry_run || rb->cfg->rollback.mode == CFG_ROLLBACK_DRY_RUN;
    j->id = ++rb->next_id;
    j->started_ms = rb->now_ms;
    j->deadline_ms = j->started_ms + ROLLBACK_MANUAL_DEADLINE_MS;
    j->from_rev = j->to_rev = -1;
    j->ready = -1;
    j->quorum_setting = rb->cfg->rollback.quorum;
    j->quorum = j->quorum_setting;
    j->evidence = rb->evidence && !manual ? strdup(rb->evidence) : NULL;
    j->summary = rb->summary && !manual ? strdup(rb->summary) : NULL;
    buf_init(&j->patch, RB_PATCH_MAX);
    rb_job_facts(rb, &f);
    f.quorum_checked = false; /* the votes are on the Lease, read next */
    if (guard_decide(&f) != GUARD_OK) {
        /* Refused before any request; finish from the loop, not inside the caller. */
        rb_timer_arm(&rb->deferred_timer, 0);
        return j->id;
    }
    if (!j->manual && !j->dry_run && quorum_auto(rb))
        job_read_ready(rb);
    else
        rb_txn_start(rb, &rb->job_txn, mutate_decide, job_on_lease);
    return j->id;
}

/* --- verdicts and operator requests ---------------------------------------- */

/* Count and log a refusal made without a request, once per FAIL episode and reason. */
static void count_skip_once(struct rollback *rb, enum guard_reason g)
{
    if (rb->episode_counted && rb->episode_reason == g)
        return;
    rb->episode_counted = true;
    rb->episode_reason = g;
    rb->skipped[g]++;
    rb->results[ROLLBACK_RESULT_SKIPPED]++;
    rb->last_result = ROLLBACK_RESULT_SKIPPED;
    rb->last_reason = g;
    rb->last_at = rb_wall_s(rb);
    rb->last_votes = rb->last_quorum = 0;
    rb->last_quorum_basis[0] = '\0';
    log_event(LOG_LVL_INFO, "rollback_skipped", LF_S("trigger", "verdict"),
              LF_S("reason", guard_reason_name(g)), LF_S("detail", guard_reason_text(g)));
}

/* What guard_decide can refuse before any request: nothing read, no votes, no Lease. */
static enum guard_reason verdict_precheck(const struct rollback *rb)
{
    struct guard_facts f;

    memset(&f, 0, sizeof(f));
    f.mode = (int)rb->cfg->rollback.mode;
    f.in_cluster = rb->enabled;
    f.identity_known = rb->id.known;
    /* Rolled back before and current again (a GitOps re-sync): warned at start, never flipped. */
    f.already_rolled_back = rb->id.reapplied;
    f.now_s = rb_wall_s(rb);
    f.rollout_start_s = rb->id.rs_created;
    f.guard_window_s = rb->cfg->rollback.guard_window_ms / 1000;
    return guard_decide(&f);
}

void rollback_on_verdict(struct rollback *rb, enum rollback_verdict outcome,
                         const char *evidence_json, const char *summary, int64_t now_ms)
{
    enum guard_reason g;

    if (!rb)
        return;
    rb->now_ms = now_ms;
    rb->wall_ms = rb->env.wall_ms(rb->env.ctx);
    /* A verdict not withheld ends a withheld episode (INCONCLUSIVE, like for FAIL, does not). */
    if (outcome != ROLLBACK_VERDICT_INCONCLUSIVE)
        rb_withheld_end_episode(rb);
    if (outcome != ROLLBACK_VERDICT_FAIL) {
        if (outcome == ROLLBACK_VERDICT_PASS)
            rb->episode = false;
        return;
    }
    if (!rb->episode) {
        rb->episode = true;
        rb->episode_counted = false;
        rb->episode_start_ms = now_ms;
        rb->retry_ms = ROLLBACK_RETRY_MIN_MS;
        rb->next_try_ms = 0;
    }
    if (evidence_json && strlen(evidence_json) <= RB_EVIDENCE_MAX) {
        free(rb->evidence);
        rb->evidence = strdup(evidence_json);
    }
    free(rb->summary);
    rb->summary = summary && strlen(summary) <= RB_EVIDENCE_MAX ? strdup(summary) : NULL;
    if (rb->job.active)
        return;
    g = verdict_precheck(rb);
    if (g == GUARD_MODE_OFF || g == GUARD_NOT_IN_CLUSTER || g == GUARD_IDENTITY_UNKNOWN) {
        count_skip_once(rb, g);
        return;
    }
    if (rb->final_for_hash || now_ms < rb->next_try_ms)
        return;
    if (g != GUARD_OK) {
        /* Older problems are logged and counted, not rolled back; no API request. */
        rb->final_for_hash = true;
        rb->final_reason = g;
        count_skip_once(rb, g);
        return;
    }
    job_start(rb, false, 0, false);
}

int64_t rollback_manual(struct rollback *rb, long to_revision, bool dry_run)
{
    if (!rb->enabled)
        return -ENOTCONN;
    if (!rb->id.known)
        return -EAGAIN;
    if (rb->job.active)
        return -EBUSY;
    if (to_revision < 0)
        return -EINVAL;
    rb_now(rb);
    return job_start(rb, true, to_revision, dry_run);
}
