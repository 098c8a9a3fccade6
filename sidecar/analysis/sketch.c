/*
 * sketch — fixed-layout log-bucket latency histogram.
 *
 * Owns the bucket mapping and the count arithmetic (add, merge, subtract,
 * quantile, count above a threshold). Never allocates, never does I/O,
 * never saturates silently: an add or merge that would overflow a bin and
 * a subtract that would underflow one are refused and leave the sketch as
 * it was, so merge and subtract stay exact inverses.
 */
#include "sidecar/analysis/sketch.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* ln(SKETCH_GAMMA) */
#define SKETCH_LN_GAMMA 0.0198026272961797

static double sketch_bound(unsigned i)
{
    /* upper bound of bin i (1..SKETCH_BINS); bin 0 ends at MIN */
    return SKETCH_MIN_S * exp((double)i * SKETCH_LN_GAMMA);
}

unsigned sketch_index(double value_s)
{
    double x;

    if (!(value_s > SKETCH_MIN_S))
        return 0;
    x = ceil(log(value_s / SKETCH_MIN_S) / SKETCH_LN_GAMMA);
    if (x < 1)
        return 1;
    if (x > SKETCH_BINS)
        return SKETCH_BINS + 1;
    return (unsigned)x;
}

double sketch_bin_value(unsigned i)
{
    if (i == 0)
        return SKETCH_MIN_S;
    if (i > SKETCH_BINS)
        return sketch_bound(SKETCH_BINS);
    /* 2 * gamma^i / (gamma + 1): within (gamma-1)/(gamma+1) of anything in the bin */
    return 2.0 * sketch_bound(i) / (SKETCH_GAMMA + 1.0);
}

void sketch_init(struct sketch *s)
{
    memset(s, 0, sizeof(*s));
    s->lo = SKETCH_SLOTS;
    s->hi = 0;
}

void sketch_clear(struct sketch *s)
{
    if (s->lo <= s->hi)
        memset(&s->bin[s->lo], 0, (size_t)(s->hi - s->lo + 1) * sizeof(s->bin[0]));
    s->count = 0;
    s->lo = SKETCH_SLOTS;
    s->hi = 0;
}

int sketch_add(struct sketch *s, double value_s, uint32_t count)
{
    unsigned i;

    if (isnan(value_s))
        return -EINVAL;
    if (count == 0)
        return 0;
    i = sketch_index(value_s);
    if (s->bin[i] > UINT32_MAX - count)
        return -EOVERFLOW;
    s->bin[i] += count;
    s->count += count;
    if (i < s->lo)
        s->lo = (uint16_t)i;
    if (i > s->hi)
        s->hi = (uint16_t)i;
    return 0;
}

int sketch_merge(struct sketch *dst, const struct sketch *src)
{
    if (src->lo > src->hi)
        return 0;
    for (unsigned i = src->lo; i <= src->hi; i++)
        if (dst->bin[i] > UINT32_MAX - src->bin[i])
            return -EOVERFLOW;
    for (unsigned i = src->lo; i <= src->hi; i++)
        dst->bin[i] += src->bin[i];
    dst->count += src->count;
    if (src->lo < dst->lo)
        dst->lo = src->lo;
    if (src->hi > dst->hi)
        dst->hi = src->hi;
    return 0;
}

int sketch_subtract(struct sketch *dst, const struct sketch *src)
{
    if (src->lo > src->hi)
        return 0;
    if (src->count > dst->count)
        return -ERANGE;
    for (unsigned i = src->lo; i <= src->hi; i++)
        if (dst->bin[i] < src->bin[i])
            return -ERANGE;
    for (unsigned i = src->lo; i <= src->hi; i++)
        dst->bin[i] -= src->bin[i];
    dst->count -= src->count;
    if (dst->count == 0) {
        dst->lo = SKETCH_SLOTS;
        dst->hi = 0;
        return 0;
    }
    /* shrink the nonzero range; a nonzero bin remains, so both loops stop */
    while (dst->bin[dst->lo] == 0)
        dst->lo++;
    while (dst->bin[dst->hi] == 0)
        dst->hi--;
    return 0;
}

int sketch_quantile(const struct sketch *s, double q, double *ret)
{
    uint64_t rank, cum = 0;

    if (!(q >= 0.0 && q <= 1.0))
        return -EINVAL;
    if (s->count == 0)
        return -ENODATA;
    rank = (uint64_t)floor(q * (double)(s->count - 1));
    for (unsigned i = s->lo; i <= s->hi; i++) {
        cum += s->bin[i];
        if (cum > rank) {
            *ret = sketch_bin_value(i);
            return 0;
        }
    }
    /* unreachable while count equals the sum of the bins */
    *ret = sketch_bin_value(s->hi);
    return 0;
}

double sketch_count_above(const struct sketch *s, double threshold_s)
{
    unsigned t;
    double above = 0, lo, hi;

    if (s->count == 0 || isnan(threshold_s))
        return 0;
    t = sketch_index(threshold_s);
    for (unsigned i = (t + 1 > s->lo ? t + 1 : s->lo); i <= s->hi; i++)
        above += s->bin[i];
    if (s->bin[t] == 0 || t == SKETCH_BINS + 1)
        return above + (t == SKETCH_BINS + 1 ? s->bin[t] : 0);
    if (t == 0) {
        /* the underflow bin is (0, MIN]; a threshold below 0 takes all of it */
        if (threshold_s <= 0)
            return above + s->bin[0];
        lo = 0;
        hi = SKETCH_MIN_S;
    } else {
        lo = sketch_bound(t - 1);
        hi = sketch_bound(t);
    }
    if (threshold_s < lo)
        threshold_s = lo;
    if (threshold_s > hi)
        threshold_s = hi;
    return above + (double)s->bin[t] * (hi - threshold_s) / (hi - lo);
}

size_t sketch_memory(void)
{
    return sizeof(struct sketch);
}
