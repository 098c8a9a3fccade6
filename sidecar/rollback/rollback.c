/*
 * rollback — identity walk, the rollback decision job, Lease transactions
 * and baseline publication, on the event loop through the kube client.
 * Owns the cached identity, the job state, the counters shown on /metrics
 * and /status, and the log lines of every decision. Never blocks, never
 * polls the API (every request follows a verdict, an operator request, the
 * start or a jittered publication timer), never logs or shows the token.
 */
#include "sidecar/rollback/rollback.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "sidecar/kube/kube.h"
#include "sidecar/kube/kube_json.h"
#include "sidecar/rollback/lease.h"
#include "sidecar/base/log.h"
#include "sidecar/rollback/undo.h"

#define RB_PATCH_MAX (2u << 20)
#define RB_EVIDENCE_MAX 8192

struct rollback;
struct lease_txn;

typedef int txn_mutate_fn(struct rollback *rb, struct lease_txn *t);
/* result: 0 written, 1 nothing to write, < 0 failed (t->error says why) */
typedef void txn_done_fn(struct rollback *rb, struct lease_txn *t, int result);

struct lease_txn {
    struct rollback *rb;
    bool active;
    unsigned tries;
    bool exists;
    struct kube_lease lease;
    txn_mutate_fn *mutate;
    txn_done_fn *done;
    struct kube_call *call;
    char error[256];
};

struct rb_identity {
    bool known;
    char pod[KUBE_NAME_MAX];
    char ns[KUBE_NAME_MAX];
    char hash[KUBE_NAME_MAX];
    char rs_name[KUBE_NAME_MAX];
    char rs_uid[KUBE_UID_MAX];
    int64_t rs_created;
    long rs_revision;
    char owner_kind[KUBE_KIND_MAX];
    char owner_name[KUBE_NAME_MAX];
    char owner_uid[KUBE_UID_MAX];
    char lease_name[KUBE_NAME_MAX + 16];
    int32_t replicas;
    bool current_at_start;
    bool reapplied;
};

struct rb_job {
    bool active;
    bool manual;
    bool dry_run;
    long to_revision;
    int64_t id;
    char *evidence;
    char *summary; /* the verdict as one sentence (Event message) */
    bool leader;
    unsigned votes;
    bool held_by_other;
    bool already_rolled_back;
    unsigned rereads;
    bool patch_maybe_applied;
    bool argo_main;
    char bad_hash[KUBE_NAME_MAX];
    char target_hash[KUBE_NAME_MAX];
    long from_rev, to_rev;
    struct kube_deployment dep;
    struct kube_rollout ro;
    struct kube_rs_list rs;
    struct undo_plan plan;
    struct undo_req req;
    struct buf patch;
    enum guard_reason reason;
    enum rollback_result result;
    char error[256];
    int64_t started_ms;
    int64_t deadline_ms;
    int64_t patched_ms;
    struct kube_call *call;
};

struct rollback {
    struct event_base *base;
    struct curlm *m;
    struct cfg *cfg;
    struct kube_client *kube;
    bool enabled;
    char disabled_why[256];
    char api_url[512];
    char me[KUBE_NAME_MAX + 16];
    struct rb_identity id;
    struct lease_view view;
    uint64_t rng;

    /* identity walk */
    int id_step;
    unsigned id_failures;
    struct kube_call *id_call;
    struct event *id_timer;
    char id_error[256];
    struct kube_pod pod;
    struct kube_rs own_rs;
    struct lease_txn start_txn;
    bool warn_reapply;

    /* decisions */
    struct rb_job job;
    struct lease_txn job_txn;
    struct event *job_timer; /* manual: wait for a held Lease; deferred finishes */
    bool episode;            /* consecutive FAIL verdicts */
    bool episode_counted;
    enum guard_reason episode_reason;
    int64_t episode_start_ms;
    char *evidence; /* latest FAIL evidence */
    char *summary;  /* ... and its sentence */
    bool final_for_hash;
    enum guard_reason final_reason;
    int64_t next_try_ms;
    uint32_t retry_ms;

    /* baseline */
    char *baseline_mine;
    char *stable_baseline;
    char stable_from[KUBE_NAME_MAX];
    uint64_t stable_gen;
    struct event *pub_timer;
    struct lease_txn pub_txn;
    uint64_t publications;

    /* results */
    int64_t next_id;
    enum rollback_result last_result;
    enum guard_reason last_reason;
    char last_error[256];
    char *last_patch;
    int64_t last_id;
    bool last_manual;
    int64_t last_at;
    long last_from, last_to;
    int64_t last_fail_to_patch_ms;
    uint64_t results[ROLLBACK_RESULT_COUNT];
    uint64_t skipped[GUARD_REASON_COUNT];
    rollback_done_fn *done_cb;
    void *done_arg;
};

/* --- clocks, randomness, names ---------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_s(void)
{
    return wall_us() / 1000000;
}

static double rnd01(struct rollback *rb)
{
    rb->rng ^= rb->rng >> 12;
    rb->rng ^= rb->rng << 25;
    rb->rng ^= rb->rng >> 27;
    return (double)((rb->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static void arm_ms(struct event *ev, int64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};

    evtimer_add(ev, &tv);
}

/* A DNS-1123 subdomain or label as the downward API gives it: safe in a URL path. */
static bool valid_name(const char *s)
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

static bool is_argo(const struct rollback *rb)
{
    return rb->cfg->rollback.target == CFG_TARGET_ARGO_ROLLOUT;
}

const char *rollback_result_name(enum rollback_result r)
{
    static const char *const n[ROLLBACK_RESULT_COUNT] = {"none", "rolled_back", "dry_run",
                                                         "skipped", "failed"};
    return r >= 0 && r < ROLLBACK_RESULT_COUNT ? n[r] : "unknown";
}

static void owner_path(const struct rollback *rb, char *buf, size_t size, const char *suffix)
{
    if (is_argo(rb))
        snprintf(buf, size, "/apis/argoproj.io/v1alpha1/namespaces/%s/rollouts/%s%s", rb->id.ns,
                 rb->id.owner_name, suffix);
    else
        snprintf(buf, size, "/apis/apps/v1/namespaces/%s/deployments/%s%s", rb->id.ns,
                 rb->id.owner_name, suffix);
}

static int call(struct rollback *rb, enum kube_verb verb, const char *path, const char *ctype,
                const char *body, kube_done_fn *cb, void *arg, struct kube_call **slot)
{
    struct kube_call_opts o = {.verb = verb,
                               .path = path,
                               .content_type = ctype,
                               .body = body,
                               .body_len = body ? strlen(body) : 0};

    return kube_call(rb->kube, &o, cb, arg, slot);
}

/* "HTTP 403 Forbidden: ..." or the transport error. */
static void resp_error(const struct kube_resp *r, const char *what, char *buf, size_t size)
{
    snprintf(buf, size, "%.40s: %.200s", what, r->error[0] ? r->error : "unexpected answer");
}

/* --- Lease transactions: GET, mutate, PUT/POST, again on 409 -------------- */

static void txn_get(struct rollback *rb, struct lease_txn *t);

static void txn_end(struct rollback *rb, struct lease_txn *t, int result)
{
    t->active = false;
    t->call = NULL;
    t->done(rb, t, result);
}

