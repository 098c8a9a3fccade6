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
 * struct baseline_summary (sidecar/base/baseline_summary.h) is the portable
 * form: error rate, latency quantiles, the latency threshold of the latency
 * rule with the fraction of samples above it, the span and the revision it
 * came from. It travels as a small flat JSON object
 * (baseline_summary_render_json); the strict reader of what another pod
 * wrote is the jansson adapter's kube_json_baseline_summary_parse
 * (sidecar/kube/kube_json.h), as this module may not include jansson.
 *
 * Pure: no I/O, no clock, no allocation after init.
 */
#ifndef ROLLGUARD_BASELINE_H
#define ROLLGUARD_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sidecar/analysis/window.h"
#include "sidecar/base/baseline_summary.h"

#define BASELINE_MAX_SLOTS 60
#define BASELINE_LAYOUT_CHANGED 1

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

const char *baseline_source_name(enum baseline_source s);

#endif
