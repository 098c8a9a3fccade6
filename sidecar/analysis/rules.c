/*
 * rules — each rule's judgement at a tick: the error rate (a Bernoulli
 * CUSUM gated by Wilson bounds), latency from a histogram or probes (the
 * same test on slow requests), latency from a summary's quantiles, and
 * health. Reads the analysis state, writes one struct verdict_evidence;
 * pure like the rest of analysis (README.md has the rules and figures).
 */
#include "sidecar/analysis/analysis-int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void analysis_ev_init(struct verdict_evidence *e, enum analysis_rule r, int64_t span)
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

void analysis_rule_error(struct analysis *a, const struct window_counts *slot, bool warm,
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
    e->baseline_from = isnan(a->lat_base) ? ANALYSIS_BASE_NONE : a->lat_base_from;
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

void analysis_rule_latency(struct analysis *a, const struct window_counts *slot, bool warm,
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

void analysis_rule_health(struct analysis *a, struct verdict_evidence *e)
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
