/*
 * analysis — turns scrape deltas and probe results into one verdict per
 * interval: PASS, FAIL or INCONCLUSIVE, with the evidence behind it.
 *
 * Pure: no I/O, no clock (now_ms is passed in), no logging, no allocation
 * after analysis_init. Call order: analysis_init; analysis_observe_delta
 * after every scrape and analysis_observe_probe after every probe;
 * analysis_tick once per interval, right after the scrape that completes
 * it; analysis_done. FAIL needs evidence: too little data, a failed scrape,
 * a page that cannot tell errors or latency, or no baseline is
 * INCONCLUSIVE. The rules, their constants and the figures behind them are
 * in sidecar/analysis/README.md.
 */
#ifndef ROLLGUARD_ANALYSIS_H
#define ROLLGUARD_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sidecar/analysis/attribution.h"
#include "sidecar/analysis/baseline.h"
#include "probes/sample.h"
#include "sidecar/analysis/window.h"
#include "sidecar/base/control_summary.h"

/* Sequential-test parameters (see above; tuned with bench/bench_sim). */
#define ANALYSIS_ERR_P1_FACTOR 2.0
#define ANALYSIS_ERR_P0_MIN 0.1  /* times max */
#define ANALYSIS_ERR_P0_MAX 0.6  /* times max, also the default */
#define ANALYSIS_ERR_P0_LO_H 0.2 /* times max: p0 at or below this gets ANALYSIS_ERR_H_LO */
#define ANALYSIS_P0_Z 1.645      /* baseline rate enters as its 95 % upper bound */
#define ANALYSIS_ERR_H_LO 10.0   /* h for p0 <= 0.2 * max ... */
#define ANALYSIS_ERR_H_HI 15.0   /* ... rising linearly to this at p0 = 0.6 * max */
#define ANALYSIS_ERR_Z 2.326
#define ANALYSIS_MIN_ERRORS 3
#define ANALYSIS_MIN_RUN 20   /* requests/samples in a CUSUM run before it can gate */
#define ANALYSIS_SUFFIX 8     /* latest run updates the gate may start from */
#define ANALYSIS_WINDOW_Z 3.0 /* the window's Wilson gate */
#define ANALYSIS_LAT_H 12.0
#define ANALYSIS_LAT_Z 3.0
#define ANALYSIS_LAT_GATE 0.6
#define ANALYSIS_CAP_FACTOR 3.0
#define ANALYSIS_RECENT_MIN 20          /* samples behind the persistence check */
#define ANALYSIS_OWN_MIN_SPAN_MS 120000 /* own history usable after this (or baseline_window/4) */
#define ANALYSIS_BASELINE_MIN_COUNT 4   /* times min_requests / min_samples */
#define ANALYSIS_CONTROL_MAX_AGE 3      /* intervals a control view stays in force */

/* Pass as liveness_consecutive_failures for results of other probes. */
#define ANALYSIS_NOT_LIVENESS (-1)

#define ANALYSIS_REASON_MAX 256
#define VERDICT_JSON_MAX 6144

/* Where the latency rule takes its samples from. */
enum analysis_latency_from {
    ANALYSIS_LAT_AUTO,   /* the scraped histogram once seen, else probe latencies */
    ANALYSIS_LAT_SCRAPE, /* the app's metrics only (histogram or summary); never probes */
    ANALYSIS_LAT_PROBE,  /* probe latencies (the app exposes no metrics) */
    ANALYSIS_LAT_OFF,    /* no latency rule */
};

struct analysis_params {
    uint32_t interval_ms; /* one slot, one verdict */
    uint32_t window_ms;   /* the recent span judged; window/interval <= 360 slots */
    uint32_t warmup_ms;
    uint32_t baseline_window_ms;
    double error_rate_max; /* (0, 1) */
    uint32_t error_min_requests;
    double latency_quantile;     /* (0, 1) */
    double latency_max_increase; /* > 0 */
    uint32_t latency_min_samples;
    uint32_t health_failures;      /* 0: health rule off */
    uint32_t consecutive_breaches; /* 0 behaves as 1 */
    enum analysis_latency_from latency_from;
    char config_hash[17];
};

enum verdict_outcome { VERDICT_INCONCLUSIVE, VERDICT_PASS, VERDICT_FAIL };

enum analysis_rule {
    ANALYSIS_RULE_ERROR_RATE,
    ANALYSIS_RULE_LATENCY,
    ANALYSIS_RULE_HEALTH,
    ANALYSIS_RULE_COUNT,
};

enum verdict_rule_state {
    VERDICT_RULE_OFF, /* no data source for this rule at all */
    VERDICT_RULE_INCONCLUSIVE,
    VERDICT_RULE_PASS,
    VERDICT_RULE_BREACH,
};

enum analysis_source {
    ANALYSIS_SRC_NONE,
    ANALYSIS_SRC_SCRAPE,
    ANALYSIS_SRC_PROBE,
    ANALYSIS_SRC_SUMMARY, /* a scraped summary's quantile series */
};

