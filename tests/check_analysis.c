/*
 * Tests for sidecar/analysis and sidecar/baseline: each rule's edges
 * (exactly at the max, min_requests, no baseline, failed scrapes,
 * consecutive breaches, health), warmups, the rolling baseline skipping
 * breached intervals, verdict JSON and the baseline summary JSON.
 *
 * Traffic is deterministic: every interval is two 5 s scrape deltas whose
 * latency histogram holds the expected lognormal bucket counts, rounded so
 * they sum exactly to the requests.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config/cfg.h"
#include "sidecar/analysis/analysis.h"
#include "sidecar/analysis/baseline.h"
#include "sidecar/daemon.h"
#include "sidecar/kube/kube_json.h"
#include "tests/helpers/test_hist.h"
#include "tests/helpers/test_params.h"

Suite *analysis_suite(void);

struct ta {
    struct analysis a;
    struct analysis_params p;
    int64_t t;
    struct verdict v;
};

/* The embedded defaults, mapped as the daemon maps them. */
static struct analysis_params ta_params(void)
{
    struct analysis_params p = test_default_params();

    snprintf(p.config_hash, sizeof(p.config_hash), "00c0ffee00c0ffee");
    return p;
}

static void ta_init(struct ta *x, const struct analysis_params *p)
{
    memset(x, 0, sizeof(*x));
    x->p = *p;
    ck_assert_int_eq(analysis_init(&x->a, p, 0), 0);
}

/* One 5 s scrape delta. */
static int ta_delta(struct ta *x, uint64_t req, uint64_t err, double median)
{
    struct sample_delta d;

    memset(&d, 0, sizeof(d));
    d.valid = true;
    d.span_s = 5;
    d.requests = req;
    d.errors = err;
    if (median > 0) {
        d.has_hist = true;
        test_hist_lognormal(&d.hist, req, median);
    }
    x->t += 5000;
    return analysis_observe_delta(&x->a, &d, x->t);
}

static void ta_failed_delta(struct ta *x)
{
    struct sample_delta d = {.valid = false};

    x->t += 5000;
    ck_assert_int_eq(analysis_observe_delta(&x->a, &d, x->t), 0);
}

static void ta_tick(struct ta *x)
{
    analysis_tick(&x->a, x->t, &x->v);
}

/* One interval: two deltas of req/2 requests, errors at rate err, then a tick. */
static const struct verdict *ta_interval(struct ta *x, uint64_t req, double err, double median)
{
    for (int i = 0; i < 2; i++) {
        uint64_t r = req / 2 + (i == 0 ? req % 2 : 0);
        ck_assert_int_eq(ta_delta(x, r, (uint64_t)llround((double)r * err), median), 0);
    }
    analysis_observe_probe(&x->a, 0.002, true, 0, x->t);
    ta_tick(x);
    return &x->v;
}

static const struct verdict_evidence *ta_ev(const struct ta *x, enum analysis_rule r)
{
    return &x->v.ev[r];
}

/* ---- warmup and the basic shape of a verdict ---------------------------------------------- */

START_TEST(test_warmup_then_verdicts)
{
    struct ta x;
    struct analysis_params p = ta_params();

    ta_init(&x, &p);
    for (int i = 0; i < 2; i++) {
        ta_interval(&x, 200, 0.01, 0.05);
        ck_assert_int_eq(x.v.outcome, VERDICT_INCONCLUSIVE);
        ck_assert_str_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->reason, "warming up");
    }
    ta_interval(&x, 200, 0.01, 0.05); /* t = 30 s: warmup over */
    ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->state, VERDICT_RULE_PASS);
    ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_HEALTH)->state, VERDICT_RULE_PASS);
    /* no baseline yet: latency is INCONCLUSIVE, so is the verdict */
    ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_LATENCY)->state, VERDICT_RULE_INCONCLUSIVE);
    ck_assert_str_eq(ta_ev(&x, ANALYSIS_RULE_LATENCY)->reason, "no baseline");
    ck_assert_int_eq(x.v.outcome, VERDICT_INCONCLUSIVE);
    ck_assert_int_eq(x.v.rule, ANALYSIS_RULE_LATENCY);
    ck_assert_double_eq_tol(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->value, 0.01, 1e-9);
    ck_assert_uint_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->requests, 600);
    ck_assert_str_eq(x.v.config_hash, "00c0ffee00c0ffee");
    analysis_done(&x.a);
}
END_TEST

/* ---- error rule
 * ------------------------------------------------------------------------------------ */

static struct baseline_summary ta_stable(double err_rate)
{
    struct baseline_summary s;

    memset(&s, 0, sizeof(s));
    snprintf(s.revision, sizeof(s.revision), "stable1");
    s.window_ms = 3600000;
    s.requests = 100000;
    s.errors = (uint64_t)llround(100000 * err_rate);
    s.error_rate = err_rate;
    s.latency_source = BASELINE_SRC_HISTOGRAM;
    s.latency_samples = 100000;
    s.p50 = 0.05;
    s.p90 = 0.095;
    s.p99 = 0.16;
    s.quantile = 0.5;
    s.quantile_value = 0.05;
    s.threshold = 0.075;
    s.exceed = 0.21;
    return s;
}

START_TEST(test_error_exactly_at_max_is_not_a_breach)
{
    struct ta x;
    struct analysis_params p = ta_params();
    struct baseline_summary s = ta_stable(0.005);
    double max_s = 0;

    ta_init(&x, &p);
    analysis_set_stable_baseline(&x.a, &s);
    /* a million requests per interval at exactly 5 %: the CUSUM (p0 0.5 %, p1 10 %)
     * climbs to its cap, but the rate is not above max: never a breach */
    for (int i = 0; i < 40; i++) {
        ta_interval(&x, 1000000, 0.05, 0.05);
        ck_assert(!x.v.breach);
        ck_assert_int_ne(x.v.outcome, VERDICT_FAIL);
        max_s = fmax(max_s, ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->statistic);
    }
    ck_assert_double_ge(max_s, ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->bound);
    ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->state, VERDICT_RULE_PASS);
    ck_assert_double_lt(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->confidence_bound, 0.05);
    ck_assert_double_eq_tol(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->value, 0.05, 1e-12);
    /* just above: 5.5 % on the same volume is a breach, and FAIL on the second */
    ta_interval(&x, 1000000, 0.055, 0.05);
    ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->state, VERDICT_RULE_BREACH);
    ck_assert_int_eq(x.v.outcome, VERDICT_INCONCLUSIVE);
    ck_assert_uint_eq(x.v.breaches_in_row, 1);
    ta_interval(&x, 1000000, 0.055, 0.05);
    ck_assert_int_eq(x.v.outcome, VERDICT_FAIL);
    ck_assert_int_eq(x.v.rule, ANALYSIS_RULE_ERROR_RATE);
    ck_assert_double_gt(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->confidence_bound, 0.05);
    analysis_done(&x.a);
}
END_TEST

