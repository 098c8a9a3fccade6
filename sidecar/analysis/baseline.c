/*
 * baseline — rolling per-pod baseline and the stable-revision summary.
 *
 * Owns the coarse history ring (baseline time, skipped intervals, histogram
 * layout) and the summary's JSON rendering; the jansson adapter reads it
 * back (kube_json_baseline_summary_parse). Allocates only in baseline_init;
 * never does I/O, never reads the clock.
 */
#include "sidecar/analysis/baseline.h"
#include "sidecar/base/jsonw.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int baseline_init(struct baseline *b, int64_t window_ms, int64_t interval_ms, int64_t now_ms)
{
    int64_t n;

    memset(b, 0, sizeof(*b));
    if (window_ms <= 0 || interval_ms <= 0)
        return -EINVAL;
    n = window_ms / interval_ms;
    if (n < 1)
        n = 1;
    if (n > BASELINE_MAX_SLOTS)
        n = BASELINE_MAX_SLOTS;
    b->slot = malloc((size_t)n * sizeof(*b->slot));
    if (!b->slot)
        return -ENOMEM;
    b->nslots = (unsigned)n;
    b->slot_ms = window_ms / n;
    for (unsigned i = 0; i < b->nslots; i++)
        window_counts_init(&b->slot[i]);
    window_counts_init(&b->total);
    baseline_reset(b, now_ms);
    return 0;
}

void baseline_done(struct baseline *b)
{
    if (!b)
        return;
    free(b->slot);
    b->slot = NULL;
    b->nslots = 0;
}

void baseline_reset(struct baseline *b, int64_t now_ms)
{
    for (unsigned i = 0; i < b->nslots; i++)
        window_counts_init(&b->slot[i]);
    window_counts_init(&b->total);
    b->cur = 0;
    b->used = 1;
    b->active_ms = 0;
    b->slot_end_ms = b->slot_ms;
    b->last_ms = now_ms;
    b->hist_n = 0;
}

static void baseline_clear_hist(struct baseline *b)
{
    for (unsigned i = 0; i < b->nslots; i++) {
        memset(b->slot[i].hist, 0, sizeof(b->slot[i].hist));
        b->slot[i].hist_total = 0;
    }
    memset(b->total.hist, 0, sizeof(b->total.hist));
    b->total.hist_total = 0;
}

/* Moves baseline time forward by dt, closing slots as they fill. */
static void baseline_elapse(struct baseline *b, int64_t dt)
{
    unsigned steps = 0;

    if (dt <= 0)
        return;
    b->active_ms += dt;
    while (b->active_ms >= b->slot_end_ms) {
        b->slot_end_ms += b->slot_ms;
        b->cur = (b->cur + 1) % b->nslots;
        if (b->used == b->nslots) {
            (void)window_counts_subtract(&b->total, &b->slot[b->cur]);
            window_counts_init(&b->slot[b->cur]);
        } else {
            b->used++;
        }
        if (++steps > b->nslots) {
            /* a jump longer than the ring: everything has aged out */
            b->slot_end_ms = b->active_ms + b->slot_ms;
            break;
        }
    }
}

int baseline_add(struct baseline *b, const struct window_counts *c, const double *le,
                 unsigned hist_n, int64_t now_ms)
{
    struct window_counts tmp;
    int ret = 0, r;

    baseline_elapse(b, now_ms - b->last_ms);
    b->last_ms = now_ms;
    if (hist_n > SAMPLE_MAX_BUCKETS)
        return -EINVAL;
    if (hist_n > 0 && (b->hist_n != hist_n || memcmp(b->le, le, hist_n * sizeof(le[0])) != 0)) {
        if (b->hist_n != 0) {
            baseline_clear_hist(b);
            ret = BASELINE_LAYOUT_CHANGED;
        }
        b->hist_n = hist_n;
        memcpy(b->le, le, hist_n * sizeof(le[0]));
    }
    tmp = b->total;
    r = window_counts_merge(&tmp, c);
    if (r < 0)
        return r;
    r = window_counts_merge(&b->slot[b->cur], c);
    if (r < 0)
        return r;
    b->total = tmp;
    return ret;
}

