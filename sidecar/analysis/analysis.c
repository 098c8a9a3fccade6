/*
 * analysis — the rules, their sequential tests, and the verdict.
 *
 * Owns the window and rolling baseline of one pod, the CUSUM state of the
 * error and latency tests and the breach streak (how a verdict reads is
 * verdict.c).
 * Never does I/O, never reads the clock, never logs, allocates only in
 * init and on a config change that resizes the rings. Never turns missing
 * data (warmup, failed scrapes, too few requests, no baseline) into FAIL.
 */
#include "sidecar/analysis/analysis-int.h"
#include "sidecar/analysis/control.h"
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
double analysis_wilson_lower(double x, double n, double z)
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

__attribute__((format(printf, 3, 4))) void analysis_reason(char *buf, size_t size, const char *fmt,
                                                           ...)
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

/*
 * Adds a batch of n trials with x hits (errors, slow requests) that began at
 * from_ms: a run that starts with it is dated from there (its change point).
 */
static void analysis_cusum_update(struct analysis_cusum *c, double n, double x, double cap,
                                  int64_t from_ms)
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
    if (c->s == 0) {
        analysis_cusum_clear(c);
        c->run_start_ms = from_ms;
    }
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
double analysis_err_h(const struct analysis *a)
{
    double r = (a->err.p0 / a->p.error_rate_max - ANALYSIS_ERR_P0_LO_H) /
               (ANALYSIS_ERR_P0_MAX - ANALYSIS_ERR_P0_LO_H);

    return ANALYSIS_ERR_H_LO + (ANALYSIS_ERR_H_HI - ANALYSIS_ERR_H_LO) * analysis_clamp(r, 0, 1);
}

/* ---- observations ---------------------------------------------------------- */

