/*
 * baseline — what "normal" looks like for this pod, and the compact summary
 * that pods of the stable revision publish for pods of a new one.
 *
 * The rolling baseline is a coarse ring of at most BASELINE_MAX_SLOTS
 * slots over baseline_window, each slot holding the same counts as a window
 * slot (scraped requests, errors, latency buckets; probe counts and
 * sketch). The caller adds one interval at a time and skips intervals it
 * does not trust (breached ones). Time in the ring is *baseline time*: it
 * advances only with added intervals, so a skipped stretch neither enters
 * the baseline nor ages good history out of it; a baseline frozen during a
 * long breach is still there when the breach ends. With the defaults (1 h
 * over 10 s intervals) the ring has 60 slots of 1 minute: 61 * 3,856 bytes
 * = 230 KiB.
 *
 * struct baseline_summary is the portable form: error rate, latency
 * quantiles, the latency threshold of the latency rule with the fraction of
 * samples above it, the span and the revision it came from. It travels as a
 * small flat JSON object (baseline_summary_render_json); the reader is a
 * strict parser for exactly that shape (flat object, string, number, null,
 * true, false values; unknown scalar keys ignored for forward
 * compatibility, nested values refused, every known key required once).
 * Own parser rather than a jansson callback: the shape is fixed and small,
 * and the module stays pure and fuzzable on its own.
 *
 * Pure: no I/O, no clock, no allocation after init.
 */
#ifndef ROLLGUARD_BASELINE_H
#define ROLLGUARD_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sidecar/analysis/window.h"

#define BASELINE_MAX_SLOTS 60
#define BASELINE_LAYOUT_CHANGED 1
#define BASELINE_REVISION_MAX 63
#define BASELINE_JSON_MAX 1024
#define BASELINE_SUMMARY_VERSION 1

struct baseline {
    unsigned nslots;
    int64_t slot_ms; /* baseline time per slot */
    unsigned cur, used;
    int64_t active_ms;   /* baseline time elapsed since init/reset */
    int64_t slot_end_ms; /* baseline time at which the open slot closes */
    int64_t last_ms;     /* wall time of the last add or skip */
    unsigned hist_n;
    double le[SAMPLE_MAX_BUCKETS];
    struct window_counts total;
    struct window_counts *slot;
};

enum baseline_source {
    BASELINE_SRC_NONE = 0,  /* no latency data */
    BASELINE_SRC_HISTOGRAM, /* the app's scraped histogram */
    BASELINE_SRC_PROBE,     /* the sidecar's probe latencies */
};

struct baseline_summary {
    char revision[BASELINE_REVISION_MAX + 1]; /* pod-template-hash it describes */
    int64_t window_ms;                        /* baseline time covered */
    uint64_t requests, errors;                /* scraped, over window_ms */
    double error_rate;                        /* errors / requests; NaN without requests */
    enum baseline_source latency_source;
    uint64_t latency_samples;
    double p50, p90, p99;  /* seconds; NaN when unknown */
    double quantile;       /* the q of the latency rule, in (0, 1) */
    double quantile_value; /* latency at q, seconds */
    double threshold;      /* (1 + max_increase) * quantile_value */
    double exceed;         /* fraction of samples slower than threshold */
};

/* Where a parse stopped and why. */
struct baseline_parse_err {
    size_t offset;
    char msg[96];
};

/*
 * A rolling baseline over window_ms made of intervals of interval_ms:
 * min(window_ms / interval_ms, BASELINE_MAX_SLOTS) slots (at least 1).
 * Returns 0, -EINVAL or -ENOMEM. baseline_done is safe on a zeroed or
 * half-built baseline.
 */
int baseline_init(struct baseline *b, int64_t window_ms, int64_t interval_ms, int64_t now_ms);
void baseline_done(struct baseline *b);

/* Forgets all history; baseline time restarts at zero. */
void baseline_reset(struct baseline *b, int64_t now_ms);

/*
 * Adds one interval's counts c; hist[] in c is in the layout le[0..hist_n-1]
 * (hist_n 0: no histogram). Baseline time advances by now_ms minus the
 * previous add or skip. A layout different from the baseline's clears the
 * histogram part of the baseline first and returns BASELINE_LAYOUT_CHANGED;
 * otherwise 0. -EOVERFLOW if the counts would overflow (nothing added).
 */
int baseline_add(struct baseline *b, const struct window_counts *c, const double *le,
                 unsigned hist_n, int64_t now_ms);

/* Lets now_ms pass without counting it: the interval is left out. */
void baseline_skip(struct baseline *b, int64_t now_ms);

/* Baseline time the ring covers, in ms. */
int64_t baseline_span_ms(const struct baseline *b);

/* The counts over the whole ring. */
const struct window_counts *baseline_total(const struct baseline *b);

/*
 * Fills *ret from the ring (revision left empty): error rate, and the
 * latency figures from the histogram when it has samples, else from the
 * probe sketch. quantile in (0, 1), max_increase >= 0. Returns 0 or -EINVAL.
 */
int baseline_summarize(const struct baseline *b, double quantile, double max_increase,
                       struct baseline_summary *ret);

/*
 * The latency at quantile q according to s: exact for q in {0.5, 0.9,
 * 0.99, s->quantile}, otherwise interpolated log-linearly between the
 * known points (NaN outside them).
 */
double baseline_summary_quantile(const struct baseline_summary *s, double q);

/*
 * The fraction of samples slower than t according to s: s->exceed when t is
 * s->threshold, otherwise interpolated log-linearly between the known
 * quantile points; beyond the highest point the tail of that point is
 * returned (an overestimate), below the lowest NaN.
 */
double baseline_summary_exceed(const struct baseline_summary *s, double t);

/*
 * Renders s as one compact JSON object into buf (size bytes, NUL
 * terminated). Returns the length, or -ENOSPC when it does not fit (buf is
 * then ""). NaN renders as null.
 */
int baseline_summary_render_json(const struct baseline_summary *s, char *buf, size_t size);

/*
 * Parses len bytes (at most BASELINE_JSON_MAX) of the shape rendered above
 * into *ret. Returns 0, -E2BIG, or -EINVAL with the position and reason in
 * *err when err is not NULL; *ret is set only on success. Values are
 * checked: rates and fractions in [0, 1], errors <= requests, latencies
 * >= 0, quantile in (0, 1), version 1.
 */
int baseline_summary_parse_json(const char *buf, size_t len, struct baseline_summary *ret,
                                struct baseline_parse_err *err);

const char *baseline_source_name(enum baseline_source s);

#endif