static void txn_on_write(const struct kube_resp *r, void *arg)
{
    struct lease_txn *t = arg;
    struct rollback *rb = t->rb;
    struct kube_lease fresh;
    char err[200];

    t->call = NULL;
    if (r->status == 200 || r->status == 201) {
        if (kube_json_lease_parse(r->body, r->body_len, &fresh, err, sizeof(err)) == 0) {
            kube_lease_done(&t->lease);
            t->lease = fresh;
            t->exists = true;
            lease_observe(&rb->view, &t->lease, mono_ms());
        }
        txn_end(rb, t, 0);
        return;
    }
    if (r->status == 409 && ++t->tries < ROLLBACK_LEASE_TRIES) {
        txn_get(rb, t); /* lost a race: read again and redo the change */
        return;
    }
    resp_error(r, "writing the Lease", t->error, sizeof(t->error));
    txn_end(rb, t, r->status == 409 ? -EBUSY : -EIO);
}

static void txn_on_get(const struct kube_resp *r, void *arg)
{
    struct lease_txn *t = arg;
    struct rollback *rb = t->rb;
    char err[200], path[600], *body = NULL;
    int m;

    t->call = NULL;
    kube_lease_done(&t->lease);
    memset(&t->lease, 0, sizeof(t->lease));
    if (r->status == 200) {
        if (kube_json_lease_parse(r->body, r->body_len, &t->lease, err, sizeof(err)) < 0) {
            snprintf(t->error, sizeof(t->error), "reading the Lease: %s", err);
            txn_end(rb, t, -EIO);
            return;
        }
        t->exists = true;
        lease_observe(&rb->view, &t->lease, mono_ms());
    } else if (r->status == 404) {
        t->exists = false;
        if (lease_init(&t->lease, rb->id.lease_name, rb->id.ns) < 0) {
            snprintf(t->error, sizeof(t->error), "out of memory");
            txn_end(rb, t, -ENOMEM);
            return;
        }
    } else {
        resp_error(r, "reading the Lease", t->error, sizeof(t->error));
        txn_end(rb, t, -EIO);
        return;
    }
    m = t->mutate(rb, t);
    if (m <= 0) {
        txn_end(rb, t, m < 0 ? m : 1);
        return;
    }
    if (kube_json_lease_render(&t->lease, &body) < 0) {
        snprintf(t->error, sizeof(t->error), "out of memory");
        txn_end(rb, t, -ENOMEM);
        return;
    }
    if (t->exists)
        snprintf(path, sizeof(path), "/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s",
                 rb->id.ns, rb->id.lease_name);
    else
        snprintf(path, sizeof(path), "/apis/coordination.k8s.io/v1/namespaces/%s/leases",
                 rb->id.ns);
    if (call(rb, t->exists ? KUBE_UPDATE : KUBE_CREATE, path, "application/json", body,
             txn_on_write, t, &t->call) < 0) {
        snprintf(t->error, sizeof(t->error), "could not start the Lease write");
        free(body);
        txn_end(rb, t, -EIO);
        return;
    }
    free(body);
}

static void txn_get(struct rollback *rb, struct lease_txn *t)
{
    char path[600];

    snprintf(path, sizeof(path), "/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s", rb->id.ns,
             rb->id.lease_name);
    if (call(rb, KUBE_GET, path, NULL, NULL, txn_on_get, t, &t->call) < 0) {
        snprintf(t->error, sizeof(t->error), "could not start the Lease read");
        txn_end(rb, t, -EIO);
    }
}

static void txn_start(struct rollback *rb, struct lease_txn *t, txn_mutate_fn *mutate,
                      txn_done_fn *done)
{
    t->rb = rb;
    t->active = true;
    t->tries = 0;
    t->error[0] = '\0';
    t->mutate = mutate;
    t->done = done;
    txn_get(rb, t);
}

static void txn_cancel(struct lease_txn *t)
{
    kube_call_cancel(t->call);
    t->call = NULL;
    t->active = false;
    kube_lease_done(&t->lease);
}

/* --- events ----------------------------------------------------------------- */

static void event_on_done(const struct kube_resp *r, void *arg)
{
    (void)arg;
    if (r->status != 201 && r->status != 200)
        log_event(LOG_LVL_WARN, "rollback_event_failed", LF_S("error", r->error));
}

/* Create a core/v1 Event about the owner. Fire and forget (failures are logged). */
static void post_event(struct rollback *rb, const char *type, const char *reason,
                       const char *message, const char *evidence, const char *owner_rv)
{
    char name[KUBE_NAME_MAX + 32], ts[KUBE_TIME_MAX], path[600], *body = NULL;
    struct kube_event ev;
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(name, sizeof(name), "%.200s.%llx", rb->id.owner_name,
             (unsigned long long)now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec);
    kube_time_render(now.tv_sec, ts, sizeof(ts));
    memset(&ev, 0, sizeof(ev));
    ev.name = name;
    ev.namespace = rb->id.ns;
    ev.type = type;
    ev.reason = reason;
    ev.message = message;
    ev.action = "Rollback";
    ev.component = "rollguard";
    ev.instance = rb->id.pod;
    ev.timestamp = ts;
    ev.obj_api_version = is_argo(rb) ? "argoproj.io/v1alpha1" : "apps/v1";
    ev.obj_kind = is_argo(rb) ? "Rollout" : "Deployment";
    ev.obj_name = rb->id.owner_name;
    ev.obj_uid = rb->id.owner_uid;
    ev.obj_resource_version = owner_rv;
    ev.evidence_json = evidence;
    if (kube_json_event_render(&ev, &body) < 0) {
        ev.evidence_json = NULL; /* not JSON: the message still carries it */
        if (kube_json_event_render(&ev, &body) < 0)
            return;
    }
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events", rb->id.ns);
    if (call(rb, KUBE_CREATE, path, "application/json", body, event_on_done, rb, NULL) < 0)
        log_event(LOG_LVL_WARN, "rollback_event_failed", LF_S("error", "could not start"));
    free(body);
}

/* --- the decision job ----------------------------------------------------- */

static void job_read_target(struct rollback *rb);
static void job_release(struct rollback *rb);

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

static void job_clear(struct rb_job *j)
{
    kube_deployment_done(&j->dep);
    kube_rollout_done(&j->ro);
    kube_rs_list_done(&j->rs);
    undo_plan_done(&j->plan);
}

/* End the job: counters, status, one log line, the next-try schedule, the callback. */
static void job_finish(struct rollback *rb, enum rollback_result res, enum guard_reason reason,
                       const char *error)
{
    struct rb_job *j = &rb->job;
    const char *target = is_argo(rb) ? "argo-rollout" : "deployment";

    j->active = false;
    rb->last_result = res;
    rb->last_reason = reason;
    rb->last_id = j->id;
    rb->last_manual = j->manual;
    rb->last_at = wall_s();
    rb->last_from = j->from_rev;
    rb->last_to = j->to_rev;
    snprintf(rb->last_error, sizeof(rb->last_error), "%s", error ? error : "");
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

    switch (res) {
    case ROLLBACK_RESULT_ROLLED_BACK:
        log_event(LOG_LVL_WARN, "rollback_performed", LF_I("id", j->id),
                  LF_S("trigger", j->manual ? "manual" : "verdict"), LF_S("target", target),
                  LF_S("namespace", rb->id.ns), LF_S("name", rb->id.owner_name),
                  LF_S("bad_hash", j->bad_hash), LF_S("target_hash", j->target_hash),
                  LF_I("from_revision", j->from_rev), LF_I("to_revision", j->to_rev),
                  LF_U("votes", j->votes), LF_U("quorum", rb->cfg->rollback.quorum),
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
                  LF_U("quorum", rb->cfg->rollback.quorum));
        break;
    default:
        log_event(LOG_LVL_ERROR, "rollback_failed", LF_I("id", j->id),
                  LF_S("trigger", j->manual ? "manual" : "verdict"), LF_S("target", target),
                  LF_S("name", rb->id.owner_name), LF_S("error", error ? error : ""));
    }

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
            rb->next_try_ms = mono_ms() + wait + (int64_t)(rnd01(rb) * (double)wait * 0.5);
            rb->retry_ms =
                rb->retry_ms * 2 > ROLLBACK_RETRY_MAX_MS ? ROLLBACK_RETRY_MAX_MS : rb->retry_ms * 2;
        }
    }
    free(j->evidence);
    j->evidence = NULL;
    free(j->summary);
    j->summary = NULL;
    buf_done(&j->patch);
    job_clear(j);
    if (rb->done_cb)
        rb->done_cb(rb, res, reason, rb->done_arg);
}

