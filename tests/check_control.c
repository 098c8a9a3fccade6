/*
 * Tests for this pod's window as a concurrent control (GET /summary):
 * "degraded since" across a breach streak, the summary's figures against a
 * scripted analysis (the same deltas as tests/check_analysis.c), the JSON
 * rendering (sidecar/analysis/control.c) and the strict reader of a peer's
 * answer (kube_json_control_summary_parse): round trips are exact, and
 * every malformed, inconsistent or hostile document is refused with a
 * reason and leaves *ret alone.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config/cfg.h"
#include "sidecar/analysis/analysis.h"
#include "sidecar/analysis/control.h"
#include "sidecar/daemon.h"
#include "sidecar/kube/kube_json.h"
#include "tests/helpers/test_hist.h"
#include "tests/helpers/test_params.h"

Suite *control_suite(void);

struct tc {
    struct analysis a;
    int64_t t;
    struct verdict v;
};

/* The embedded defaults as the daemon maps them, with a 2-minute rolling baseline. */
static struct analysis_params tc_params(void)
{
    struct analysis_params p = test_default_params();

    p.baseline_window_ms = 30000; /* usable after 7.5 s and 200 requests */
    return p;
}

static void tc_init(struct tc *x, const struct analysis_params *p)
{
    memset(x, 0, sizeof(*x));
    ck_assert_int_eq(analysis_init(&x->a, p, 0), 0);
}

/* One interval: two 5 s scrape deltas of req/2 requests at error rate err, then a tick. */
static void tc_interval(struct tc *x, uint64_t req, double err, double median)
{
    for (int i = 0; i < 2; i++) {
        struct sample_delta d;

        memset(&d, 0, sizeof(d));
        d.valid = true;
        d.span_s = 5;
        d.requests = req / 2;
        d.errors = (uint64_t)llround((double)d.requests * err);
        d.has_hist = true;
        test_hist_lognormal(&d.hist, d.requests, median);
        x->t += 5000;
        ck_assert_int_eq(analysis_observe_delta(&x->a, &d, x->t), 0);
    }
    analysis_tick(&x->a, x->t, &x->v);
}

static struct control_summary tc_summary(const struct tc *x, int64_t now_ms)
{
    struct control_summary s;

    ck_assert_int_eq(analysis_control_summary(&x->a, now_ms, &s), 0);
    return s;
}

/* ---- degraded since -------------------------------------------------------------------- */

START_TEST(test_degraded_since_onset)
{
    struct tc x;
    struct analysis_params p = tc_params();
    struct control_summary s;
    int64_t onset, first = -1, last = -1;

    tc_init(&x, &p);
    for (int i = 0; i < 12; i++)
        tc_interval(&x, 400, 0.01, 0.05);
    s = tc_summary(&x, x.t + 1234);
    ck_assert(!s.degraded);
    ck_assert_int_eq(s.degraded_for_ms, 0);
    ck_assert_int_eq(s.rule, CONTROL_RULE_NONE);

    /*
     * 30 % errors from onset on: degraded from the first breaching tick, dated
     * from the sequential test's change point (the first faulty scrape), not
     * from the tick; later ticks do not move it
     */
    onset = x.t;
    for (int i = 0; i < 6; i++) {
        tc_interval(&x, 400, 0.30, 0.05);
        if (!x.v.breach) {
            ck_assert_int_lt(first, 0);
            continue;
        }
        if (first < 0)
            first = x.t;
        s = tc_summary(&x, x.t + 2500);
        ck_assert(s.degraded);
        ck_assert_int_eq(s.rule, CONTROL_RULE_ERROR_RATE);
        ck_assert_int_eq(s.degraded_for_ms, x.t + 2500 - onset);
    }
    ck_assert_int_gt(first, onset);
    ck_assert_int_eq(x.v.outcome, VERDICT_FAIL);
    ck_assert_int_ge(tc_summary(&x, x.t).degraded_for_ms, 60000);
    /* a clock that reads earlier than the onset never gives a negative span */
    ck_assert_int_eq(tc_summary(&x, onset - 1).degraded_for_ms, 0);

    /* healthy again: degraded until a whole window passed without a breach */
    for (int i = 0; i < 30 && x.v.breach; i++)
        tc_interval(&x, 400, 0.0, 0.05);
    ck_assert(!x.v.breach);
    last = x.t - p.interval_ms; /* the last breaching tick */
    while (x.t - last < (int64_t)p.window_ms) {
        s = tc_summary(&x, x.t);
        ck_assert_msg(s.degraded, "cleared %lld ms after the last breach", (long long)(x.t - last));
        ck_assert_int_eq(s.degraded_for_ms, x.t - onset);
        tc_interval(&x, 400, 0.0, 0.05);
        ck_assert(!x.v.breach);
    }
    s = tc_summary(&x, x.t + 99999);
    ck_assert(!s.degraded);
    ck_assert_int_eq(s.degraded_for_ms, 0);
    ck_assert_int_eq(s.rule, CONTROL_RULE_NONE);

    /* a new episode has a new onset */
    onset = x.t;
    first = -1;
    for (int i = 0; i < 8 && first < 0; i++) {
        tc_interval(&x, 400, 0.40, 0.05);
        if (x.v.breach)
            first = x.t;
    }
    ck_assert_int_ge(first, 0);
    ck_assert_int_eq(tc_summary(&x, first + 7).degraded_for_ms, first + 7 - onset);
    analysis_done(&x.a);
}
END_TEST

