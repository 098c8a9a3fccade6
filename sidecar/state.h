/*
 * state — what the endpoints render: the daemon's in-memory view of the
 * app and of itself. Owned and updated by the daemon; read by the HTTP
 * handlers, which never change it.
 */
#ifndef ROLLGUARD_STATE_H
#define ROLLGUARD_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "config/cfg.h"
#include "probes/probe.h"
#include "probes/scraper.h"
#include "sidecar/analysis/analysis.h"
#include "sidecar/http/httpd.h"

/* Bucket bounds (seconds) of rollguard_probe_duration_seconds. */
#define STATE_PROBE_BUCKETS 12
extern const double state_probe_bounds[STATE_PROBE_BUCKETS];

struct state_probe_hist {
    uint64_t bucket[STATE_PROBE_BUCKETS + 1]; /* non-cumulative; last is +Inf */
    uint64_t count;
    double sum;
};

/* Served paths, for rollguard_http_requests_total. */
enum state_path {
    STATE_PATH_HEALTH,
    STATE_PATH_READY,
    STATE_PATH_LIVEZ,
    STATE_PATH_METRICS,
    STATE_PATH_STATUS,
    STATE_PATH_SUMMARY,
    STATE_PATH_OTHER,
    STATE_PATH_COUNT
};
#define STATE_CODES 8
extern const int state_codes[STATE_CODES]; /* the last slot counts every other code */

enum state_probe_id { STATE_LIVENESS, STATE_READINESS, STATE_PROBES };

struct rollback;

struct state {
    const struct cfg *cfg; /* current snapshot, borrowed */
    /* Views into each probe (NULL when the probe is not configured). */
    const struct probe_state *probe[STATE_PROBES];
    const struct cfg_probe *probe_cfg[STATE_PROBES];
    struct state_probe_hist probe_hist[STATE_PROBES];
    uint64_t (*now_ms)(void); /* monotonic clock */
    double started_wall;      /* Unix time of start */
    uint64_t started_ms;      /* monotonic */
    uint64_t heartbeat_ms;    /* last loop heartbeat, monotonic */
    uint64_t stall_ms;        /* /livez fails when the heartbeat is older */
    bool shutting_down;
    uint64_t reloads_ok, reloads_failed;
    bool last_reload_ok;
    char last_reload_error[512];
    uint64_t http_requests[STATE_PATH_COUNT][STATE_CODES];
    const struct httpd *httpd;          /* for connection counters; may be NULL */
    const struct scraper_stats *scrape; /* NULL when app.metrics.url is "" */
    /* Rules the page cannot feed (error label or latency family not readable), by
     * analysis rule (error_rate, latency): now, and how often that began or changed. */
    bool metrics_unreadable[2];
    uint64_t metrics_problems[2];
    const struct verdict *verdict;   /* the last verdict; NULL before the first */
    uint64_t verdicts[3];            /* by enum verdict_outcome */
    const struct rollback *rollback; /* rollback and API state; may be NULL */
    const struct peers *peers;       /* the concurrent control; may be NULL */
    const struct analysis *analysis; /* for /summary; NULL before it is set up */
    char revision[64];               /* POD_TEMPLATE_HASH read at start if a label value, else "" */
};

const char *state_probe_name(enum state_probe_id id);

/* The app's liveness as seen here: false once liveness failed its threshold. */
bool state_healthy(const struct state *s);

/* Ready: not shutting down and every configured readiness probe passing. */
bool state_ready(const struct state *s, const char **why);

/* Adds one probe observation to that probe's duration histogram. */
void state_probe_observe(struct state *s, enum state_probe_id id, double seconds);

#endif