/* After the job acted as leader: give the Lease back, with the record. */
static int mutate_release(struct rollback *rb, struct lease_txn *t)
{
    struct rb_job *j = &rb->job;
    bool changed = false;

    if (!strcmp(t->lease.holder, rb->me)) {
        lease_release(&t->lease, wall_us());
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

static void job_release(struct rollback *rb)
{
    struct rb_job *j = &rb->job;

    if (!j->leader && j->result != ROLLBACK_RESULT_ROLLED_BACK) {
        job_finish(rb, j->result, j->reason, j->error[0] ? j->error : NULL);
        return;
    }
    txn_start(rb, &rb->job_txn, mutate_release, release_done);
}

static void job_end(struct rollback *rb, enum rollback_result res, enum guard_reason reason,
                    const char *error)
{
    struct rb_job *j = &rb->job;

    j->result = res;
    j->reason = reason;
    snprintf(j->error, sizeof(j->error), "%s", error ? error : "");
    job_release(rb);
}

static void job_rolled_back(struct rollback *rb, const char *owner_rv)
{
    struct rb_job *j = &rb->job;
    char msg[2400], why[900];
    const char *kind = is_argo(rb) ? "rollout" : "deployment";

    j->patched_ms = mono_ms();
    /* One sentence for `kubectl describe`; the full evidence is the Event's annotation. */
    if (j->manual)
        snprintf(why, sizeof(why), "on manual request");
    else if (j->summary)
        snprintf(why, sizeof(why), "after a FAIL verdict: %s", j->summary);
    else
        snprintf(why, sizeof(why), "after a FAIL verdict; evidence: %s",
                 j->evidence ? j->evidence : "none");
    if (is_argo(rb))
        snprintf(msg, sizeof(msg),
                 "rollguard aborted rollout \"%s\" (pod-template-hash %s) %s; pod %s, votes "
                 "%u/%u",
                 rb->id.owner_name, j->bad_hash, why, rb->id.pod, j->votes,
                 rb->cfg->rollback.quorum);
    else
        snprintf(msg, sizeof(msg),
                 "rollguard rolled back %s \"%s\" from revision %ld (pod-template-hash %s) to "
                 "revision %ld (%s) %s; pod %s, votes %u/%u",
                 kind, rb->id.owner_name, j->from_rev, j->bad_hash, j->to_rev, j->target_hash, why,
                 rb->id.pod, j->votes, rb->cfg->rollback.quorum);
    post_event(rb, "Warning", ROLLBACK_EVENT_REASON, msg, j->evidence, owner_rv);
    job_end(rb, ROLLBACK_RESULT_ROLLED_BACK, GUARD_OK, NULL);
}

/* The guard facts every decision shares. */
static void base_facts(struct rollback *rb, struct guard_facts *f)
{
    struct rb_job *j = &rb->job;

    memset(f, 0, sizeof(*f));
    f->mode = j->dry_run ? CFG_ROLLBACK_DRY_RUN : (int)rb->cfg->rollback.mode;
    f->manual = j->manual;
    f->in_cluster = rb->enabled;
    f->identity_known = rb->id.known;
    f->already_rolled_back = j->already_rolled_back;
    f->now_s = wall_s();
    f->rollout_start_s = rb->id.rs_created;
    f->guard_window_s = rb->cfg->rollback.guard_window_ms / 1000;
    f->votes = j->votes;
    f->quorum = rb->cfg->rollback.quorum;
    f->quorum_checked = !j->dry_run;
    f->lease_held_by_other = j->held_by_other && !j->dry_run;
}

static void patch_on_done(const struct kube_resp *r, void *arg);

static void send_patch(struct rollback *rb, const char *path, const char *ctype)
{
    struct rb_job *j = &rb->job;

    if (call(rb, KUBE_PATCH, path, ctype, j->patch.data, patch_on_done, rb, &j->call) < 0)
        job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, "could not start the PATCH");
}

static void decide_argo(struct rollback *rb)
{
    struct rb_job *j = &rb->job;
    struct guard_facts f;
    enum guard_reason g;
    char path[700];

    base_facts(rb, &f);
    f.deployment_read = true;
    f.is_current = !strcmp(j->ro.current_hash, rb->id.hash);
    f.no_history = !j->ro.stable_hash[0] || !strcmp(j->ro.stable_hash, j->ro.current_hash);
    f.already_aborted = j->ro.aborted;
    snprintf(j->bad_hash, sizeof(j->bad_hash), "%s", j->ro.current_hash);
    snprintf(j->target_hash, sizeof(j->target_hash), "%s", j->ro.stable_hash);
    g = guard_decide(&f);
    if (g == GUARD_ALREADY_ABORTED && j->patch_maybe_applied) {
        job_rolled_back(rb, j->ro.meta.resource_version);
        return;
    }
    if (g != GUARD_OK) {
        job_end(rb, ROLLBACK_RESULT_SKIPPED, g, NULL);
        return;
    }
    buf_reset(&j->patch);
    buf_puts(&j->patch, "{\"status\":{\"abort\":true}}");
    if (j->dry_run) {
        job_end(rb, ROLLBACK_RESULT_DRY_RUN, GUARD_OK, NULL);
        return;
    }
    owner_path(rb, path, sizeof(path), j->argo_main ? "" : "/status");
    send_patch(rb, path, "application/merge-patch+json");
}

static void decide_deployment(struct rollback *rb)
{
    struct rb_job *j = &rb->job;
    struct guard_facts f;
    enum guard_reason g;
    const char *current_hash;
    char path[700];
    int r;

    /* First kubectl's view, to find the current ReplicaSet (and so the bad hash). */
    undo_plan_done(&j->plan);
    memset(&j->req, 0, sizeof(j->req));
    j->req.to_revision = j->to_revision;
    if (undo_plan_make(&j->dep, &j->rs, &j->req, &j->plan) < 0) {
        job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, "out of memory");
        return;
    }
    current_hash = j->plan.current ? j->plan.current->hash : "";
    snprintf(j->bad_hash, sizeof(j->bad_hash), "%s", j->manual ? current_hash : rb->id.hash);
    /*
     * Then the real plan: pinned to the newest revision whose hash differs
     * from the bad one (unless --to-revision), recording the bad hash.
     */
    undo_plan_done(&j->plan);
    j->req.bad_hash = j->bad_hash[0] ? j->bad_hash : NULL;
    j->req.exclude = kube_map_get(&j->dep.meta.annotations, UNDO_RECORD_ANN);
    j->req.record = true;
    j->req.test_generation = true;
    if (undo_plan_make(&j->dep, &j->rs, &j->req, &j->plan) < 0) {
        job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, "out of memory");
        return;
    }
    j->from_rev = j->plan.current_revision;
    j->to_rev = j->plan.target_revision;
    snprintf(j->target_hash, sizeof(j->target_hash), "%s",
             j->plan.target ? j->plan.target->hash : "");

    base_facts(rb, &f);
    f.deployment_read = true;
    f.already_rolled_back =
        j->already_rolled_back ||
        undo_record_has(kube_map_get(&j->dep.meta.annotations, UNDO_RECORD_ANN), j->bad_hash);
    f.is_current = j->plan.current && !strcmp(j->plan.current->hash, rb->id.hash);
    f.revision_not_found = j->plan.revision_not_found;
    f.no_history = j->plan.no_history;
    f.paused = j->dep.paused;
    f.template_equal = j->plan.template_equal;
    g = guard_decide(&f);
    if (j->patch_maybe_applied && !j->manual &&
        undo_record_has(kube_map_get(&j->dep.meta.annotations, UNDO_RECORD_ANN), rb->id.hash) &&
        !f.is_current) {
        /* Our PATCH went through although its answer was lost. */
        job_rolled_back(rb, j->dep.meta.resource_version);
        return;
    }
    if (g != GUARD_OK) {
        job_end(rb, ROLLBACK_RESULT_SKIPPED, g, NULL);
        return;
    }
    buf_reset(&j->patch);
    r = undo_patch_render(&j->dep, &j->plan, &j->req, &j->patch);
    if (r < 0) {
        job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, "the patch is too large");
        return;
    }
    if (j->dry_run) {
        job_end(rb, ROLLBACK_RESULT_DRY_RUN, GUARD_OK, NULL);
        return;
    }
    owner_path(rb, path, sizeof(path), "?fieldManager=" ROLLBACK_FIELD_MANAGER);
    send_patch(rb, path, "application/json-patch+json");
}