START_TEST(test_error_min_requests)
{
    struct ta x;
    struct analysis_params p = ta_params();
    int first_breach = -1;

    ta_init(&x, &p);
    /* 5 requests per interval, 2 or 3 of them errors: 50 % */
    for (int i = 0; i < 30 && first_breach < 0; i++) {
        ck_assert_int_eq(ta_delta(&x, 5, 2 + (i % 2), 0), 0);
        x.t += 5000;
        ta_tick(&x);
        if (x.v.breach)
            first_breach = i;
        else if (x.t > 30000)
            ck_assert_str_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->reason,
                             x.t >= 60000 ? "too few requests: 30 < 50"
                                          : ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->reason);
    }
    /* the CUSUM passes h within 25 requests, but a breach needs 50 in its run:
     * 10 intervals after the warmup (which ends at the third tick) */
    ck_assert_int_eq(first_breach, 2 + 10);
    ck_assert_double_ge(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->run_n, 50);
    ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->state, VERDICT_RULE_BREACH);
    analysis_done(&x.a);
}
END_TEST

START_TEST(test_error_low_rate_under_max_passes)
{
    struct ta x;
    struct analysis_params p = ta_params();

    /* 3 % errors with a 1 % baseline: elevated, not above max: never a breach */
    ta_init(&x, &p);
    {
        struct baseline_summary s = ta_stable(0.01);
        analysis_set_stable_baseline(&x.a, &s);
    }
    for (int i = 0; i < 200; i++) {
        ta_interval(&x, 2000, 0.03, 0.05);
        ck_assert(!x.v.breach);
    }
    ck_assert_int_eq(x.v.outcome, VERDICT_PASS);
    analysis_done(&x.a);
}
END_TEST

/* ---- failed scrapes, consecutive breaches
 * --------------------------------------------------------- */

START_TEST(test_failed_scrape_is_inconclusive_never_fail)
{
    struct ta x;
    struct analysis_params p = ta_params();
    struct sample_delta bad;

    ta_init(&x, &p);
    for (int i = 0; i < 6; i++)
        ta_interval(&x, 500, 0.01, 0.05);
    ta_interval(&x, 500, 0.30, 0.05);
    ck_assert(x.v.breach);
    ck_assert_uint_eq(x.v.breaches_in_row, 1);
    /* an interval with only failed scrapes: INCONCLUSIVE, and the streak is broken */
    ta_failed_delta(&x);
    ta_failed_delta(&x);
    ta_tick(&x);
    ck_assert_int_eq(x.v.outcome, VERDICT_INCONCLUSIVE);
    ck_assert(!x.v.breach);
    ck_assert_uint_eq(x.v.breaches_in_row, 0);
    ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->state, VERDICT_RULE_INCONCLUSIVE);
    ck_assert_str_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->reason,
                     "no valid scrape in the last interval (2 failed)");
    /* a malformed delta counts as a failed scrape too */
    memset(&bad, 0, sizeof(bad));
    bad.valid = true;
    bad.requests = 1;
    bad.errors = 2;
    x.t += 5000;
    ck_assert_int_eq(analysis_observe_delta(&x.a, &bad, x.t), -EINVAL);
    x.t += 5000;
    ta_tick(&x);
    ck_assert_int_eq(x.v.outcome, VERDICT_INCONCLUSIVE);
    ck_assert_uint_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->reason[0] != '\0', 1);
    /* ten minutes of failing scrapes: never FAIL */
    for (int i = 0; i < 60; i++) {
        ta_failed_delta(&x);
        ta_failed_delta(&x);
        ta_tick(&x);
        ck_assert_int_ne(x.v.outcome, VERDICT_FAIL);
        ck_assert(!x.v.breach);
    }
    /* the fault is still there when scrapes return: two fresh breaches to FAIL */
    ta_interval(&x, 500, 0.30, 0.05);
    ck_assert_int_eq(x.v.outcome, VERDICT_INCONCLUSIVE);
    ck_assert_uint_eq(x.v.breaches_in_row, 1);
    ta_interval(&x, 500, 0.30, 0.05);
    ck_assert_int_eq(x.v.outcome, VERDICT_FAIL);
    analysis_done(&x.a);
}
END_TEST

static int ta_ticks_to_fail(uint32_t consecutive)
{
    struct ta x;
    struct analysis_params p = ta_params();
    int n = -1;

    p.consecutive_breaches = consecutive;
    ta_init(&x, &p);
    for (int i = 0; i < 6; i++)
        ta_interval(&x, 500, 0.01, 0.05);
    for (int i = 1; i <= 10; i++) {
        ta_interval(&x, 500, 0.40, 0.05);
        ck_assert(x.v.breach);
        ck_assert_uint_eq(x.v.breaches_in_row, (uint32_t)i);
        if (x.v.outcome == VERDICT_FAIL) {
            n = i;
            break;
        }
        ck_assert_int_eq(x.v.outcome, VERDICT_INCONCLUSIVE);
        ck_assert_ptr_nonnull(strstr(x.v.reason, "breach "));
    }
    analysis_done(&x.a);
    return n;
}

START_TEST(test_consecutive_breaches)
{
    ck_assert_int_eq(ta_ticks_to_fail(0), 1);
    ck_assert_int_eq(ta_ticks_to_fail(1), 1);
    ck_assert_int_eq(ta_ticks_to_fail(2), 2);
    ck_assert_int_eq(ta_ticks_to_fail(3), 3);
}
END_TEST

