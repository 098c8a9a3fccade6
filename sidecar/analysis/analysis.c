/*
 * analysis — the rules, their sequential tests, and the verdict.
 *
 * Owns the window and rolling baseline of one pod, the CUSUM state of the
 * error and latency tests, the breach streak, and the verdict's JSON form.
 * Never does I/O, never reads the clock, never logs, allocates only in
 * init and on a config change that resizes the rings. Never turns missing
 * data (warmup, failed scrapes, too few requests, no baseline) into FAIL.
 */
#include "sidecar/analysis/analysis.h"
#include "sidecar/base/jsonw.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- small helpers -------------------------------------------------------- */

static double analysis_clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* One-sided Wilson score upper bound of x successes in n trials. */
static double analysis_wilson_upper(double x, double n, double z)
{
    double p, z2, center, half;

    if (!(n > 0))
        return 1;
    p = fmin(fmax(x / n, 0), 1);
    z2 = z * z;
    center = p + z2 / (2 * n);
    half = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n));
    return (center + half) / (1 + z2 / n);
}

/* One-sided Wilson score lower bound of x successes in n trials. */
static double analysis_wilson_lower(double x, double n, double z)
{
    double p, z2, center, half;

    if (!(n > 0))
        return 0;
    p = analysis_clamp(x / n, 0, 1);
    z2 = z * z;
    center = p + z2 / (2 * n);
    half = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n));
    return (center - half) / (1 + z2 / n);
}