static void patch_on_done(const struct kube_resp *r, void *arg)
{
    struct rollback *rb = arg;
    struct rb_job *j = &rb->job;
    char err[300];

    j->call = NULL;
    if (r->status == 200) {
        job_rolled_back(rb, NULL);
        return;
    }
    if (is_argo(rb) && r->status == 404 && !j->argo_main) {
        /* No status subresource: the same merge patch on the main resource. */
        char path[700];

        j->argo_main = true;
        owner_path(rb, path, sizeof(path), "");
        send_patch(rb, path, "application/merge-patch+json");
        return;
    }
    if (r->status == 0 || r->status >= 500 || r->unsure)
        j->patch_maybe_applied = true; /* the write may have landed: look before deciding */
    if ((r->status == 409 || r->status == 422 || r->status == 0 || r->status >= 500) &&
        j->rereads++ < ROLLBACK_REREADS) {
        log_event(LOG_LVL_INFO, "rollback_redecide", LF_I("id", j->id), LF_I("status", r->status),
                  LF_S("error", r->error));
        job_clear(j);
        job_read_target(rb);
        return;
    }
    resp_error(r, "PATCH", err, sizeof(err));
    job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, err);
}

static void rs_list_next(struct rollback *rb, const char *cont);

static void rs_on_list(const struct kube_resp *r, void *arg)
{
    struct rollback *rb = arg;
    struct rb_job *j = &rb->job;
    struct kube_rs_list page;
    char err[300];
    int rc;

    j->call = NULL;
    if (r->status != 200) {
        resp_error(r, "listing ReplicaSets", err, sizeof(err));
        job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, err);
        return;
    }
    if (kube_json_rs_list_parse(r->body, r->body_len, &page, err + 100, 200) < 0) {
        snprintf(err, 100, "ReplicaSet list: ");
        memmove(err + strlen(err), err + 100, strlen(err + 100) + 1);
        job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, err);
        return;
    }
    rc = kube_rs_list_append(&j->rs, &page);
    if (rc < 0) {
        kube_rs_list_done(&page);
        job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, "too many ReplicaSets");
        return;
    }
    if (page.continue_token) {
        rs_list_next(rb, page.continue_token);
        kube_rs_list_done(&page);
        return;
    }
    kube_rs_list_done(&page);
    decide_deployment(rb);
}

static void rs_list_next(struct rollback *rb, const char *cont)
{
    struct rb_job *j = &rb->job;
    char sel[2048], c[2048], path[4800];

    if (kube_query_escape(j->dep.selector, sel, sizeof(sel)) < 0 ||
        (cont && kube_query_escape(cont, c, sizeof(c)) < 0)) {
        job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, "selector too long");
        return;
    }
    snprintf(path, sizeof(path),
             "/apis/apps/v1/namespaces/%s/replicasets?labelSelector=%s&limit=%d%s%s", rb->id.ns,
             sel, ROLLBACK_LIST_LIMIT, cont ? "&continue=" : "", cont ? c : "");
    if (call(rb, KUBE_LIST, path, NULL, NULL, rs_on_list, rb, &j->call) < 0)
        job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, "could not start the LIST");
}

static void target_on_get(const struct kube_resp *r, void *arg)
{
    struct rollback *rb = arg;
    struct rb_job *j = &rb->job;
    char err[300], perr[200];
    int rc;

    j->call = NULL;
    if (r->status != 200) {
        resp_error(r, is_argo(rb) ? "reading the Rollout" : "reading the Deployment", err,
                   sizeof(err));
        job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, err);
        return;
    }
    if (is_argo(rb))
        rc = kube_json_rollout_parse(r->body, r->body_len, &j->ro, perr, sizeof(perr));
    else
        rc = kube_json_deployment_parse(r->body, r->body_len, &j->dep, perr, sizeof(perr));
    if (rc < 0) {
        snprintf(err, sizeof(err), "decoding the owner: %s", perr);
        job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, err);
        return;
    }
    if (strcmp(is_argo(rb) ? j->ro.meta.uid : j->dep.meta.uid, rb->id.owner_uid)) {
        job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK,
                "the owner was replaced (uid changed); restart to learn the new identity");
        return;
    }
    if (is_argo(rb))
        decide_argo(rb);
    else
        rs_list_next(rb, NULL);
}

static void job_read_target(struct rollback *rb)
{
    struct rb_job *j = &rb->job;
    char path[700];

    owner_path(rb, path, sizeof(path), "");
    if (call(rb, KUBE_GET, path, NULL, NULL, target_on_get, rb, &j->call) < 0)
        job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, "could not start the GET");
}

/* The Lease step of a decision: read the records, vote, try to hold it. */
static int mutate_decide(struct rollback *rb, struct lease_txn *t)
{
    struct rb_job *j = &rb->job;
    struct kube_lease *l = &t->lease;
    int64_t now_s = wall_s(), now = mono_ms();
    bool changed = false;
    int r;

    j->already_rolled_back = !j->manual && lease_record_has(l, LEASE_ANN_ROLLED_BACK, rb->id.hash);
    j->held_by_other = lease_held_by_other(&rb->view, l, rb->me, now);
    j->leader = false;
    j->votes = lease_votes(l, rb->id.hash, now_s, ROLLBACK_VOTE_TTL_S);
    if (j->dry_run || j->already_rolled_back)
        return 0; /* dry-run writes nothing; a recorded hash needs no vote */
    if (!j->manual) {
        if (!lease_has_vote(l, rb->id.hash, rb->id.pod, now_s, ROLLBACK_VOTE_TTL_S)) {
            r = lease_vote(l, rb->id.hash, rb->id.pod, now_s, ROLLBACK_VOTE_TTL_S);
            if (r < 0 && r != -E2BIG)
                return r;
            j->votes = lease_votes(l, rb->id.hash, now_s, ROLLBACK_VOTE_TTL_S);
            changed = r == 0;
        }
        if (j->votes < rb->cfg->rollback.quorum)
            return changed ? 1 : 0;
    }
    if (j->held_by_other)
        return changed ? 1 : 0;
    lease_take(l, rb->me, (int32_t)(rb->cfg->kubernetes.lease_duration_ms / 1000), wall_us());
    j->leader = true;
    return 1;
}