START_TEST(test_breach_streak_resets_on_pass)
{
    struct ta x;
    struct analysis_params p = ta_params();

    ta_init(&x, &p);
    for (int i = 0; i < 6; i++)
        ta_interval(&x, 200, 0.01, 0.05);
    /* a one-interval burst, then healthy traffic: the CUSUM is still above h
     * and its run still above max, but the newest data contradicts it */
    ta_interval(&x, 200, 0.5, 0.05);
    ck_assert(x.v.breach);
    ta_interval(&x, 200, 0.01, 0.05);
    ck_assert_double_ge(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->statistic,
                        ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->bound);
    ck_assert_double_gt(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->confidence_bound, 0.05);
    ck_assert(!x.v.breach);
    ck_assert_uint_eq(x.v.breaches_in_row, 0);
    ck_assert_int_ne(x.v.outcome, VERDICT_FAIL);
    analysis_done(&x.a);
}
END_TEST

/* ---- health rule
 * ------------------------------------------------------------------------------------------ */

START_TEST(test_health_rule)
{
    struct ta x;
    struct analysis_params p = ta_params();

    ta_init(&x, &p);
    for (int i = 0; i < 4; i++)
        ta_interval(&x, 200, 0.01, 0.05);
    analysis_observe_probe(&x.a, 1.0, false, 1, x.t);
    analysis_observe_probe(&x.a, 1.0, false, 2, x.t);
    x.t += 10000;
    ta_tick(&x);
    ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_HEALTH)->state, VERDICT_RULE_PASS);
    ck_assert_double_eq(ta_ev(&x, ANALYSIS_RULE_HEALTH)->value, 2);
    /* a readiness failure does not touch the liveness streak */
    analysis_observe_probe(&x.a, 1.0, false, ANALYSIS_NOT_LIVENESS, x.t);
    x.t += 10000;
    ta_tick(&x);
    ck_assert_double_eq(ta_ev(&x, ANALYSIS_RULE_HEALTH)->value, 2);
    analysis_observe_probe(&x.a, 1.0, false, 3, x.t);
    x.t += 10000;
    ta_tick(&x);
    ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_HEALTH)->state, VERDICT_RULE_BREACH);
    ck_assert_int_eq(x.v.rule, ANALYSIS_RULE_HEALTH);
    ck_assert_int_eq(x.v.outcome, VERDICT_INCONCLUSIVE);
    analysis_observe_probe(&x.a, 1.0, false, 4, x.t);
    x.t += 10000;
    ta_tick(&x);
    /* no scrapes in these intervals: health is evidence on its own */
    ck_assert_int_eq(x.v.outcome, VERDICT_FAIL);
    ck_assert_int_eq(x.v.rule, ANALYSIS_RULE_HEALTH);
    ck_assert_str_eq(x.v.reason, "4 consecutive liveness failures");
    /* recovery */
    analysis_observe_probe(&x.a, 0.002, true, 0, x.t);
    ta_interval(&x, 200, 0.01, 0.05);
    ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_HEALTH)->state, VERDICT_RULE_PASS);
    ck_assert(!x.v.breach);
    analysis_done(&x.a);

    /* health_failures 0: the rule is off */
    p.health_failures = 0;
    ta_init(&x, &p);
    for (int i = 0; i < 4; i++)
        ta_interval(&x, 200, 0.01, 0.05);
    analysis_observe_probe(&x.a, 1.0, false, 50, x.t);
    x.t += 10000;
    ta_tick(&x);
    ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_HEALTH)->state, VERDICT_RULE_OFF);
    ck_assert(!x.v.breach);
    analysis_done(&x.a);
}
END_TEST

/* ---- latency rule, baselines
 * ------------------------------------------------------------------------------ */

START_TEST(test_latency_without_baseline_is_inconclusive)
{
    struct ta x;
    struct analysis_params p = ta_params();

    ta_init(&x, &p);
    for (int i = 0; i < 6; i++)
        ta_interval(&x, 500, 0.01, 0.05);
    /* ten times slower: no baseline until the rolling one spans 2 min (30 s so far) */
    for (int i = 0; i < 8; i++) {
        ta_interval(&x, 500, 0.01, 0.5);
        ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_LATENCY)->state, VERDICT_RULE_INCONCLUSIVE);
        ck_assert_str_eq(ta_ev(&x, ANALYSIS_RULE_LATENCY)->reason, "no baseline");
        ck_assert_int_ne(x.v.outcome, VERDICT_FAIL);
    }
    ck_assert_double_gt(ta_ev(&x, ANALYSIS_RULE_LATENCY)->value, 0.3);
    analysis_done(&x.a);
}
END_TEST

/* 20 minutes of healthy traffic: a rolling baseline forms. */
static void ta_build_baseline(struct ta *x, double median)
{
    for (int i = 0; i < 120; i++)
        ta_interval(x, 500, 0.01, median);
}

START_TEST(test_latency_rolling_baseline_breach)
{
    struct ta x;
    struct analysis_params p = ta_params();
    const struct verdict_evidence *e;
    char sentence[600];

    ta_init(&x, &p);
    ta_build_baseline(&x, 0.05);
    ck_assert_int_eq(x.v.outcome, VERDICT_PASS);
    e = ta_ev(&x, ANALYSIS_RULE_LATENCY);
    ck_assert_int_eq(e->state, VERDICT_RULE_PASS);
    /* T = 1.5 x the baseline p50 as histogram_quantile reads it */
    ck_assert_double_eq_tol(e->threshold, 1.5 * e->baseline, 1e-12);
    ck_assert_double_gt(e->baseline, 0.04);
    ck_assert_double_lt(e->baseline, 0.06);
    /* 1.2x: inside the tolerance, never a breach */
    for (int i = 0; i < 60; i++) {
        ta_interval(&x, 500, 0.01, 0.06);
        ck_assert_int_ne(ta_ev(&x, ANALYSIS_RULE_LATENCY)->state, VERDICT_RULE_BREACH);
    }
    /* 2x: FAIL within two intervals */
    ta_interval(&x, 500, 0.01, 0.1);
    ta_interval(&x, 500, 0.01, 0.1);
    ck_assert_int_eq(x.v.outcome, VERDICT_FAIL);
    ck_assert_int_eq(x.v.rule, ANALYSIS_RULE_LATENCY);
    e = ta_ev(&x, ANALYSIS_RULE_LATENCY);
    ck_assert_double_gt(e->confidence_bound, e->confidence_limit);
    ck_assert_double_ge(e->statistic, e->bound);
    /* the window's p50 still holds the 1.2x minutes: the sentence leads with the slow
       share that decided and never says the window's quantile is above T */
    ck_assert_double_lt(e->value, e->threshold);
    verdict_render_sentence(&x.v, sentence, sizeof(sentence));
    ck_assert_msg(strncmp(sentence, "latency ", 8) == 0 &&
                      strstr(sentence, "ms in the span that decided (limit ") &&
                      strstr(sentence, "at the configured quantile over ") &&
                      !strstr(sentence, "above T") && strstr(sentence, "ms = 1.5 x baseline "),
                  "%s", sentence);
    analysis_done(&x.a);
}
END_TEST

