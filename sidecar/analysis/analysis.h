/*
 * analysis — turns scrape deltas and probe results into one verdict per
 * interval: PASS, FAIL or INCONCLUSIVE, with the evidence behind it.
 *
 * Pure: no I/O, no clock (now_ms is passed in), no logging, no allocation
 * after analysis_init (258 KiB with the default config: the window and the
 * rolling baseline's rings, analysis_memory). The daemon maps its config into struct
 * analysis_params, feeds analysis_observe_delta after every scrape and
 * analysis_observe_probe after every probe, calls analysis_tick once per
 * interval, and shows the verdict (verdict_render_json) on /status,
 * /metrics and in one log line per change. Call analysis_tick right after
 * the scrape that completes an interval (not from an unrelated timer): a
 * tick judges only data scraped before it, and bench/bench_sim measures
 * the detection times below with ticks placed that way.
 *
 * Error rule
 * ----------
 * Breach when the error rate is *strictly above* error_rate.max with
 * confidence; a rate of exactly max never breaches (the Wilson lower bound
 * of an observed rate <= max is below max). The test is a Bernoulli CUSUM
 * over scraped requests, updated with every scrape delta of n requests
 * and k errors:
 *     S = min(3h, max(0, S + k*ln(p1/p0) + (n-k)*ln((1-p1)/(1-p0))))
 *     p0 = the baseline error rate, taken as its one-sided 95 % Wilson
 *          upper bound and clamped to [0.1*max, 0.6*max]; 0.6*max without
 *          a usable baseline (the rule needs none: the threshold is absolute)
 *     p1 = 2*max (at most (1+max)/2)
 *     h  = 10 when p0 <= 0.2*max, rising linearly to 15 at p0 = 0.6*max: an
 *          error says less when the baseline sits close to max.
 * The rule breaches at a tick when all of these hold:
 *  1. S >= h (the shift away from the baseline is real, sequentially:
 *     evidence adds up across intervals at low traffic, one noisy scrape
 *     does not decide at high traffic);
 *  2. the one-sided Wilson lower bound of the error rate is above max
 *     (z = 2.326) over the CUSUM's run (the requests since S last was 0)
 *     with >= 20 requests, or, while the run is young (<= 8 updates), over
 *     a suffix of it counted back from the newest update (a run that began
 *     just before a fault is not diluted by its healthy head), or over the
 *     window with >= min_requests at the stricter z = 3; each span with >= 3
 *     errors. This keeps the meaning literal: with a 1 % baseline the
 *     CUSUM alone would end up alarming on a steady 4 % rate;
 *  3. at least min_requests requests in the window or in the run, whichever
 *     is larger (fewer: INCONCLUSIVE "too few requests: 12 < 50");
 *  4. persistence: the newest traffic (the latest slots, merged until they
 *     hold 20 requests) has a rate above max, and S has not fallen since
 *     the previous tick (or sits at its cap). Every breaching tick must be
 *     carried by fresh data pointing the same way, so a burst inside one
 *     interval, or a fluctuation that crossed h, cannot make two breaches
 *     in a row.
 * Budget and result (bench/bench_sim, 2000 pod-days per scenario, diurnal
 * traffic with quiet nights and GC spikes, ticks right after a scrape):
 * no false rollback at healthy rates of 0.1 %, 1 % and 3 %, nor with
 * restarts or scrape gaps; with a 1 % baseline at 10 req/s, 20 % errors
 * FAIL in ~19 s and 10 % in ~27 s (median). Structural floor: FAIL needs
 * two breaching ticks, so it comes one interval after the first tick that
 * holds enough fault data. Known cost of that speed: a version whose rate
 * rises from 1 % to a steady 4 % (allowed) is rolled back within 30
 * minutes in 6 % of simulated runs at 10 req/s (0 % at 100 req/s): at
 * 10 req/s a 4 % process reads ~9 % over 250 requests often enough.
 *
 * Latency rule
 * ------------
 * With a baseline latency B at the configured quantile q, the threshold is
 * T = (1 + max_increase) * B. "The q-quantile is above T" is the same event
 * as "more than 1 - q of the requests are slower than T", so the test
 * counts slow requests with the same machinery:
 *     p0 = q0, the baseline's own fraction of samples slower than T,
 *     p1 = 1 - q (the fraction a rise of exactly max_increase gives),
 *     h  = 12; gate: Wilson lower bound (z = 3) of the slow fraction
 *     above q0 + 0.6 * (p1 - q0), on the same spans as the error rule
 *     (>= min_samples in the window or the run); the newest >= 20 samples
 *     above that limit too, and S not falling since the previous tick.
 * z is stricter than for errors because slow requests come in clusters (a
 * GC pause or a queue slows every request behind it), so they are not the
 * independent trials the bound assumes: with z = 2.326, two long GC
 * pauses in consecutive intervals were enough for a false rollback.
 * A rise of exactly max_increase is the design point and is detected (in
 * the simulator 1.5x in >= 97 % of runs, 2x in ~21 s at 10 req/s); the
 * gate sits below it because a boundary can only be detected with a
 * margin. With the default classic buckets (2-2.5x apart) a 1.25x rise is
 * not reliably told from 1.5x: it was rolled back within 30 minutes in
 * 4-13 % of simulated runs. Counts above T come from the app's classic
 * buckets interpolated like histogram_quantile, and q0 from the baseline
 * with the same interpolation, so the bucket model cancels out.
 * INCONCLUSIVE without a baseline, and when the buckets cannot resolve T
 * (T at or past the highest finite bucket, q0 >= 0.8 * p1). Without a
 * scraped histogram the probe latencies are the samples.
 *
 * Health rule
 * -----------
 * Breach when the liveness probe has failed health_failures times in a row
 * (health_failures 0 turns the rule off; no liveness result yet: off). It
 * needs no metrics and no baseline: app health failures are evidence, not
 * missing data, and it keeps judging during a restart's warmup.
 *
 * Verdict
 * -------
 * A tick breaches when any rule breaches. FAIL is returned once
 * consecutive_breaches ticks in a row have breached (0 or 1: the first
 * breach is final); a breaching tick before that is INCONCLUSIVE with the
 * reason "breach i of n: ...". Any tick without a breach resets the count,
 * an INCONCLUSIVE one included. Otherwise the verdict is INCONCLUSIVE when a
 * rule is INCONCLUSIVE, else PASS (rules that are OFF do not count; all OFF
 * is INCONCLUSIVE). The FAIL verdict repeats while the breach goes on.
 *
 * INCONCLUSIVE, never FAIL, comes from: the warmup (warmup_ms after init,
 * and again after a delta that reports a counter reset, i.e. an app
 * restart, whose cold start is not judged); an interval without one valid
 * scrape (failed or malformed scrapes: the error and latency rules say so
 * and cannot breach that tick); too few requests or samples; no baseline
 * for the latency rule. Data seen during a warmup goes to the window but
 * not to the tests or the baseline.
 *
 * Probe-synthetic traffic
 * -----------------------
 * Every probe result is kept in the window apart from scraped traffic; the
 * evidence shows both. The error rule uses probe failures as errors only
 * while no scrape delta (valid or not) has ever been observed: the app
 * exposes no metrics. Where the latency rule takes its samples is
 * latency_from: the daemon says SCRAPE when app metrics are configured (a
 * histogram that is absent is then INCONCLUSIVE with the page's reason,
 * never probe latency), PROBE when they are not, OFF for latency.histogram
 * "". AUTO (the simulator's) uses probe latencies until a scraped histogram
 * is seen. Once scraping is seen, probes never move the error test; a
 * failing scrape makes it INCONCLUSIVE rather than falling back on probes.
 *
 * What the page cannot tell
 * -------------------------
 * A valid page whose error label is not on the request series (or whose
 * pattern cannot match its values) carries err_problem: the error rule is
 * INCONCLUSIVE with that reason and its requests are not counted. A page
 * whose latency family is absent or unreadable carries lat_problem: the
 * latency rule is INCONCLUSIVE with it. A summary's quantile series (no
 * bucket counts) is judged more weakly than a histogram: the
 * request-weighted mean quantile over the window, and over the newest
 * interval, above (1 + max_increase) x the rolling baseline's, with
 * min_samples requests behind it; no sequential test.
 *
 * Baselines
 * ---------
 * A stable-revision summary (analysis_set_stable_baseline) is used when
 * present and its latency source matches; otherwise the pod's rolling
 * baseline once it covers a quarter of baseline_window with at least
 * 4 * min_requests requests (error p0) or 4 * min_samples samples
 * (latency). The rolling baseline takes every completed interval except
 * warmup intervals, intervals without a valid scrape, and intervals in
 * which a rule breached: it is frozen from the first breach until a tick
 * without one, and its clock stops meanwhile (see baseline.h).
 */
#ifndef ROLLGUARD_ANALYSIS_H
#define ROLLGUARD_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sidecar/analysis/baseline.h"
#include "probes/sample.h"
#include "sidecar/analysis/window.h"

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
#define ANALYSIS_BASELINE_MIN_SPAN 0.25 /* of baseline_window */
#define ANALYSIS_BASELINE_MIN_COUNT 4   /* times min_requests / min_samples */

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
};

struct analysis_cusum {
    double s;            /* statistic */
    double run_n, run_x; /* counts since s last was 0 */
    /* the run's latest updates (scrape deltas), newest at seg_head - 1 */
    double seg_n[ANALYSIS_SUFFIX], seg_x[ANALYSIS_SUFFIX];
    unsigned seg_head, seg_used;
    uint32_t updates;     /* updates in the current run */
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

/*
 * The deciding rule of v as one readable sentence with its key numbers
 * (for an Event message): "error rate 12.0% (36 of 300 requests in the
 * span that decided; window 9.1% of 660 over 60s) above the 5% limit;
 * baseline 1.0% (this pod's history); 2 of 2 intervals in breach".
 * Returns what snprintf returns.
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