/* Where a rule's baseline came from. */
enum analysis_baseline_from {
    ANALYSIS_BASE_NONE,
    ANALYSIS_BASE_PUBLISHED, /* the stable revision's summary on the Lease */
    ANALYSIS_BASE_OWN,       /* this pod's rolling history */
    ANALYSIS_BASE_CONTROL,   /* the stable revision's pods over the same minutes */
};

/* The release against its concurrent control at one tick (attribution.h). */
struct verdict_control {
    bool present;              /* a fresh control view was in force */
    unsigned asked, answered;  /* its pods */
    bool degraded;             /* the control's own rules breach */
    int64_t degraded_since_ms; /* the control's streak start minus the rollout's (< 0: before) */
    uint64_t requests, errors; /* pooled over the control's window */
    double latency;            /* pooled latency at q, seconds; NaN unknown */
    uint64_t samples;
    /* for a breach that would FAIL: whose doing it is; NO_CONTROL otherwise */
    enum attribution_decision decision;
    /* the attribution's reason; without a control, why none ("" not known) */
    char reason[ATTRIBUTION_REASON_MAX];
};

/* What one rule saw at one tick. NaN marks a value that does not apply. */
struct verdict_evidence {
    enum analysis_rule rule;
    enum verdict_rule_state state;
    enum analysis_source source; /* whose traffic the rule judged */
    double value;                /* error rate / latency at q (s) / consecutive liveness failures */
    double baseline;             /* baseline error rate / baseline latency at q (s) */
    enum analysis_baseline_from baseline_from;
    double threshold; /* error_rate.max / T (s) / health_failures */
    /* window totals, the two sources kept apart */
    uint64_t requests, errors;       /* scraped */
    uint64_t samples;                /* latency samples of the rule's source */
    double slow;                     /* of those, slower than T */
    uint64_t probes, probe_failures; /* probe-synthetic */
    /* the sequential test */
    double run_n, run_x; /* span since the CUSUM last was 0: count, errors/slow */
    double p0, p1;
    double statistic, bound;                   /* CUSUM S and its threshold h */
    double confidence_bound, confidence_limit; /* Wilson lower bound and what it must pass */
    /* the span whose lower bound decided (or would have): its rate, count and hits */
    double decision_value, decision_n, decision_x;
    int64_t window_ms;
    char reason[ANALYSIS_REASON_MAX]; /* why INCONCLUSIVE/BREACH/OFF, "" for PASS */
};

struct verdict {
    enum verdict_outcome outcome;
    enum analysis_rule rule; /* the deciding rule (breach, else inconclusive) */
    bool breach;             /* some rule breached this tick */
    uint32_t breaches_in_row;
    uint32_t breaches_needed;
    int64_t t_ms;
    int64_t window_ms;
    char config_hash[17];
    char reason[ANALYSIS_REASON_MAX];
    struct verdict_evidence ev[ANALYSIS_RULE_COUNT];
    struct verdict_control control;
};

struct analysis_cusum {
    double s;            /* statistic */
    double run_n, run_x; /* counts since s last was 0 */
    /* the run's latest updates (scrape deltas), newest at seg_head - 1 */
    double seg_n[ANALYSIS_SUFFIX], seg_x[ANALYSIS_SUFFIX];
    unsigned seg_head, seg_used;
    uint32_t updates;     /* updates in the current run */
    int64_t run_start_ms; /* when the batch that started the current run began */
    double s_tick;        /* s at the previous tick */
    double p0, p1;        /* in force for the next updates */
    double w_hit, w_miss; /* ln(p1/p0), ln((1-p1)/(1-p0)) */
    bool armed;           /* p0/p1 valid: updates happen */
};

struct analysis {
    struct analysis_params p;
    struct window win;
    struct baseline base;
    bool has_stable;
    struct baseline_summary stable;
    int64_t warm_until_ms;
    bool initial_warmup; /* the first warmup has not ended yet */
    bool scrape_seen;    /* a scrape delta (valid or not) has been observed */
    bool liveness_seen;
    uint32_t liveness_failures;
    struct analysis_cusum err, lat;
    double lat_t;            /* T in force, seconds */
    double lat_q0, lat_base; /* q0 and B behind it */
    enum analysis_source lat_src;
    char lat_reason[ANALYSIS_REASON_MAX]; /* why the latency test is not armed */
    char err_problem[SAMPLE_PROBLEM_MAX]; /* the last valid page's reasons a rule */
    char lat_problem[SAMPLE_PROBLEM_MAX]; /* cannot be read (see struct sample_delta) */
    char scrape_why[SAMPLE_PROBLEM_MAX];  /* the last failed scrape's reason */
    bool page_seen;                       /* a valid scrape delta has been observed */
    double err_base;                      /* baseline error rate behind p0, NaN for none */
    enum analysis_baseline_from err_base_from, lat_base_from;
    uint32_t streak;
    uint64_t ticks;
    int64_t tick_ms; /* now_ms of the tick being judged (and of the arming after it) */
    /* this pod against its own rules, for GET /summary (control.h) */
    bool degraded;                    /* a breach within the last window (the episode) */
    int64_t degraded_since_ms;        /* the episode's onset: the breaching test's change point */
    int64_t degraded_last_ms;         /* the episode's latest breaching tick */
    enum analysis_rule degraded_rule; /* the rule that breached at the last tick */
    bool control_ok;                  /* control holds the last tick's figures (not warm) */
    struct control_summary control;   /* the window as of the last tick */
    /* the stable revision's pods (analysis_set_control) */
    bool has_control;
    struct control_view cv;
    char control_why[ATTRIBUTION_REASON_MAX];
};

