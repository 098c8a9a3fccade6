/*
 * window — ring of per-interval slots with a running total.
 *
 * Owns the slot ring, the histogram layout of the scraped latency buckets
 * and the Prometheus-compatible bucket arithmetic (histogram_quantile and
 * the matching count-above). Allocates only in window_init; never does
 * I/O, never reads the clock, never mixes probe traffic into scraped
 * counts.
 */
#include "sidecar/analysis/window.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void window_counts_init(struct window_counts *c)
{
    memset(c, 0, offsetof(struct window_counts, probe_latency));
    sketch_init(&c->probe_latency);
}

static void window_counts_clear(struct window_counts *c)
{
    struct sketch *s = &c->probe_latency;

    memset(c, 0, offsetof(struct window_counts, probe_latency));
    sketch_clear(s);
}

static void window_counts_clear_hist(struct window_counts *c)
{
    memset(c->hist, 0, sizeof(c->hist));
    c->hist_total = 0;
}

static bool window_u64_add_ok(uint64_t a, uint64_t b)
{
    return a <= UINT64_MAX - b;
}

int window_counts_merge(struct window_counts *dst, const struct window_counts *src)
{
    int r;

    if (!window_u64_add_ok(dst->requests, src->requests) ||
        !window_u64_add_ok(dst->errors, src->errors) ||
        !window_u64_add_ok(dst->hist_total, src->hist_total) ||
        !window_u64_add_ok(dst->sq_n, src->sq_n) || !window_u64_add_ok(dst->probes, src->probes) ||
        dst->scrapes > UINT32_MAX - src->scrapes ||
        dst->scrape_failures > UINT32_MAX - src->scrape_failures ||
        dst->resets > UINT32_MAX - src->resets)
        return -EOVERFLOW;
    /* the sketch is the only part that can refuse; do it first */
    r = sketch_merge(&dst->probe_latency, &src->probe_latency);
    if (r < 0)
        return r;
    dst->requests += src->requests;
    dst->errors += src->errors;
    dst->scrapes += src->scrapes;
    dst->scrape_failures += src->scrape_failures;
    dst->resets += src->resets;
    dst->span_s += src->span_s;
    dst->sq_n += src->sq_n;
    dst->sq_wsum += src->sq_wsum;
    dst->hist_total += src->hist_total;
    for (unsigned i = 0; i < SAMPLE_MAX_BUCKETS; i++)
        dst->hist[i] += src->hist[i];
    dst->probes += src->probes;
    dst->probe_failures += src->probe_failures;
    return 0;
}

int window_counts_subtract(struct window_counts *dst, const struct window_counts *src)
{
    int r;

    if (dst->requests < src->requests || dst->errors < src->errors ||
        dst->hist_total < src->hist_total || dst->probes < src->probes || dst->sq_n < src->sq_n ||
        dst->probe_failures < src->probe_failures || dst->scrapes < src->scrapes ||
        dst->scrape_failures < src->scrape_failures || dst->resets < src->resets)
        return -ERANGE;
    for (unsigned i = 0; i < SAMPLE_MAX_BUCKETS; i++)
        if (dst->hist[i] < src->hist[i])
            return -ERANGE;
    r = sketch_subtract(&dst->probe_latency, &src->probe_latency);
    if (r < 0)
        return r;
    dst->requests -= src->requests;
    dst->errors -= src->errors;
    dst->scrapes -= src->scrapes;
    dst->scrape_failures -= src->scrape_failures;
    dst->resets -= src->resets;
    /* span_s is a sum of doubles; keep it from drifting below zero */
    dst->span_s = dst->scrapes ? fmax(0.0, dst->span_s - src->span_s) : 0.0;
    dst->sq_n -= src->sq_n;
    dst->sq_wsum = dst->sq_n ? fmax(0.0, dst->sq_wsum - src->sq_wsum) : 0.0;
    dst->hist_total -= src->hist_total;
    for (unsigned i = 0; i < SAMPLE_MAX_BUCKETS; i++)
        dst->hist[i] -= src->hist[i];
    dst->probes -= src->probes;
    dst->probe_failures -= src->probe_failures;
    return 0;
}

int window_init(struct window *w, unsigned nslots, int64_t now_ms)
{
    memset(w, 0, sizeof(*w));
    if (nslots < 1 || nslots > WINDOW_MAX_SLOTS)
        return -EINVAL;
    w->slot = malloc(nslots * sizeof(*w->slot));
    w->start_ms = calloc(nslots, sizeof(*w->start_ms));
    if (!w->slot || !w->start_ms) {
        window_done(w);
        return -ENOMEM;
    }
    w->nslots = nslots;
    for (unsigned i = 0; i < nslots; i++)
        window_counts_init(&w->slot[i]);
    window_counts_init(&w->total);
    window_reset(w, now_ms);
    return 0;
}