START_TEST(test_baseline_skips_breaches_and_freezes)
{
    struct ta x;
    struct analysis_params p = ta_params();
    uint64_t req_before;
    int64_t span_before;
    double rate_before;

    ta_init(&x, &p);
    ta_build_baseline(&x, 0.05);
    req_before = baseline_total(&x.a.base)->requests;
    rate_before = (double)baseline_total(&x.a.base)->errors / (double)req_before;
    span_before = baseline_span_ms(&x.a.base);
    ck_assert_uint_gt(req_before, 50000);
    /* a 30 % error fault, held for five minutes (dry-run: nobody rolls back) */
    for (int i = 0; i < 30; i++) {
        ta_interval(&x, 500, 0.30, 0.05);
        ck_assert(x.v.breach);
        /* frozen: neither its counts nor its time moves */
        ck_assert_uint_eq(baseline_total(&x.a.base)->requests, req_before);
        ck_assert_int_eq(baseline_span_ms(&x.a.base), span_before);
    }
    ck_assert_int_eq(x.v.outcome, VERDICT_FAIL);
    /* the fault ends: the next interval is not a breach and joins the baseline */
    ta_interval(&x, 500, 0.01, 0.05);
    ck_assert(!x.v.breach);
    ck_assert_uint_eq(baseline_total(&x.a.base)->requests, req_before + 500);
    ck_assert_int_eq(baseline_span_ms(&x.a.base), span_before + 10000);
    /* and the baseline error rate never saw the fault */
    ck_assert_double_eq_tol((double)baseline_total(&x.a.base)->errors /
                                (double)baseline_total(&x.a.base)->requests,
                            rate_before, 1e-12);
    analysis_done(&x.a);
}
END_TEST

START_TEST(test_restart_rewarmup)
{
    struct ta x;
    struct analysis_params p = ta_params();
    struct sample_delta d;

    ta_init(&x, &p);
    for (int i = 0; i < 6; i++)
        ta_interval(&x, 500, 0.01, 0.05);
    ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->state, VERDICT_RULE_PASS);
    /* the app restarted: its cold start (60 % errors) is not judged for warmup_ms */
    memset(&d, 0, sizeof(d));
    d.valid = true;
    d.reset = true;
    d.span_s = 5;
    d.requests = 100;
    d.errors = 60;
    x.t += 5000;
    ck_assert_int_eq(analysis_observe_delta(&x.a, &d, x.t), 0);
    /* ticks 10 s and 20 s after the restart are in its warmup */
    for (int i = 0; i < 2; i++) {
        ta_delta(&x, 100, 60, 0.05);
        x.t += 5000;
        ta_tick(&x);
        ck_assert(!x.v.breach);
        ck_assert_str_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->reason, "warming up");
        /* the health rule keeps judging during a restart's warmup */
        ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_HEALTH)->state, VERDICT_RULE_PASS);
    }
    ck_assert_double_eq(x.a.err.s, 0);
    /* from 30 s on the errors count */
    ta_delta(&x, 100, 60, 0.05);
    ta_delta(&x, 100, 60, 0.05);
    ta_tick(&x);
    ck_assert_str_ne(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->reason, "warming up");
    ck_assert_double_gt(x.a.err.s, 0);
    analysis_done(&x.a);
}
END_TEST

START_TEST(test_probe_only_traffic)
{
    struct ta x;
    struct analysis_params p = ta_params();
    int fail_at = -1;

    ta_init(&x, &p);
    /* no metrics at all: 10 probes per interval, 40 % failing */
    for (int i = 0; i < 40 && fail_at < 0; i++) {
        for (int k = 0; k < 10; k++)
            analysis_observe_probe(&x.a, 0.003, k % 5 >= 2, ANALYSIS_NOT_LIVENESS, x.t + 1000 * k);
        x.t += 10000;
        ta_tick(&x);
        ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->source, ANALYSIS_SRC_PROBE);
        ck_assert_uint_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->requests, 0);
        if (x.v.outcome == VERDICT_FAIL)
            fail_at = i;
    }
    ck_assert_int_ge(fail_at, 0);
    ck_assert_int_eq(x.v.rule, ANALYSIS_RULE_ERROR_RATE);
    ck_assert_uint_gt(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->probes, 0);
    analysis_done(&x.a);
}
END_TEST

START_TEST(test_stable_baseline_from_summary)
{
    struct ta healthy, x;
    struct analysis_params p = ta_params();
    struct baseline_summary s, back;
    char js[BASELINE_JSON_MAX];
    int n;

    /* a stable pod publishes its baseline... */
    ta_init(&healthy, &p);
    ck_assert_int_eq(analysis_baseline_summary(&healthy.a, "abc", &s), -ENODATA);
    ta_build_baseline(&healthy, 0.05);
    ck_assert_int_eq(analysis_baseline_summary(&healthy.a, "7d4b9c8f5", &s), 0);
    ck_assert_str_eq(s.revision, "7d4b9c8f5");
    ck_assert_int_eq(s.latency_source, BASELINE_SRC_HISTOGRAM);
    n = baseline_summary_render_json(&s, js, sizeof(js));
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(kube_json_baseline_summary_parse(js, (size_t)n, &back, NULL), 0);
    /* ...and a new pod judges against it from its first interval after warmup */
    ta_init(&x, &p);
    analysis_set_stable_baseline(&x.a, &back);
    for (int i = 0; i < 4; i++)
        ta_interval(&x, 500, 0.01, 0.05);
    ck_assert_int_eq(x.v.outcome, VERDICT_PASS);
    ck_assert_double_eq_tol(ta_ev(&x, ANALYSIS_RULE_LATENCY)->baseline, s.quantile_value, 1e-12);
    ta_interval(&x, 500, 0.01, 0.1);
    ta_interval(&x, 500, 0.01, 0.1);
    ck_assert_int_eq(x.v.outcome, VERDICT_FAIL);
    ck_assert_int_eq(x.v.rule, ANALYSIS_RULE_LATENCY);
    analysis_done(&x.a);
    analysis_done(&healthy.a);
}
END_TEST