void baseline_skip(struct baseline *b, int64_t now_ms)
{
    b->last_ms = now_ms;
}

int64_t baseline_span_ms(const struct baseline *b)
{
    int64_t open = b->active_ms - (b->slot_end_ms - b->slot_ms);

    if (open < 0)
        open = 0;
    return (int64_t)(b->used - 1) * b->slot_ms + open;
}

const struct window_counts *baseline_total(const struct baseline *b)
{
    return &b->total;
}

static double baseline_sketch_q(const struct sketch *s, double q)
{
    double v;

    return sketch_quantile(s, q, &v) == 0 ? v : NAN;
}

int baseline_summarize(const struct baseline *b, double quantile, double max_increase,
                       struct baseline_summary *ret)
{
    const struct window_counts *t = &b->total;
    struct baseline_summary s;

    if (!(quantile > 0 && quantile < 1) || !(max_increase >= 0))
        return -EINVAL;
    memset(&s, 0, sizeof(s));
    s.window_ms = baseline_span_ms(b);
    s.requests = t->requests;
    s.errors = t->errors;
    s.error_rate = t->requests ? (double)t->errors / (double)t->requests : NAN;
    s.quantile = quantile;
    s.p50 = s.p90 = s.p99 = s.quantile_value = s.threshold = s.exceed = NAN;
    if (b->hist_n > 0 && t->hist_total > 0) {
        s.latency_source = BASELINE_SRC_HISTOGRAM;
        s.latency_samples = t->hist_total;
        s.p50 = window_hist_quantile(0.5, b->le, t->hist, b->hist_n);
        s.p90 = window_hist_quantile(0.9, b->le, t->hist, b->hist_n);
        s.p99 = window_hist_quantile(0.99, b->le, t->hist, b->hist_n);
        s.quantile_value = window_hist_quantile(quantile, b->le, t->hist, b->hist_n);
        s.threshold = (1 + max_increase) * s.quantile_value;
        if (!isnan(s.threshold))
            s.exceed = window_hist_count_above(s.threshold, b->le, t->hist, b->hist_n) /
                       (double)t->hist_total;
    } else if (t->probe_latency.count > 0) {
        const struct sketch *k = &t->probe_latency;
        s.latency_source = BASELINE_SRC_PROBE;
        s.latency_samples = k->count;
        s.p50 = baseline_sketch_q(k, 0.5);
        s.p90 = baseline_sketch_q(k, 0.9);
        s.p99 = baseline_sketch_q(k, 0.99);
        s.quantile_value = baseline_sketch_q(k, quantile);
        s.threshold = (1 + max_increase) * s.quantile_value;
        s.exceed = sketch_count_above(k, s.threshold) / (double)k->count;
    }
    *ret = s;
    return 0;
}

/* The known (value, cumulative fraction) points of s, sorted by value. */
static unsigned baseline_summary_points(const struct baseline_summary *s, double *v, double *f)
{
    double pv[5] = {s->p50, s->p90, s->p99, s->quantile_value, s->threshold};
    double pf[5] = {0.5, 0.9, 0.99, s->quantile, 1 - s->exceed};
    unsigned n = 0;

    for (unsigned i = 0; i < 5; i++) {
        unsigned j;
        if (!(pv[i] > 0) || isinf(pv[i]) || !(pf[i] >= 0 && pf[i] <= 1))
            continue;
        /* insertion sort by value, then by fraction */
        for (j = n; j > 0 && (v[j - 1] > pv[i] || (v[j - 1] == pv[i] && f[j - 1] > pf[i])); j--) {
            v[j] = v[j - 1];
            f[j] = f[j - 1];
        }
        v[j] = pv[i];
        f[j] = pf[i];
        n++;
    }
    return n;
}