static void job_on_lease(struct rollback *rb, struct lease_txn *t, int result);

static void job_on_wait(evutil_socket_t fd, short what, void *arg)
{
    struct rollback *rb = arg;

    (void)fd;
    (void)what;
    if (rb->job.active)
        txn_start(rb, &rb->job_txn, mutate_decide, job_on_lease);
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
        job_end(rb, ROLLBACK_RESULT_FAILED, GUARD_OK, err);
        return;
    }
    if (j->leader && strcmp(t->lease.holder, rb->me))
        j->leader = false;
    kube_lease_done(&t->lease);
    base_facts(rb, &f);
    g = guard_decide(&f);
    if (g == GUARD_LEASE_HELD && j->manual) {
        /* client-go: wait a full leaseDuration of an unchanged record, then take over. */
        int64_t wait = (int64_t)rb->cfg->kubernetes.lease_duration_ms + 200;

        if (mono_ms() + wait < j->deadline_ms) {
            log_event(LOG_LVL_INFO, "rollback_lease_wait", LF_I("id", j->id),
                      LF_I("wait_ms", wait));
            arm_ms(rb->job_timer, wait);
            return;
        }
    }
    if (g != GUARD_OK) {
        job_end(rb, ROLLBACK_RESULT_SKIPPED, g, NULL);
        return;
    }
    job_read_target(rb);
}

static void job_on_deferred(evutil_socket_t fd, short what, void *arg)
{
    struct rollback *rb = arg;
    struct guard_facts f;

    (void)fd;
    (void)what;
    base_facts(rb, &f);
    f.quorum_checked = false;
    job_end(rb, ROLLBACK_RESULT_SKIPPED, guard_decide(&f), NULL);
}

static int64_t job_start(struct rollback *rb, bool manual, long to_revision, bool dry_run)
{
    struct rb_job *j = &rb->job;
    struct guard_facts f;

    job_clear(j);
    memset(j, 0, sizeof(*j));
    j->active = true;
    j->manual = manual;
    j->to_revision = to_revision;
    j->dry_run = dry_run || rb->cfg->rollback.mode == CFG_ROLLBACK_DRY_RUN;
    j->id = ++rb->next_id;
    j->started_ms = mono_ms();
    j->deadline_ms = j->started_ms + ROLLBACK_MANUAL_DEADLINE_MS;
    j->from_rev = j->to_rev = -1;
    j->evidence = rb->evidence && !manual ? strdup(rb->evidence) : NULL;
    j->summary = rb->summary && !manual ? strdup(rb->summary) : NULL;
    buf_init(&j->patch, RB_PATCH_MAX);
    base_facts(rb, &f);
    f.quorum_checked = false; /* the votes are on the Lease, read next */
    if (guard_decide(&f) != GUARD_OK) {
        /* Refused before any request; finish from the loop, not inside the caller. */
        event_base_once(rb->base, -1, EV_TIMEOUT, job_on_deferred, rb, &(struct timeval){0, 0});
        return j->id;
    }
    txn_start(rb, &rb->job_txn, mutate_decide, job_on_lease);
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
    rb->last_at = wall_s();
    log_event(LOG_LVL_INFO, "rollback_skipped", LF_S("trigger", "verdict"),
              LF_S("reason", guard_reason_name(g)), LF_S("detail", guard_reason_text(g)));
}

