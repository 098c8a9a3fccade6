/*
 * analysis — turns scrape deltas and probe results into one verdict per
 * interval: PASS, FAIL or INCONCLUSIVE, with the evidence behind it.
 *
 * Pure: no I/O, no clock (now_ms is passed in), no logging, no allocation
 * after analysis_init. The daemon maps its config into struct
 * analysis_params, feeds analysis_observe_delta after every scrape and
 * analysis_observe_probe after every probe, calls analysis_tick once per
 * interval, and shows the verdict (verdict_render_json) on /status,
 * /metrics and in one log line per change. For the freshest data call
 * analysis_tick right after the scrape that completes an interval rather
 * than from an unrelated timer: a tick sees only data scraped before it.
 *
 * Rules
 * -----
 * Error rate. Breach when the error rate is *strictly above*
 * error_rate.max with confidence: a rate of exactly max never breaches.
 * Test: a Bernoulli CUSUM over scraped requests,
 *     S = min(cap, max(0, S + k*ln(p1/p0) + (n-k)*ln((1-p1)/(1-p0))))
 * updated with every scrape delta (n requests, k errors), where
 *     p0 = the baseline error rate clamped to [0.1*max, 0.6*max]
 *          (0.6*max without a usable baseline),
 *     p1 = ANALYSIS_ERR_P1_FACTOR * max (capped at (1+max)/2),
 * cap = ANALYSIS_CAP_FACTOR * h. The rule breaches when S >= h
 * (ANALYSIS_ERR_H) and the one-sided Wilson lower bound at z =
 * ANALYSIS_ERR_Z of the error rate is above max, computed over the CUSUM's
 * current run (the requests since S last was 0) or over the window,
 * whichever clears it, with at least error_rate.min_requests requests and
 * ANALYSIS_MIN_ERRORS errors in that span. The CUSUM makes the test
 * sequential (evidence accumulates across intervals at low traffic, one
 * bad minute does not decide at high traffic) and sets the false alarm
 * rate; the Wilson gate keeps the meaning literal: with p0 = 3 % the CUSUM
 * alone would drift towards its neutral point, the gate never lets a rate
 * at or below max through. Baselines only tune sensitivity; the threshold
 * is absolute, so the rule works without one.
 *
 * Latency. With a baseline latency B at the configured quantile q, the
 * threshold is T = (1 + max_increase) * B. "The q-quantile is above T" is
 * the same event as "more than 1 - q of the requests are slower than T",
 * so the test counts slow requests: a Bernoulli CUSUM as above with
 *     p0 = q0, the baseline's own fraction of samples slower than T,
 *     p1 = 1 - q (the fraction a rise of exactly max_increase gives),
 * h = ANALYSIS_LAT_H, and a Wilson gate (z = ANALYSIS_LAT_Z) requiring the
 * slow fraction to be above q0 + ANALYSIS_LAT_GATE * (p1 - q0) with at
 * least latency.min_samples samples. A rise of exactly max_increase is
 * the design point and is detected; the gate sits below it because a
 * boundary can only be detected with a margin (rises of less than about
 * half of max_increase never breach). Counts above T come from the app's
 * classic buckets interpolated like histogram_quantile, and q0 from the
 * baseline with the same interpolation, so the bucket model cancels out.
 * No baseline, or a threshold the buckets cannot resolve (T at or past
 * the highest finite bucket, q0 too close to p1): INCONCLUSIVE.
 *
 * Health. Breach when the liveness probe has failed health_failures times
 * in a row (health_failures 0 turns the rule off). It needs no metrics and
 * no baseline: app health failures are evidence, not missing data.
 *
 * Verdict. A tick breaches when any rule breaches. FAIL is returned once
 * consecutive_breaches ticks in a row have breached (1 or 0: the first
 * breach is final); a breaching tick before that is INCONCLUSIVE with
 * reason "breach i of n". Any tick without a breach resets the count, an
 * INCONCLUSIVE one included. Otherwise the verdict is INCONCLUSIVE when a
 * rule is INCONCLUSIVE, else PASS (rules that are OFF do not count; all
 * OFF is INCONCLUSIVE).
 *
 * INCONCLUSIVE, never FAIL, comes from: the warmup (warmup_ms after init,
 * and again after a delta reporting a counter reset, i.e. an app restart:
 * its cold start is not judged); an interval without one valid scrape
 * (failed or malformed scrapes: the error and latency rules say so and
 * cannot breach that tick); too few requests or samples (fewer than
 * min_requests/min_samples in the window: INCONCLUSIVE unless the
 * sequential test already breached on a longer span); no baseline for the
 * latency rule. Data seen during a warmup goes to the window but not to
 * the tests or the baseline.
 *
 * Probe-synthetic traffic. Every probe result is kept in the window apart
 * from scraped traffic (the evidence shows both). The error and latency
 * rules use it only while no scrape delta has ever been observed (the app
 * exposes no metrics): then probe failures are the errors and probe
 * latencies the samples, with the same tests and minimums. Once scraping
 * is seen, probes never move the error or latency tests; a failing scrape
 * makes those rules INCONCLUSIVE instead of falling back on probes.
 *
 * Baselines. A stable-revision summary (analysis_set_stable_baseline) is
 * used when present and its latency source matches; otherwise the pod's
 * rolling baseline once it covers a quarter of baseline_window with at
 * least 4 * min_requests requests (error p0) or 4 * min_samples samples
 * (latency). The rolling baseline takes every completed interval except
 * warmup intervals, intervals without a valid scrape, and intervals in
 * which a rule breached or a breach streak was running (it is frozen from
 * the first breach until a tick without one).
 */
