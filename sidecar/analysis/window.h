/*
 * window — the recent span of traffic as a ring of per-interval slots.
 *
 * Each slot holds what one analysis interval saw, from two sources that are
 * never mixed: the app's scraped metrics (request and error increases, the
 * app's classic latency histogram, per le bucket, as the app defines it)
 * and the sidecar's own probes (synthetic requests: count, failures and a
 * log-bucket latency sketch). A running total over all slots is kept by
 * adding on the way in and subtracting on eviction, so whole-window
 * queries cost O(buckets), not O(slots). Memory is fixed at init: 3,864
 * bytes per slot (a struct window_counts of 3,856 bytes, most of it the
 * probe sketch, plus the slot's start time) and one more window_counts for
 * the total: the default 60 s / 10 s window (6 slots) takes 27 KiB, a
 * 60-slot window 231 KiB, the largest (360 slots) 1.33 MiB.
 *
 * Histogram layout: the window keeps one le[] layout. A delta whose layout
 * differs (an app that changed its buckets) clears the histogram part of
 * every slot and the total and adopts the new layout; request, error and
 * probe counts are kept. window_add_delta reports that with
 * WINDOW_LAYOUT_CHANGED so the caller can reset what depends on it.
 *
 * Quantiles over classic buckets follow Prometheus' histogram_quantile
 * exactly (window_bucket_quantile).
 *
 * Pure: no I/O, no clock (times are passed in), no allocation after init.
 */
#ifndef ROLLGUARD_WINDOW_H
#define ROLLGUARD_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/sample.h"
#include "sidecar/analysis/sketch.h"

#define WINDOW_MAX_SLOTS 360
#define WINDOW_LAYOUT_CHANGED 1

/* Counts for one slot, or summed over several. */
struct window_counts {
    /* scraped: the app's own traffic */
    uint64_t requests;
    uint64_t errors;
    uint32_t scrapes;                  /* valid deltas */
    uint32_t scrape_failures;          /* deltas with valid == false */
    uint32_t resets;                   /* valid deltas that saw a counter reset */
    double span_s;                     /* sum of span_s of the valid deltas */
    uint64_t hist_total;               /* sum of hist[] */
    uint64_t hist[SAMPLE_MAX_BUCKETS]; /* per le bucket, in the window's layout */
    uint64_t sq_n;                     /* summary: requests behind the quantiles below */
    double sq_wsum;                    /* summary: sum of quantile (s) x requests */
    /* probe-synthetic: the sidecar's own requests */
    uint64_t probes;
    uint64_t probe_failures;
    struct sketch probe_latency;
};

struct window {
    unsigned nslots; /* ring size, 1..WINDOW_MAX_SLOTS */
    unsigned cur;    /* index of the open slot */
    unsigned used;   /* slots holding data: the open one plus closed ones */
    unsigned hist_n; /* buckets in le[]; 0 until a histogram is seen */
    double le[SAMPLE_MAX_BUCKETS];
    uint32_t layout_changes;
    struct window_counts total; /* sum of the used slots */
    struct window_counts *slot; /* nslots entries */
    int64_t *start_ms;          /* when each slot was opened */
};

/* Empties c (all counts zero, sketch empty). */
void window_counts_init(struct window_counts *c);

/* dst += src (histogram buckets element-wise). Returns 0 or -EOVERFLOW. */
int window_counts_merge(struct window_counts *dst, const struct window_counts *src);

/* dst -= src, the exact inverse of merge. Returns 0 or -ERANGE (dst unchanged). */
int window_counts_subtract(struct window_counts *dst, const struct window_counts *src);

/*
 * A window of nslots slots (1..WINDOW_MAX_SLOTS) whose first slot opens at
 * now_ms. Returns 0, -EINVAL or -ENOMEM. window_done frees it; both are
 * safe on a zeroed or half-built window.
 */
int window_init(struct window *w, unsigned nslots, int64_t now_ms);
void window_done(struct window *w);

/* Empties every slot and the total; the layout is forgotten; one slot opens at now_ms. */
void window_reset(struct window *w, int64_t now_ms);

/*
 * Adds one scrape delta to the open slot. An invalid delta (valid == false)
 * only counts as a scrape failure. Returns 0, WINDOW_LAYOUT_CHANGED when the
 * delta's histogram layout replaced the window's (see above), or -EINVAL
 * when the delta is malformed (errors > requests, hist.n above
 * SAMPLE_MAX_BUCKETS or below 1, le[] not strictly ascending or NaN, a
 * count sum overflowing): nothing is added then.
 */
int window_add_delta(struct window *w, const struct sample_delta *d);

/* Adds one probe result (latency in seconds, ok or not) to the open slot. */
int window_add_probe(struct window *w, double latency_s, bool ok);

/*
 * Closes the open slot and opens the next at now_ms, evicting (subtracting
 * from the total) the oldest slot once the ring is full.
 */
void window_advance(struct window *w, int64_t now_ms);

/* The slot of the given age (0 = open, 1 = the one before, ...) or NULL past used. */
const struct window_counts *window_slot(const struct window *w, unsigned age);

/*
 * Sums the last k slots (the open one included) into *ret; k is clamped to
 * used. k >= used reads the running total in O(buckets).
 */
void window_sum(const struct window *w, unsigned k, struct window_counts *ret);

/* Milliseconds from the opening of the oldest used slot to now_ms. */
int64_t window_span_ms(const struct window *w, int64_t now_ms);

/*
 * Prometheus histogram_quantile on cumulative bucket counts: le[] upper
 * bounds (sorted ascending, the last must be +Inf, else NaN), cum[] the
 * cumulative counts, n entries. Equal bounds are coalesced, relative
 * differences below 1e-12 are ignored and the counts are forced monotonic;
 * linear interpolation inside the bucket holding rank q * total, 0 as the
 * lower bound of the first bucket when its bound is positive, and the
 * second-highest bound when the rank falls in +Inf. NaN for q NaN, fewer
 * than 2 buckets or no observations; -Inf for q < 0, +Inf for q > 1.
 * n is at most SAMPLE_MAX_BUCKETS.
 */
double window_bucket_quantile(double q, const double *le, const double *cum, unsigned n);

/* The same on per-bucket (non-cumulative) counts in a layout le[0..n-1]. */
double window_hist_quantile(double q, const double *le, const uint64_t *count, unsigned n);

/*
 * The number of observations above t in per-bucket counts, with the same
 * model as histogram_quantile: linear inside a bucket, 0 as the lower bound
 * of the first bucket, and the +Inf bucket as a point at the second-highest
 * bound (so nothing lies above t once t reaches that bound).
 */
double window_hist_count_above(double t, const double *le, const uint64_t *count, unsigned n);

/* Bytes a window of nslots slots allocates plus its header. */
size_t window_memory(unsigned nslots);

#endif