__attribute__((format(printf, 3, 4))) static void analysis_reason(char *buf, size_t size,
                                                                  const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

static void analysis_cusum_arm(struct analysis_cusum *c, double p0, double p1)
{
    c->p0 = p0;
    c->p1 = p1;
    c->w_hit = log(p1 / p0);
    c->w_miss = log((1 - p1) / (1 - p0));
    c->armed = true;
}

static void analysis_cusum_clear(struct analysis_cusum *c)
{
    c->s = 0;
    c->run_n = 0;
    c->run_x = 0;
    c->seg_head = 0;
    c->seg_used = 0;
    c->updates = 0;
}

static void analysis_cusum_disarm(struct analysis_cusum *c)
{
    c->armed = false;
    analysis_cusum_clear(c);
}

/* Adds a batch of n trials with x hits (errors, slow requests). */
static void analysis_cusum_update(struct analysis_cusum *c, double n, double x, double cap)
{
    double s;

    if (!c->armed || !(n > 0))
        return;
    x = analysis_clamp(x, 0, n);
    s = c->s + x * c->w_hit + (n - x) * c->w_miss;
    if (s <= 0) {
        analysis_cusum_clear(c);
        return;
    }
    if (c->s == 0)
        analysis_cusum_clear(c);
    c->run_n += n;
    c->run_x += x;
    c->updates++;
    c->seg_n[c->seg_head] = n;
    c->seg_x[c->seg_head] = x;
    c->seg_head = (c->seg_head + 1) % ANALYSIS_SUFFIX;
    if (c->seg_used < ANALYSIS_SUFFIX)
        c->seg_used++;
    c->s = s > cap ? cap : s;
}

/* ---- params, init --------------------------------------------------------- */

int analysis_params_check(const struct analysis_params *p)
{
    if (p->interval_ms == 0 || p->window_ms < p->interval_ms ||
        p->window_ms / p->interval_ms > WINDOW_MAX_SLOTS)
        return -EINVAL;
    if (p->baseline_window_ms < p->interval_ms)
        return -EINVAL;
    if (!(p->error_rate_max > 0 && p->error_rate_max < 1))
        return -EINVAL;
    if (!(p->latency_quantile > 0 && p->latency_quantile < 1))
        return -EINVAL;
    if (!(p->latency_max_increase > 0 && p->latency_max_increase < 100))
        return -EINVAL;
    if (memchr(p->config_hash, '\0', sizeof(p->config_hash)) == NULL)
        return -EINVAL;
    return 0;
}

static unsigned analysis_nslots(const struct analysis_params *p)
{
    return p->window_ms / p->interval_ms;
}

static void analysis_arm_default(struct analysis *a)
{
    double max = a->p.error_rate_max;

    analysis_cusum_arm(&a->err, ANALYSIS_ERR_P0_MAX * max,
                       fmin(ANALYSIS_ERR_P1_FACTOR * max, (1 + max) / 2));
    a->err_base = NAN;
}

int analysis_init(struct analysis *a, const struct analysis_params *p, int64_t now_ms)
{
    int r;

    memset(a, 0, sizeof(*a));
    r = analysis_params_check(p);
    if (r < 0)
        return r;
    a->p = *p;
    r = window_init(&a->win, analysis_nslots(p), now_ms);
    if (r < 0)
        goto fail;
    r = baseline_init(&a->base, p->baseline_window_ms, p->interval_ms, now_ms);
    if (r < 0)
        goto fail;
    a->warm_until_ms = now_ms + p->warmup_ms;
    a->initial_warmup = true;
    a->lat_t = a->lat_q0 = a->lat_base = NAN;
    snprintf(a->lat_reason, sizeof(a->lat_reason), "no baseline yet");
    analysis_arm_default(a);
    return 0;
fail:
    analysis_done(a);
    return r;
}

void analysis_done(struct analysis *a)
{
    if (!a)
        return;
    window_done(&a->win);
    baseline_done(&a->base);
}

int analysis_set_params(struct analysis *a, const struct analysis_params *p, int64_t now_ms)
{
    struct window w;
    struct baseline b;
    int r;

    r = analysis_params_check(p);
    if (r < 0)
        return r;
    if (p->interval_ms == a->p.interval_ms && p->window_ms == a->p.window_ms &&
        p->baseline_window_ms == a->p.baseline_window_ms) {
        a->p = *p;
        return 0;
    }
    r = window_init(&w, analysis_nslots(p), now_ms);
    if (r < 0)
        return r;
    r = baseline_init(&b, p->baseline_window_ms, p->interval_ms, now_ms);
    if (r < 0) {
        window_done(&w);
        return r;
    }
    window_done(&a->win);
    baseline_done(&a->base);
    a->win = w;
    a->base = b;
    a->p = *p;
    analysis_cusum_disarm(&a->lat);
    return 0;
}

/*
 * The error CUSUM's threshold for the p0 in force: the closer the baseline
 * sits to max, the less one error says, the more evidence is required.
 */
static double analysis_err_h(const struct analysis *a)
{
    double r = (a->err.p0 / a->p.error_rate_max - ANALYSIS_ERR_P0_LO_H) /
               (ANALYSIS_ERR_P0_MAX - ANALYSIS_ERR_P0_LO_H);

    return ANALYSIS_ERR_H_LO + (ANALYSIS_ERR_H_HI - ANALYSIS_ERR_H_LO) * analysis_clamp(r, 0, 1);
}

/* ---- observations ---------------------------------------------------------- */

int analysis_observe_delta(struct analysis *a, const struct sample_delta *d, int64_t now_ms)
{
    struct sample_delta uncounted;
    double cap = ANALYSIS_CAP_FACTOR;
    int r;

    if (!a->scrape_seen) {
        /* from now on the error test judges scraped traffic only */
        a->scrape_seen = true;
        analysis_cusum_clear(&a->err);
    }
    if (!d->valid) {
        snprintf(a->scrape_why, sizeof(a->scrape_why), "%s", d->err_problem);
    } else {
        a->page_seen = true;
        snprintf(a->err_problem, sizeof(a->err_problem), "%s", d->err_problem);
        snprintf(a->lat_problem, sizeof(a->lat_problem), "%s", d->lat_problem);
        if (d->err_problem[0] && (d->requests || d->errors)) {
            /* requests whose errors cannot be told apart are not counted */
            uncounted = *d;
            uncounted.requests = uncounted.errors = 0;
            d = &uncounted;
        }
    }
    r = window_add_delta(&a->win, d);
    if (r < 0) {
        static const struct sample_delta failed = {.valid = false};
        (void)window_add_delta(&a->win, &failed);
        return r;
    }
    if (r == WINDOW_LAYOUT_CHANGED && a->lat_src == ANALYSIS_SRC_SCRAPE) {
        analysis_cusum_disarm(&a->lat);
        snprintf(a->lat_reason, sizeof(a->lat_reason), "histogram layout changed");
    }
    if (!d->valid)
        return 0;
    if (d->reset && now_ms + (int64_t)a->p.warmup_ms > a->warm_until_ms)
        a->warm_until_ms = now_ms + a->p.warmup_ms;
    if (now_ms < a->warm_until_ms)
        return 0;
    if (!d->err_problem[0])
        analysis_cusum_update(&a->err, (double)d->requests, (double)d->errors,
                              cap * analysis_err_h(a));
    if (a->lat.armed && a->lat_src == ANALYSIS_SRC_SCRAPE && d->has_hist) {
        double n = 0;
        for (unsigned i = 0; i < d->hist.n; i++)
            n += (double)d->hist.count[i];
        analysis_cusum_update(
            &a->lat, n, window_hist_count_above(a->lat_t, d->hist.le, d->hist.count, d->hist.n),
            cap * ANALYSIS_LAT_H);
    }
    return 0;
}

void analysis_observe_probe(struct analysis *a, double latency_s, bool ok,
                            int32_t liveness_consecutive_failures, int64_t now_ms)
{
    if (isnan(latency_s))
        latency_s = 0;
    (void)window_add_probe(&a->win, latency_s, ok);
    if (liveness_consecutive_failures >= 0) {
        a->liveness_seen = true;
        a->liveness_failures = (uint32_t)liveness_consecutive_failures;
    }
    if (now_ms < a->warm_until_ms)
        return;
    if (!a->scrape_seen)
        analysis_cusum_update(&a->err, 1, ok ? 0 : 1, ANALYSIS_CAP_FACTOR * analysis_err_h(a));
    if (a->lat.armed && a->lat_src == ANALYSIS_SRC_PROBE)
        analysis_cusum_update(&a->lat, 1, latency_s > a->lat_t ? 1 : 0,
                              ANALYSIS_CAP_FACTOR * ANALYSIS_LAT_H);
}

void analysis_set_stable_baseline(struct analysis *a, const struct baseline_summary *s)
{
    if (!s) {
        a->has_stable = false;
        return;
    }
    a->stable = *s;
    a->stable.revision[sizeof(a->stable.revision) - 1] = '\0';
    a->has_stable = true;
}

/* ---- baselines ---------------------------------------------------------------- */

static bool analysis_rolling_spans(const struct analysis *a)
{
    return (double)baseline_span_ms(&a->base) >=
           ANALYSIS_BASELINE_MIN_SPAN * (double)a->p.baseline_window_ms;
}

static enum analysis_source analysis_latency_source(const struct analysis *a)
{
    bool probes = a->win.total.probes > 0 || baseline_total(&a->base)->probes > 0;

    switch (a->p.latency_from) {
    case ANALYSIS_LAT_OFF:
        return ANALYSIS_SRC_NONE;
    case ANALYSIS_LAT_PROBE:
        return probes ? ANALYSIS_SRC_PROBE : ANALYSIS_SRC_NONE;
    case ANALYSIS_LAT_SCRAPE:
        if (a->win.hist_n > 0)
            return ANALYSIS_SRC_SCRAPE;
        if (a->win.total.sq_n > 0 || baseline_total(&a->base)->sq_n > 0)
            return ANALYSIS_SRC_SUMMARY;
        return ANALYSIS_SRC_NONE;
    case ANALYSIS_LAT_AUTO:
        break;
    }
    if (a->win.hist_n > 0)
        return ANALYSIS_SRC_SCRAPE;
    if (probes)
        return ANALYSIS_SRC_PROBE;
    return ANALYSIS_SRC_NONE;
}

/* Sets err.p0/p1 for the next interval from the best baseline available. */
static void analysis_arm_error(struct analysis *a)
{
    const struct window_counts *t = baseline_total(&a->base);
    double max = a->p.error_rate_max, base = NAN;
    uint64_t need = (uint64_t)ANALYSIS_BASELINE_MIN_COUNT * a->p.error_min_requests;

    if (!a->scrape_seen) {
        analysis_arm_default(a);
        return;
    }
    /* the upper confidence bound: a thin baseline must not make the test touchy */
    a->err_base_from = ANALYSIS_BASE_NONE;
    if (a->has_stable && a->stable.requests >= need && !isnan(a->stable.error_rate)) {
        base = analysis_wilson_upper(a->stable.error_rate * (double)a->stable.requests,
                                     (double)a->stable.requests, ANALYSIS_P0_Z);
        a->err_base_from = ANALYSIS_BASE_PUBLISHED;
    } else if (analysis_rolling_spans(a) && t->requests >= need && t->requests > 0) {
        base = analysis_wilson_upper((double)t->errors, (double)t->requests, ANALYSIS_P0_Z);
        a->err_base_from = ANALYSIS_BASE_OWN;
    }
    analysis_cusum_arm(
        &a->err,
        isnan(base) ? ANALYSIS_ERR_P0_MAX * max
                    : analysis_clamp(base, ANALYSIS_ERR_P0_MIN * max, ANALYSIS_ERR_P0_MAX * max),
        fmin(ANALYSIS_ERR_P1_FACTOR * max, (1 + max) / 2));
    a->err_base = base;
}

__attribute__((format(printf, 2, 3))) static void analysis_lat_unarm(struct analysis *a,
                                                                     const char *fmt, ...)
{
    va_list ap;

    analysis_cusum_disarm(&a->lat);
    a->lat_t = NAN;
    va_start(ap, fmt);
    vsnprintf(a->lat_reason, sizeof(a->lat_reason), fmt, ap);
    va_end(ap);
}

/*
 * A summary: B is the rolling baseline's request-weighted mean quantile, T
 * = (1 + max_increase) * B; there are no counts above T, so no sequential test.
 */
static void analysis_arm_summary(struct analysis *a)
{
    const struct window_counts *t = baseline_total(&a->base);
    double need = (double)ANALYSIS_BASELINE_MIN_COUNT * a->p.latency_min_samples;
    double b;

    a->lat_base = a->lat_q0 = NAN;
    if (!analysis_rolling_spans(a) || (double)t->sq_n < need) {
        analysis_lat_unarm(a, "no baseline");
        return;
    }
    b = t->sq_wsum / (double)t->sq_n;
    if (!(b > 0)) {
        analysis_lat_unarm(a, "baseline has no latency at q=%g", a->p.latency_quantile);
        return;
    }
    a->lat_base = b;
    a->lat_t = (1 + a->p.latency_max_increase) * b;
    a->lat_reason[0] = '\0';
}

/* Sets T, q0 and the latency test for the next interval. */
static void analysis_arm_latency(struct analysis *a)
{
    const struct window_counts *t = baseline_total(&a->base);
    enum analysis_source src = analysis_latency_source(a);
    double q = a->p.latency_quantile, m = a->p.latency_max_increase;
    double need = (double)ANALYSIS_BASELINE_MIN_COUNT * a->p.latency_min_samples;
    double b = NAN, thr, q0 = NAN, p1 = 1 - q;
    enum baseline_source want =
        src == ANALYSIS_SRC_SCRAPE ? BASELINE_SRC_HISTOGRAM : BASELINE_SRC_PROBE;

    if (src != a->lat_src)
        analysis_cusum_disarm(&a->lat);
    a->lat_src = src;
    a->lat_base = a->lat_q0 = NAN;
    if (src == ANALYSIS_SRC_NONE) {
        analysis_lat_unarm(a, "no latency data");
        return;
    }
    if (src == ANALYSIS_SRC_SUMMARY) {
        analysis_arm_summary(a);
        return;
    }
    a->lat_base_from = ANALYSIS_BASE_OWN;
    if (a->has_stable && a->stable.latency_source == want &&
        (double)a->stable.latency_samples >= need) {
        a->lat_base_from = ANALYSIS_BASE_PUBLISHED;
        b = baseline_summary_quantile(&a->stable, q);
        thr = (1 + m) * b;
        q0 = baseline_summary_exceed(&a->stable, thr);
    } else if (analysis_rolling_spans(a) && src == ANALYSIS_SRC_SCRAPE &&
               (double)t->hist_total >= need && a->base.hist_n == a->win.hist_n &&
               memcmp(a->base.le, a->win.le, a->win.hist_n * sizeof(a->win.le[0])) == 0) {
        b = window_hist_quantile(q, a->base.le, t->hist, a->base.hist_n);
        thr = (1 + m) * b;
        q0 = window_hist_count_above(thr, a->base.le, t->hist, a->base.hist_n) /
             (double)t->hist_total;
    } else if (analysis_rolling_spans(a) && src == ANALYSIS_SRC_PROBE &&
               (double)t->probe_latency.count >= need) {
        if (sketch_quantile(&t->probe_latency, q, &b) < 0)
            b = NAN;
        thr = (1 + m) * b;
        q0 = sketch_count_above(&t->probe_latency, thr) / (double)t->probe_latency.count;
    } else {
        analysis_lat_unarm(a, "no baseline");
        return;
    }
    if (!(b > 0) || !isfinite(thr) || isnan(q0)) {
        analysis_lat_unarm(a, "baseline has no latency at q=%g", q);
        return;
    }
    if (src == ANALYSIS_SRC_SCRAPE && a->win.hist_n >= 2 && isinf(a->win.le[a->win.hist_n - 1]) &&
        thr >= a->win.le[a->win.hist_n - 2]) {
        analysis_lat_unarm(a, "threshold %.4gs beyond the highest finite bucket %.4gs", thr,
                           a->win.le[a->win.hist_n - 2]);
        return;
    }
    q0 = fmax(q0, 1e-4);
    if (q0 >= 0.8 * p1) {
        analysis_lat_unarm(a, "buckets cannot resolve the threshold (slow share %.3f vs %.3f)", q0,
                           p1);
        return;
    }
    a->lat_t = thr;
    a->lat_q0 = q0;
    a->lat_base = b;
    a->lat_reason[0] = '\0';
    analysis_cusum_arm(&a->lat, q0, p1);
}

/* ---- the tick ------------------------------------------------------------------- */

static void analysis_ev_init(struct verdict_evidence *e, enum analysis_rule r, int64_t span)
{
    memset(e, 0, sizeof(*e));
    e->rule = r;
    e->state = VERDICT_RULE_OFF;
    e->value = e->baseline = e->threshold = e->slow = NAN;
    e->run_n = e->run_x = e->p0 = e->p1 = NAN;
    e->statistic = e->bound = e->confidence_bound = e->confidence_limit = NAN;
    e->decision_value = e->decision_n = e->decision_x = NAN;
    e->window_ms = span;
}

static void analysis_ev_cusum(struct verdict_evidence *e, const struct analysis_cusum *c, double h)
{
    e->run_n = c->run_n;
    e->run_x = c->run_x;
    e->statistic = c->s;
    e->bound = h;
    if (c->armed) {
        e->p0 = c->p0;
        e->p1 = c->p1;
    }
}

/*
 * Persistence of the sequential evidence: the statistic did not fall since
 * the previous tick, or it sits at its cap. A real shift keeps pushing it
 * up; a fluctuation that crossed h drifts back down the next interval.
 */
static bool analysis_cusum_holding(const struct analysis_cusum *c, double h)
{
    return c->s >= c->s_tick || c->s >= ANALYSIS_CAP_FACTOR * h * (1 - 1e-9);
}

/*
 * Wilson gate: the best lower bound over the CUSUM run and, while the run
 * is young (at most ANALYSIS_SUFFIX updates), over its latest updates
 * taken from the newest back, so a run that began just before a fault is
 * not diluted by its healthy head; plus the window at the stricter
 * ANALYSIS_WINDOW_Z. An old run (a CUSUM pinned by a rate between baseline
 * and max) gets no fresh suffixes at every tick: those repeated looks would
 * let a steady rate just under max through. Run spans need
 * ANALYSIS_MIN_RUN trials, the window min_n; all need min_x hits.
 */
/* The best lower bound so far, and the span it came from. */
struct analysis_span {
    double lb, n, x;
};

static void analysis_span_offer(struct analysis_span *best, double x, double n, double z)
{
    double lb = analysis_wilson_lower(x, n, z);

    if (lb > best->lb || best->n == 0) {
        best->lb = fmax(lb, best->lb);
        best->n = n;
        best->x = x;
    }
}

static double analysis_gate(const struct analysis_cusum *c, double win_n, double win_x,
                            double min_n, double min_x, double z, struct analysis_span *span)
{
    struct analysis_span best = {0, 0, 0};
    double n = 0, x = 0;

    if (c->updates <= ANALYSIS_SUFFIX) {
        for (unsigned k = 0; k < c->seg_used; k++) {
            unsigned i = (c->seg_head + ANALYSIS_SUFFIX - 1 - k) % ANALYSIS_SUFFIX;
            n += c->seg_n[i];
            x += c->seg_x[i];
            if (n >= ANALYSIS_MIN_RUN && x >= min_x)
                analysis_span_offer(&best, x, n, z);
        }
    }
    if (c->run_n >= ANALYSIS_MIN_RUN && c->run_x >= min_x)
        analysis_span_offer(&best, c->run_x, c->run_n, z);
    if (win_n >= min_n && win_x >= min_x)
        analysis_span_offer(&best, win_x, win_n, ANALYSIS_WINDOW_Z);
    *span = best;
    return best.lb;
}

static void analysis_ev_decision(struct verdict_evidence *e, const struct analysis_span *span)
{
    if (span->n > 0) {
        e->decision_n = span->n;
        e->decision_x = span->x;
        e->decision_value = span->x / span->n;
    }
}

/*
 * The newest traffic's own rate: hits over count in the latest slots,
 * newest first, merged until they hold ANALYSIS_RECENT_MIN samples (or the
 * window ends). Returns the rate, or NaN when the whole window holds fewer
 * samples than that (too thin to contradict the sequential test).
 */
static double analysis_recent_rate(const struct analysis *a, enum analysis_rule rule)
{
    double n = 0, x = 0;

    for (unsigned age = 0; age < a->win.used; age++) {
        const struct window_counts *s = window_slot(&a->win, age);
        if (rule == ANALYSIS_RULE_ERROR_RATE) {
            if (a->scrape_seen) {
                n += (double)s->requests;
                x += (double)s->errors;
            } else {
                n += (double)s->probes;
                x += (double)s->probe_failures;
            }
        } else if (a->lat_src == ANALYSIS_SRC_SCRAPE) {
            n += (double)s->hist_total;
            x += window_hist_count_above(a->lat_t, a->win.le, s->hist, a->win.hist_n);
        } else {
            n += (double)s->probe_latency.count;
            x += sketch_count_above(&s->probe_latency, a->lat_t);
        }
        if (n >= ANALYSIS_RECENT_MIN)
            return x / n;
    }
    return NAN;
}

static void analysis_no_scrape(const struct analysis *a, const struct window_counts *slot,
                               struct verdict_evidence *e)
{
    if (slot->scrape_failures > 0 && a->scrape_why[0])
        analysis_reason(e->reason, sizeof(e->reason),
                        "no valid scrape in the last interval (%u failed: %s)",
                        slot->scrape_failures, a->scrape_why);
    else
        analysis_reason(e->reason, sizeof(e->reason),
                        "no valid scrape in the last interval (%u failed)", slot->scrape_failures);
}

static void analysis_rule_error(struct analysis *a, const struct window_counts *slot, bool warm,
                                struct verdict_evidence *e)
{
    const struct window_counts *w = &a->win.total;
    struct analysis_span span;
    double n, x, lb, recent;

    if (a->scrape_seen && a->page_seen && a->err_problem[0]) {
        e->source = ANALYSIS_SRC_SCRAPE;
        e->state = VERDICT_RULE_INCONCLUSIVE;
        snprintf(e->reason, sizeof(e->reason), "%s", a->err_problem);
        return;
    }
    if (a->scrape_seen) {
        e->source = ANALYSIS_SRC_SCRAPE;
        n = (double)w->requests;
        x = (double)w->errors;
    } else if (w->probes > 0 || a->err.run_n > 0) {
        e->source = ANALYSIS_SRC_PROBE;
        n = (double)w->probes;
        x = (double)w->probe_failures;
    } else {
        snprintf(e->reason, sizeof(e->reason), "no traffic observed");
        e->state = VERDICT_RULE_INCONCLUSIVE;
        return;
    }
    e->value = n > 0 ? x / n : NAN;
    e->baseline = a->err_base;
    e->baseline_from = isnan(a->err_base) ? ANALYSIS_BASE_NONE : a->err_base_from;
    e->threshold = a->p.error_rate_max;
    e->confidence_limit = a->p.error_rate_max;
    analysis_ev_cusum(e, &a->err, analysis_err_h(a));
    e->state = VERDICT_RULE_INCONCLUSIVE;
    if (warm) {
        snprintf(e->reason, sizeof(e->reason), "warming up");
        return;
    }
    if (a->scrape_seen && slot->scrapes == 0) {
        analysis_no_scrape(a, slot, e);
        return;
    }
    lb = analysis_gate(&a->err, n, x, a->p.error_min_requests, ANALYSIS_MIN_ERRORS, ANALYSIS_ERR_Z,
                       &span);
    e->confidence_bound = lb;
    analysis_ev_decision(e, &span);
    recent = analysis_recent_rate(a, ANALYSIS_RULE_ERROR_RATE);
    if (a->err.s >= analysis_err_h(a) && lb > a->p.error_rate_max &&
        !(recent <= a->p.error_rate_max) && fmax(n, a->err.run_n) >= a->p.error_min_requests &&
        analysis_cusum_holding(&a->err, analysis_err_h(a))) {
        e->state = VERDICT_RULE_BREACH;
        analysis_reason(e->reason, sizeof(e->reason),
                        "error rate above %g: lower bound %.4f, CUSUM %.1f >= %.1f",
                        a->p.error_rate_max, lb, a->err.s, analysis_err_h(a));
        return;
    }
    if (n < a->p.error_min_requests) {
        analysis_reason(e->reason, sizeof(e->reason), "too few requests: %.0f < %u", n,
                        a->p.error_min_requests);
        return;
    }
    e->state = VERDICT_RULE_PASS;
}

/* The newest slots' mean summary quantile, merged until they hold ANALYSIS_RECENT_MIN requests. */
static double analysis_recent_summary(const struct analysis *a)
{
    double n = 0, ws = 0;

    for (unsigned age = 0; age < a->win.used; age++) {
        const struct window_counts *s = window_slot(&a->win, age);

        n += (double)s->sq_n;
        ws += s->sq_wsum;
        if (n >= ANALYSIS_RECENT_MIN)
            return ws / n;
    }
    return NAN;
}

/* The latency rule on a summary's quantile series (see README.md). */
static void analysis_rule_summary(struct analysis *a, const struct window_counts *slot, bool warm,
                                  struct verdict_evidence *e)
{
    const struct window_counts *w = &a->win.total;
    double n = (double)w->sq_n, recent;

    e->samples = w->sq_n;
    e->value = n > 0 ? w->sq_wsum / n : NAN;
    e->baseline = a->lat_base;
    e->baseline_from = isnan(a->lat_base) ? ANALYSIS_BASE_NONE : ANALYSIS_BASE_OWN;
    e->threshold = a->lat_t;
    e->state = VERDICT_RULE_INCONCLUSIVE;
    if (warm) {
        snprintf(e->reason, sizeof(e->reason), "warming up");
        return;
    }
    if (slot->scrapes == 0) {
        analysis_no_scrape(a, slot, e);
        return;
    }
    if (isnan(a->lat_base)) {
        analysis_reason(e->reason, sizeof(e->reason), "%s (summary)", a->lat_reason);
        return;
    }
    if (n < a->p.latency_min_samples) {
        analysis_reason(e->reason, sizeof(e->reason), "too few samples: %.0f < %u", n,
                        a->p.latency_min_samples);
        return;
    }
    recent = analysis_recent_summary(a);
    e->decision_value = recent;
    if (e->value > a->lat_t && recent > a->lat_t) {
        e->state = VERDICT_RULE_BREACH;
        analysis_reason(e->reason, sizeof(e->reason),
                        "summary quantile %.4gs above T %.4gs (newest %.4gs)", e->value, a->lat_t,
                        recent);
        return;
    }
    e->state = VERDICT_RULE_PASS;
}

static void analysis_rule_latency(struct analysis *a, const struct window_counts *slot, bool warm,
                                  struct verdict_evidence *e)
{
    const struct window_counts *w = &a->win.total;
    struct analysis_span span;
    double n = 0, x = NAN, lb, limit, recent;

    e->source = a->lat_src;
    if (a->p.latency_from == ANALYSIS_LAT_OFF) {
        snprintf(e->reason, sizeof(e->reason), "latency rule off (latency.histogram is \"\")");
        return; /* OFF */
    }
    if (a->p.latency_from == ANALYSIS_LAT_SCRAPE && a->page_seen && a->lat_problem[0]) {
        e->state = VERDICT_RULE_INCONCLUSIVE;
        snprintf(e->reason, sizeof(e->reason), "%s", a->lat_problem);
        return;
    }
    if (a->lat_src == ANALYSIS_SRC_NONE && a->p.latency_from == ANALYSIS_LAT_SCRAPE) {
        e->state = VERDICT_RULE_INCONCLUSIVE;
        if (a->scrape_seen && slot->scrapes == 0)
            analysis_no_scrape(a, slot, e);
        else
            snprintf(e->reason, sizeof(e->reason), "no latency samples scraped yet");
        return;
    }
    if (a->lat_src == ANALYSIS_SRC_NONE) {
        snprintf(e->reason, sizeof(e->reason), "no latency data");
        return; /* OFF */
    }
    if (a->lat_src == ANALYSIS_SRC_SUMMARY) {
        analysis_rule_summary(a, slot, warm, e);
        return;
    }
    if (a->lat_src == ANALYSIS_SRC_SCRAPE) {
        n = (double)w->hist_total;
        e->value = window_hist_quantile(a->p.latency_quantile, a->win.le, w->hist, a->win.hist_n);
        if (a->lat.armed)
            x = window_hist_count_above(a->lat_t, a->win.le, w->hist, a->win.hist_n);
    } else {
        double v;
        n = (double)w->probe_latency.count;
        e->value = sketch_quantile(&w->probe_latency, a->p.latency_quantile, &v) == 0 ? v : NAN;
        if (a->lat.armed)
            x = sketch_count_above(&w->probe_latency, a->lat_t);
    }
    e->samples = (uint64_t)n;
    e->slow = x;
    e->baseline = a->lat_base;
    e->baseline_from = isnan(a->lat_base) ? ANALYSIS_BASE_NONE : a->lat_base_from;
    e->threshold = a->lat_t;
    analysis_ev_cusum(e, &a->lat, ANALYSIS_LAT_H);
    e->state = VERDICT_RULE_INCONCLUSIVE;
    if (warm) {
        snprintf(e->reason, sizeof(e->reason), "warming up");
        return;
    }
    if (a->lat_src == ANALYSIS_SRC_SCRAPE && slot->scrapes == 0) {
        analysis_no_scrape(a, slot, e);
        return;
    }
    if (!a->lat.armed) {
        snprintf(e->reason, sizeof(e->reason), "%s", a->lat_reason);
        return;
    }
    limit = a->lat_q0 + ANALYSIS_LAT_GATE * (a->lat.p1 - a->lat_q0);
    e->confidence_limit = limit;
    lb = analysis_gate(&a->lat, n, x, a->p.latency_min_samples, 1, ANALYSIS_LAT_Z, &span);
    e->confidence_bound = lb;
    analysis_ev_decision(e, &span);
    recent = analysis_recent_rate(a, ANALYSIS_RULE_LATENCY);
    if (a->lat.s >= ANALYSIS_LAT_H && lb > limit && !(recent <= limit) &&
        fmax(n, a->lat.run_n) >= a->p.latency_min_samples &&
        analysis_cusum_holding(&a->lat, ANALYSIS_LAT_H)) {
        e->state = VERDICT_RULE_BREACH;
        analysis_reason(e->reason, sizeof(e->reason),
                        "slow share above %.3f (T %.4gs): lower bound %.3f, CUSUM %.1f >= %.1f",
                        limit, a->lat_t, lb, a->lat.s, ANALYSIS_LAT_H);
        return;
    }
    if (n < a->p.latency_min_samples) {
        analysis_reason(e->reason, sizeof(e->reason), "too few samples: %.0f < %u", n,
                        a->p.latency_min_samples);
        return;
    }
    e->state = VERDICT_RULE_PASS;
}

static void analysis_rule_health(struct analysis *a, struct verdict_evidence *e)
{
    e->source = ANALYSIS_SRC_PROBE;
    e->threshold = a->p.health_failures;
    if (a->p.health_failures == 0) {
        snprintf(e->reason, sizeof(e->reason), "health rule off");
        return;
    }
    if (!a->liveness_seen) {
        snprintf(e->reason, sizeof(e->reason), "no liveness result");
        return;
    }
    e->value = a->liveness_failures;
    if (a->liveness_failures >= a->p.health_failures) {
        e->state = VERDICT_RULE_BREACH;
        analysis_reason(e->reason, sizeof(e->reason), "%u consecutive liveness failures",
                        a->liveness_failures);
        return;
    }
    e->state = VERDICT_RULE_PASS;
}

void analysis_tick(struct analysis *a, int64_t now_ms, struct verdict *ret)
{
    const struct window_counts *slot = window_slot(&a->win, 0);
    struct verdict v;
    int64_t span = window_span_ms(&a->win, now_ms);
    bool warm = now_ms < a->warm_until_ms;
    bool breach = false;
    int decide = -1;
    uint32_t need = a->p.consecutive_breaches ? a->p.consecutive_breaches : 1;

    if (!warm)
        a->initial_warmup = false;
    memset(&v, 0, sizeof(v));
    v.t_ms = now_ms;
    v.window_ms = span;
    v.breaches_needed = need;
    memcpy(v.config_hash, a->p.config_hash, sizeof(v.config_hash));
    for (int r = 0; r < ANALYSIS_RULE_COUNT; r++)
        analysis_ev_init(&v.ev[r], (enum analysis_rule)r, span);

    analysis_rule_error(a, slot, warm, &v.ev[ANALYSIS_RULE_ERROR_RATE]);
    analysis_rule_latency(a, slot, warm, &v.ev[ANALYSIS_RULE_LATENCY]);
    if (a->initial_warmup)
        snprintf(v.ev[ANALYSIS_RULE_HEALTH].reason, sizeof(v.ev[0].reason), "warming up");
    else
        analysis_rule_health(a, &v.ev[ANALYSIS_RULE_HEALTH]);
    for (int r = 0; r < ANALYSIS_RULE_COUNT; r++) {
        struct verdict_evidence *e = &v.ev[r];
        e->requests = a->win.total.requests;
        e->errors = a->win.total.errors;
        e->probes = a->win.total.probes;
        e->probe_failures = a->win.total.probe_failures;
        if (e->state == VERDICT_RULE_BREACH && !breach) {
            breach = true;
            decide = r;
        }
    }

    if (breach) {
        if (a->streak < UINT32_MAX)
            a->streak++;
    } else {
        a->streak = 0;
    }
    v.breach = breach;
    v.breaches_in_row = a->streak;
    if (breach && a->streak >= need) {
        v.outcome = VERDICT_FAIL;
        snprintf(v.reason, sizeof(v.reason), "%s", v.ev[decide].reason);
    } else if (breach) {
        v.outcome = VERDICT_INCONCLUSIVE;
        analysis_reason(v.reason, sizeof(v.reason), "breach %u of %u: %s", a->streak, need,
                        v.ev[decide].reason);
    } else {
        bool pass = false;
        for (int r = 0; r < ANALYSIS_RULE_COUNT && decide < 0; r++) {
            if (v.ev[r].state == VERDICT_RULE_INCONCLUSIVE)
                decide = r;
            pass |= v.ev[r].state == VERDICT_RULE_PASS;
        }
        if (decide >= 0) {
            v.outcome = VERDICT_INCONCLUSIVE;
            snprintf(v.reason, sizeof(v.reason), "%s", v.ev[decide].reason);
        } else if (pass) {
            v.outcome = VERDICT_PASS;
        } else {
            v.outcome = VERDICT_INCONCLUSIVE;
            snprintf(v.reason, sizeof(v.reason), "no rule has data");
            decide = ANALYSIS_RULE_ERROR_RATE;
        }
    }
    v.rule = decide >= 0 ? (enum analysis_rule)decide : ANALYSIS_RULE_ERROR_RATE;

    /* the interval joins the rolling baseline only if it is trusted */
    if (!warm && !breach && !(a->scrape_seen && slot->scrapes == 0))
        (void)baseline_add(&a->base, slot, a->win.le, a->win.hist_n, now_ms);
    else
        baseline_skip(&a->base, now_ms);

    a->err.s_tick = a->err.s;
    a->lat.s_tick = a->lat.s;
    analysis_arm_error(a);
    analysis_arm_latency(a);
    window_advance(&a->win, now_ms);
    a->ticks++;
    *ret = v;
}

int analysis_baseline_summary(const struct analysis *a, const char *revision,
                              struct baseline_summary *ret)
{
    struct baseline_summary s;
    uint64_t need = (uint64_t)ANALYSIS_BASELINE_MIN_COUNT * a->p.error_min_requests;
    int r;

    if (!analysis_rolling_spans(a) || baseline_total(&a->base)->requests < need)
        return -ENODATA;
    r = baseline_summarize(&a->base, a->p.latency_quantile, a->p.latency_max_increase, &s);
    if (r < 0)
        return r;
    snprintf(s.revision, sizeof(s.revision), "%s", revision ? revision : "");
    *ret = s;
    return 0;
}

size_t analysis_memory(const struct analysis_params *p)
{
    unsigned bslots = 1;

    if (p->interval_ms > 0 && p->baseline_window_ms / p->interval_ms > 1)
        bslots = p->baseline_window_ms / p->interval_ms;
    if (bslots > BASELINE_MAX_SLOTS)
        bslots = BASELINE_MAX_SLOTS;
    return sizeof(struct analysis) + window_memory(analysis_nslots(p)) - sizeof(struct window) +
           bslots * sizeof(struct window_counts);
}

/* ---- names, JSON ------------------------------------------------------------------- */

const char *verdict_outcome_name(enum verdict_outcome o)
{
    switch (o) {
    case VERDICT_PASS:
        return "PASS";
    case VERDICT_FAIL:
        return "FAIL";
    case VERDICT_INCONCLUSIVE:
        break;
    }
    return "INCONCLUSIVE";
}

const char *verdict_rule_state_name(enum verdict_rule_state s)
{
    switch (s) {
    case VERDICT_RULE_INCONCLUSIVE:
        return "inconclusive";
    case VERDICT_RULE_PASS:
        return "pass";
    case VERDICT_RULE_BREACH:
        return "breach";
    case VERDICT_RULE_OFF:
        break;
    }
    return "off";
}

const char *analysis_rule_name(enum analysis_rule r)
{
    switch (r) {
    case ANALYSIS_RULE_LATENCY:
        return "latency";
    case ANALYSIS_RULE_HEALTH:
        return "health";
    case ANALYSIS_RULE_ERROR_RATE:
    case ANALYSIS_RULE_COUNT:
        break;
    }
    return "error_rate";
}

const char *analysis_source_name(enum analysis_source s)
{
    switch (s) {
    case ANALYSIS_SRC_SCRAPE:
        return "scrape";
    case ANALYSIS_SRC_PROBE:
        return "probe";
    case ANALYSIS_SRC_SUMMARY:
        return "summary";
    case ANALYSIS_SRC_NONE:
        break;
    }
    return "none";
}

static void analysis_jw_key(struct jsonw *w, const char *key)
{
    jsonw_raw(w, ",\"", 2);
    jsonw_lit(w, key);
    jsonw_raw(w, "\":", 2);
}

static void analysis_jw_num(struct jsonw *w, const char *key, double v)
{
    analysis_jw_key(w, key);
    jsonw_num(w, v);
}

static void analysis_jw_u64(struct jsonw *w, const char *key, uint64_t v)
{
    analysis_jw_key(w, key);
    jsonw_fmt(w, "%llu", (unsigned long long)v);
}

static void analysis_jw_evidence(struct jsonw *w, const struct verdict_evidence *e)
{
    jsonw_lit(w, "{\"rule\":");
    jsonw_str(w, analysis_rule_name(e->rule));
    analysis_jw_key(w, "state");
    jsonw_str(w, verdict_rule_state_name(e->state));
    analysis_jw_key(w, "source");
    jsonw_str(w, analysis_source_name(e->source));
    analysis_jw_num(w, "value", e->value);
    analysis_jw_num(w, "baseline", e->baseline);
    analysis_jw_key(w, "baseline_from");
    jsonw_str(w, analysis_baseline_from_name(e->baseline_from));
    analysis_jw_num(w, "threshold", e->threshold);
    analysis_jw_u64(w, "requests", e->requests);
    analysis_jw_u64(w, "errors", e->errors);
    if (e->rule == ANALYSIS_RULE_LATENCY) {
        analysis_jw_u64(w, "samples", e->samples);
        analysis_jw_num(w, "slow", e->slow);
    }
    analysis_jw_u64(w, "probes", e->probes);
    analysis_jw_u64(w, "probe_failures", e->probe_failures);
    if (e->rule != ANALYSIS_RULE_HEALTH) {
        analysis_jw_num(w, "run_n", e->run_n);
        analysis_jw_num(w, "run_x", e->run_x);
        analysis_jw_num(w, "p0", e->p0);
        analysis_jw_num(w, "p1", e->p1);
        analysis_jw_num(w, "cusum", e->statistic);
        analysis_jw_num(w, "cusum_bound", e->bound);
        analysis_jw_num(w, "lower_bound", e->confidence_bound);
        analysis_jw_num(w, "lower_bound_limit", e->confidence_limit);
        analysis_jw_num(w, "decision_value", e->decision_value);
        analysis_jw_num(w, "decision_n", e->decision_n);
        analysis_jw_num(w, "decision_x", e->decision_x);
    }
    jsonw_fmt(w, ",\"window_ms\":%lld", (long long)e->window_ms);
    analysis_jw_key(w, "reason");
    jsonw_str(w, e->reason);
    jsonw_raw(w, "}", 1);
}

int verdict_render_json(const struct verdict *v, char *buf, size_t size)
{
    struct jsonw w;
    char hash[sizeof(v->config_hash)];

    jsonw_init(&w, buf, size);
    memcpy(hash, v->config_hash, sizeof(hash));
    hash[sizeof(hash) - 1] = '\0';
    jsonw_lit(&w, "{\"outcome\":");
    jsonw_str(&w, verdict_outcome_name(v->outcome));
    analysis_jw_key(&w, "rule");
    jsonw_str(&w, analysis_rule_name(v->rule));
    analysis_jw_key(&w, "reason");
    jsonw_str(&w, v->reason);
    analysis_jw_key(&w, "breach");
    jsonw_lit(&w, v->breach ? "true" : "false");
    jsonw_fmt(&w, ",\"breaches_in_row\":%u,\"breaches_needed\":%u", v->breaches_in_row,
              v->breaches_needed);
    jsonw_fmt(&w, ",\"t_ms\":%lld,\"window_ms\":%lld", (long long)v->t_ms, (long long)v->window_ms);
    analysis_jw_key(&w, "config_hash");
    jsonw_str(&w, hash);
    jsonw_lit(&w, ",\"rules\":[");
    for (int r = 0; r < ANALYSIS_RULE_COUNT; r++) {
        if (r > 0)
            jsonw_raw(&w, ",", 1);
        analysis_jw_evidence(&w, &v->ev[r]);
    }
    jsonw_lit(&w, "]}");
    if (w.full) {
        if (size > 0)
            buf[0] = '\0';
        return -ENOSPC;
    }
    return (int)w.len;
}

const char *analysis_baseline_from_name(enum analysis_baseline_from f)
{
    return f == ANALYSIS_BASE_PUBLISHED ? "published" : f == ANALYSIS_BASE_OWN ? "own" : "none";
}

static const char *analysis_baseline_words(enum analysis_baseline_from f)
{
    return f == ANALYSIS_BASE_PUBLISHED ? "published by the stable revision"
           : f == ANALYSIS_BASE_OWN     ? "this pod's history"
                                        : "none";
}

/* A duration in seconds as "420ms" or "1.25s". */
static void analysis_dur(double s, char *buf, size_t size)
{
    if (!isfinite(s))
        snprintf(buf, size, "n/a");
    else if (s < 1)
        snprintf(buf, size, "%.3gms", s * 1000);
    else
        snprintf(buf, size, "%.3gs", s);
}

int verdict_render_sentence(const struct verdict *v, char *buf, size_t size)
{
    const struct verdict_evidence *e = &v->ev[v->rule];
    char win[48], t[24], b[24], val[24], dec[160] = "";
    int n = 0;

    snprintf(win, sizeof(win), "%llds", (long long)(e->window_ms / 1000));
    switch (v->rule) {
    case ANALYSIS_RULE_ERROR_RATE:
        if (isfinite(e->decision_value))
            snprintf(dec, sizeof(dec), "%.1f%% (%.0f of %.0f requests in the span that decided; ",
                     100 * e->decision_value, e->decision_x, e->decision_n);
        else
            snprintf(dec, sizeof(dec), "(");
        n = snprintf(buf, size,
                     "error rate %swindow %.1f%% of %llu requests over %s) above the %g%% limit; "
                     "baseline %s",
                     dec, isfinite(e->value) ? 100 * e->value : 0.0,
                     (unsigned long long)e->requests, win, 100 * e->threshold,
                     isfinite(e->baseline) ? "" : "none");
        if (n >= 0 && (size_t)n < size && isfinite(e->baseline))
            n += snprintf(buf + n, size - (size_t)n, "%.2f%% (%s)", 100 * e->baseline,
                          analysis_baseline_words(e->baseline_from));
        break;
    case ANALYSIS_RULE_LATENCY:
        analysis_dur(e->value, val, sizeof(val));
        analysis_dur(e->threshold, t, sizeof(t));
        analysis_dur(e->baseline, b, sizeof(b));
        if (e->source != ANALYSIS_SRC_SUMMARY && isfinite(e->decision_value))
            snprintf(dec, sizeof(dec),
                     "; %.0f%% of %.0f requests slower than %s in the span "
                     "that decided",
                     100 * e->decision_value, e->decision_n, t);
        n = snprintf(buf, size,
                     "latency at the configured quantile %s over %s (%llu %s) above %s = %.3g x "
                     "baseline %s (%s)%s",
                     val, win, (unsigned long long)e->samples,
                     e->source == ANALYSIS_SRC_PROBE ? "probes" : "requests", t,
                     isfinite(e->baseline) && e->baseline > 0 ? e->threshold / e->baseline : 0.0, b,
                     analysis_baseline_words(e->baseline_from), dec);
        break;
    default:
        n = snprintf(buf, size, "%.0f consecutive liveness failures (limit %.0f)", e->value,
                     e->threshold);
        break;
    }
    if (n >= 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, "; %u of %u intervals in breach",
                      v->breaches_in_row, v->breaches_needed);
    return n;
}