double baseline_summary_quantile(const struct baseline_summary *s, double q)
{
    double v[5], f[5];
    unsigned n;

    if (!(q > 0 && q < 1))
        return NAN;
    if (q == s->quantile && !isnan(s->quantile_value))
        return s->quantile_value;
    n = baseline_summary_points(s, v, f);
    for (unsigned i = 0; i < n; i++)
        if (f[i] == q)
            return v[i];
    for (unsigned i = 1; i < n; i++) {
        if (f[i - 1] < q && q < f[i]) {
            double x = (q - f[i - 1]) / (f[i] - f[i - 1]);
            return exp(log(v[i - 1]) + x * (log(v[i]) - log(v[i - 1])));
        }
    }
    return NAN;
}

double baseline_summary_exceed(const struct baseline_summary *s, double t)
{
    double v[5], f[5];
    unsigned n;

    if (!(t > 0))
        return NAN;
    if (!isnan(s->threshold) && !isnan(s->exceed) && fabs(t - s->threshold) <= 1e-9 * t)
        return s->exceed;
    n = baseline_summary_points(s, v, f);
    if (n == 0 || t < v[0])
        return NAN;
    if (t >= v[n - 1])
        return 1 - f[n - 1];
    for (unsigned i = 1; i < n; i++) {
        if (t <= v[i]) {
            double x =
                v[i] > v[i - 1] ? (log(t) - log(v[i - 1])) / (log(v[i]) - log(v[i - 1])) : 1.0;
            return 1 - (f[i - 1] + x * (f[i] - f[i - 1]));
        }
    }
    return 1 - f[n - 1];
}

const char *baseline_source_name(enum baseline_source s)
{
    switch (s) {
    case BASELINE_SRC_HISTOGRAM:
        return "histogram";
    case BASELINE_SRC_PROBE:
        return "probe";
    case BASELINE_SRC_NONE:
        break;
    }
    return "none";
}

/* ---- JSON out ------------------------------------------------------------ */

int baseline_summary_render_json(const struct baseline_summary *s, char *buf, size_t size)
{
    struct jsonw w;

    jsonw_init(&w, buf, size);
    jsonw_fmt(&w, "{\"v\":%d,\"revision\":", BASELINE_SUMMARY_VERSION);
    jsonw_str(&w, s->revision);
    jsonw_fmt(&w, ",\"window_ms\":%lld,\"requests\":%llu,\"errors\":%llu,\"error_rate\":",
              (long long)s->window_ms, (unsigned long long)s->requests,
              (unsigned long long)s->errors);
    jsonw_num(&w, s->error_rate);
    jsonw_raw(&w, ",\"latency_source\":", 18);
    jsonw_str(&w, baseline_source_name(s->latency_source));
    jsonw_fmt(&w, ",\"latency_samples\":%llu,\"p50\":", (unsigned long long)s->latency_samples);
    jsonw_num(&w, s->p50);
    jsonw_raw(&w, ",\"p90\":", 7);
    jsonw_num(&w, s->p90);
    jsonw_raw(&w, ",\"p99\":", 7);
    jsonw_num(&w, s->p99);
    jsonw_raw(&w, ",\"q\":", 5);
    jsonw_num(&w, s->quantile);
    jsonw_raw(&w, ",\"q_value\":", 11);
    jsonw_num(&w, s->quantile_value);
    jsonw_raw(&w, ",\"threshold\":", 13);
    jsonw_num(&w, s->threshold);
    jsonw_raw(&w, ",\"exceed\":", 10);
    jsonw_num(&w, s->exceed);
    jsonw_raw(&w, "}", 1);
    if (w.full) {
        if (size > 0)
            buf[0] = '\0';
        return -ENOSPC;
    }
    return (int)w.len;
}