START_TEST(test_params_and_reconfigure)
{
    struct ta x;
    struct analysis_params p = ta_params(), q;
    struct analysis a;

    q = p;
    q.interval_ms = 0;
    ck_assert_int_eq(analysis_params_check(&q), -EINVAL);
    q = p;
    q.window_ms = 3700000; /* 370 slots */
    ck_assert_int_eq(analysis_params_check(&q), -EINVAL);
    q = p;
    q.error_rate_max = 1;
    ck_assert_int_eq(analysis_params_check(&q), -EINVAL);
    q = p;
    q.latency_quantile = 0;
    ck_assert_int_eq(analysis_params_check(&q), -EINVAL);
    ck_assert_int_eq(analysis_init(&a, &q, 0), -EINVAL);
    analysis_done(&a);

    ta_init(&x, &p);
    ta_build_baseline(&x, 0.05);
    /* a new threshold keeps every piece of state */
    q = p;
    q.error_rate_max = 0.1;
    ck_assert_int_eq(analysis_set_params(&x.a, &q, x.t), 0);
    ck_assert_uint_gt(baseline_total(&x.a.base)->requests, 0);
    ck_assert_uint_eq(x.a.win.nslots, 6);
    /* a new window rebuilds the rings */
    q.window_ms = 120000;
    ck_assert_int_eq(analysis_set_params(&x.a, &q, x.t), 0);
    ck_assert_uint_eq(x.a.win.nslots, 12);
    ck_assert_uint_eq(baseline_total(&x.a.base)->requests, 0);
    ta_interval(&x, 500, 0.01, 0.05);
    ck_assert_int_ne(x.v.outcome, VERDICT_FAIL);
    ck_assert_uint_lt(analysis_memory(&p), 512 * 1024);
    analysis_done(&x.a);
}
END_TEST

/* ---- JSON
 * ---------------------------------------------------------------------------------------------------
 */

START_TEST(test_verdict_json)
{
    struct ta x;
    struct analysis_params p = ta_params();
    char buf[VERDICT_JSON_MAX], small[64];
    int n;

    ta_init(&x, &p);
    for (int i = 0; i < 5; i++)
        ta_interval(&x, 500, 0.01, 0.05);
    ta_interval(&x, 500, 0.4, 0.05);
    ta_interval(&x, 500, 0.4, 0.05);
    ck_assert_int_eq(x.v.outcome, VERDICT_FAIL);
    n = verdict_render_json(&x.v, buf, sizeof(buf));
    ck_assert_int_gt(n, 0);
    ck_assert_uint_eq(strlen(buf), (size_t)n);
    ck_assert_ptr_nonnull(strstr(buf, "{\"outcome\":\"FAIL\",\"rule\":\"error_rate\""));
    ck_assert_ptr_nonnull(strstr(buf, "\"breaches_in_row\":2,\"breaches_needed\":2"));
    ck_assert_ptr_nonnull(strstr(buf, "\"config_hash\":\"00c0ffee00c0ffee\""));
    ck_assert_ptr_nonnull(strstr(buf, "\"state\":\"breach\",\"source\":\"scrape\""));
    ck_assert_ptr_nonnull(strstr(buf, "\"threshold\":0.05,"));
    /* latency has no baseline: null, not NaN */
    ck_assert_ptr_nonnull(strstr(buf, "\"rule\":\"latency\",\"state\":\"inconclusive\","
                                      "\"source\":\"scrape\",\"value\":"));
    ck_assert_ptr_nonnull(strstr(buf, "\"baseline\":null"));
    ck_assert_ptr_null(strstr(buf, "nan"));
    ck_assert_int_eq(buf[n - 1], '}');

    /* escaping: quote, backslash, newline, tab, control byte, invalid and valid UTF-8 */
    snprintf(x.v.reason, sizeof(x.v.reason), "a\"b\\c\nd\te\001f\xff g\xc3\xa9h");
    snprintf(x.v.config_hash, sizeof(x.v.config_hash), "ab\"cd");
    n = verdict_render_json(&x.v, buf, sizeof(buf));
    ck_assert_int_gt(n, 0);
    ck_assert_ptr_nonnull(
        strstr(buf, "\"reason\":\"a\\\"b\\\\c\\nd\\te\\u0001f\\ufffd g\xc3\xa9h\""));
    ck_assert_ptr_nonnull(strstr(buf, "\"config_hash\":\"ab\\\"cd\""));
    /* truncated UTF-8 at the end of a string */
    snprintf(x.v.reason, sizeof(x.v.reason), "x\xe2\x82");
    n = verdict_render_json(&x.v, buf, sizeof(buf));
    ck_assert_ptr_nonnull(strstr(buf, "\"reason\":\"x\\ufffd\\ufffd\""));
    /* does not fit: -ENOSPC and an empty buffer */
    memset(small, 'z', sizeof(small));
    ck_assert_int_eq(verdict_render_json(&x.v, small, sizeof(small)), -ENOSPC);
    ck_assert_str_eq(small, "");
    ck_assert_int_eq(verdict_render_json(&x.v, small, 0), -ENOSPC);
    analysis_done(&x.a);
}
END_TEST

static struct baseline_summary ta_summary_example(void)
{
    struct baseline_summary s = ta_stable(0.0123);

    s.window_ms = 3540000;
    s.requests = 123457;
    s.errors = 1519;
    s.error_rate = 1519.0 / 123457.0;
    s.p99 = NAN;
    s.exceed = 0.1 + 0.2; /* not exactly representable in %.15g */
    return s;
}