#ifndef ROLLGUARD_ANALYSIS_H
#define ROLLGUARD_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sidecar/baseline.h"
#include "sidecar/sample.h"
#include "sidecar/window.h"

/* Sequential-test parameters (see above; tuned with bench/bench_sim). */
#define ANALYSIS_ERR_P1_FACTOR 2.0
#define ANALYSIS_ERR_P0_MIN 0.1     /* times max */
#define ANALYSIS_ERR_P0_MAX 0.6     /* times max, also the default */
#define ANALYSIS_ERR_H 12.0
#define ANALYSIS_ERR_Z 2.326
#define ANALYSIS_MIN_ERRORS 3
#define ANALYSIS_LAT_H 12.0
#define ANALYSIS_LAT_Z 2.326
#define ANALYSIS_LAT_GATE 0.5
#define ANALYSIS_CAP_FACTOR 3.0
#define ANALYSIS_RECENT_MIN 20      /* samples behind the persistence check */
#define ANALYSIS_BASELINE_MIN_SPAN 0.25 /* of baseline_window */
#define ANALYSIS_BASELINE_MIN_COUNT 4   /* times min_requests / min_samples */

/* Pass as liveness_consecutive_failures for results of other probes. */
#define ANALYSIS_NOT_LIVENESS (-1)

#define ANALYSIS_REASON_MAX 96
#define VERDICT_JSON_MAX 4096

struct analysis_params {
    uint32_t interval_ms;          /* one slot, one verdict */
    uint32_t window_ms;            /* the recent span judged; window/interval <= 360 slots */
    uint32_t warmup_ms;
    uint32_t baseline_window_ms;
    double error_rate_max;         /* (0, 1) */
    uint32_t error_min_requests;
    double latency_quantile;       /* (0, 1) */
    double latency_max_increase;   /* > 0 */
    uint32_t latency_min_samples;
    uint32_t health_failures;      /* 0: health rule off */
    uint32_t consecutive_breaches; /* 0 behaves as 1 */
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
    VERDICT_RULE_OFF,          /* no data source for this rule at all */
    VERDICT_RULE_INCONCLUSIVE,
    VERDICT_RULE_PASS,
    VERDICT_RULE_BREACH,
};

enum analysis_source { ANALYSIS_SRC_NONE, ANALYSIS_SRC_SCRAPE, ANALYSIS_SRC_PROBE };

/* What one rule saw at one tick. NaN marks a value that does not apply. */
struct verdict_evidence {
    enum analysis_rule rule;
    enum verdict_rule_state state;
    enum analysis_source source;   /* whose traffic the rule judged */
    double value;         /* error rate / latency at q (s) / consecutive liveness failures */
    double baseline;      /* baseline error rate / baseline latency at q (s) */
    double threshold;     /* error_rate.max / T (s) / health_failures */
    /* window totals, the two sources kept apart */
    uint64_t requests, errors;        /* scraped */
    uint64_t samples;                 /* latency samples of the rule's source */
    double slow;                      /* of those, slower than T */
    uint64_t probes, probe_failures;  /* probe-synthetic */
    /* the sequential test */
    double run_n, run_x;  /* span since the CUSUM last was 0: count, errors/slow */
    double p0, p1;
    double statistic, bound;                 /* CUSUM S and its threshold h */
    double confidence_bound, confidence_limit; /* Wilson lower bound and what it must pass */
    int64_t window_ms;
    char reason[ANALYSIS_REASON_MAX];        /* why INCONCLUSIVE/BREACH/OFF, "" for PASS */
};

struct verdict {
    enum verdict_outcome outcome;
    enum analysis_rule rule;         /* the deciding rule (breach, else inconclusive) */
    bool breach;                     /* some rule breached this tick */
    uint32_t breaches_in_row;
    uint32_t breaches_needed;
    int64_t t_ms;
    int64_t window_ms;
    char config_hash[17];
    char reason[128];
    struct verdict_evidence ev[ANALYSIS_RULE_COUNT];
};

struct analysis_cusum {
    double s;              /* statistic */
    double run_n, run_x;   /* counts since s last was 0 */
    double p0, p1;         /* in force for the next updates */
    double w_hit, w_miss;  /* ln(p1/p0), ln((1-p1)/(1-p0)) */
    bool armed;            /* p0/p1 valid: updates happen */
};

struct analysis {
    struct analysis_params p;
    struct window win;
    struct baseline base;
    bool has_stable;
    struct baseline_summary stable;
    int64_t warm_until_ms;
    bool initial_warmup;          /* the first warmup has not ended yet */
    bool scrape_seen;             /* a scrape delta (valid or not) has been observed */
    bool liveness_seen;
    uint32_t liveness_failures;
    struct analysis_cusum err, lat;
    double lat_t;                 /* T in force, seconds */
    double lat_q0, lat_base;      /* q0 and B behind it */
    enum analysis_source lat_src;
    char lat_reason[ANALYSIS_REASON_MAX]; /* why the latency test is not armed */
    double err_base;              /* baseline error rate behind p0, NaN for none */
    uint32_t streak;
    uint64_t ticks;
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

const char *verdict_outcome_name(enum verdict_outcome o);
const char *verdict_rule_state_name(enum verdict_rule_state s);
const char *analysis_rule_name(enum analysis_rule r);
const char *analysis_source_name(enum analysis_source s);

/* Bytes the analysis holds for params p (window and baseline rings included). */
size_t analysis_memory(const struct analysis_params *p);

#endif
