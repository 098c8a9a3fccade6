/*
 * rollback-int — the orchestrator's state and the seams between its files
 * (README.md in this folder says who owns what). Not for use outside
 * sidecar/rollback/.
 *
 * Time: every entry (a verdict, an operator request, a timer, an API
 * answer) sets rb->now_ms and rb->wall_ms once through rb_now(); the code
 * under it reads those and never a clock.
 */
#ifndef ROLLGUARD_ROLLBACK_INT_H
#define ROLLGUARD_ROLLBACK_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "config/cfg.h"
#include "sidecar/base/buf.h"
#include "sidecar/kube/kube.h"
#include "sidecar/kube/kube_json.h"
#include "sidecar/rollback/env.h"
#include "sidecar/rollback/guard.h"
#include "sidecar/rollback/lease.h"
#include "sidecar/rollback/rollback.h"
#include "sidecar/rollback/undo.h"

#define RB_PATCH_MAX (2u << 20)
#define RB_EVIDENCE_MAX 8192
#define RB_PATH_MAX 700

struct rollback;
struct lease_txn;
struct rb_call;

typedef int txn_mutate_fn(struct rollback *rb, struct lease_txn *t);
/* result: 0 written, 1 nothing to write, < 0 failed (t->error says why) */
typedef void txn_done_fn(struct rollback *rb, struct lease_txn *t, int result);

/* A Lease read-modify-write: GET, mutate, PUT (or POST on 404), again on 409. */
struct lease_txn {
    struct rollback *rb;
    bool active;
    unsigned tries;
    bool exists;
    struct kube_lease lease;
    txn_mutate_fn *mutate;
    txn_done_fn *done;
    struct rb_call *call;
    char error[256];
};

/* A timer of the orchestrator: sets "now" before fn runs. */
struct rb_timer {
    struct rollback *rb;
    void (*fn)(struct rollback *rb);
    void *h; /* the env's timer */
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
    char *selector; /* the owner's spec.selector as a label-selector string (malloc'd) */
};

#define RB_CONTROL_PAGES_MAX 4 /* pages of one pods LIST (ROLLBACK_LIST_LIMIT each) */

/* The concurrent control: LISTs of the owner's pods for the stable revision (control.c). */
struct rb_control {
    unsigned lists;  /* LISTs begun for this rollout (this pod's lifetime) */
    int64_t last_ms; /* monotonic: when the last one began */
    bool pending;    /* one is running: cb not called yet */
    unsigned pages;
    rollback_pods_fn *cb;
    void *arg;
    struct rb_call *call;
    struct rb_timer timer; /* a failure known before any answer, told from the loop */
    int err;
    char why[320];
    struct kube_pod_brief *pods; /* the eligible pods of every page so far */
    size_t n, cap;
};

enum rb_withheld_event {
    RB_WITHHELD_EVENT_NONE = 0, /* not posted (yet) */
    RB_WITHHELD_EVENT_OFF,      /* mode off: counted and logged, never posted */
    RB_WITHHELD_EVENT_PENDING,  /* the POST is out */
    RB_WITHHELD_EVENT_CREATED,  /* 201 */
    RB_WITHHELD_EVENT_ALREADY,  /* 409 AlreadyExists: another pod of the revision said it */
    RB_WITHHELD_EVENT_FAILED,   /* anything else */
    RB_WITHHELD_EVENT_COUNT
};

/* FAILs withheld because the stable revision degraded too (withheld.c). */
struct rb_withheld {
    bool episode;      /* consecutive withheld verdicts; ended by a PASS or a FAIL verdict */
    uint64_t episodes; /* rollguard_rollbacks_withheld_total */
    bool posted;       /* this rollout's one POST was sent (never a second) */
    enum rb_withheld_event event;
    uint64_t events[RB_WITHHELD_EVENT_COUNT]; /* CREATED, ALREADY, FAILED counted */
    char *summary;                            /* the last one */
    char name[KUBE_NAME_MAX];                 /* the Event's metadata.name once posted */
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
    uint32_t quorum_setting; /* rollback.quorum as the job began (a reload may change it) */
    unsigned quorum;         /* in force: rollback.quorum, or auto from ready and votes */
    bool quorum_counted;     /* the votes on the Lease were counted against it */
    int32_t ready;           /* the new ReplicaSet's readyReplicas (auto quorum); -1 not read */
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
    struct rb_call *call;
};

struct rollback {
    struct rb_env env;
    void *own_env; /* the real env's state when rollback_new built it */
    struct cfg *cfg;
    bool enabled;
    bool opened; /* env.open succeeded: requests may be sent */
    char disabled_why[256];
    char api_url[512];
    char me[KUBE_NAME_MAX + 16];
    struct rb_identity id;
    struct lease_view view;
    int64_t now_ms;  /* monotonic, of the event being handled */
    int64_t wall_ms; /* wall clock, of the same event */
    uint64_t event_seq;
    struct rb_call *calls; /* every pending request */

    /* identity walk */
    int id_step;
    unsigned id_failures;
    struct rb_call *id_call;
    struct rb_timer id_timer;
    char id_error[256];
    struct kube_pod pod;
    struct kube_rs own_rs;
    struct lease_txn start_txn;
    bool warn_reapply;

    /* decisions */
    struct rb_job job;
    struct lease_txn job_txn;
    struct rb_timer job_timer;      /* manual: wait for a held Lease */
    struct rb_timer deferred_timer; /* a refusal made before any request */
    bool episode;                   /* consecutive FAIL verdicts */
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
    struct rb_timer pub_timer;
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
    unsigned last_votes, last_quorum; /* the last decision's count; 0, 0 when it counted none */
    char last_quorum_basis[96];       /* "majority of 3 ready pods", "rollback.quorum 2", "" */
    uint64_t results[ROLLBACK_RESULT_COUNT];
    uint64_t skipped[GUARD_REASON_COUNT];
    rollback_done_fn *done_cb;
    void *done_arg;