START_TEST(test_summary_json_round_trip)
{
    struct baseline_summary s = ta_summary_example(), back;
    char js[BASELINE_JSON_MAX];
    int n;

    snprintf(s.revision, sizeof(s.revision), "r\"ev\\9\xc3\xa9");
    n = baseline_summary_render_json(&s, js, sizeof(js));
    ck_assert_int_gt(n, 0);
    ck_assert_ptr_nonnull(strstr(js, "\"p99\":null"));
    ck_assert_ptr_nonnull(strstr(js, "\"revision\":\"r\\\"ev\\\\9\xc3\xa9\""));
    ck_assert_int_eq(kube_json_baseline_summary_parse(js, (size_t)n, &back, NULL), 0);
    ck_assert_str_eq(back.revision, s.revision);
    ck_assert_int_eq(back.window_ms, s.window_ms);
    ck_assert_uint_eq(back.requests, s.requests);
    ck_assert_uint_eq(back.errors, s.errors);
    ck_assert(back.error_rate == s.error_rate);
    ck_assert_int_eq(back.latency_source, s.latency_source);
    ck_assert_uint_eq(back.latency_samples, s.latency_samples);
    ck_assert(back.p50 == s.p50 && back.p90 == s.p90 && isnan(back.p99));
    ck_assert(back.quantile == s.quantile && back.quantile_value == s.quantile_value);
    ck_assert(back.threshold == s.threshold && back.exceed == s.exceed);
    /* too small a buffer */
    ck_assert_int_eq(baseline_summary_render_json(&s, js, 40), -ENOSPC);
    ck_assert_str_eq(js, "");
}
END_TEST

static int ta_parse(const char *js, struct baseline_parse_err *err)
{
    struct baseline_summary s;

    return kube_json_baseline_summary_parse(js, strlen(js), &s, err);
}

START_TEST(test_summary_json_strict)
{
    struct baseline_summary s = ta_summary_example(), back;
    char js[BASELINE_JSON_MAX], mod[2 * BASELINE_JSON_MAX];
    struct baseline_parse_err err;
    int n = baseline_summary_render_json(&s, js, sizeof(js));

    ck_assert_int_gt(n, 0);
    /* whitespace and unknown scalar keys are fine; \u escapes decode */
    snprintf(mod, sizeof(mod), " \n{\"future\": [1]%s", js + 1);
    ck_assert_int_eq(ta_parse(mod, &err), -EINVAL);
    ck_assert_str_eq(err.msg, "nested values are not allowed");
    snprintf(mod, sizeof(mod), " \n{\"future\" : true , \"x\":null,\"y\":\"s\",%s\t\n", js + 1);
    ck_assert_int_eq(ta_parse(mod, NULL), 0);
    {
        const char *a = "{\"v\":1,\"revision\":\"a\\u00e9\\ud83d\\ude00\\/\",";
        snprintf(mod, sizeof(mod), "%s%s", a, strstr(js, "\"window_ms\""));
        ck_assert_int_eq(kube_json_baseline_summary_parse(mod, strlen(mod), &back, NULL), 0);
        ck_assert_str_eq(back.revision, "a\xc3\xa9\xf0\x9f\x98\x80/");
    }
    /* the refusals */
    snprintf(mod, sizeof(mod), "%s x", js);
    ck_assert_int_eq(ta_parse(mod, &err), -EINVAL);
    ck_assert_str_eq(err.msg, "trailing bytes after the object");
    snprintf(mod, sizeof(mod), "{\"requests\":1,%s", js + 1);
    ck_assert_int_eq(ta_parse(mod, &err), -EINVAL);
    ck_assert_str_eq(err.msg, "duplicate key \"requests\"");
    ck_assert_int_eq(ta_parse("{}", &err), -EINVAL);
    ck_assert_str_eq(err.msg, "missing key \"v\"");
    ck_assert_int_eq(ta_parse("", &err), -EINVAL);
    ck_assert_int_eq(ta_parse("[1]", &err), -EINVAL);
    ck_assert_int_eq(ta_parse("{\"v\":1,}", &err), -EINVAL);
    ck_assert_int_eq(ta_parse("{\"v\":01}", &err), -EINVAL);
    ck_assert_int_eq(ta_parse("{\"v\":1.}", &err), -EINVAL);
    ck_assert_int_eq(ta_parse("{\"v\":\"a\\x\"}", &err), -EINVAL);
    ck_assert_int_eq(ta_parse("{\"v\":\"a\\ud800\"}", &err), -EINVAL);
    ck_assert_int_eq(ta_parse("{\"v\":\"a\001\"}", &err), -EINVAL);
    ck_assert_int_eq(ta_parse("{\"v\":\"a\xb4\"}", &err), -EINVAL);
    ck_assert_str_eq(err.msg, "invalid UTF-8 in string");
    ck_assert_int_eq(ta_parse("{\"v\":\"a\xe2\x82\"}", &err), -EINVAL);
    ck_assert_int_eq(ta_parse("{\"v\":\"abc", &err), -EINVAL);
    ck_assert_int_eq(ta_parse("{\"v\":2}", &err), -EINVAL);
    ck_assert_str_eq(err.msg, "unsupported version 2");
    ck_assert_int_eq(ta_parse("{\"v\":nul}", &err), -EINVAL);
    /* value checks */
    {
        static const char *const bad[][2] = {
            {"\"errors\":1519", "\"errors\":999999"},
            {"\"requests\":123457", "\"requests\":-1"},
            {"\"requests\":123457", "\"requests\":1.5"},
            {"\"requests\":123457", "\"requests\":99999999999999999999"},
            {"\"q\":0.5", "\"q\":1"},
            {"\"q\":0.5", "\"q\":null"},
            {"\"p50\":0.05", "\"p50\":-0.05"},
            {"\"p50\":0.05", "\"p50\":1e999"},
            {"\"latency_source\":\"histogram\"", "\"latency_source\":\"sketch\""},
            {"\"revision\":\"stable1\"", "\"revision\":5"},
        };
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            char *at = strstr(js, bad[i][0]);
            ck_assert_ptr_nonnull(at);
            snprintf(mod, sizeof(mod), "%.*s%s%s", (int)(at - js), js, bad[i][1],
                     at + strlen(bad[i][0]));
            ck_assert_msg(ta_parse(mod, &err) == -EINVAL, "accepted: %s", bad[i][1]);
        }
    }
    /* a revision longer than the field */
    {
        char longrev[200];
        memset(longrev, 'a', 100);
        longrev[100] = '\0';
        snprintf(mod, sizeof(mod), "{\"revision\":\"%s\"}", longrev);
        ck_assert_int_eq(ta_parse(mod, &err), -EINVAL);
    }
    /* size limit */
    memset(mod, ' ', sizeof(mod));
    memcpy(mod + sizeof(mod) - n - 1, js, (size_t)n);
    mod[sizeof(mod) - 1] = '\0';
    ck_assert_int_eq(ta_parse(mod, &err), -E2BIG);
    /* what jansson alone would let through (a count written -0, an underflow, a long
     * number, a NUL byte), and a name given twice */
    {
        char *p;
        static const char *const bad[][2] = {
            {"\"requests\":123457", "\"requests\":-0"},
            {"\"p50\":0.05", "\"p50\":1e-400"},
            {"\"p50\":0.05", "\"p50\":0.0500000000000000000000000000000000000000000000000000"},
            {"\"p50\":0.05", "\"p50\":0.05,\"x\":1,\"x\":2"}, /* any name twice */
        };
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            char *at = strstr(js, bad[i][0]);
            ck_assert_ptr_nonnull(at);
            snprintf(mod, sizeof(mod), "%.*s%s%s", (int)(at - js), js, bad[i][1],
                     at + strlen(bad[i][0]));
            ck_assert_msg(ta_parse(mod, &err) == -EINVAL, "accepted: %s", bad[i][1]);
        }
        /* a NUL byte after a number (jansson alone skips it) */
        snprintf(mod, sizeof(mod), "%s", js);
        p = strstr(mod, "\"p50\":0.05") + strlen("\"p50\":0.05");
        memmove(p + 1, p, strlen(p) + 1);
        *p = '\0';
        ck_assert_int_eq(kube_json_baseline_summary_parse(mod, (size_t)n + 1, &back, &err),
                         -EINVAL);
        /* -0 in a latency reads as -0.0, as strtod has it */
        p = strstr(js, "\"p50\":0.05");
        snprintf(mod, sizeof(mod), "%.*s\"p50\":-0%s", (int)(p - js), js, p + 10);
        ck_assert_int_eq(ta_parse(mod, NULL), 0);
        ck_assert_int_eq(kube_json_baseline_summary_parse(mod, strlen(mod), &back, NULL), 0);
        ck_assert(back.p50 == 0 && signbit(back.p50));
    }
    /* NaN-able fields accept null, and a NaN error_rate survives */
    s.error_rate = NAN;
    s.requests = s.errors = 0;
    n = baseline_summary_render_json(&s, js, sizeof(js));
    ck_assert_int_eq(kube_json_baseline_summary_parse(js, (size_t)n, &back, NULL), 0);
    ck_assert(isnan(back.error_rate));
}
END_TEST

