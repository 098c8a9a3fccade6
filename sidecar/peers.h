/*
 * peers — the concurrent control's I/O. During a rollout, a pod of the new
 * revision asks a few pods of the stable revision for their window summary
 * (GET /summary on their rollguard port, analysis.control.*) once per
 * analysis interval, pools the answers (control_pool) and hands the view,
 * or why there is none, to its caller, which gives it to the analysis.
 *
 * The stable pods come from the rollback orchestrator (one label-selected
 * LIST of pods per rollout, re-listed only when none of them answers, within
 * the orchestrator's budget). Outside a rollout it does no I/O at all.
 * Peers' answers are untrusted bytes: at most CONTROL_SUMMARY_READ_MAX
 * bytes, analysis.control.timeout, no redirects, a strict parse
 * (kube_json_control_summary_parse), the revision checked.
 */
#ifndef ROLLGUARD_PEERS_H
#define ROLLGUARD_PEERS_H

#include <stdint.h>

#include "config/cfg.h"
#include "sidecar/base/buf.h"
#include "sidecar/base/control_summary.h"

struct curlm;
struct rollback;
struct peers;

/* A round's outcome: v (borrowed for the call) or NULL with why. */
typedef void peers_view_fn(const struct control_view *v, const char *why, void *arg);

/* Results of one pod's answer (rollguard_control_requests_total{result}). */
enum peers_result {
    PEERS_OK,
    PEERS_REFUSED,    /* connection refused or unreachable */
    PEERS_TIMEOUT,    /* no answer within analysis.control.timeout */
    PEERS_BAD_STATUS, /* an HTTP status other than 200 (a redirect is not followed) */
    PEERS_GARBAGE,    /* not a summary this pod can read, or of another revision */
    PEERS_TOO_BIG,    /* over CONTROL_SUMMARY_READ_MAX bytes */
    PEERS_RESULT_COUNT
};

/*
 * listen_port: this pod's own listen port (the default peer port). cfg is
 * referenced. Returns 0 and *ret, or -ENOMEM.
 */
int peers_new(struct curlm *m, struct rollback *rb, struct cfg *cfg, peers_view_fn *fn, void *arg,
              struct peers **ret);
/* Cancels a round in flight (no callback). NULL-safe; returns NULL. */
struct peers *peers_free(struct peers *p);
/* A reloaded config (a reference is taken; the old one dropped). */
void peers_apply_cfg(struct peers *p, struct cfg *cfg);

/*
 * Once per verdict tick (now_ms monotonic): reports the last round's view
 * (or why none) and starts the next round when this pod is in a rollout.
 */
void peers_tick(struct peers *p, int64_t now_ms);

/* The "control" object of /status, appended to b. */
void peers_render_status(const struct peers *p, struct buf *b);
/* The rollguard_control_* families of /metrics, appended to b. */
void peers_render_metrics(const struct peers *p, struct buf *b);

const char *peers_result_name(enum peers_result r);

#endif
