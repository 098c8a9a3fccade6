/*
 * rollback — the orchestrator that turns a FAIL verdict (or an operator's
 * request) into at most one undo of the rollout, through the Kubernetes
 * API, on the event loop.
 *
 * At start it learns the pod's identity once (pod -> ReplicaSet ->
 * Deployment or Rollout through controller ownerReferences, uids checked)
 * and reads the coordination Lease once (the stable baseline). After that
 * it talks to the API only when a verdict turns FAIL, when an operator
 * asks, or when a rate-limited, jittered baseline publication is due.
 *
 * On FAIL: vote on the Lease and, with quorum (rollback.quorum, or when
 * auto a majority of the new ReplicaSet's ready pods, read just before),
 * become its holder (client-go rules); re-read the Deployment and its ReplicaSets; guard; send one
 * JSON patch with test ops (fieldManager=rollguard) or, in dry-run, record
 * the patch it would send; create a Warning Event with the evidence; record
 * the rolled-back hash on the Deployment (in the patch) and on the Lease;
 * release the Lease. 409/422 re-read and re-decide; never a second undo for
 * the same hash.
 */
#ifndef ROLLGUARD_ROLLBACK_H
#define ROLLGUARD_ROLLBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "config/cfg.h"
#include "sidecar/base/buf.h"
#include "sidecar/rollback/guard.h"

struct event_base;
struct curlm;
struct rollback;
struct rb_env;

#define ROLLBACK_VOTE_TTL_S 600      /* a FAIL vote counts this long */
#define ROLLBACK_RETRY_MIN_MS 30000  /* after a non-final skip, wait before trying again */
#define ROLLBACK_RETRY_MAX_MS 600000 /* ... doubling up to this */
#define ROLLBACK_IDENTITY_RETRY_MIN_MS 5000
#define ROLLBACK_IDENTITY_RETRY_MAX_MS 600000
#define ROLLBACK_LEASE_TRIES 5      /* GET+PUT rounds after 409 */
#define ROLLBACK_REREADS 3          /* re-decisions after a 409/422/5xx or lost answer */
#define ROLLBACK_PUBLISHERS 2.0     /* expected baseline publishers per interval */
#define ROLLBACK_PUBLISH_JITTER 0.2 /* +-20% on the publication timer */
#define ROLLBACK_MANUAL_DEADLINE_MS 90000
#define ROLLBACK_LIST_LIMIT 500 /* ReplicaSets per LIST page */
#define ROLLBACK_FIELD_MANAGER "rollguard"
#define ROLLBACK_EVENT_REASON "RollbackTriggered"
#define ROLLBACK_REAPPLY_REASON "BadRevisionReapplied"

/* Same numbering as the analysis' verdict outcome. */
enum rollback_verdict {
    ROLLBACK_VERDICT_INCONCLUSIVE = 0,
    ROLLBACK_VERDICT_PASS = 1,
    ROLLBACK_VERDICT_FAIL = 2,
};

enum rollback_result {
    ROLLBACK_RESULT_NONE = 0,
    ROLLBACK_RESULT_ROLLED_BACK, /* the PATCH (or the abort) was applied */
    ROLLBACK_RESULT_DRY_RUN,     /* everything but the write; patch recorded */
    ROLLBACK_RESULT_SKIPPED,     /* a guard refused; see the reason */
    ROLLBACK_RESULT_FAILED,      /* an API or internal error */
    ROLLBACK_RESULT_COUNT
};

/* Called when a job ends (after the log line and the counters). */
typedef void rollback_done_fn(struct rollback *rb, enum rollback_result result,
                              enum guard_reason reason, void *arg);

/*
 * Create the orchestrator on base/m for cfg (a reference is taken). Reads
 * POD_NAME, POD_NAMESPACE (else <service_account_dir>/namespace) and
 * POD_TEMPLATE_HASH, and the API address (kubernetes.api_server, else
 * KUBERNETES_SERVICE_HOST/PORT). Without them rollback is disabled: it
 * says so in one log line and on /status, and never calls the API.
 * Otherwise the identity walk starts on the loop. Returns 0 and *ret, or
 * -ENOMEM.
 */
int rollback_new(struct event_base *base, struct curlm *m, struct cfg *cfg, struct rollback **ret);

/*
 * The same with every effect (clocks, random source, environment, files,
 * timers, the API transport) taken from env (copied; env->ctx must outlive
 * the orchestrator): what a unit test drives. See env.h.
 */
int rollback_new_env(struct cfg *cfg, const struct rb_env *env, struct rollback **ret);

/* Cancels pending requests and timers. NULL-safe; returns NULL. */
struct rollback *rollback_free(struct rollback *rb);

/* A reloaded config (a reference is taken; the old one dropped). */
void rollback_apply_cfg(struct rollback *rb, struct cfg *cfg);

/*
 * One verdict of this pod (now_ms monotonic). FAIL may start a decision;
 * evidence_json (a JSON object, copied; NULL for none) goes into the
 * Event's annotation and the log line, summary (one sentence, copied; NULL
 * for none) into the Event's message. Other outcomes only end the FAIL
 * episode.
 */