    /* the concurrent control and withheld rollbacks */
    struct rb_control ctl;
    struct rb_withheld wh;
    char *rollout_why; /* rollback_rollout's why when it is composed (RB_ROLLOUT_WHY_MAX) */
};

#define RB_ROLLOUT_WHY_MAX 320

/* --- target.h: one implementation per rollback.target ---------------------- */
#include "sidecar/rollback/target.h"

/* --- rollback.c: time, randomness, timers ---------------------------------- */

/* Take "now" (both clocks) once for the event being handled. */
void rb_now(struct rollback *rb);
static inline int64_t rb_wall_s(const struct rollback *rb)
{
    return rb->wall_ms / 1000;
}
static inline int64_t rb_wall_us(const struct rollback *rb)
{
    return rb->wall_ms * 1000;
}
/* A double in [0, 1) from the env's random source. */
double rb_rnd(struct rollback *rb);
void rb_timer_arm(struct rb_timer *t, int64_t ms);
/* The target of the current config. */
const struct rb_target_ops *rb_target(const struct rollback *rb);

/* --- call.c: requests over the env's transport ------------------------------ */

/*
 * Send one request; cb runs later (never inside) with "now" set. slot, if
 * not NULL, holds the call while it is pending and is cleared before cb.
 * Retries 429/5xx/no answer itself when the transport does not. Returns
 * 0 or -errno (no callback then).
 */
int rb_call(struct rollback *rb, enum kube_verb verb, const char *path, const char *ctype,
            const char *body, rb_resp_fn *cb, void *arg, struct rb_call **slot);
/* Cancel a pending call (no callback). NULL-safe. */
void rb_call_cancel(struct rb_call *c);
/* Cancel every pending call. */
void rb_calls_cancel_all(struct rollback *rb);
/* "what: <error>" for a failed answer. */
void rb_resp_error(const struct rb_resp *r, const char *what, char *buf, size_t size);

/* --- lease_txn.c ------------------------------------------------------------ */

void rb_txn_start(struct rollback *rb, struct lease_txn *t, txn_mutate_fn *mutate,
                  txn_done_fn *done);
void rb_txn_cancel(struct lease_txn *t);

/* --- events.c ----------------------------------------------------------------- */

/* Create a core/v1 Event about the owner. Fire and forget (failures are logged). */
void rb_event_post(struct rollback *rb, const char *type, const char *reason, const char *message,
                   const char *evidence, const char *owner_rv);
/*
 * The same with the Event's metadata.name and action given and the answer
 * handed to cb. Returns 0, or -errno (cb is not called then).
 */
int rb_event_create(struct rollback *rb, const char *name, const char *type, const char *reason,
                    const char *action, const char *message, const char *evidence,
                    const char *owner_rv, rb_resp_fn *cb, void *arg);

/* --- control.c, withheld.c ------------------------------------------------------ */

void rb_control_on_timer(struct rollback *rb);
void rb_control_done(struct rollback *rb);
/* A verdict other than INCONCLUSIVE reached rollback_on_verdict: a withheld episode ends. */
void rb_withheld_end_episode(struct rollback *rb);
void rb_withheld_done(struct rollback *rb);
/* The Event's state for /status: "", "off", "pending", "created", "already", "failed". */
const char *rb_withheld_event_state(const struct rollback *rb);
/*
 * "<owner>.rollguard-withheld.<hash>" when that is a DNS-1123 subdomain of
 * at most 253 bytes; else the owner cut (at an alphanumeric) and a 64-bit
 * FNV-1a of "<owner>/<hash>" in hex instead of the hash, so every pod of
 * the revision computes the same name. size >= KUBE_NAME_MAX.
 */
void rb_withheld_event_name(const char *owner, const char *hash, char *buf, size_t size);

/* --- job.c ---------------------------------------------------------------------- */

/*
 * How the running job's quorum was set, into buf: "majority of 3 ready
 * pods", "majority of 3 pods that voted; 1 ready" or "rollback.quorum 2".
 */
void rb_job_quorum_basis(const struct rollback *rb, char *buf, size_t size);
/*
 * The count for the RollbackTriggered Event, into buf: "votes 2 of 3
 * (majority of 3 ready pods)", "votes 1 of 1 (rollback.quorum 1)", or for
 * an operator's request "no votes needed (manual request)".
 */
void rb_job_votes_text(const struct rollback *rb, char *buf, size_t size);
/* The guard facts of the running job (the Deployment not read yet). */
void rb_job_facts(const struct rollback *rb, struct guard_facts *f);
void rb_job_end(struct rollback *rb, enum rollback_result res, enum guard_reason reason,
                const char *error);
/* The PATCH (or abort) was applied: Event, record, release. */
void rb_job_rolled_back(struct rollback *rb, const char *owner_rv);
/* A target's decision is made: refuse, record the dry-run, or send j->patch. */
void rb_job_act(struct rollback *rb, enum guard_reason g, const char *path, const char *ctype);
void rb_job_clear(struct rb_job *j);
void rb_job_on_wait(struct rollback *rb);
void rb_job_on_deferred(struct rollback *rb);

/* --- identity.c ------------------------------------------------------------------- */

void rb_identity_on_timer(struct rollback *rb);
/* A name from the downward API or an ownerReference that is safe in a URL path. */
bool rb_valid_name(const char *s);

/* --- publish.c ---------------------------------------------------------------------- */

void rb_publish_arm(struct rollback *rb, bool first);
void rb_publish_on_timer(struct rollback *rb);

#endif