int analysis_observe_delta(struct analysis *a, const struct sample_delta *d, int64_t now_ms)
{
    int64_t from;
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
    from = now_ms - (int64_t)llround(d->span_s * 1000);
    if (!d->err_problem[0])
        analysis_cusum_update(&a->err, (double)d->requests, (double)d->errors,
                              cap * analysis_err_h(a), from);
    if (a->lat.armed && a->lat_src == ANALYSIS_SRC_SCRAPE && d->has_hist) {
        double n = 0;
        for (unsigned i = 0; i < d->hist.n; i++)
            n += (double)d->hist.count[i];
        analysis_cusum_update(
            &a->lat, n, window_hist_count_above(a->lat_t, d->hist.le, d->hist.count, d->hist.n),
            cap * ANALYSIS_LAT_H, from);
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
        analysis_cusum_update(&a->err, 1, ok ? 0 : 1, ANALYSIS_CAP_FACTOR * analysis_err_h(a),
                              now_ms);
    if (a->lat.armed && a->lat_src == ANALYSIS_SRC_PROBE)
        analysis_cusum_update(&a->lat, 1, latency_s > a->lat_t ? 1 : 0,
                              ANALYSIS_CAP_FACTOR * ANALYSIS_LAT_H, now_ms);
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

/*
 * Own history is usable once it spans ANALYSIS_OWN_MIN_SPAN_MS, or a
 * quarter of a baseline_window shorter than 8 minutes (as before for those).
 */
static bool analysis_rolling_spans(const struct analysis *a)
{
    int64_t need = (int64_t)a->p.baseline_window_ms / 4 < ANALYSIS_OWN_MIN_SPAN_MS
                       ? (int64_t)a->p.baseline_window_ms / 4
                       : (int64_t)ANALYSIS_OWN_MIN_SPAN_MS;

    return baseline_span_ms(&a->base) >= need;
}

void analysis_set_control(struct analysis *a, const struct control_view *v, const char *why)
{
    a->has_control = v != NULL;
    if (v)
        a->cv = *v;
    snprintf(a->control_why, sizeof(a->control_why), "%s", v || !why ? "" : why);
}

/* The control view in force at the tick being judged: fresh, else NULL. */
static const struct control_view *analysis_control_fresh(const struct analysis *a)
{
    int64_t age = a->tick_ms - a->cv.taken_ms;

    if (!a->has_control || a->cv.answered == 0)
        return NULL;
    return age <= (int64_t)ANALYSIS_CONTROL_MAX_AGE * a->p.interval_ms ? &a->cv : NULL;
}

/* The control as a baseline: fresh and not degraded itself. */
static const struct control_summary *analysis_control_base(const struct analysis *a)
{
    const struct control_view *v = analysis_control_fresh(a);

    return v && !v->pooled.degraded ? &v->pooled : NULL;
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
    const struct control_summary *ctl = analysis_control_base(a);

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
    }
    /*
     * The control's window is short (a minute of a few pods): its bound is
     * looser than an hour's. Both describe the stable revision while the
     * control is not degraded, so the tighter bound sets p0 (the FAIL still
     * needs the absolute gate above error_rate.max).
     */
    if (ctl && ctl->requests >= need && ctl->requests > 0) {
        double c = analysis_wilson_upper((double)ctl->errors, (double)ctl->requests, ANALYSIS_P0_Z);

        /* the control pods' own rolling baselines: the same revision over up to an hour */
        if (ctl->base_requests >= need && !isnan(ctl->base_error_rate))
            c = fmin(c, analysis_wilson_upper(ctl->base_error_rate * (double)ctl->base_requests,
                                              (double)ctl->base_requests, ANALYSIS_P0_Z));
        if (isnan(base) || c < base) {
            base = c;
            a->err_base_from = ANALYSIS_BASE_CONTROL;
        }
    }
    if (isnan(base) && analysis_rolling_spans(a) && t->requests >= need && t->requests > 0) {
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
    const struct control_summary *ctl = analysis_control_base(a);
    double b;

    a->lat_base = a->lat_q0 = NAN;
    if (ctl && ctl->latency_source == CONTROL_LAT_SUMMARY &&
        ctl->quantile == a->p.latency_quantile && (double)ctl->latency_samples >= need &&
        ctl->latency_s > 0) {
        a->lat_base_from = ANALYSIS_BASE_CONTROL;
        a->lat_base = ctl->latency_s;
        a->lat_t = (1 + a->p.latency_max_increase) * ctl->latency_s;
        a->lat_reason[0] = '\0';
        return;
    }
    a->lat_base_from = ANALYSIS_BASE_OWN;
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

/*
 * The control's window points as a baseline summary, so that the latency
 * at q and the share above T interpolate as for a published one (p75 takes
 * the threshold's slot: a fifth point where T = 1.5 x p50 usually falls).
 * -ENODATA without p50, p90 and p99.
 */
static int analysis_control_as_summary(const struct control_summary *c,
                                       struct baseline_summary *ret)
{
    if (!(c->p50 > 0) || !(c->p90 >= c->p50) || !(c->p99 >= c->p90) || !isfinite(c->p99))
        return -ENODATA;
    memset(ret, 0, sizeof(*ret));
    ret->latency_samples = c->latency_samples;
    ret->p50 = c->p50;
    ret->p90 = c->p90;
    ret->p99 = c->p99;
    ret->quantile = c->quantile;
    ret->quantile_value = c->latency_s > 0 ? c->latency_s : NAN;
    ret->threshold = ret->exceed = ret->error_rate = NAN;
    if (c->p75 >= c->p50 && c->p75 <= c->p90) {
        ret->threshold = c->p75;
        ret->exceed = 0.25;
    }
    return 0;
}

/*
 * Whether the control pods' rolling baselines (their last hour, breaches
 * left out) still describe their current window: the two latencies at q
 * within half the latency margin of each other, the share above T known.
 */
static bool analysis_control_hour_agrees(const struct control_summary *c, double m)
{
    double r = c->latency_s / c->base_latency_s;

    return c->base_latency_s > 0 && c->latency_s > 0 && !isnan(c->base_margin_share) &&
           r <= 1 + m / 2 && r >= 1 / (1 + m / 2);
}

/*
 * The control's share of samples above t, from its window points p50, p75,
 * p90, p99: normal scores linear in log latency between (and beyond) the
 * points, exact for a lognormal, where straight interpolation of the
 * fractions overstates the share (and slowed detection in bench_sim).
 */
static double analysis_control_exceed(const struct control_summary *c, double t)
{
    static const double z[4] = {0.0, 0.6744897501960817, 1.2815515655446004, 2.3263478740408408};
    double v[4] = {c->p50, c->p75, c->p90, c->p99}, zt;
    unsigned i = 0;

    if (!(t > 0) || !(c->p75 > c->p50) || !(c->p90 > c->p75) || !(c->p99 > c->p90))
        return NAN;
    while (i < 2 && t > v[i + 1])
        i++;
    zt = z[i] + (log(t) - log(v[i])) / (log(v[i + 1]) - log(v[i])) * (z[i + 1] - z[i]);
    return 0.5 * erfc(zt / sqrt(2.0));
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
    enum control_latency_source cwant =
        src == ANALYSIS_SRC_SCRAPE ? CONTROL_LAT_HISTOGRAM : CONTROL_LAT_PROBE;
    const struct control_summary *ctl = analysis_control_base(a);
    struct baseline_summary cs;

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
    if (ctl && ctl->latency_source == cwant && (double)ctl->latency_samples >= need &&
        analysis_control_as_summary(ctl, &cs) == 0) {
        a->lat_base_from = ANALYSIS_BASE_CONTROL;
        b = baseline_summary_quantile(&cs, q);
        thr = (1 + m) * b;
        if (analysis_control_hour_agrees(ctl, m)) {
            /*
             * The control pods' own last hour, while their window agrees with
             * it (within half the margin): the same revision measured longer,
             * so a steadier T; a window that moved away (time of day, a
             * drifting load) is the one to compare with.
             */
            b = ctl->base_latency_s;
            thr = (1 + m) * b;
            q0 = ctl->base_margin_share;
        } else {
            /*
             * The control pods' own count above (1 + m) x their quantile, when T is
             * that (the same q): counted as this pod counts, bucket for bucket.
             * Else from the points.
             */
            q0 = ctl->margin_share;
            if (isnan(q0) || !(ctl->latency_s > 0) || fabs(b - ctl->latency_s) > 1e-9 * b)
                q0 = analysis_control_exceed(ctl, thr);
            if (isnan(q0)) /* points too coarse to be distinct: straight interpolation */
                q0 = baseline_summary_exceed(&cs, thr);
        }
    } else if (a->has_stable && a->stable.latency_source == want &&
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

/* ---- the window as another pod reads it (GET /summary) ------------------------------ */

static enum control_latency_source analysis_control_source(enum analysis_source s)
{
    switch (s) {
    case ANALYSIS_SRC_SCRAPE:
        return CONTROL_LAT_HISTOGRAM;
    case ANALYSIS_SRC_SUMMARY:
        return CONTROL_LAT_SUMMARY;
    case ANALYSIS_SRC_PROBE:
        return CONTROL_LAT_PROBE;
    case ANALYSIS_SRC_NONE:
        break;
    }
    return CONTROL_LAT_NONE;
}

/* v when it is a latency (finite, >= 0), else NaN. */
static double analysis_control_seconds(double v)
{
    return isfinite(v) && v >= 0 ? v + 0.0 : NAN;
}

/*
 * The rolling baseline's latency at q from the source the window's latency
 * came from, once it holds 4 * min_samples samples over the span the rule
 * needs (analysis_rolling_spans); NaN otherwise.
 */
static double analysis_control_base_latency(const struct analysis *a,
                                            enum control_latency_source src)
{
    const struct window_counts *t = baseline_total(&a->base);
    double need = (double)ANALYSIS_BASELINE_MIN_COUNT * a->p.latency_min_samples;
    double q = a->p.latency_quantile, v = NAN;

    if (!analysis_rolling_spans(a))
        return NAN;
    switch (src) {
    case CONTROL_LAT_HISTOGRAM:
        if (a->base.hist_n > 0 && t->hist_total > 0 && (double)t->hist_total >= need)
            v = window_hist_quantile(q, a->base.le, t->hist, a->base.hist_n);
        break;
    case CONTROL_LAT_SUMMARY:
        if (t->sq_n > 0 && (double)t->sq_n >= need)
            v = t->sq_wsum / (double)t->sq_n;
        break;
    case CONTROL_LAT_PROBE:
        if (t->probe_latency.count > 0 && (double)t->probe_latency.count >= need &&
            sketch_quantile(&t->probe_latency, q, &v) < 0)
            v = NAN;
        break;
    case CONTROL_LAT_NONE:
        break;
    }
    return analysis_control_seconds(v);
}

/* The window's p50, p75, p90 and p99 from its histogram or probe sketch (NaN for the others). */
static void analysis_control_points(const struct analysis *a, struct control_summary *c)
{
    static const double qs[4] = {0.5, 0.75, 0.9, 0.99};
    double *out[4] = {&c->p50, &c->p75, &c->p90, &c->p99};
    const struct window_counts *w = &a->win.total;

    for (int i = 0; i < 4; i++) {
        double v = NAN;

        if (c->latency_source == CONTROL_LAT_HISTOGRAM && a->win.hist_n > 0 && w->hist_total > 0)
            v = window_hist_quantile(qs[i], a->win.le, w->hist, a->win.hist_n);
        else if (c->latency_source == CONTROL_LAT_PROBE && w->probe_latency.count > 0 &&
                 sketch_quantile(&w->probe_latency, qs[i], &v) < 0)
            v = NAN;
        *out[i] =
            c->latency_source == CONTROL_LAT_HISTOGRAM || c->latency_source == CONTROL_LAT_PROBE
                ? analysis_control_seconds(v)
                : NAN;
    }
    /* what a release judged against this window would see: its share above T */
    if (c->latency_s > 0) {
        double t = (1 + a->p.latency_max_increase) * c->latency_s, x = NAN;

        if (c->latency_source == CONTROL_LAT_HISTOGRAM && a->win.hist_n > 0 && w->hist_total > 0)
            x = window_hist_count_above(t, a->win.le, w->hist, a->win.hist_n) /
                (double)w->hist_total;
        else if (c->latency_source == CONTROL_LAT_PROBE && w->probe_latency.count > 0)
            x = sketch_count_above(&w->probe_latency, t) / (double)w->probe_latency.count;
        if (isfinite(x))
            c->margin_share = fmin(fmax(x, 0), 1);
    }
}

/* The rolling baseline's share of samples above (1 + max_increase) x base; NaN without one. */
static double analysis_control_base_share(const struct analysis *a, enum control_latency_source src,
                                          double base)
{
    const struct window_counts *t = baseline_total(&a->base);
    double thr = (1 + a->p.latency_max_increase) * base, x = NAN;

    if (!(base > 0))
        return NAN;
    if (src == CONTROL_LAT_HISTOGRAM && a->base.hist_n > 0 && t->hist_total > 0)
        x = window_hist_count_above(thr, a->base.le, t->hist, a->base.hist_n) /
            (double)t->hist_total;
    else if (src == CONTROL_LAT_PROBE && t->probe_latency.count > 0)
        x = sketch_count_above(&t->probe_latency, thr) / (double)t->probe_latency.count;
    return isfinite(x) ? fmin(fmax(x, 0), 1) : NAN;
}

/*
 * Keeps the figures of the tick's verdict (the window it judged, before the
 * next interval opens) for analysis_control_summary, so /summary and the
 * verdict on /status tell the same story. Nothing is kept while warm.
 */
static void analysis_control_take(struct analysis *a, const struct verdict *v, bool warm)
{
    const struct verdict_evidence *err = &v->ev[ANALYSIS_RULE_ERROR_RATE];
    const struct verdict_evidence *lat = &v->ev[ANALYSIS_RULE_LATENCY];
    const struct window_counts *t = baseline_total(&a->base);
    uint64_t need = (uint64_t)ANALYSIS_BASELINE_MIN_COUNT * a->p.error_min_requests;
    struct control_summary *c = &a->control;

    a->control_ok = !warm && !a->initial_warmup;
    if (!a->control_ok)
        return;
    memset(c, 0, sizeof(*c));
    c->window_ms = v->window_ms > 0 ? v->window_ms : 0;
    c->requests = err->requests;
    c->errors = err->errors <= err->requests ? err->errors : err->requests;
    c->quantile = a->p.latency_quantile;
    c->latency_source = analysis_control_source(lat->source);
    c->latency_s = NAN;
    c->slow_share = NAN;
    if (c->latency_source != CONTROL_LAT_NONE) {
        c->latency_s = analysis_control_seconds(lat->value);
        c->latency_samples = lat->samples;
        /* counts above T exist for a histogram or probes with the test armed */
        if (lat->samples > 0 && isfinite(lat->slow))
            c->slow_share = fmin(fmax(lat->slow / (double)lat->samples, 0), 1);
    }
    c->p50 = c->p75 = c->p90 = c->p99 = c->margin_share = NAN;
    analysis_control_points(a, c);
    c->base_error_rate = NAN;
    if (analysis_rolling_spans(a) && t->requests > 0 && t->requests >= need) {
        c->base_error_rate = fmin((double)t->errors / (double)t->requests, 1);
        c->base_requests = t->requests;
    }
    c->base_latency_s = analysis_control_base_latency(a, c->latency_source);
    c->base_margin_share = analysis_control_base_share(a, c->latency_source, c->base_latency_s);
}

int analysis_control_summary(const struct analysis *a, int64_t now_ms, struct control_summary *ret)
{
    struct control_summary s;

    if (!a->control_ok)
        return -ENODATA;
    s = a->control;
    s.degraded = a->degraded;
    s.degraded_for_ms = 0;
    s.rule = CONTROL_RULE_NONE;
    if (a->degraded) {
        s.degraded_for_ms = now_ms > a->degraded_since_ms ? now_ms - a->degraded_since_ms : 0;
        s.rule = a->degraded_rule == ANALYSIS_RULE_LATENCY  ? CONTROL_RULE_LATENCY
                 : a->degraded_rule == ANALYSIS_RULE_HEALTH ? CONTROL_RULE_HEALTH
                                                            : CONTROL_RULE_ERROR_RATE;
    }
    *ret = s;
    return 0;
}

/* ---- the release against its concurrent control ------------------------------------ */

/* The control's figures in v->control, and (for a FAIL of errors or latency) whose doing it is. */
static void analysis_attribute(const struct analysis *a, struct verdict *v)
{
    const struct control_view *cv = analysis_control_fresh(a);
    const struct control_summary *c = cv ? &cv->pooled : NULL;
    struct verdict_control *vc = &v->control;
    const struct verdict_evidence *e = &v->ev[v->rule];
    struct attribution_params p = {
        .error_rate_max = a->p.error_rate_max,
        .latency_max_increase = a->p.latency_max_increase,
        .min_requests = a->p.error_min_requests,
        .min_samples = a->p.latency_min_samples,
    };
    struct attribution_side rel = {0}, ctl = {0};
    struct attribution_result res;

    vc->decision = ATTRIBUTION_NO_CONTROL;
    vc->latency = NAN;
    if (!c) {
        snprintf(vc->reason, sizeof(vc->reason), "%s",
                 a->has_control ? "the control's last summaries are too old" : a->control_why);
        return;
    }
    vc->present = true;
    vc->asked = cv->asked;
    vc->answered = cv->answered;
    vc->degraded = c->degraded;
    vc->degraded_since_ms = cv->taken_ms - c->degraded_for_ms - cv->rollout_start_ms;
    vc->requests = c->requests;
    vc->errors = c->errors;
    vc->samples = c->latency_samples;
    if (c->quantile == a->p.latency_quantile)
        vc->latency = c->latency_s;
    if (v->outcome != VERDICT_FAIL || v->rule == ANALYSIS_RULE_HEALTH)
        return;
    rel.requests = e->requests;
    rel.errors = e->errors;
    /*
     * The error rule's whole sequential run (since its change point) when it
     * covers more than the window: one window's swing, looked at every tick,
     * is not the release's rate.
     */
    if (v->rule == ANALYSIS_RULE_ERROR_RATE && e->run_n > (double)e->requests &&
        e->run_x <= e->run_n) {
        rel.requests = (uint64_t)llround(e->run_n);
        rel.errors = (uint64_t)llround(e->run_x);
    }
    rel.latency = e->value;
    rel.samples = e->samples;
    ctl.requests = c->requests;
    ctl.errors = c->errors;
    ctl.latency = vc->latency;
    ctl.samples = c->latency_samples;
    ctl.degraded = c->degraded;
    ctl.degraded_since_ms = cv->taken_ms - c->degraded_for_ms;
    ctl.figures_from_ms = cv->taken_ms - c->window_ms;
    attribution_decide(&p,
                       v->rule == ANALYSIS_RULE_LATENCY ? ATTRIBUTION_LATENCY : ATTRIBUTION_ERRORS,
                       &rel, &ctl, cv->rollout_start_ms, &res);
    vc->decision = res.decision;
    snprintf(vc->reason, sizeof(vc->reason), "%s", res.reason);
    if (res.decision == ATTRIBUTION_WITHHOLD || res.decision == ATTRIBUTION_NOT_WORSE) {
        v->outcome = VERDICT_INCONCLUSIVE;
        snprintf(v->reason, sizeof(v->reason), "%s", res.reason);
    }
}

/*
 * When the degradation a breach of rule shows began: the start of the
 * sequential test's current run (its change point), else now.
 */
static int64_t analysis_onset(const struct analysis *a, enum analysis_rule rule, int64_t now_ms)
{
    const struct analysis_cusum *c = rule == ANALYSIS_RULE_ERROR_RATE ? &a->err
                                     : rule == ANALYSIS_RULE_LATENCY  ? &a->lat
                                                                      : NULL;

    if (c && c->s > 0 && c->run_start_ms > 0 && c->run_start_ms < now_ms)
        return c->run_start_ms;
    return now_ms;
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
    a->tick_ms = now_ms;
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
        if (!a->degraded)
            a->degraded_since_ms = analysis_onset(a, (enum analysis_rule)decide, now_ms);
        a->degraded = true;
        a->degraded_last_ms = now_ms;
        a->degraded_rule = (enum analysis_rule)decide;
    } else {
        a->streak = 0;
        /* one quiet tick in a persistent fault is not a recovery: a whole window is */
        if (a->degraded && now_ms - a->degraded_last_ms >= (int64_t)a->p.window_ms)
            a->degraded = false;
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
    analysis_attribute(a, &v);

    /* the interval joins the rolling baseline only if it is trusted */
    if (!warm && !breach && !(a->scrape_seen && slot->scrapes == 0))
        (void)baseline_add(&a->base, slot, a->win.le, a->win.hist_n, now_ms);
    else
        baseline_skip(&a->base, now_ms);

    analysis_control_take(a, &v, warm);
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