START_TEST(test_degraded_by_health)
{
    struct tc x;
    struct analysis_params p = tc_params();
    struct control_summary s;

    tc_init(&x, &p);
    for (int i = 0; i < 5; i++)
        tc_interval(&x, 400, 0.01, 0.05);
    analysis_observe_probe(&x.a, 0.002, false, (int32_t)p.health_failures, x.t);
    tc_interval(&x, 400, 0.01, 0.05);
    ck_assert(x.v.breach);
    s = tc_summary(&x, x.t + 10);
    ck_assert(s.degraded);
    ck_assert_int_eq(s.rule, CONTROL_RULE_HEALTH);
    ck_assert_int_eq(s.degraded_for_ms, 10);
    analysis_done(&x.a);
}
END_TEST

/* ---- the summary's figures --------------------------------------------------------------- */

START_TEST(test_summary_warming_up)
{
    struct tc x;
    struct analysis_params p = tc_params();
    struct control_summary s;
    struct sample_delta reset;

    tc_init(&x, &p);
    ck_assert_int_eq(analysis_control_summary(&x.a, 0, &s), -ENODATA);
    for (int i = 0; i < 2; i++) {
        tc_interval(&x, 400, 0.01, 0.05);
        ck_assert_int_eq(analysis_control_summary(&x.a, x.t, &s), -ENODATA);
    }
    tc_interval(&x, 400, 0.01, 0.05); /* t = 30 s: the warmup is over */
    ck_assert_int_eq(analysis_control_summary(&x.a, x.t, &s), 0);

    /* an app restart warms up again: no summary of a cold app */
    memset(&reset, 0, sizeof(reset));
    reset.valid = true;
    reset.reset = true;
    reset.span_s = 5;
    reset.requests = 10;
    x.t += 5000;
    ck_assert_int_eq(analysis_observe_delta(&x.a, &reset, x.t), 0);
    analysis_tick(&x.a, x.t, &x.v);
    memset(&s, 0x5a, sizeof(s));
    ck_assert_int_eq(analysis_control_summary(&x.a, x.t, &s), -ENODATA);
    ck_assert_int_eq(s.window_ms, (int64_t)0x5a5a5a5a5a5a5a5aLL); /* untouched */
    for (int i = 0; i < 4; i++)
        tc_interval(&x, 400, 0.01, 0.05);
    ck_assert_int_eq(analysis_control_summary(&x.a, x.t, &s), 0);
    analysis_done(&x.a);
}
END_TEST

START_TEST(test_summary_figures)
{
    struct tc x;
    struct analysis_params p = tc_params();
    struct control_summary s;
    const struct verdict_evidence *e, *l;
    const struct window_counts *b;

    tc_init(&x, &p);
    /* 3 warmup intervals, then a baseline (2 min window: usable after 30 s and 200 requests) */
    for (int i = 0; i < 9; i++)
        tc_interval(&x, 400, 0.01, 0.05);
    /* the window: the last six intervals, 2 % errors, twice as slow as the baseline */
    for (int i = 0; i < 6; i++)
        tc_interval(&x, 400, 0.02, 0.10);
    e = &x.v.ev[ANALYSIS_RULE_ERROR_RATE];
    l = &x.v.ev[ANALYSIS_RULE_LATENCY];
    s = tc_summary(&x, x.t + 500);

    /* the verdict's own window, figure for figure */
    ck_assert_int_eq(s.window_ms, x.v.window_ms);
    ck_assert_int_eq(s.window_ms, 60000);
    ck_assert_uint_eq(s.requests, e->requests);
    ck_assert_uint_eq(s.requests, 6 * 400);
    ck_assert_uint_eq(s.errors, 6 * 2 * 4); /* llround(200 * 0.02) per delta */
    ck_assert_double_eq(s.quantile, 0.5);
    ck_assert_int_eq(s.latency_source, CONTROL_LAT_HISTOGRAM);
    ck_assert_uint_eq(s.latency_samples, l->samples);
    ck_assert_uint_eq(s.latency_samples, 6 * 400);
    ck_assert_double_eq(s.latency_s, l->value);
    ck_assert_double_gt(s.latency_s, 0.08);
    ck_assert_double_lt(s.latency_s, 0.12);
    /* slower than T = 1.5 x the baseline: most of a 2x-slower window */
    ck_assert_msg(isfinite(l->threshold), "%s", l->reason);
    ck_assert_double_eq_tol(s.slow_share, l->slow / (double)l->samples, 1e-15);
    ck_assert_double_gt(s.slow_share, 0.5);
    ck_assert_double_le(s.slow_share, 1);
    /* the rolling baseline: the breaching intervals stay out of it */
    b = baseline_total(&x.a.base);
    ck_assert(!isnan(s.base_error_rate));
    ck_assert_double_eq(s.base_error_rate, (double)b->errors / (double)b->requests);
    ck_assert_double_lt(s.base_error_rate, 0.015);
    ck_assert_double_gt(s.base_latency_s, 0.04);
    ck_assert_double_lt(s.base_latency_s, 0.06);
    ck_assert(s.degraded == x.v.breach);
    analysis_done(&x.a);
}
END_TEST