void rollback_on_verdict(struct rollback *rb, enum rollback_verdict outcome,
                         const char *evidence_json, const char *summary, int64_t now_ms)
{
    int64_t now = mono_ms();

    (void)now_ms; /* the orchestrator keeps its own clock for waits */
    if (!rb)
        return;
    if (outcome != ROLLBACK_VERDICT_FAIL) {
        if (outcome == ROLLBACK_VERDICT_PASS)
            rb->episode = false;
        return;
    }
    if (!rb->episode) {
        rb->episode = true;
        rb->episode_counted = false;
        rb->episode_start_ms = now;
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
    if (rb->cfg->rollback.mode == CFG_ROLLBACK_OFF) {
        count_skip_once(rb, GUARD_MODE_OFF);
        return;
    }
    if (!rb->enabled) {
        count_skip_once(rb, GUARD_NOT_IN_CLUSTER);
        return;
    }
    if (!rb->id.known) {
        count_skip_once(rb, GUARD_IDENTITY_UNKNOWN);
        return;
    }
    if (rb->final_for_hash || now < rb->next_try_ms)
        return;
    if (rb->id.reapplied) {
        /* This hash was rolled back before and came back: warn (done at start), never flip. */
        rb->final_for_hash = true;
        rb->final_reason = GUARD_ALREADY_ROLLED_BACK;
        count_skip_once(rb, GUARD_ALREADY_ROLLED_BACK);
        return;
    }
    if (!rb->id.rs_created ||
        wall_s() - rb->id.rs_created > (int64_t)rb->cfg->rollback.guard_window_ms / 1000) {
        /* Older problems are logged and counted, not rolled back; no API request. */
        rb->final_for_hash = true;
        rb->final_reason = GUARD_OUTSIDE_GUARD_WINDOW;
        count_skip_once(rb, GUARD_OUTSIDE_GUARD_WINDOW);
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
    return job_start(rb, true, to_revision, dry_run);
}

/* --- identity ---------------------------------------------------------------- */

static void identity_step(struct rollback *rb);
static void publish_arm(struct rollback *rb, bool first);

static void identity_failed(struct rollback *rb, const char *msg, bool permanent)
{
    int64_t wait = ROLLBACK_IDENTITY_RETRY_MIN_MS;

    snprintf(rb->id_error, sizeof(rb->id_error), "%s", msg);
    rb->id_failures++;
    for (unsigned i = 1; i < rb->id_failures && wait < ROLLBACK_IDENTITY_RETRY_MAX_MS; i++)
        wait *= 2;
    if (wait > ROLLBACK_IDENTITY_RETRY_MAX_MS)
        wait = ROLLBACK_IDENTITY_RETRY_MAX_MS;
    wait += (int64_t)(rnd01(rb) * (double)wait * 0.2);
    if (permanent)
        wait = ROLLBACK_IDENTITY_RETRY_MAX_MS;
    if (rb->id_failures == 1 || permanent)
        log_event(LOG_LVL_WARN, "rollback_identity_failed", LF_S("error", msg),
                  LF_I("retry_in_ms", wait));
    rb->id_step = 0;
    arm_ms(rb->id_timer, wait);
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
        post_event(rb, "Warning", ROLLBACK_REAPPLY_REASON, msg, NULL, NULL);
        log_event(LOG_LVL_WARN, "rollback_bad_revision_reapplied", LF_S("hash", rb->id.hash),
                  LF_S("name", rb->id.owner_name));
    }
    rb->warn_reapply = false;
    kube_lease_done(&t->lease);
    publish_arm(rb, true);
}

static void identity_done(struct rollback *rb)
{
    bool is_new = rb->id.rs_created &&
                  wall_s() - rb->id.rs_created <= (int64_t)rb->cfg->rollback.guard_window_ms / 1000;

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
        txn_start(rb, &rb->start_txn, mutate_start, start_lease_done);
    else
        publish_arm(rb, true);
}

static void identity_on_resp(const struct kube_resp *r, void *arg)
{
    struct rollback *rb = arg;
    char err[300], perr[200];

    rb->id_call = NULL;
    err[0] = '\0';
    if (r->status != 200) {
        resp_error(r,
                   rb->id_step == 0   ? "reading the pod"
                   : rb->id_step == 1 ? "reading the ReplicaSet"
                                      : "reading the owner",
                   err, sizeof(err));
        identity_failed(rb, err, r->status == 403 || r->status == 404);
        return;
    }
    switch (rb->id_step) {
    case 0:
        kube_pod_done(&rb->pod);
        if (kube_json_pod_parse(r->body, r->body_len, &rb->pod, perr, sizeof(perr)) < 0) {
            snprintf(err, sizeof(err), "pod: %s", perr);
            identity_failed(rb, err, false);
            return;
        }
        if (!rb->pod.meta.has_controller || strcmp(rb->pod.meta.controller.kind, "ReplicaSet") ||
            strcmp(rb->pod.meta.controller.api_version, "apps/v1") ||
            !valid_name(rb->pod.meta.controller.name)) {
            identity_failed(rb, "the pod is not controlled by an apps/v1 ReplicaSet", true);
            return;
        }
        snprintf(rb->id.rs_name, sizeof(rb->id.rs_name), "%s", rb->pod.meta.controller.name);
        snprintf(rb->id.rs_uid, sizeof(rb->id.rs_uid), "%s", rb->pod.meta.controller.uid);
        break;
    case 1: {
        const char *want_kind = is_argo(rb) ? "Rollout" : "Deployment";
        const char *h;

        kube_rs_done(&rb->own_rs);
        if (kube_json_rs_parse(r->body, r->body_len, &rb->own_rs, perr, sizeof(perr)) < 0) {
            snprintf(err, sizeof(err), "replicaset: %s", perr);
            identity_failed(rb, err, false);
            return;
        }
        if (strcmp(rb->own_rs.meta.uid, rb->id.rs_uid)) {
            identity_failed(rb, "the ReplicaSet's uid differs from the pod's ownerReference",
                            false);
            return;
        }
        h = kube_map_get(&rb->own_rs.meta.labels,
                         is_argo(rb) ? KUBE_ROLLOUT_HASH_LABEL : KUBE_HASH_LABEL);
        if (!h || strcmp(h, rb->id.hash)) {
            identity_failed(rb, "POD_TEMPLATE_HASH differs from the ReplicaSet's hash label", true);
            return;
        }
        if (!rb->own_rs.meta.has_controller || strcmp(rb->own_rs.meta.controller.kind, want_kind) ||
            !valid_name(rb->own_rs.meta.controller.name)) {
            snprintf(err, sizeof(err),
                     "the ReplicaSet is not controlled by a %s "
                     "(rollback.target: %s)",
                     want_kind, cfg_rollback_target_name(rb->cfg->rollback.target));
            identity_failed(rb, err, true);
            return;
        }
        snprintf(rb->id.owner_kind, sizeof(rb->id.owner_kind), "%s", want_kind);
        snprintf(rb->id.owner_name, sizeof(rb->id.owner_name), "%s",
                 rb->own_rs.meta.controller.name);
        snprintf(rb->id.owner_uid, sizeof(rb->id.owner_uid), "%s", rb->own_rs.meta.controller.uid);
        rb->id.rs_created = rb->own_rs.meta.created;
        rb->id.rs_revision = is_argo(rb) ? 0 : undo_revision(&rb->own_rs.meta.annotations);
        break;
    }
    case 2:
        if (is_argo(rb)) {
            struct kube_rollout ro;

            if (kube_json_rollout_parse(r->body, r->body_len, &ro, perr, sizeof(perr)) < 0) {
                snprintf(err, sizeof(err), "rollout: %s", perr);
                identity_failed(rb, err, false);
                return;
            }
            if (strcmp(ro.meta.uid, rb->id.owner_uid)) {
                kube_rollout_done(&ro);
                identity_failed(rb, "the Rollout's uid differs from the ownerReference", false);
                return;
            }
            rb->id.current_at_start = !strcmp(ro.current_hash, rb->id.hash);
            rb->id.replicas = 1;
            kube_rollout_done(&ro);
        } else {
            struct kube_deployment d;

            if (kube_json_deployment_parse(r->body, r->body_len, &d, perr, sizeof(perr)) < 0) {
                snprintf(err, sizeof(err), "deployment: %s", perr);
                identity_failed(rb, err, false);
                return;
            }
            if (strcmp(d.meta.uid, rb->id.owner_uid)) {
                kube_deployment_done(&d);
                identity_failed(rb, "the Deployment's uid differs from the ownerReference", false);
                return;
            }
            rb->id.current_at_start = !strcmp(d.template_norm, rb->own_rs.template_norm);
            rb->id.replicas = d.replicas > 0 ? d.replicas : 1;
            /* Re-applied: recorded as rolled back, yet current again (a GitOps re-sync). */
            rb->id.reapplied =
                rb->id.current_at_start &&
                undo_record_has(kube_map_get(&d.meta.annotations, UNDO_RECORD_ANN), rb->id.hash);
            kube_deployment_done(&d);
        }
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
    char path[700];

    if (rb->id_step == 0)
        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", rb->id.ns, rb->id.pod);
    else if (rb->id_step == 1)
        snprintf(path, sizeof(path), "/apis/apps/v1/namespaces/%s/replicasets/%s", rb->id.ns,
                 rb->id.rs_name);
    else
        owner_path(rb, path, sizeof(path), "");
    if (call(rb, KUBE_GET, path, NULL, NULL, identity_on_resp, rb, &rb->id_call) < 0)
        identity_failed(rb, "could not start a request", false);
}

static void identity_on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct rollback *rb = arg;

    (void)fd;
    (void)what;
    rb->id_step = 0;
    identity_step(rb);
}

/* --- baseline publication ---------------------------------------------------- */

static int mutate_publish(struct rollback *rb, struct lease_txn *t)
{
    int r;

    if (!rb->baseline_mine)
        return 0;
    r = lease_baseline_set(&t->lease, rb->id.hash, rb->baseline_mine, wall_s());
    return r < 0 ? r : 1;
}

static void publish_done(struct rollback *rb, struct lease_txn *t, int result)
{
    if (result == 0)
        rb->publications++;
    else if (result < 0)
        log_event(LOG_LVL_WARN, "baseline_publish_failed", LF_S("error", t->error));
    kube_lease_done(&t->lease);
    publish_arm(rb, false);
}

static void publish_on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct rollback *rb = arg;
    double p;

    (void)fd;
    (void)what;
    /* About ROLLBACK_PUBLISHERS pods of the Deployment publish per interval. */
    p = ROLLBACK_PUBLISHERS / (double)(rb->id.replicas > 0 ? rb->id.replicas : 1);
    /* Only pods whose rollout has settled publish; a fresh revision is on trial. */
    if (!rb->baseline_mine || rb->pub_txn.active || rb->job.active || rb->id.reapplied ||
        wall_s() - rb->id.rs_created <= (int64_t)rb->cfg->rollback.guard_window_ms / 1000 ||
        rnd01(rb) >= p) {
        publish_arm(rb, false);
        return;
    }
    txn_start(rb, &rb->pub_txn, mutate_publish, publish_done);
}