/* Checks p; returns 0 or -EINVAL. */
int analysis_params_check(const struct analysis_params *p);

/*
 * Sets up a (zeroed or fresh) analysis with params p; the warmup starts at
 * now_ms. Returns 0, -EINVAL or -ENOMEM. analysis_done frees it and is
 * safe on a zeroed or half-built analysis.
 */
int analysis_init(struct analysis *a, const struct analysis_params *p, int64_t now_ms);
void analysis_done(struct analysis *a);

/*
 * Swaps in new params (config reload), keeping the state. If interval,
 * window or baseline window changed, the window and the rolling baseline
 * are rebuilt empty (allocation); the sequential tests and the stable
 * baseline are kept. Returns 0, -EINVAL or -ENOMEM (a is then unchanged).
 */
int analysis_set_params(struct analysis *a, const struct analysis_params *p, int64_t now_ms);

/*
 * Feeds one scrape delta. Invalid deltas count as failed scrapes. Returns
 * 0, or -EINVAL for a malformed delta (counted as a failed scrape too).
 */
int analysis_observe_delta(struct analysis *a, const struct sample_delta *d, int64_t now_ms);

/*
 * Feeds one probe result: latency in seconds, ok = the app passed.
 * liveness_consecutive_failures is the liveness probe's failure streak
 * after this result, or ANALYSIS_NOT_LIVENESS for other probes.
 */
void analysis_observe_probe(struct analysis *a, double latency_s, bool ok,
                            int32_t liveness_consecutive_failures, int64_t now_ms);

/*
 * Judges the interval that ends now and opens the next one; fills *ret.
 * Call once per interval.
 */
void analysis_tick(struct analysis *a, int64_t now_ms, struct verdict *ret);

/* Uses s (copied) as the frozen baseline from the stable revision; NULL clears it. */
void analysis_set_stable_baseline(struct analysis *a, const struct baseline_summary *s);

/*
 * The concurrent control (control.h) for the next ticks, copied; v NULL:
 * none, why says why (copied; NULL or "" when not known). A view is used
 * for ANALYSIS_CONTROL_MAX_AGE intervals after its taken_ms. While the
 * control is not degraded and holds enough data (4 * min_requests requests,
 * 4 * min_samples latency samples) it is the baseline of the rules; a FAIL
 * is then attributed (attribution.h): WITHHOLD and NOT_WORSE make the
 * verdict INCONCLUSIVE, BLAME and BLAME_SHARED keep it FAIL.
 */
void analysis_set_control(struct analysis *a, const struct control_view *v, const char *why);

/*
 * The pod's rolling baseline as a summary to publish, with revision set.
 * Returns 0, or -ENODATA while the rolling baseline is not usable yet.
 */
int analysis_baseline_summary(const struct analysis *a, const char *revision,
                              struct baseline_summary *ret);

/*
 * Renders v as one compact JSON object into buf (size bytes, NUL
 * terminated; VERDICT_JSON_MAX always suffices). Strings are escaped per
 * RFC 8259, NaN renders as null. Returns the length, or -ENOSPC (buf is
 * then "").
 */
int verdict_render_json(const struct verdict *v, char *buf, size_t size);

/*
 * The deciding rule of v as one readable sentence with its key numbers
 * (for an Event message): "error rate 12.0% (36 of 300 requests in the
 * span that decided; window 9.1% of 660 over 60s) above the 5% limit;
 * baseline 1.0% (this pod's history); in breach 2 intervals in a row (2 needed)".
 * Latency leads likewise with the slow share that decided, then the window's
 * quantile and T. Returns what snprintf returns.
 */
int verdict_render_sentence(const struct verdict *v, char *buf, size_t size);
const char *analysis_baseline_from_name(enum analysis_baseline_from f);

const char *verdict_outcome_name(enum verdict_outcome o);
const char *verdict_rule_state_name(enum verdict_rule_state s);
const char *analysis_rule_name(enum analysis_rule r);
const char *analysis_source_name(enum analysis_source s);

/* Bytes the analysis holds for params p (window and baseline rings included). */
size_t analysis_memory(const struct analysis_params *p);

#endif