void rollback_on_verdict(struct rollback *rb, enum rollback_verdict outcome,
                         const char *evidence_json, const char *summary, int64_t now_ms);

/*
 * An operator's rollback (`rollguard rollback`, POST /rollback):
 * to_revision 0 = the newest revision whose hash differs from the current
 * one; dry_run forces dry-run. Same code path and checks as the automatic
 * one, minus quorum, guard window and "this pod is current". Returns the
 * request id (> 0), -EBUSY while a decision runs, -ENOTCONN when rollback
 * is disabled (not in a cluster) or -EAGAIN before the identity is known.
 */
int64_t rollback_manual(struct rollback *rb, long to_revision, bool dry_run);

/* Tell fn when a job (automatic or manual) ends. */
void rollback_set_done_cb(struct rollback *rb, rollback_done_fn *fn, void *arg);

/*
 * The pod's current baseline summary (opaque JSON, copied), for publication
 * on the Lease when this pod belongs to the stable revision. Publication
 * itself is rate-limited and jittered; this call does no I/O.
 */
void rollback_publish_baseline(struct rollback *rb, const char *json);

/*
 * The stable revision's baseline read from the Lease at start (borrowed,
 * NULL when none), and a counter that changes whenever it does.
 */
const char *rollback_stable_baseline(const struct rollback *rb, uint64_t *generation);

/* --- the concurrent control: pods of the stable revision ------------------------ */

#define ROLLBACK_CONTROL_LISTS_MAX 4     /* LISTs of pods per rollout: the first + re-lists */
#define ROLLBACK_CONTROL_RELIST_MS 60000 /* at least this long between two */
#define ROLLBACK_CONTROL_PODS_MAX 16     /* candidates handed over */
#define ROLLBACK_WITHHELD_REASON "RollbackWithheld"

/* Whether this pod is a new revision in a rollout that may have a control. */
struct rollback_rollout {
    bool active;           /* identity known, current revision at start, inside guard_window */
    const char *why;       /* when not active: why (borrowed, static or rb-owned) */
    int64_t start_wall_ms; /* the new ReplicaSet's creation, wall clock */
    const char *hash;      /* this pod's revision (borrowed) */
};
void rollback_rollout(const struct rollback *rb, struct rollback_rollout *ret);

struct rollback_control_pod {
    char name[254];
    char ip[46]; /* status.podIP, IPv4 or IPv6 text */
};

/*
 * err 0: n (<= ROLLBACK_CONTROL_PODS_MAX) ready pods of the stable
 * revision stable_hash (borrowed for the call); n may be 0 with why saying
 * so ("no ready pod of another revision"). err < 0: the LIST failed, why
 * says how (never a token).
 */
typedef void rollback_pods_fn(int err, const char *why, const char *stable_hash,
                              const struct rollback_control_pod *pods, unsigned n, void *arg);

/*
 * One LIST of the owner's pods (labelSelector: the owner's spec.selector)
 * for the stable revision's ready pods (Running, Ready condition True,
 * podIP set, no deletionTimestamp): those of the revision with the most
 * such pods among the revisions other than this pod's. cb runs once, on
 * the loop, unless rollback_free comes first. Returns 0; -ENOTCONN when
 * not active (rollback_rollout); -EAGAIN when the budget forbids a LIST
 * now (ROLLBACK_CONTROL_LISTS_MAX per rollout, ROLLBACK_CONTROL_RELIST_MS
 * apart) or one is pending.
 */
int rollback_control_pods(struct rollback *rb, rollback_pods_fn *cb, void *arg);

/*
 * A FAIL withheld because the stable revision degraded too, since before
 * the rollout: at the first call for this rollout, one Warning Event
 * (reason RollbackWithheld) on the owner with summary as its message and
 * evidence_json in its annotation, named "<owner>.rollguard-withheld.<hash>"
 * so that the pods of the revision post one between them (409
 * AlreadyExists: another pod said it). Counts every withheld episode
 * (rollguard_rollbacks_withheld_total) and logs once per episode. No I/O
 * when rollback is disabled or mode is off.
 */
void rollback_on_withheld(struct rollback *rb, const char *evidence_json, const char *summary,
                          int64_t now_ms);

/* Disabled (not in a cluster), why ("" when enabled). */
bool rollback_enabled(const struct rollback *rb, const char **why);
bool rollback_identity_known(const struct rollback *rb);
/* Why the last identity attempt failed ("" when it did not). */
const char *rollback_identity_error(const struct rollback *rb);
/* The owner's kind and name once the identity is known ("" before). */
void rollback_owner(const struct rollback *rb, const char **kind, const char **name);
bool rollback_busy(const struct rollback *rb);

/* The last job's result, reason and (dry-run) patch body ("" when none). */
enum rollback_result rollback_last(const struct rollback *rb, enum guard_reason *reason,
                                   const char **patch, const char **error);

/* The "rollback" object of /status (no token, ever). Appends to b. */
void rollback_render_status(const struct rollback *rb, struct buf *b);
/* The rollback and API families of /metrics. Appends to b. */
void rollback_render_metrics(const struct rollback *rb, struct buf *b);

const char *rollback_result_name(enum rollback_result r);

#endif