static void publish_arm(struct rollback *rb, bool first)
{
    double iv = rb->cfg->rollback.baseline_publish_interval_ms, f;

    f = first ? 0.2 + rnd01(rb)
              : 1.0 - ROLLBACK_PUBLISH_JITTER + 2.0 * ROLLBACK_PUBLISH_JITTER * rnd01(rb);
    arm_ms(rb->pub_timer, (int64_t)(iv * f));
}

void rollback_publish_baseline(struct rollback *rb, const char *json)
{
    char *copy;

    if (!rb || !json || strlen(json) > LEASE_BASELINE_MAX || !(copy = strdup(json)))
        return;
    free(rb->baseline_mine);
    rb->baseline_mine = copy;
}

const char *rollback_stable_baseline(const struct rollback *rb, uint64_t *generation)
{
    if (generation)
        *generation = rb ? rb->stable_gen : 0;
    return rb ? rb->stable_baseline : NULL;
}

/* --- life cycle ----------------------------------------------------------------- */

static void read_small_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    ssize_t n = 0;

    buf[0] = '\0';
    if (fd < 0)
        return;
    n = read(fd, buf, size - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
}

static void disable(struct rollback *rb, const char *why)
{
    rb->enabled = false;
    snprintf(rb->disabled_why, sizeof(rb->disabled_why), "%s", why);
    log_event(LOG_LVL_WARN, "rollback_disabled", LF_S("reason", why),
              LF_S("mode", cfg_rollback_mode_name(rb->cfg->rollback.mode)));
}

int rollback_new(struct event_base *base, struct curlm *m, struct cfg *cfg, struct rollback **ret)
{
    struct rollback *rb = calloc(1, sizeof(*rb));
    const char *pod = getenv("POD_NAME"), *ns = getenv("POD_NAMESPACE"),
               *hash = getenv("POD_TEMPLATE_HASH");
    char nsbuf[KUBE_NAME_MAX], path[600], err[256];
    uint64_t seed = 0;

    if (!rb)
        return -ENOMEM;
    rb->base = base;
    rb->m = m;
    rb->cfg = cfg_ref(cfg);
    rb->retry_ms = ROLLBACK_RETRY_MIN_MS;
    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    rb->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
    rb->id_timer = evtimer_new(base, identity_on_timer, rb);
    rb->pub_timer = evtimer_new(base, publish_on_timer, rb);
    rb->job_timer = evtimer_new(base, job_on_wait, rb);
    if (!rb->id_timer || !rb->pub_timer || !rb->job_timer) {
        rollback_free(rb);
        return -ENOMEM;
    }
    rb->enabled = true;
    if (!ns || !ns[0]) {
        snprintf(path, sizeof(path), "%s/namespace", cfg->kubernetes.service_account_dir);
        read_small_file(path, nsbuf, sizeof(nsbuf));
        ns = nsbuf;
    }
    if (cfg->kubernetes.api_server[0]) {
        snprintf(rb->api_url, sizeof(rb->api_url), "%s", cfg->kubernetes.api_server);
    } else if (kube_incluster_url(getenv("KUBERNETES_SERVICE_HOST"),
                                  getenv("KUBERNETES_SERVICE_PORT"), rb->api_url,
                                  sizeof(rb->api_url)) < 0) {
        disable(rb, "not in a cluster: KUBERNETES_SERVICE_HOST/PORT unset and "
                    "kubernetes.api_server empty");
        *ret = rb;
        return 0;
    }
    if (!pod || !valid_name(pod) || !ns || !valid_name(ns) || !hash || !valid_name(hash)) {
        disable(rb, "no pod identity: set POD_NAME, POD_NAMESPACE and POD_TEMPLATE_HASH from "
                    "the downward API");
        *ret = rb;
        return 0;
    }
    snprintf(rb->id.pod, sizeof(rb->id.pod), "%s", pod);
    snprintf(rb->id.ns, sizeof(rb->id.ns), "%s", ns);
    snprintf(rb->id.hash, sizeof(rb->id.hash), "%s", hash);
    snprintf(rb->me, sizeof(rb->me), "%.200s_%08x", pod, (unsigned)(rb->rng & 0xffffffffu));
    {
        struct kube_client_cfg kc = {
            .api_server = rb->api_url,
            .sa_dir = cfg->kubernetes.service_account_dir,
            .timeout_ms = cfg->kubernetes.timeout_ms,
            .max_body = cfg->kubernetes.max_response_bytes,
        };
        int r = kube_client_new(base, m, &kc, &rb->kube, err, sizeof(err));

        if (r == -ENOMEM) {
            rollback_free(rb);
            return r;
        }
        if (r < 0) {
            disable(rb, err);
            *ret = rb;
            return 0;
        }
    }
    arm_ms(rb->id_timer, 0);
    *ret = rb;
    return 0;
}

struct rollback *rollback_free(struct rollback *rb)
{
    if (!rb)
        return NULL;
    txn_cancel(&rb->start_txn);
    txn_cancel(&rb->job_txn);
    txn_cancel(&rb->pub_txn);
    kube_call_cancel(rb->job.call);
    kube_call_cancel(rb->id_call);
    job_clear(&rb->job);
    buf_done(&rb->job.patch);
    free(rb->job.evidence);
    kube_client_free(rb->kube); /* cancels fire-and-forget events too */
    if (rb->id_timer)
        event_free(rb->id_timer);
    if (rb->pub_timer)
        event_free(rb->pub_timer);
    if (rb->job_timer)
        event_free(rb->job_timer);
    kube_pod_done(&rb->pod);
    kube_rs_done(&rb->own_rs);
    free(rb->evidence);
    free(rb->summary);
    free(rb->baseline_mine);
    free(rb->stable_baseline);
    free(rb->last_patch);
    cfg_unref(rb->cfg);
    free(rb);
    return NULL;
}

void rollback_apply_cfg(struct rollback *rb, struct cfg *cfg)
{
    struct cfg *old;

    if (!rb)
        return;
    old = rb->cfg;
    rb->cfg = cfg_ref(cfg);
    if (old->rollback.mode != cfg->rollback.mode || old->rollback.target != cfg->rollback.target) {
        /* A dry-run's record or an "off" refusal does not bind the new mode. */
        rb->final_for_hash = false;
        rb->episode_counted = false;
        rb->next_try_ms = 0;
        rb->retry_ms = ROLLBACK_RETRY_MIN_MS;
    }
    cfg_unref(old);
}

void rollback_set_done_cb(struct rollback *rb, rollback_done_fn *fn, void *arg)
{
    rb->done_cb = fn;
    rb->done_arg = arg;
}

bool rollback_enabled(const struct rollback *rb, const char **why)
{
    if (why)
        *why = rb->enabled ? "" : rb->disabled_why;
    return rb->enabled;
}

bool rollback_identity_known(const struct rollback *rb)
{
    return rb->id.known;
}

const char *rollback_identity_error(const struct rollback *rb)
{
    return rb->id_error;
}

void rollback_owner(const struct rollback *rb, const char **kind, const char **name)
{
    *kind = rb->id.known ? rb->id.owner_kind : "";
    *name = rb->id.known ? rb->id.owner_name : "";
}

bool rollback_busy(const struct rollback *rb)
{
    return rb->job.active;
}