START_TEST(test_summary_interpolation)
{
    struct baseline_summary s = ta_stable(0.01);

    /* exact points */
    ck_assert_double_eq(baseline_summary_quantile(&s, 0.5), 0.05);
    ck_assert_double_eq(baseline_summary_quantile(&s, 0.9), 0.095);
    ck_assert_double_eq(baseline_summary_exceed(&s, 0.075), 0.21);
    /* between the points, log-linear */
    ck_assert_double_eq_tol(baseline_summary_exceed(&s, 0.095), 0.1, 1e-12);
    {
        double t = 0.085, x = (log(t) - log(0.075)) / (log(0.095) - log(0.075));
        ck_assert_double_eq_tol(baseline_summary_exceed(&s, t), 1 - (0.79 + x * 0.11), 1e-12);
    }
    /* outside: below the lowest point unknown, above the highest its tail */
    ck_assert(isnan(baseline_summary_exceed(&s, 0.01)));
    ck_assert_double_eq_tol(baseline_summary_exceed(&s, 1.0), 0.01, 1e-12);
    ck_assert(isnan(baseline_summary_quantile(&s, 0.1)));
}
END_TEST

/* ---- what the page cannot tell ------------------------------------------------------------- */

/* One interval of deltas carrying the scraper's reasons, then a tick. */
static void ta_interval_problem(struct ta *x, uint64_t req, double err, double median,
                                const char *err_problem, const char *lat_problem)
{
    for (int i = 0; i < 2; i++) {
        struct sample_delta d;
        uint64_t r = req / 2;

        memset(&d, 0, sizeof(d));
        d.valid = true;
        d.span_s = 5;
        d.requests = r;
        d.errors = (uint64_t)llround((double)r * err);
        if (median > 0) {
            d.has_hist = true;
            test_hist_lognormal(&d.hist, r, median);
        }
        snprintf(d.err_problem, sizeof(d.err_problem), "%s", err_problem);
        snprintf(d.lat_problem, sizeof(d.lat_problem), "%s", lat_problem);
        x->t += 5000;
        ck_assert_int_eq(analysis_observe_delta(&x->a, &d, x->t), 0);
    }
    analysis_observe_probe(&x->a, 0.002, true, 0, x->t);
    ta_tick(x);
}

START_TEST(test_unreadable_error_label_is_never_pass)
{
    static const char why[] = "error_label code is on none of the 2 series of http_requests_total; "
                              "labels seen: method, route, status_code";
    struct ta x;
    struct analysis_params p = ta_params();

    ta_init(&x, &p);
    /* 30 % errors the page cannot label: not a FAIL (no evidence), never a PASS */
    for (int i = 0; i < 20; i++) {
        ta_interval_problem(&x, 500, 0.3, 0.05, why, "");
        ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->state, VERDICT_RULE_INCONCLUSIVE);
        ck_assert_str_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->reason, why);
        ck_assert_int_eq(x.v.outcome, VERDICT_INCONCLUSIVE);
    }
    ck_assert_str_eq(x.v.reason, why);
    ck_assert_uint_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->requests, 0); /* not counted */
    /* the label fixed (a reload): the rule judges again */
    for (int i = 0; i < 10; i++)
        ta_interval(&x, 500, 0.01, 0.05);
    ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_ERROR_RATE)->state, VERDICT_RULE_PASS);
    analysis_done(&x.a);
}
END_TEST