START_TEST(test_summary_unknowns)
{
    struct tc x;
    struct analysis_params p = tc_params();
    struct control_summary s;

    /* before the rolling baseline is usable its figures are unknown; no threshold, no share */
    p.baseline_window_ms = 3600000;
    tc_init(&x, &p);
    for (int i = 0; i < 4; i++)
        tc_interval(&x, 400, 0.01, 0.05);
    s = tc_summary(&x, x.t);
    ck_assert(isnan(s.base_error_rate));
    ck_assert(isnan(s.base_latency_s));
    ck_assert(isnan(s.slow_share));
    ck_assert(!isnan(s.latency_s));
    analysis_done(&x.a);

    /* the latency rule off: source none, no seconds, no samples */
    p = tc_params();
    p.latency_from = ANALYSIS_LAT_OFF;
    tc_init(&x, &p);
    for (int i = 0; i < 4; i++)
        tc_interval(&x, 400, 0.01, 0.05);
    s = tc_summary(&x, x.t);
    ck_assert_int_eq(s.latency_source, CONTROL_LAT_NONE);
    ck_assert(isnan(s.latency_s));
    ck_assert_uint_eq(s.latency_samples, 0);
    ck_assert_uint_eq(s.requests, 1600);
    analysis_done(&x.a);

    /* no metrics: probe latency, no scraped requests */
    p = tc_params();
    p.latency_from = ANALYSIS_LAT_PROBE;
    tc_init(&x, &p);
    for (int i = 0; i < 5; i++) {
        for (int k = 0; k < 10; k++)
            analysis_observe_probe(&x.a, 0.004, true, ANALYSIS_NOT_LIVENESS, x.t + 1000 * k);
        x.t += 10000;
        analysis_tick(&x.a, x.t, &x.v);
    }
    s = tc_summary(&x, x.t);
    ck_assert_int_eq(s.latency_source, CONTROL_LAT_PROBE);
    ck_assert_uint_eq(s.requests, 0);
    ck_assert_uint_eq(s.errors, 0);
    ck_assert_uint_eq(s.latency_samples, 50);
    ck_assert_double_gt(s.latency_s, 0.003);
    ck_assert_double_lt(s.latency_s, 0.005);
    analysis_done(&x.a);
}
END_TEST

/* ---- render and read ------------------------------------------------------------------- */

static struct control_summary tc_example(void)
{
    struct control_summary s;

    memset(&s, 0, sizeof(s));
    s.window_ms = 60000;
    s.requests = 600;
    s.errors = 6;
    s.quantile = 0.5;
    s.latency_s = 0.05;
    s.latency_samples = 600;
    s.latency_source = CONTROL_LAT_HISTOGRAM;
    s.p50 = 0.05;
    s.p75 = 0.07;
    s.p90 = 0.09;
    s.p99 = 0.2;
    s.margin_share = 0.2;
    s.slow_share = 0.21;
    s.base_error_rate = 0.01;
    s.base_requests = 3000;
    s.base_latency_s = 0.049;
    s.base_margin_share = 0.21;
    return s;
}