enum rollback_result rollback_last(const struct rollback *rb, enum guard_reason *reason,
                                   const char **patch, const char **error)
{
    if (reason)
        *reason = rb->last_reason;
    if (patch)
        *patch = rb->last_patch ? rb->last_patch : "";
    if (error)
        *error = rb->last_error;
    return rb->last_result;
}

/* --- /status and /metrics ------------------------------------------------------ */

static void js(struct buf *b, const char *key, const char *v, bool comma)
{
    buf_printf(b, "%s\"%s\":\"", comma ? "," : "", key);
    buf_json_escape(b, v ? v : "");
    buf_puts(b, "\"");
}

void rollback_render_status(const struct rollback *rb, struct buf *b)
{
    char ts[KUBE_TIME_MAX] = "";

    buf_puts(b, "{");
    js(b, "mode", cfg_rollback_mode_name(rb->cfg->rollback.mode), false);
    js(b, "target", cfg_rollback_target_name(rb->cfg->rollback.target), true);
    buf_printf(b, ",\"in_cluster\":%s", rb->enabled ? "true" : "false");
    js(b, "disabled_reason", rb->disabled_why, true);
    js(b, "api_server", rb->api_url, true);
    buf_printf(b, ",\"identity\":{\"known\":%s", rb->id.known ? "true" : "false");
    js(b, "pod", rb->id.pod, true);
    js(b, "namespace", rb->id.ns, true);
    js(b, "pod_template_hash", rb->id.hash, true);
    js(b, "replicaset", rb->id.rs_name, true);
    js(b, "owner_kind", rb->id.owner_kind, true);
    js(b, "owner", rb->id.owner_name, true);
    js(b, "lease", rb->id.lease_name, true);
    if (rb->id.rs_created)
        kube_time_render(rb->id.rs_created, ts, sizeof(ts));
    js(b, "rollout_start", ts, true);
    buf_printf(b, ",\"revision\":%ld,\"current_at_start\":%s,\"reapplied_bad_hash\":%s",
               rb->id.rs_revision, rb->id.current_at_start ? "true" : "false",
               rb->id.reapplied ? "true" : "false");
    js(b, "error", rb->id_error, true);
    buf_printf(b, "},\"busy\":%s,\"final_for_hash\":%s", rb->job.active ? "true" : "false",
               rb->final_for_hash ? "true" : "false");
    js(b, "final_reason", rb->final_for_hash ? guard_reason_name(rb->final_reason) : "", true);
    buf_printf(b, ",\"last\":{\"id\":%lld", (long long)rb->last_id);
    js(b, "trigger", rb->last_id ? (rb->last_manual ? "manual" : "verdict") : "", true);
    js(b, "result", rollback_result_name(rb->last_result), true);
    js(b, "reason",
       rb->last_result == ROLLBACK_RESULT_SKIPPED ? guard_reason_name(rb->last_reason) : "", true);
    ts[0] = '\0';
    if (rb->last_at)
        kube_time_render(rb->last_at, ts, sizeof(ts));
    js(b, "at", ts, true);
    buf_printf(b, ",\"from_revision\":%ld,\"to_revision\":%ld,\"fail_to_patch_ms\":%lld",
               rb->last_from, rb->last_to, (long long)rb->last_fail_to_patch_ms);
    js(b, "error", rb->last_error, true);
    buf_puts(b, ",\"patch\":");
    buf_puts(b, rb->last_patch ? rb->last_patch : "null");
    buf_puts(b, "},\"baseline\":{");
    buf_printf(b, "\"stable_present\":%s", rb->stable_baseline ? "true" : "false");
    js(b, "stable_from_hash", rb->stable_from, true);
    buf_printf(b, ",\"publishing\":%s,\"publications\":%llu}",
               rb->id.known && !rb->id.reapplied ? "true" : "false",
               (unsigned long long)rb->publications);
    if (rb->kube) {
        const struct kube_stats *s = kube_client_stats(rb->kube);
        uint64_t total = 0;

        for (int v = 0; v < KUBE_VERBS; v++)
            for (int c = 0; c < KUBE_CODES; c++)
                total += s->requests[v][c];
        buf_printf(b, ",\"api_requests\":%llu,\"api_retries\":%llu,\"token_reloads\":%llu",
                   (unsigned long long)total, (unsigned long long)s->retries,
                   (unsigned long long)s->token_reloads);
    }
    buf_puts(b, "}");
}

void rollback_render_metrics(const struct rollback *rb, struct buf *b)
{
    static const enum rollback_result shown[] = {ROLLBACK_RESULT_ROLLED_BACK,
                                                 ROLLBACK_RESULT_DRY_RUN, ROLLBACK_RESULT_FAILED};
    const char *target = cfg_rollback_target_name(rb->cfg->rollback.target);

    buf_puts(b, "# HELP rollguard_rollback_enabled 1 when the pod identity and the API server "
                "are known (in a cluster).\n# TYPE rollguard_rollback_enabled gauge\n");
    buf_printf(b, "rollguard_rollback_enabled %d\n", rb->enabled ? 1 : 0);
    buf_puts(b, "# HELP rollguard_rollbacks_total Rollback decisions that acted, by target and "
                "result (rolled_back, dry_run, failed).\n"
                "# TYPE rollguard_rollbacks_total counter\n");
    for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
        buf_printf(b, "rollguard_rollbacks_total{target=\"%s\",result=\"%s\"} %llu\n", target,
                   rollback_result_name(shown[i]), (unsigned long long)rb->results[shown[i]]);
    buf_puts(b, "# HELP rollguard_rollback_skipped_total Rollback decisions a guard refused, by "
                "reason.\n# TYPE rollguard_rollback_skipped_total counter\n");
    for (int g = 1; g < GUARD_REASON_COUNT; g++)
        buf_printf(b, "rollguard_rollback_skipped_total{reason=\"%s\"} %llu\n",
                   guard_reason_name(g), (unsigned long long)rb->skipped[g]);
    buf_puts(b, "# HELP rollguard_kube_requests_total Kubernetes API requests (every attempt), "
                "by verb and status code.\n# TYPE rollguard_kube_requests_total counter\n");
    if (rb->kube) {
        const struct kube_stats *s = kube_client_stats(rb->kube);

        for (int v = 0; v < KUBE_VERBS; v++)
            for (int c = 0; c < KUBE_CODES; c++) {
                if (!s->requests[v][c])
                    continue;
                if (kube_codes[c] > 0)
                    buf_printf(b, "rollguard_kube_requests_total{verb=\"%s\",code=\"%d\"} %llu\n",
                               kube_verb_name(v), kube_codes[c],
                               (unsigned long long)s->requests[v][c]);
                else
                    buf_printf(b, "rollguard_kube_requests_total{verb=\"%s\",code=\"%s\"} %llu\n",
                               kube_verb_name(v), kube_codes[c] == 0 ? "other" : "error",
                               (unsigned long long)s->requests[v][c]);
            }
        buf_puts(b, "# HELP rollguard_kube_token_reloads_total Times the service-account token "
                    "file changed.\n# TYPE rollguard_kube_token_reloads_total counter\n");
        buf_printf(b, "rollguard_kube_token_reloads_total %llu\n",
                   (unsigned long long)s->token_reloads);
    }
    buf_puts(b, "# HELP rollguard_baseline_publications_total Baseline summaries this pod "
                "published on the Lease.\n# TYPE rollguard_baseline_publications_total counter\n");
    buf_printf(b, "rollguard_baseline_publications_total %llu\n",
               (unsigned long long)rb->publications);
}