void window_done(struct window *w)
{
    if (!w)
        return;
    free(w->slot);
    free(w->start_ms);
    w->slot = NULL;
    w->start_ms = NULL;
    w->nslots = 0;
}

void window_reset(struct window *w, int64_t now_ms)
{
    for (unsigned i = 0; i < w->nslots; i++)
        window_counts_clear(&w->slot[i]);
    window_counts_clear(&w->total);
    w->cur = 0;
    w->used = 1;
    w->hist_n = 0;
    w->start_ms[0] = now_ms;
}

static bool window_layout_ok(const struct sample_hist *h)
{
    if (h->n < 1 || h->n > SAMPLE_MAX_BUCKETS)
        return false;
    for (unsigned i = 0; i < h->n; i++) {
        if (isnan(h->le[i]))
            return false;
        if (i > 0 && !(h->le[i] > h->le[i - 1]))
            return false;
    }
    return true;
}

static bool window_layout_same(const struct window *w, const struct sample_hist *h)
{
    if (w->hist_n != h->n)
        return false;
    return memcmp(w->le, h->le, h->n * sizeof(h->le[0])) == 0;
}

int window_add_delta(struct window *w, const struct sample_delta *d)
{
    struct window_counts *s = &w->slot[w->cur];
    uint64_t hist_sum = 0;
    int ret = 0;

    if (!d->valid) {
        if (s->scrape_failures == UINT32_MAX)
            return -EINVAL;
        s->scrape_failures++;
        w->total.scrape_failures++;
        return 0;
    }
    if (d->errors > d->requests || !isfinite(d->span_s) || d->span_s < 0)
        return -EINVAL;
    if (d->has_summary && (!isfinite(d->summary_q) || d->summary_q < 0 ||
                           !window_u64_add_ok(w->total.sq_n, d->summary_count)))
        return -EINVAL;
    if (d->has_hist) {
        if (!window_layout_ok(&d->hist))
            return -EINVAL;
        for (unsigned i = 0; i < d->hist.n; i++) {
            if (!window_u64_add_ok(hist_sum, d->hist.count[i]))
                return -EINVAL;
            hist_sum += d->hist.count[i];
        }
    }
    if (!window_u64_add_ok(w->total.requests, d->requests) ||
        !window_u64_add_ok(w->total.hist_total, hist_sum) || s->scrapes == UINT32_MAX ||
        w->total.scrapes == UINT32_MAX)
        return -EINVAL;
    if (d->has_hist && !window_layout_same(w, &d->hist)) {
        if (w->hist_n != 0) {
            for (unsigned i = 0; i < w->nslots; i++)
                window_counts_clear_hist(&w->slot[i]);
            window_counts_clear_hist(&w->total);
            w->layout_changes++;
            ret = WINDOW_LAYOUT_CHANGED;
        }
        w->hist_n = d->hist.n;
        memcpy(w->le, d->hist.le, d->hist.n * sizeof(d->hist.le[0]));
    }
    s->requests += d->requests;
    s->errors += d->errors;
    s->scrapes++;
    s->span_s += d->span_s;
    w->total.requests += d->requests;
    w->total.errors += d->errors;
    w->total.scrapes++;
    w->total.span_s += d->span_s;
    if (d->reset) {
        s->resets++;
        w->total.resets++;
    }
    if (d->has_summary && d->summary_count > 0) {
        double ws = d->summary_q * (double)d->summary_count;

        s->sq_n += d->summary_count;
        s->sq_wsum += ws;
        w->total.sq_n += d->summary_count;
        w->total.sq_wsum += ws;
    }
    if (d->has_hist) {
        for (unsigned i = 0; i < d->hist.n; i++) {
            s->hist[i] += d->hist.count[i];
            w->total.hist[i] += d->hist.count[i];
        }
        s->hist_total += hist_sum;
        w->total.hist_total += hist_sum;
    }
    return ret;
}

int window_add_probe(struct window *w, double latency_s, bool ok)
{
    struct window_counts *s = &w->slot[w->cur];
    int r;

    r = sketch_add(&w->total.probe_latency, latency_s, 1);
    if (r < 0)
        return r;
    r = sketch_add(&s->probe_latency, latency_s, 1);
    if (r < 0) {
        /* cannot happen while the slot holds no more than the total; keep them equal */
        struct sketch one;
        sketch_init(&one);
        sketch_add(&one, latency_s, 1);
        sketch_subtract(&w->total.probe_latency, &one);
        return r;
    }
    s->probes++;
    w->total.probes++;
    if (!ok) {
        s->probe_failures++;
        w->total.probe_failures++;
    }
    return 0;
}

