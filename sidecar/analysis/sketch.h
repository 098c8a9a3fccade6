/*
 * sketch — a fixed-layout log-bucket latency histogram (DDSketch-like).
 *
 * Every sketch has the same bucket boundaries: bucket i (1..SKETCH_BINS)
 * holds values in (MIN * GAMMA^(i-1), MIN * GAMMA^i], bucket 0 holds values
 * <= MIN (and zero or negative values), bucket SKETCH_BINS + 1 holds values
 * above SKETCH_MAX_S. Because the layout is fixed, merge is an element-wise
 * add and subtract its exact inverse, so a sliding window is a ring of
 * sketches plus a running sum. Memory is sizeof(struct sketch) whatever the
 * traffic (3,280 bytes: 816 uint32 counts plus a header).
 *
 * Accuracy: with GAMMA = 1.02 a quantile read from the sketch is within
 * SKETCH_REL_ACCURACY (0.99 %) of the true sample at that rank, for samples
 * in [SKETCH_MIN_S, SKETCH_MAX_S] (10 us .. ~101 s). Below that range the
 * answer is SKETCH_MIN_S, above it SKETCH_MAX_S.
 *
 * Pure: no I/O, no clock, no allocation.
 */
#ifndef ROLLGUARD_SKETCH_H
#define ROLLGUARD_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define SKETCH_GAMMA 1.02
#define SKETCH_MIN_S 1e-5
/* ceil(ln(1e7) / ln(1.02)): log buckets from 10 us up to ~100.9 s */
#define SKETCH_BINS 814
#define SKETCH_SLOTS (SKETCH_BINS + 2)
/* (GAMMA - 1) / (GAMMA + 1) */
#define SKETCH_REL_ACCURACY (0.02 / 2.02)

struct sketch {
    uint64_t count;  /* sum of bin[] */
    uint16_t lo, hi; /* nonzero bins lie in [lo, hi]; lo > hi when empty */
    uint32_t bin[SKETCH_SLOTS];
};

/* An empty sketch. */
void sketch_init(struct sketch *s);

/* Empties s; touches only the bins that may be nonzero. */
void sketch_clear(struct sketch *s);

/*
 * Records count samples of value_s seconds. Returns 0, -EINVAL for NaN, or
 * -EOVERFLOW when a bin would pass UINT32_MAX (s is then unchanged).
 */
int sketch_add(struct sketch *s, double value_s, uint32_t count);

/* dst += src. Returns 0 or -EOVERFLOW (dst unchanged). */
int sketch_merge(struct sketch *dst, const struct sketch *src);

/*
 * dst -= src, the exact inverse of sketch_merge. Returns 0, or -ERANGE when
 * some bin of src holds more than the same bin of dst (dst unchanged).
 */
int sketch_subtract(struct sketch *dst, const struct sketch *src);

/*
 * The q-quantile (0 <= q <= 1): the representative value of the bin holding
 * the sample of rank floor(q * (count - 1)) in sorted order. Sets *ret and
 * returns 0; -EINVAL for q outside [0, 1] or NaN, -ENODATA when empty.
 */
int sketch_quantile(const struct sketch *s, double q, double *ret);

/*
 * The number of samples slower than threshold_s. Exact at bin boundaries;
 * within the bin holding threshold_s the count is interpolated linearly.
 * Samples in the overflow bin count as slower than any threshold; samples
 * in the underflow bin as faster than any threshold >= SKETCH_MIN_S.
 */
double sketch_count_above(const struct sketch *s, double threshold_s);

/* The bin a value falls in (0..SKETCH_BINS + 1). */
unsigned sketch_index(double value_s);

/* The value reported for bin i (its relative-error midpoint). */
double sketch_bin_value(unsigned i);

/* Bytes one sketch occupies. */
size_t sketch_memory(void);

#endif