START_TEST(test_absent_histogram_never_falls_back_to_probes)
{
    static const char why[] = "latency.histogram app_latency_seconds is not on the page";
    struct ta x;
    struct analysis_params p = ta_params();

    ck_assert_int_eq(p.latency_from, ANALYSIS_LAT_SCRAPE); /* metrics configured */
    ta_init(&x, &p);
    for (int i = 0; i < 130; i++) {
        ta_interval_problem(&x, 500, 0.01, 0, "", why);
        ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_LATENCY)->source, ANALYSIS_SRC_NONE);
        ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_LATENCY)->state, VERDICT_RULE_INCONCLUSIVE);
        ck_assert_str_eq(ta_ev(&x, ANALYSIS_RULE_LATENCY)->reason, why);
        ck_assert_int_ne(x.v.outcome, VERDICT_PASS);
    }
    /* without metrics, probe latency is the source (as before) */
    analysis_done(&x.a);
    p.latency_from = ANALYSIS_LAT_PROBE;
    ta_init(&x, &p);
    ta_interval(&x, 0, 0, 0);
    ta_interval(&x, 0, 0, 0);
    ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_LATENCY)->source, ANALYSIS_SRC_PROBE);
    analysis_done(&x.a);
    /* latency.histogram "": the rule is off, the verdict can PASS on errors alone */
    p.latency_from = ANALYSIS_LAT_OFF;
    ta_init(&x, &p);
    for (int i = 0; i < 6; i++)
        ta_interval(&x, 500, 0.01, 0.05);
    ck_assert_int_eq(ta_ev(&x, ANALYSIS_RULE_LATENCY)->state, VERDICT_RULE_OFF);
    ck_assert_int_eq(x.v.outcome, VERDICT_PASS);
    analysis_done(&x.a);
}
END_TEST

/* One interval of summary deltas (quantile q seconds, req requests). */
static void ta_summary_interval(struct ta *x, uint64_t req, double q)
{
    for (int i = 0; i < 2; i++) {
        struct sample_delta d;

        memset(&d, 0, sizeof(d));
        d.valid = true;
        d.span_s = 5;
        d.requests = req / 2;
        d.has_summary = true;
        d.summary_q = q;
        d.summary_count = req / 2;
        x->t += 5000;
        ck_assert_int_eq(analysis_observe_delta(&x->a, &d, x->t), 0);
    }
    ta_tick(x);
}

START_TEST(test_summary_latency)
{
    struct ta x;
    struct analysis_params p = ta_params();
    const struct verdict_evidence *e;

    ta_init(&x, &p);
    for (int i = 0; i < 6; i++)
        ta_summary_interval(&x, 500, 0.02);
    e = ta_ev(&x, ANALYSIS_RULE_LATENCY);
    ck_assert_int_eq(e->source, ANALYSIS_SRC_SUMMARY);
    ck_assert_str_eq(e->reason, "no baseline (summary)");
    for (int i = 0; i < 120; i++)
        ta_summary_interval(&x, 500, 0.02);
    ck_assert_int_eq(x.v.outcome, VERDICT_PASS);
    e = ta_ev(&x, ANALYSIS_RULE_LATENCY);
    ck_assert_double_eq_tol(e->baseline, 0.02, 1e-9);
    ck_assert_double_eq_tol(e->threshold, 0.03, 1e-9);
    /* 1.2x: never a breach */
    for (int i = 0; i < 20; i++) {
        ta_summary_interval(&x, 500, 0.024);
        ck_assert_int_ne(ta_ev(&x, ANALYSIS_RULE_LATENCY)->state, VERDICT_RULE_BREACH);
    }
    /* 2x: the window's mean passes T after a few intervals, then FAIL */
    for (int i = 0; i < 6 && x.v.outcome != VERDICT_FAIL; i++)
        ta_summary_interval(&x, 500, 0.04);
    ck_assert_int_eq(x.v.outcome, VERDICT_FAIL);
    ck_assert_int_eq(x.v.rule, ANALYSIS_RULE_LATENCY);
    analysis_done(&x.a);
}
END_TEST

START_TEST(test_decision_rate_beside_window)
{
    struct ta x;
    struct analysis_params p = ta_params();
    const struct verdict_evidence *e;
    char sentence[600];

    ta_init(&x, &p);
    ta_build_baseline(&x, 0.05);
    for (int i = 0; i < 6 && x.v.outcome != VERDICT_FAIL; i++)
        ta_interval(&x, 500, 0.2, 0.05);
    ck_assert_int_eq(x.v.outcome, VERDICT_FAIL);
    e = ta_ev(&x, ANALYSIS_RULE_ERROR_RATE);
    /* the decision's span is the fault's; the window still holds healthy slots */
    ck_assert_double_gt(e->decision_value, 0.15);
    ck_assert_double_lt(e->value, e->decision_value);
    ck_assert_double_eq_tol(e->decision_x / e->decision_n, e->decision_value, 1e-12);
    ck_assert_int_eq(e->baseline_from, ANALYSIS_BASE_OWN);
    verdict_render_sentence(&x.v, sentence, sizeof(sentence));
    ck_assert_msg(strstr(sentence, "in the span that decided") && strstr(sentence, "5% limit") &&
                      strstr(sentence, "this pod's history") &&
                      strstr(sentence, "in breach 2 intervals in a row (2 needed)"),
                  "%s", sentence);
    analysis_done(&x.a);
}
END_TEST

Suite *analysis_suite(void)
{
    Suite *s = suite_create("analysis");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_warmup_then_verdicts);
    tcase_add_test(tc, test_error_exactly_at_max_is_not_a_breach);
    tcase_add_test(tc, test_error_min_requests);
    tcase_add_test(tc, test_error_low_rate_under_max_passes);
    tcase_add_test(tc, test_failed_scrape_is_inconclusive_never_fail);
    tcase_add_test(tc, test_consecutive_breaches);
    tcase_add_test(tc, test_breach_streak_resets_on_pass);
    tcase_add_test(tc, test_health_rule);
    tcase_add_test(tc, test_latency_without_baseline_is_inconclusive);
    tcase_add_test(tc, test_latency_rolling_baseline_breach);
    tcase_add_test(tc, test_baseline_skips_breaches_and_freezes);
    tcase_add_test(tc, test_restart_rewarmup);
    tcase_add_test(tc, test_probe_only_traffic);
    tcase_add_test(tc, test_stable_baseline_from_summary);
    tcase_add_test(tc, test_params_and_reconfigure);
    tcase_add_test(tc, test_verdict_json);
    tcase_add_test(tc, test_summary_json_round_trip);
    tcase_add_test(tc, test_summary_json_strict);
    tcase_add_test(tc, test_summary_interpolation);
    tcase_add_test(tc, test_unreadable_error_label_is_never_pass);
    tcase_add_test(tc, test_absent_histogram_never_falls_back_to_probes);
    tcase_add_test(tc, test_summary_latency);
    tcase_add_test(tc, test_decision_rate_beside_window);
    suite_add_tcase(s, tc);
    return s;
}