void window_advance(struct window *w, int64_t now_ms)
{
    struct window_counts *next;

    w->cur = (w->cur + 1) % w->nslots;
    next = &w->slot[w->cur];
    if (w->used == w->nslots) {
        /* the slot being reopened is the oldest: it leaves the window */
        (void)window_counts_subtract(&w->total, next);
        window_counts_clear(next);
    } else {
        w->used++;
    }
    w->start_ms[w->cur] = now_ms;
}

const struct window_counts *window_slot(const struct window *w, unsigned age)
{
    if (age >= w->used)
        return NULL;
    return &w->slot[(w->cur + w->nslots - age) % w->nslots];
}

void window_sum(const struct window *w, unsigned k, struct window_counts *ret)
{
    if (k >= w->used) {
        *ret = w->total;
        return;
    }
    window_counts_init(ret);
    for (unsigned age = 0; age < k; age++)
        (void)window_counts_merge(ret, window_slot(w, age));
}

int64_t window_span_ms(const struct window *w, int64_t now_ms)
{
    unsigned oldest = (w->cur + w->nslots - (w->used - 1)) % w->nslots;
    int64_t span = now_ms - w->start_ms[oldest];

    return span > 0 ? span : 0;
}

double window_bucket_quantile(double q, const double *le, const double *cum, unsigned n)
{
    double b_le[SAMPLE_MAX_BUCKETS], b_c[SAMPLE_MAX_BUCKETS];
    double obs, rank, start, count, prev, max;
    unsigned m = 0, b;

    if (isnan(q))
        return NAN;
    if (q < 0)
        return -INFINITY;
    if (q > 1)
        return INFINITY;
    if (n == 0 || n > SAMPLE_MAX_BUCKETS || !isinf(le[n - 1]) || le[n - 1] < 0)
        return NAN;
    /* coalesce equal bounds (the input is sorted) */
    for (unsigned i = 0; i < n; i++) {
        if (m > 0 && le[i] == b_le[m - 1]) {
            b_c[m - 1] += cum[i];
            continue;
        }
        b_le[m] = le[i];
        b_c[m] = cum[i];
        m++;
    }
    /* precision fix: ignore relative deltas up to 1e-12 */
    prev = b_c[0];
    for (unsigned i = 1; i < m; i++) {
        double delta = fabs(b_c[i] - prev);
        if (delta == 0)
            continue;
        if (delta / b_c[i] <= 1e-12)
            b_c[i] = prev;
        else
            prev = b_c[i];
    }
    /* force monotonic counts */
    max = b_c[0];
    for (unsigned i = 1; i < m; i++) {
        if (b_c[i] > max)
            max = b_c[i];
        else if (b_c[i] < max)
            b_c[i] = max;
    }
    if (m < 2)
        return NAN;
    obs = b_c[m - 1];
    if (obs == 0)
        return NAN;
    rank = q * obs;
    for (b = 0; b < m - 1; b++)
        if (b_c[b] >= rank)
            break;
    if (b == m - 1)
        return b_le[m - 2];
    if (b == 0 && b_le[0] <= 0)
        return b_le[0];
    start = 0;
    count = b_c[b];
    if (b > 0) {
        start = b_le[b - 1];
        count -= b_c[b - 1];
        rank -= b_c[b - 1];
    }
    return start + (b_le[b] - start) * (rank / count);
}

double window_hist_quantile(double q, const double *le, const uint64_t *count, unsigned n)
{
    double cum[SAMPLE_MAX_BUCKETS], sum = 0;

    if (n > SAMPLE_MAX_BUCKETS)
        return NAN;
    for (unsigned i = 0; i < n; i++) {
        sum += (double)count[i];
        cum[i] = sum;
    }
    return window_bucket_quantile(q, le, cum, n);
}

double window_hist_count_above(double t, const double *le, const uint64_t *count, unsigned n)
{
    double above = 0;
    unsigned finite = n;

    if (n == 0 || n > SAMPLE_MAX_BUCKETS || isnan(t))
        return 0;
    if (isinf(le[n - 1]) && le[n - 1] > 0) {
        finite = n - 1;
        /* histogram_quantile places the +Inf bucket at the second-highest bound */
        if (n >= 2 && le[n - 2] > t)
            above += (double)count[n - 1];
    }
    for (unsigned i = 0; i < finite; i++) {
        double hi = le[i];
        double lo = i > 0 ? le[i - 1] : (le[0] > 0 ? 0 : le[0]);

        if (count[i] == 0 || hi <= t)
            continue;
        if (lo >= t || hi <= lo)
            above += (double)count[i];
        else
            above += (double)count[i] * (hi - t) / (hi - lo);
    }
    return above;
}

size_t window_memory(unsigned nslots)
{
    return sizeof(struct window) + nslots * (sizeof(struct window_counts) + sizeof(int64_t));
}