static bool tc_same_num(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void tc_assert_same(const struct control_summary *a, const struct control_summary *b)
{
    ck_assert_int_eq(a->window_ms, b->window_ms);
    ck_assert_uint_eq(a->requests, b->requests);
    ck_assert_uint_eq(a->errors, b->errors);
    ck_assert(tc_same_num(a->quantile, b->quantile));
    ck_assert(tc_same_num(a->latency_s, b->latency_s));
    ck_assert_uint_eq(a->latency_samples, b->latency_samples);
    ck_assert_int_eq(a->latency_source, b->latency_source);
    ck_assert(tc_same_num(a->slow_share, b->slow_share));
    ck_assert(tc_same_num(a->base_error_rate, b->base_error_rate));
    ck_assert(tc_same_num(a->base_latency_s, b->base_latency_s));
    ck_assert(a->degraded == b->degraded);
    ck_assert_int_eq(a->degraded_for_ms, b->degraded_for_ms);
    ck_assert_int_eq(a->rule, b->rule);
}

static int tc_parse(const char *js, struct control_summary *s, char *rev, char *err)
{
    return kube_json_control_summary_parse(js, strlen(js), s, rev, CONTROL_REVISION_MAX + 1, err,
                                           200);
}

static void tc_round_trip(const struct control_summary *s, const char *revision)
{
    char json[CONTROL_SUMMARY_JSON_MAX], rev[CONTROL_REVISION_MAX + 1], err[200] = "";
    struct control_summary back;
    int n = control_summary_render_json(s, revision, json, sizeof(json));

    ck_assert_int_gt(n, 0);
    ck_assert_uint_eq(strlen(json), (size_t)n);
    ck_assert_msg(tc_parse(json, &back, rev, err) == 0, "%s: %s", json, err);
    tc_assert_same(s, &back);
    ck_assert_str_eq(rev, revision);
}

START_TEST(test_render_shape)
{
    struct control_summary s = tc_example();
    char json[CONTROL_SUMMARY_JSON_MAX];

    ck_assert_int_gt(control_summary_render_json(&s, "7c5d9f8b4", json, sizeof(json)), 0);
    ck_assert_str_eq(
        json,
        "{\"version\":1,\"revision\":\"7c5d9f8b4\",\"window_ms\":60000,"
        "\"requests\":600,\"errors\":6,\"latency\":{\"quantile\":0.5,"
        "\"seconds\":0.05,\"samples\":600,\"source\":\"histogram\","
        "\"p50\":0.05,\"p75\":0.07,\"p90\":0.09,\"p99\":0.2,\"margin_share\":0.2},"
        "\"slow_share\":0.21,\"baseline\":{\"error_rate\":0.01,"
        "\"requests\":3000,\"latency_seconds\":0.049,\"margin_share\":0.21},\"degraded\":false,"
        "\"degraded_for_ms\":0,\"rule\":null}");
    s.latency_s = s.slow_share = s.base_error_rate = s.base_latency_s = NAN;
    s.base_requests = 0;
    s.p90 = NAN;
    s.degraded = true;
    s.degraded_for_ms = 45000;
    s.rule = CONTROL_RULE_LATENCY;
    ck_assert_int_gt(control_summary_render_json(&s, NULL, json, sizeof(json)), 0);
    ck_assert_str_eq(
        json, "{\"version\":1,\"revision\":\"\",\"window_ms\":60000,"
              "\"requests\":600,\"errors\":6,\"latency\":{\"quantile\":0.5,"
              "\"seconds\":null,\"samples\":600,\"source\":\"histogram\","
              "\"p50\":0.05,\"p75\":0.07,\"p90\":null,\"p99\":0.2,\"margin_share\":0.2},"
              "\"slow_share\":null,\"baseline\":{\"error_rate\":null,"
              "\"requests\":0,\"latency_seconds\":null,\"margin_share\":0.21},\"degraded\":true,"
              "\"degraded_for_ms\":45000,\"rule\":\"latency\"}");
}
END_TEST

START_TEST(test_render_refuses)
{
    struct control_summary s = tc_example(), t;
    char json[CONTROL_SUMMARY_JSON_MAX], rev[80];

    memset(rev, 'a', sizeof(rev));
    rev[CONTROL_REVISION_MAX + 1] = '\0';
    ck_assert_int_eq(control_summary_render_json(&s, rev, json, sizeof(json)), -EINVAL);
    ck_assert_str_eq(json, "");
    ck_assert_int_eq(control_summary_render_json(&s, "abc", json, 100), -ENOSPC);
    ck_assert_str_eq(json, "");
#define TC_BAD(field, value)                                                                       \
    do {                                                                                           \
        t = s;                                                                                     \
        t.field = value;                                                                           \
        ck_assert_int_eq(control_summary_render_json(&t, "abc", json, sizeof(json)), -EINVAL);     \
    } while (0)
    TC_BAD(errors, 601);
    TC_BAD(requests, (uint64_t)INT64_MAX + 1);
    TC_BAD(quantile, 1);
    TC_BAD(quantile, NAN);
    TC_BAD(latency_s, INFINITY);
    TC_BAD(latency_s, -0.001);
    TC_BAD(slow_share, 1.01);
    TC_BAD(base_error_rate, -1);
    TC_BAD(window_ms, -1);
    TC_BAD(degraded, true);            /* without a rule */
    TC_BAD(rule, CONTROL_RULE_HEALTH); /* without degraded */
    TC_BAD(degraded_for_ms, 5);        /* without degraded */
    TC_BAD(latency_source, (enum control_latency_source)9);
    TC_BAD(p99, -1);
    TC_BAD(p50, INFINITY);
    TC_BAD(latency_source, CONTROL_LAT_SUMMARY); /* points from a summary's series */
#undef TC_BAD
    t = s;
    t.latency_source = CONTROL_LAT_NONE;
    ck_assert_int_eq(control_summary_render_json(&t, "abc", json, sizeof(json)), -EINVAL);
    t.latency_samples = 0;
    t.latency_s = NAN;
    ck_assert_int_eq(control_summary_render_json(&t, "abc", json, sizeof(json)), -EINVAL);
    t.p50 = t.p75 = t.p90 = t.p99 = t.margin_share = NAN;
    ck_assert_int_gt(control_summary_render_json(&t, "abc", json, sizeof(json)), 0);
}
END_TEST

START_TEST(test_round_trip_exact)
{
    struct control_summary s = tc_example();

    tc_round_trip(&s, "7c5d9f8b4");
    tc_round_trip(&s, "");
    s.latency_s = 0.1 + 0.2; /* 0.30000000000000004 */
    s.slow_share = 1.0 / 3;
    s.base_error_rate = 5e-324; /* the smallest denormal */
    s.base_latency_s = 1.7976931348623157e308;
    tc_round_trip(&s, "a.b-9");
    s.requests = s.errors = s.latency_samples = (uint64_t)INT64_MAX;
    s.window_ms = INT64_MAX;
    s.degraded = true;
    s.degraded_for_ms = INT64_MAX;
    s.rule = CONTROL_RULE_ERROR_RATE;
    s.quantile = 0.999;
    tc_round_trip(&s, "x");
    s = tc_example();
    s.latency_s = s.slow_share = s.base_error_rate = s.base_latency_s = NAN;
    s.base_requests = 0;
    s.p50 = s.p75 = s.p90 = s.p99 = s.margin_share = NAN;
    s.requests = s.errors = s.latency_samples = 0;
    s.window_ms = 0;
    s.latency_source = CONTROL_LAT_NONE;
    tc_round_trip(&s, "0123456789012345678901234567890123456789012345678901234567890ab");
    for (int src = CONTROL_LAT_HISTOGRAM; src <= CONTROL_LAT_PROBE; src++) {
        s = tc_example();
        s.latency_source = (enum control_latency_source)src;
        if (src == CONTROL_LAT_SUMMARY)
            s.p50 = s.p75 = s.p90 = s.p99 = s.margin_share = NAN;
        s.quantile = 0.99;
        tc_round_trip(&s, "h");
    }
}
END_TEST

/* The valid document, field by field, so a case can drop or replace one. */
static const char *const tc_fields[] = {
    "\"version\":1",
    "\"revision\":\"7c5d9f8b4\"",
    "\"window_ms\":60000",
    "\"requests\":600",
    "\"errors\":6",
    "\"latency\":{\"quantile\":0.5,\"seconds\":0.05,\"samples\":600,\"source\":\"histogram\","
    "\"p50\":0.05,\"p75\":0.07,\"p90\":0.09,\"p99\":0.2,\"margin_share\":0.2}",
    "\"slow_share\":0.21",
    "\"baseline\":{\"error_rate\":0.01,\"requests\":3000,\"latency_seconds\":0.049,\"margin_"
    "share\":0.21}",
    "\"degraded\":false",
    "\"degraded_for_ms\":0",
    "\"rule\":null",
};
#define TC_NFIELDS ((int)(sizeof(tc_fields) / sizeof(tc_fields[0])))

/* The document with field i replaced by with (NULL: dropped); i = -1 changes nothing. */
static const char *tc_doc(int i, const char *with)
{
    static char doc[8192];
    size_t n = 0;
    bool first = true;

    doc[n++] = '{';
    for (int k = 0; k < TC_NFIELDS; k++) {
        const char *f = k == i ? with : tc_fields[k];
        if (!f)
            continue;
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s%s", first ? "" : ",", f);
        first = false;
    }
    snprintf(doc + n, sizeof(doc) - n, "}");
    return doc;
}

static int tc_field(const char *prefix)
{
    for (int k = 0; k < TC_NFIELDS; k++)
        if (!strncmp(tc_fields[k], prefix, strlen(prefix)))
            return k;
    ck_abort_msg("no field %s", prefix);
    return -1;
}

/* js must be refused with a message containing want; *ret and the revision left alone. */
static void tc_refused(const char *js, size_t len, const char *want)
{
    struct control_summary s;
    char rev[CONTROL_REVISION_MAX + 1] = "untouched", err[200] = "";
    int r;

    memset(&s, 0x5a, sizeof(s));
    r = kube_json_control_summary_parse(js, len, &s, rev, sizeof(rev), err, sizeof(err));
    ck_assert_msg(r == -EINVAL, "accepted (%d): %.300s", r, js);
    ck_assert_msg(strstr(err, want) != NULL, "%.200s: error \"%s\", want \"%s\"", js, err, want);
    ck_assert_int_eq(s.window_ms, (int64_t)0x5a5a5a5a5a5a5a5aLL);
    ck_assert_str_eq(rev, "untouched");
}

static void tc_refused_doc(int i, const char *with, const char *want)
{
    const char *js = tc_doc(i, with);

    tc_refused(js, strlen(js), want);
}

START_TEST(test_reader_accepts)
{
    struct control_summary s, want = tc_example();
    char rev[CONTROL_REVISION_MAX + 1], err[200];
    char doc[4200];

    ck_assert_int_eq(tc_parse(tc_doc(-1, NULL), &s, rev, err), 0);
    tc_assert_same(&s, &want);
    ck_assert_str_eq(rev, "7c5d9f8b4");
    /* unknown fields are ignored (at the root and inside), whatever their type */
    snprintf(doc, sizeof(doc), "{\"future\":{\"a\":[1,{\"b\":null}]},\"note\":\"x\",%s",
             tc_doc(tc_field("\"latency\""),
                    "\"latency\":{\"p95\":1,\"quantile\":0.5,\"seconds\":0.05,\"samples\":600,"
                    "\"source\":\"histogram\",\"p50\":0.05,\"p75\":0.07,\"p90\":0.09,\"p99\":0.2,"
                    "\"margin_share\":0.2}") +
                 1);
    ck_assert_msg(tc_parse(doc, &s, rev, err) == 0, "%s", err);
    tc_assert_same(&s, &want);
    /* whitespace and key order do not matter; integers are read for numbers */
    ck_assert_int_eq(
        tc_parse("{ \"rule\" : null , \"degraded_for_ms\":0,\"degraded\":false,"
                 "\"baseline\":{\"latency_seconds\":0,\"error_rate\":1,\"requests\":7,"
                 "\"margin_share\":0},"
                 "\"slow_share\":0,\"latency\":{\"source\":\"probe\",\"samples\":0,"
                 "\"seconds\":2,\"quantile\":0.9,\"p50\":null,\"p75\":null,\"p90\":null,"
                 "\"p99\":null,\"margin_share\":null},\"errors\":0,\"requests\":0,"
                 "\"window_ms\":0,\"revision\":\"\",\"version\":1}\n",
                 &s, rev, err),
        0);
    ck_assert_double_eq(s.latency_s, 2);
    ck_assert_double_eq(s.base_error_rate, 1);
    ck_assert_int_eq(s.latency_source, CONTROL_LAT_PROBE);
    ck_assert_str_eq(rev, "");
    /* -0 reads as 0 */
    ck_assert_int_eq(
        tc_parse(tc_doc(tc_field("\"slow_share\""), "\"slow_share\":-0.0"), &s, rev, err), 0);
    ck_assert(!signbit(s.slow_share));
    /* degraded with its rule; the caller may leave the revision out */
    {
        const char *js = "{\"version\":1,\"revision\":\"r\",\"window_ms\":1,\"requests\":1,"
                         "\"errors\":1,\"latency\":{\"quantile\":0.5,\"seconds\":null,"
                         "\"samples\":0,\"source\":\"none\",\"p50\":null,\"p75\":null,\"p90\":null,"
                         "\"p99\":null,\"margin_share\":null},\"slow_share\":null,"
                         "\"baseline\":{\"error_rate\":null,\"requests\":0,\"latency_seconds\":"
                         "null,\"margin_share\":null},"
                         "\"degraded\":true,\"degraded_for_ms\":70000,\"rule\":\"health\"}";
        ck_assert_int_eq(
            kube_json_control_summary_parse(js, strlen(js), &s, NULL, 0, err, sizeof(err)), 0);
        ck_assert(s.degraded);
        ck_assert_int_eq(s.rule, CONTROL_RULE_HEALTH);
        ck_assert_int_eq(s.degraded_for_ms, 70000);
        ck_assert_int_eq(s.latency_source, CONTROL_LAT_NONE);
    }
}
END_TEST

START_TEST(test_reader_version_and_fields)
{
    int lat = tc_field("\"latency\""), base = tc_field("\"baseline\"");

    tc_refused_doc(0, "\"version\":2", "version 2");
    tc_refused_doc(0, "\"version\":0", "version 0");
    tc_refused_doc(0, "\"version\":\"1\"", "version: expected an integer");
    tc_refused_doc(0, "\"version\":1.0", "version: expected an integer");
    tc_refused_doc(0, "\"version\":null", "version: null");
    /* every field is required */
    for (int k = 0; k < TC_NFIELDS; k++) {
        char want[64];
        const char *colon = strchr(tc_fields[k], ':');

        snprintf(want, sizeof(want), "%.*s: missing", (int)(colon - tc_fields[k] - 2),
                 tc_fields[k] + 1);
        tc_refused_doc(k, NULL, want);
    }
    tc_refused_doc(lat, "\"latency\":{\"quantile\":0.5,\"seconds\":0.05,\"source\":\"histogram\"}",
                   "latency.samples: missing");
    tc_refused_doc(lat, "\"latency\":{\"seconds\":0.05,\"samples\":600,\"source\":\"histogram\"}",
                   "latency.quantile: missing");
    tc_refused_doc(lat, "\"latency\":{\"quantile\":0.5,\"samples\":600,\"source\":\"histogram\"}",
                   "latency.seconds: missing");
    tc_refused_doc(lat, "\"latency\":{\"quantile\":0.5,\"seconds\":0.05,\"samples\":600}",
                   "latency.source: missing");
    tc_refused_doc(base, "\"baseline\":{\"error_rate\":0.01,\"requests\":3000}",
                   "baseline.latency_seconds: missing");
    tc_refused_doc(base, "\"baseline\":{\"error_rate\":0.01,\"latency_seconds\":0.01}",
                   "baseline.requests: missing");
    /* the requests behind the rate: exactly when there is a rate */
    tc_refused_doc(base,
                   "\"baseline\":{\"error_rate\":0.01,\"requests\":0,\"latency_seconds\":1,"
                   "\"margin_share\":null}",
                   "baseline: requests 0 with an error rate");
    tc_refused_doc(base,
                   "\"baseline\":{\"error_rate\":null,\"requests\":5,\"latency_seconds\":1,"
                   "\"margin_share\":null}",
                   "baseline: requests without an error rate");
    tc_refused_doc(base, "\"baseline\":{\"latency_seconds\":0.01}", "baseline.error_rate: missing");
    /* types */
    tc_refused_doc(lat, "\"latency\":null", "latency: null");
    tc_refused_doc(lat, "\"latency\":[]", "latency: expected an object");
    tc_refused_doc(base, "\"baseline\":0.01", "baseline: expected an object");
    tc_refused_doc(tc_field("\"requests\""), "\"requests\":600.0", "requests: expected an integer");
    tc_refused_doc(tc_field("\"requests\""), "\"requests\":\"600\"", "requests: expected an int");
    tc_refused_doc(tc_field("\"requests\""), "\"requests\":null", "requests: null");
    tc_refused_doc(tc_field("\"errors\""), "\"errors\":true", "errors: expected an integer");
    tc_refused_doc(tc_field("\"slow_share\""), "\"slow_share\":\"0.2\"",
                   "slow_share: expected a number or null");
    tc_refused_doc(lat,
                   "\"latency\":{\"quantile\":null,\"seconds\":0.05,\"samples\":600,"
                   "\"source\":\"histogram\"}",
                   "latency.quantile: null");
    tc_refused_doc(tc_field("\"degraded\""), "\"degraded\":0", "degraded: expected a boolean");
    tc_refused_doc(tc_field("\"degraded\""), "\"degraded\":\"false\"", "degraded: expected a bool");
    tc_refused_doc(tc_field("\"revision\""), "\"revision\":7", "revision: expected a string");
    tc_refused_doc(tc_field("\"rule\""), "\"rule\":1", "rule: expected a string or null");
    tc_refused_doc(tc_field("\"rule\""), "\"rule\":\"cpu\"", "rule: not error_rate");
    tc_refused_doc(lat,
                   "\"latency\":{\"quantile\":0.5,\"seconds\":0.05,\"samples\":600,"
                   "\"source\":\"otel\"}",
                   "latency.source: not none");
    /* a duplicate key is ambiguous: refused, not last-one-wins */
    tc_refused_doc(tc_field("\"errors\""), "\"errors\":6,\"errors\":0", "duplicate");
}
END_TEST

START_TEST(test_reader_ranges)
{
    int lat = tc_field("\"latency\""), base = tc_field("\"baseline\"");

    tc_refused_doc(tc_field("\"requests\""), "\"requests\":-1", "requests: -1 out of range");
    tc_refused_doc(tc_field("\"errors\""), "\"errors\":-6", "errors: -6 out of range");
    tc_refused_doc(tc_field("\"window_ms\""), "\"window_ms\":-60000", "window_ms: -60000 out");
    tc_refused_doc(tc_field("\"degraded_for_ms\""), "\"degraded_for_ms\":-1", "out of range");
    tc_refused_doc(tc_field("\"errors\""), "\"errors\":601", "errors: 601 above requests 600");
    tc_refused_doc(tc_field("\"requests\""), "\"requests\":18446744073709551615", "invalid JSON");
    tc_refused_doc(tc_field("\"slow_share\""), "\"slow_share\":1.5",
                   "slow_share: 1.5 out of range");
    tc_refused_doc(tc_field("\"slow_share\""), "\"slow_share\":-0.1", "out of range");
    tc_refused_doc(
        base, "\"baseline\":{\"error_rate\":-0.01,\"latency_seconds\":0.049,\"margin_share\":0.21}",
        "baseline.error_rate: -0.01 out of range");
    tc_refused_doc(base,
                   "\"baseline\":{\"error_rate\":0.01,\"requests\":3000,\"latency_seconds\":-1}",
                   "baseline.latency_seconds: -1 out of range");
    tc_refused_doc(lat,
                   "\"latency\":{\"quantile\":0.5,\"seconds\":-0.05,\"samples\":600,"
                   "\"source\":\"histogram\"}",
                   "latency.seconds: -0.05 out of range");
    tc_refused_doc(lat,
                   "\"latency\":{\"quantile\":1,\"seconds\":0.05,\"samples\":600,"
                   "\"source\":\"histogram\"}",
                   "latency.quantile: 1 out of range");
    tc_refused_doc(lat,
                   "\"latency\":{\"quantile\":0,\"seconds\":0.05,\"samples\":600,"
                   "\"source\":\"histogram\"}",
                   "latency.quantile: 0 out of range");
    tc_refused_doc(lat,
                   "\"latency\":{\"quantile\":0.5,\"seconds\":0.05,\"samples\":-600,"
                   "\"source\":\"histogram\"}",
                   "latency.samples: -600 out of range");
    /* NaN-like: JSON has no NaN or infinity; an overflowing literal is no number either */
    tc_refused_doc(tc_field("\"slow_share\""), "\"slow_share\":NaN", "invalid JSON");
    tc_refused_doc(tc_field("\"slow_share\""), "\"slow_share\":\"NaN\"", "expected a number");
    tc_refused_doc(lat,
                   "\"latency\":{\"quantile\":0.5,\"seconds\":Infinity,\"samples\":600,"
                   "\"source\":\"histogram\"}",
                   "invalid JSON");
    tc_refused_doc(lat,
                   "\"latency\":{\"quantile\":0.5,\"seconds\":1e400,\"samples\":600,"
                   "\"source\":\"histogram\"}",
                   "invalid JSON");
    tc_refused_doc(base, "\"baseline\":{\"error_rate\":-Infinity,\"latency_seconds\":0}",
                   "invalid JSON");
    /* consistency */
    tc_refused_doc(tc_field("\"degraded\""), "\"degraded\":true", "rule: null while degraded");
    tc_refused_doc(tc_field("\"rule\""), "\"rule\":\"latency\"", "rule: set while not degraded");
    tc_refused_doc(tc_field("\"degraded_for_ms\""), "\"degraded_for_ms\":5",
                   "degraded_for_ms: nonzero while not degraded");
    tc_refused_doc(lat,
                   "\"latency\":{\"quantile\":0.5,\"seconds\":null,\"samples\":5,"
                   "\"source\":\"none\"}",
                   "source none");
    tc_refused_doc(lat,
                   "\"latency\":{\"quantile\":0.5,\"seconds\":0.1,\"samples\":0,"
                   "\"source\":\"none\"}",
                   "source none");
}
END_TEST

START_TEST(test_reader_hostile)
{
    char big[CONTROL_SUMMARY_READ_MAX + 64], deep[256];
    const char *valid = tc_doc(-1, NULL);
    size_t n;

    /* oversize: refused before parsing, though it would be valid */
    n = (size_t)snprintf(big, sizeof(big), "{\"pad\":\"");
    while (n < CONTROL_SUMMARY_READ_MAX - strlen(valid) + 5)
        big[n++] = 'x';
    n += (size_t)snprintf(big + n, sizeof(big) - n, "\",%s", valid + 1);
    ck_assert_uint_gt(n, CONTROL_SUMMARY_READ_MAX);
    tc_refused(big, n, "more than 4096");
    /* at the cap it is read */
    {
        struct control_summary s;
        char err[200];
        size_t cut = n - CONTROL_SUMMARY_READ_MAX;

        memmove(big + 8, big + 8 + cut, n - 8 - cut);
        ck_assert_int_eq(kube_json_control_summary_parse(big, CONTROL_SUMMARY_READ_MAX, &s, NULL, 0,
                                                         err, sizeof(err)),
                         0);
    }
    /* not UTF-8: in the revision, in an unknown field, outside strings */
    tc_refused_doc(tc_field("\"revision\""), "\"revision\":\"7c5d\xff\"", "not UTF-8");
    tc_refused_doc(tc_field("\"revision\""), "\"revision\":\"7c\xc0\xaf\"", "not UTF-8");
    tc_refused_doc(tc_field("\"rule\""), "\"rule\":null,\"x\":\"\xed\xa0\x80\"", "not UTF-8");
    tc_refused_doc(tc_field("\"rule\""), "\"rule\":null\xfe", "not UTF-8");
    /* a NUL byte anywhere (jansson would skip one after a number) */
    {
        const char *doc = tc_doc(-1, NULL);
        const char *comma = strchr(strstr(doc, "\"requests\":"), ',');
        size_t len = strlen(doc), k = (size_t)(comma - doc);
        char nul[4096];

        ck_assert_uint_lt(len + 1, sizeof(nul));
        memcpy(nul, doc, k);
        nul[k] = '\0';
        memcpy(nul + k + 1, doc + k, len - k);
        tc_refused(nul, len + 1, "a NUL byte");
    }
    /* nesting: the document itself is 2 deep; unknown values may add up to 4 in all */
    tc_refused_doc(tc_field("\"rule\""), "\"rule\":null,\"x\":[[[[1]]]]", "nested deeper than 4");
    memset(deep, '[', 200);
    snprintf(deep + 200, sizeof(deep) - 200, "]");
    tc_refused(deep, strlen(deep), "nested deeper");
    {
        struct control_summary s;
        char err[200];
        const char *ok = tc_doc(tc_field("\"rule\""), "\"rule\":null,\"x\":[[\"[[[[\"]]");

        ck_assert_msg(
            kube_json_control_summary_parse(ok, strlen(ok), &s, NULL, 0, err, sizeof(err)) == 0,
            "%s", err);
    }
    /* a revision that is not a label value */
    tc_refused_doc(tc_field("\"revision\""), "\"revision\":\"-abc\"", "not a label value");
    tc_refused_doc(tc_field("\"revision\""), "\"revision\":\"abc.\"", "not a label value");
    tc_refused_doc(tc_field("\"revision\""), "\"revision\":\"a b\"", "not a label value");
    tc_refused_doc(tc_field("\"revision\""), "\"revision\":\"a/b\"", "not a label value");
    tc_refused_doc(tc_field("\"revision\""), "\"revision\":\"a\\\"b\"", "not a label value");
    tc_refused_doc(tc_field("\"revision\""), "\"revision\":\"\\u00e9t\\u00e9\"",
                   "not a label value");
    tc_refused_doc(tc_field("\"revision\""), "\"revision\":\"a\\u0000b\"", "invalid JSON");
    tc_refused_doc(tc_field("\"revision\""),
                   "\"revision\":\"0123456789012345678901234567890123456789012345678901234567890abc"
                   "\"",
                   "longer than 63");
    /* not a document of this shape at all */
    tc_refused("", 0, "invalid JSON");
    tc_refused("[]", 2, "expected a JSON object");
    tc_refused("1", 1, "invalid JSON");
    tc_refused("\"summary\"", 9, "invalid JSON");
    tc_refused("{}", 2, "version: missing");
    tc_refused("{\"version\":1}", 13, "revision: missing");
    n = strlen(valid);
    tc_refused(valid, n - 1, "invalid JSON"); /* cut */
    memcpy(big, valid, n);
    memcpy(big + n, "{}", 2);
    tc_refused(big, n + 2, "invalid JSON"); /* trailing bytes */
    memcpy(big + n, "\0", 1);
    tc_refused(big, n + 1, "a NUL byte"); /* a NUL after the document */
    /* the caller's revision buffer must hold it */
    {
        struct control_summary s;
        char rev[4] = "abc", err[200];

        ck_assert_int_eq(
            kube_json_control_summary_parse(valid, n, &s, rev, sizeof(rev), err, sizeof(err)),
            -EINVAL);
        ck_assert_str_eq(rev, "abc");
        ck_assert_ptr_nonnull(strstr(err, "revision"));
    }
    ck_assert_int_eq(kube_json_control_summary_parse(NULL, 0, NULL, NULL, 0, NULL, 0), -EINVAL);
}
END_TEST

/* What the analysis produces, rendered and read back, is what it produced. */
START_TEST(test_analysis_round_trip)
{
    struct tc x;
    struct analysis_params p = tc_params();

    tc_init(&x, &p);
    for (int i = 0; i < 24; i++) {
        tc_interval(&x, 400 + 37 * (uint64_t)i, i >= 14 && i < 19 ? 0.3 : 0.013,
                    i >= 10 ? 0.07 : 0.05);
        if (i >= 2) {
            struct control_summary s = tc_summary(&x, x.t + 333);
            tc_round_trip(&s, "7c5d9f8b4");
        }
    }
    analysis_done(&x.a);
}
END_TEST

Suite *control_suite(void)
{
    Suite *s = suite_create("control");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_degraded_since_onset);
    tcase_add_test(tc, test_degraded_by_health);
    tcase_add_test(tc, test_summary_warming_up);
    tcase_add_test(tc, test_summary_figures);
    tcase_add_test(tc, test_summary_unknowns);
    tcase_add_test(tc, test_render_shape);
    tcase_add_test(tc, test_render_refuses);
    tcase_add_test(tc, test_round_trip_exact);
    tcase_add_test(tc, test_reader_accepts);
    tcase_add_test(tc, test_reader_version_and_fields);
    tcase_add_test(tc, test_reader_ranges);
    tcase_add_test(tc, test_reader_hostile);
    tcase_add_test(tc, test_analysis_round_trip);
    suite_add_tcase(s, tc);
    return s;
}
