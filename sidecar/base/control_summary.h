/*
 * control_summary — one pod's current window as another pod reads it: what
 * GET /summary serves (version 1), so that a pod of a new revision can judge
 * itself against the stable revision's pods running beside it (its
 * concurrent control).
 *
 * The type and its limits only. The analysis fills it
 * (analysis_control_summary) and renders it (control_summary_render_json),
 * both in sidecar/analysis/control.h; the strict reader of a peer's answer
 * is the jansson adapter's (kube_json_control_summary_parse). It lives in
 * base/ because analysis/ and kube/ both need it and neither may include
 * the other. NaN marks a figure that is unknown (null on the wire).
 */
#ifndef ROLLGUARD_CONTROL_SUMMARY_H
#define ROLLGUARD_CONTROL_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>

#define CONTROL_SUMMARY_VERSION 1
#define CONTROL_SUMMARY_JSON_MAX 2048       /* a rendered document, NUL included */
#define CONTROL_SUMMARY_READ_MAX 4096       /* the most a reader accepts */
#define CONTROL_SUMMARY_DEPTH_MAX 4         /* nesting of objects and arrays a reader accepts */
#define CONTROL_SUMMARY_COUNT_MAX INT64_MAX /* counts and milliseconds */
#define CONTROL_REVISION_MAX 63             /* a label value */

/* Where the window's latency came from (names on the wire in brackets). */
enum control_latency_source {
    CONTROL_LAT_NONE,      /* "none": no latency data */
    CONTROL_LAT_HISTOGRAM, /* "histogram": the app's scraped histogram */
    CONTROL_LAT_SUMMARY,   /* "summary": a scraped summary's quantile series */
    CONTROL_LAT_PROBE,     /* "probe": the sidecar's probe latencies */
};

/* The rule that is breaching (names as analysis_rule_name). */
enum control_rule {
    CONTROL_RULE_NONE, /* null */
    CONTROL_RULE_ERROR_RATE,
    CONTROL_RULE_LATENCY,
    CONTROL_RULE_HEALTH,
};

struct control_summary {
    int64_t window_ms;         /* the window's length */
    uint64_t requests, errors; /* scraped, over the window; errors <= requests */
    double quantile;           /* analysis.latency.quantile, in (0, 1) */
    double latency_s;          /* latency at quantile over the window, >= 0; NaN unknown */
    uint64_t latency_samples;  /* samples behind it (0 for source none) */
    enum control_latency_source latency_source;
    double p50, p75, p90, p99; /* the window's latency at these quantiles, seconds; NaN unknown
                                (always for source summary and none) */
    double margin_share;       /* share of the window's samples above (1 + max_increase) x
                                  latency_s, counted as the latency rule counts; NaN unknown
                                  (always for source summary and none) */
    double slow_share;         /* [0, 1]: share of samples above the threshold in force; NaN none */
    double base_error_rate;    /* the rolling baseline's, [0, 1]; NaN while not usable */
    uint64_t base_requests;    /* the requests behind it; 0 exactly when it is NaN */
    double base_latency_s;     /* the rolling baseline's latency at quantile, >= 0; NaN */
    double base_margin_share;  /* the rolling baseline's share above (1 + max_increase) x
                                  base_latency_s; NaN unknown */
    bool degraded;             /* this pod's own rules breach (the current streak) */
    int64_t degraded_for_ms;   /* since the streak's first tick; 0 when not degraded */
    enum control_rule rule;    /* the breaching rule; NONE exactly when not degraded */
};

/*
 * The concurrent control as the analysis uses it: the summaries of the
 * stable revision's pods read in one round, pooled (control_pool).
 */
#define CONTROL_POOL_MAX 16 /* summaries one round may pool */

struct control_view {
    unsigned asked;    /* pods asked this round */
    unsigned answered; /* pods whose summary was read (and pooled) */
    unsigned degraded; /* of those, pods whose own rules breach */
    /*
     * Pooled: requests and errors summed; latency (seconds and the window
     * points) the median across pods that have it, samples summed, source
     * the first pod's (pods of another source are left out of latency);
     * slow_share NaN; baseline figures the median; degraded when at least
     * half the pods answering are, then rule the commonest and
     * degraded_for_ms the median of the degraded pods'.
     */
    struct control_summary pooled;
    int64_t taken_ms;         /* monotonic (the analysis' clock): the round ended */
    int64_t rollout_start_ms; /* monotonic: the new ReplicaSet's creation */
    char revision[CONTROL_REVISION_MAX + 1];
};

#endif
