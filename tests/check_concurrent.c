/*
 * The release judged against its concurrent control: control_pool (the
 * stable pods' summaries pooled) and the analysis given a control view
 * (baseline precedence, attribution of a FAIL, the verdict's control
 * figures and sentence). Two analyses run on one clock: the control (a
 * stable pod, started long before) and the release (started at the
 * rollout), each fed its own lognormal traffic per interval.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "sidecar/analysis/analysis.h"
#include "sidecar/analysis/control.h"
#include "sidecar/daemon.h"
#include "tests/helpers/test_hist.h"
#include "tests/helpers/test_params.h"

Suite *concurrent_suite(void);

struct pod {
    struct analysis a;
    struct verdict v;
};

struct scene {
    struct analysis_params p;
    struct pod ctl, rel;
    bool rel_on;
    int64_t t, rollout;
};

static struct analysis_params cc_params(void)
{
    return test_default_params();
}

static void cc_feed(struct pod *x, int64_t t, uint64_t req, double err, double median)
{
    struct sample_delta d;

    memset(&d, 0, sizeof(d));
    d.valid = true;
    d.span_s = 5;
    d.requests = req / 2;
    d.errors = (uint64_t)llround((double)d.requests * err);
    d.has_hist = true;
    test_hist_lognormal(&d.hist, d.requests, median);
    ck_assert_int_eq(analysis_observe_delta(&x->a, &d, t), 0);
}

static void cc_init(struct scene *s)
{
    memset(s, 0, sizeof(*s));
    s->p = cc_params();
    ck_assert_int_eq(analysis_init(&s->ctl.a, &s->p, 0), 0);
}

/* The release's pods start now (its warmup too). */
static void cc_rollout(struct scene *s)
{
    ck_assert_int_eq(analysis_init(&s->rel.a, &s->p, s->t), 0);
    s->rel_on = true;
    s->rollout = s->t;
}

/* A view pooled from n copies of the control's summary, taken at the control's last tick. */
static void cc_view(struct scene *s, unsigned n, struct control_view *v)
{
    struct control_summary one[3];

    for (unsigned i = 0; i < n; i++)
        ck_assert_int_eq(analysis_control_summary(&s->ctl.a, s->t, &one[i]), 0);
    ck_assert_int_eq(control_pool(one, n, 3, "5d8f7c9b6d", s->t, s->rollout, v), 0);
}

/*
 * One interval: both pods' traffic (ctl_med/rel_med medians, errors), the
 * control ticks, then the release ticks with the view of the control's
 * previous tick (as a round over the network lags by one interval).
 */
#define CC_NONE 0  /* the release is told there is no control */
#define CC_FRESH 1 /* ... given the view of the control's last tick */
#define CC_KEEP 2  /* ... told nothing new */

static void cc_interval(struct scene *s, double ctl_err, double ctl_med, double rel_err,
                        double rel_med, int with_control)
{
    struct control_view v;
    bool have = false;

    if (with_control == CC_FRESH && s->rel_on && s->ctl.a.control_ok) {
        cc_view(s, 3, &v);
        have = true;
    }
    for (int i = 0; i < 2; i++) {
        s->t += 5000;
        cc_feed(&s->ctl, s->t, 300, ctl_err, ctl_med);
        if (s->rel_on)
            cc_feed(&s->rel, s->t, 300, rel_err, rel_med);
    }
    analysis_tick(&s->ctl.a, s->t, &s->ctl.v);
    if (s->rel_on) {
        if (with_control != CC_KEEP)
            analysis_set_control(&s->rel.a, have ? &v : NULL,
                                 have ? NULL : "not asked in this test");
        analysis_tick(&s->rel.a, s->t, &s->rel.v);
    }
}

static void cc_done(struct scene *s)
{
    analysis_done(&s->ctl.a);
    if (s->rel_on)
        analysis_done(&s->rel.a);
}

/* The control's history, then its summary published for the release. */
static void cc_publish(struct scene *s)
{
    struct baseline_summary b;

    ck_assert_int_eq(analysis_baseline_summary(&s->ctl.a, "5d8f7c9b6d", &b), 0);
    analysis_set_stable_baseline(&s->rel.a, &b);
}

/* ---- control_pool ---------------------------------------------------------------------- */

static struct control_summary cc_sum(uint64_t req, uint64_t err, double lat)
{
    struct control_summary c;

    memset(&c, 0, sizeof(c));
    c.window_ms = 60000;
    c.requests = req;
    c.errors = err;
    c.quantile = 0.5;
    c.latency_source = CONTROL_LAT_HISTOGRAM;
    c.latency_s = c.p50 = lat;
    c.p75 = 1.5 * lat;
    c.p90 = 2 * lat;
    c.p99 = 4 * lat;
    c.margin_share = 0.2;
    c.latency_samples = req;
    c.slow_share = 0.1;
    c.base_error_rate = 0.01;
    c.base_requests = 10 * req;
    c.base_latency_s = lat;
    c.base_margin_share = 0.2;
    return c;
}

START_TEST(test_pool_figures)
{
    struct control_summary s[4] = {cc_sum(100, 1, 0.05), cc_sum(200, 4, 0.07), cc_sum(300, 9, 0.06),
                                   cc_sum(50, 0, 9)};
    struct control_view v;

    s[3].latency_source = CONTROL_LAT_PROBE; /* another source: left out of latency */
    s[1].window_ms = 70000;
    ck_assert_int_eq(control_pool(s, 4, 5, "abc", 1234, 1000, &v), 0);
    ck_assert_uint_eq(v.asked, 5);
    ck_assert_uint_eq(v.answered, 4);
    ck_assert_uint_eq(v.pooled.requests, 650);
    ck_assert_uint_eq(v.pooled.errors, 14);
    ck_assert_double_eq_tol(v.pooled.latency_s, 0.06, 1e-12);
    ck_assert_double_eq_tol(v.pooled.p90, 0.12, 1e-12);
    ck_assert_uint_eq(v.pooled.latency_samples, 600);
    ck_assert_int_eq(v.pooled.window_ms, 70000);
    ck_assert(isnan(v.pooled.slow_share));
    ck_assert(!v.pooled.degraded);
    ck_assert_uint_eq(v.degraded, 0);
    ck_assert_str_eq(v.revision, "abc");
    ck_assert_int_eq(v.taken_ms, 1234);
    ck_assert_int_eq(v.rollout_start_ms, 1000);

    /* even count: the median is the mean of the middle two; unknowns left out */
    s[2].latency_s = NAN;
    ck_assert_int_eq(control_pool(s, 2, 2, "abc", 0, 0, &v), 0);
    ck_assert_double_eq_tol(v.pooled.latency_s, 0.06, 1e-12);
    ck_assert_int_eq(control_pool(s + 2, 1, 1, "abc", 0, 0, &v), 0);
    ck_assert(isnan(v.pooled.latency_s));

    ck_assert_int_eq(control_pool(s, 0, 3, "abc", 0, 0, &v), -ENODATA);
    ck_assert_uint_eq(v.asked, 3);
    ck_assert_uint_eq(v.answered, 0);
}
END_TEST

START_TEST(test_pool_degraded_majority)
{
    struct control_summary s[3] = {cc_sum(100, 1, 0.05), cc_sum(100, 1, 0.05),
                                   cc_sum(100, 1, 0.05)};
    struct control_view v;

    s[0].degraded = true;
    s[0].rule = CONTROL_RULE_LATENCY;
    s[0].degraded_for_ms = 90000;
    ck_assert_int_eq(control_pool(s, 3, 3, "r", 0, 0, &v), 0);
    ck_assert(!v.pooled.degraded); /* one of three: a pod, not the revision */
    ck_assert_uint_eq(v.degraded, 1);
    s[1].degraded = true;
    s[1].rule = CONTROL_RULE_LATENCY;
    s[1].degraded_for_ms = 30000;
    ck_assert_int_eq(control_pool(s, 3, 3, "r", 0, 0, &v), 0);
    ck_assert(v.pooled.degraded);
    ck_assert_int_eq(v.pooled.rule, CONTROL_RULE_LATENCY);
    ck_assert_int_eq(v.pooled.degraded_for_ms, 60000);
    /* one of two is half: degraded */
    ck_assert_int_eq(control_pool(s + 1, 2, 2, "r", 0, 0, &v), 0);
    ck_assert(v.pooled.degraded);
}
END_TEST

/* ---- the analysis with a control -------------------------------------------------------- */

/* No published baseline, no own history yet: the control is the baseline, and blamed on it. */
START_TEST(test_control_is_the_baseline)
{
    struct scene s;
    int fail_at = -1;
    char sentence[900];

    cc_init(&s);
    for (int i = 0; i < 12; i++)
        cc_interval(&s, 0.01, 0.05, 0, 0, CC_NONE);
    cc_rollout(&s);
    for (int i = 0; i < 9 && fail_at < 0; i++) {
        cc_interval(&s, 0.01, 0.05, 0.01, 0.10, CC_FRESH);
        if (s.rel.v.outcome == VERDICT_FAIL)
            fail_at = i;
    }
    ck_assert_msg(fail_at >= 0, "no FAIL: %s", s.rel.v.reason);
    ck_assert_int_le(fail_at, 6); /* 30 s warmup, then a few intervals */
    ck_assert_int_eq(s.rel.v.rule, ANALYSIS_RULE_LATENCY);
    ck_assert_int_eq(s.rel.v.ev[ANALYSIS_RULE_LATENCY].baseline_from, ANALYSIS_BASE_CONTROL);
    ck_assert_double_eq_tol(s.rel.v.ev[ANALYSIS_RULE_LATENCY].baseline, 0.05, 0.01);
    ck_assert(s.rel.v.control.present);
    ck_assert_uint_eq(s.rel.v.control.answered, 3);
    ck_assert_int_eq(s.rel.v.control.decision, ATTRIBUTION_BLAME);
    verdict_render_sentence(&s.rel.v, sentence, sizeof(sentence));
    ck_assert_msg(strstr(sentence, "the stable revision's pods, same minutes") &&
                      strstr(sentence, "the stable revision's 3 pods over the same minutes"),
                  "%s", sentence);
    cc_done(&s);
}
END_TEST

/* The same release without the control: no baseline, so no verdict on latency. */
START_TEST(test_without_control_no_baseline)
{
    struct scene s;

    cc_init(&s);
    for (int i = 0; i < 12; i++)
        cc_interval(&s, 0.01, 0.05, 0, 0, CC_NONE);
    cc_rollout(&s);
    for (int i = 0; i < 9; i++) {
        cc_interval(&s, 0.01, 0.05, 0.01, 0.10, CC_NONE);
        ck_assert_int_ne(s.rel.v.outcome, VERDICT_FAIL);
    }
    ck_assert_str_eq(s.rel.v.ev[ANALYSIS_RULE_LATENCY].reason, "no baseline");
    ck_assert(!s.rel.v.control.present);
    ck_assert_str_eq(s.rel.v.control.reason, "not asked in this test");
    cc_done(&s);
}
END_TEST

/* A healthy release beside a healthy control: PASS, never FAIL. */
START_TEST(test_healthy_release_passes)
{
    struct scene s;

    cc_init(&s);
    for (int i = 0; i < 30; i++)
        cc_interval(&s, 0.01, 0.05, 0, 0, CC_NONE);
    cc_rollout(&s);
    cc_publish(&s);
    for (int i = 0; i < 30; i++) {
        cc_interval(&s, 0.01, 0.05, 0.01, 0.05, CC_FRESH);
        ck_assert_int_ne(s.rel.v.outcome, VERDICT_FAIL);
    }
    ck_assert_int_eq(s.rel.v.outcome, VERDICT_PASS);
    /* latency against the control; errors against the tightest bound: the three control
     * pods' own rolling baselines hold more requests than the published one */
    ck_assert_int_eq(s.rel.v.ev[ANALYSIS_RULE_LATENCY].baseline_from, ANALYSIS_BASE_CONTROL);
    ck_assert_int_eq(s.rel.v.ev[ANALYSIS_RULE_ERROR_RATE].baseline_from, ANALYSIS_BASE_CONTROL);
    cc_done(&s);
}
END_TEST

/* Shared 2x slowdown since before the rollout, published baseline from before it: withheld. */
START_TEST(test_shared_before_rollout_withheld)
{
    struct scene s;
    bool withheld = false;

    cc_init(&s);
    for (int i = 0; i < 30; i++)
        cc_interval(&s, 0.01, 0.05, 0, 0, CC_NONE);
    for (int i = 0; i < 6; i++) /* the shared slowdown: the control degrades */
        cc_interval(&s, 0.01, 0.10, 0, 0, CC_NONE);
    ck_assert(s.ctl.a.degraded);
    cc_rollout(&s);
    {
        struct baseline_summary b;
        /* published before the slowdown: what the Lease holds */
        memset(&b, 0, sizeof(b));
        b.window_ms = 300000;
        b.requests = 9000;
        b.errors = 90;
        b.error_rate = 0.01;
        b.latency_source = BASELINE_SRC_HISTOGRAM;
        b.latency_samples = 9000;
        b.p50 = b.quantile_value = 0.05;
        b.p90 = 0.08;
        b.p99 = 0.12;
        b.quantile = 0.5;
        b.threshold = b.exceed = NAN;
        analysis_set_stable_baseline(&s.rel.a, &b);
    }
    for (int i = 0; i < 12; i++) {
        cc_interval(&s, 0.01, 0.10, 0.01, 0.10, CC_FRESH);
        ck_assert_msg(s.rel.v.outcome != VERDICT_FAIL, "FAIL at %d: %s", i, s.rel.v.reason);
        if (s.rel.v.control.decision == ATTRIBUTION_WITHHOLD) {
            withheld = true;
            ck_assert_int_eq(s.rel.v.outcome, VERDICT_INCONCLUSIVE);
            ck_assert_msg(strstr(s.rel.v.reason, "stable revision degraded too, since before the "
                                                 "rollout") == s.rel.v.reason,
                          "%s", s.rel.v.reason);
            ck_assert(s.rel.v.control.degraded);
            ck_assert_int_lt(s.rel.v.control.degraded_since_ms, 0);
            ck_assert_int_eq(s.rel.v.ev[ANALYSIS_RULE_LATENCY].baseline_from,
                             ANALYSIS_BASE_PUBLISHED);
        }
    }
    ck_assert(withheld);
    cc_done(&s);
}
END_TEST

/* Shared slowdown that begins after the rollout: the release is the prime suspect. */
START_TEST(test_shared_after_rollout_blamed)
{
    struct scene s;
    bool failed = false;
    char sentence[900];

    cc_init(&s);
    for (int i = 0; i < 30; i++)
        cc_interval(&s, 0.01, 0.05, 0, 0, CC_NONE);
    cc_rollout(&s);
    cc_publish(&s);
    for (int i = 0; i < 12; i++) {
        cc_interval(&s, 0.01, 0.05, 0.01, 0.05, CC_FRESH);
        ck_assert_int_ne(s.rel.v.outcome, VERDICT_FAIL);
    }
    for (int i = 0; i < 18 && !failed; i++) {
        cc_interval(&s, 0.01, 0.10, 0.01, 0.10, CC_FRESH);
        failed = s.rel.v.outcome == VERDICT_FAIL;
    }
    ck_assert_msg(failed, "no FAIL: %s", s.rel.v.reason);
    ck_assert_int_eq(s.rel.v.control.decision, ATTRIBUTION_BLAME_SHARED);
    ck_assert_int_gt(s.rel.v.control.degraded_since_ms, 0);
    verdict_render_sentence(&s.rel.v, sentence, sizeof(sentence));
    ck_assert_msg(strstr(sentence, "the stable revision degraded too") &&
                      strstr(sentence, "after the rollout began"),
                  "%s", sentence);
    cc_done(&s);
}
END_TEST

/* Shared 20 % errors before the rollout: the absolute rule breaches, and is withheld. */
START_TEST(test_shared_errors_before_withheld)
{
    struct scene s;
    bool withheld = false;

    cc_init(&s);
    for (int i = 0; i < 30; i++)
        cc_interval(&s, 0.01, 0.05, 0, 0, CC_NONE);
    for (int i = 0; i < 6; i++)
        cc_interval(&s, 0.20, 0.05, 0, 0, CC_NONE);
    ck_assert(s.ctl.a.degraded);
    cc_rollout(&s);
    for (int i = 0; i < 12; i++) {
        cc_interval(&s, 0.20, 0.05, 0.20, 0.05, CC_FRESH);
        ck_assert_msg(s.rel.v.outcome != VERDICT_FAIL, "FAIL at %d: %s", i, s.rel.v.reason);
        withheld |= s.rel.v.control.decision == ATTRIBUTION_WITHHOLD &&
                    s.rel.v.rule == ANALYSIS_RULE_ERROR_RATE;
    }
    ck_assert(withheld);
    cc_done(&s);
}
END_TEST

/* A view older than ANALYSIS_CONTROL_MAX_AGE intervals is not used, and says so. */
START_TEST(test_stale_view_not_used)
{
    struct scene s;
    struct control_view v;

    cc_init(&s);
    for (int i = 0; i < 12; i++)
        cc_interval(&s, 0.01, 0.05, 0, 0, CC_NONE);
    cc_rollout(&s);
    cc_view(&s, 3, &v);
    analysis_set_control(&s.rel.a, &v, NULL);
    for (int i = 0; i < 8; i++)
        cc_interval(&s, 0.01, 0.05, 0.01, 0.10, CC_KEEP);
    ck_assert(!s.rel.v.control.present);
    ck_assert_str_eq(s.rel.v.control.reason, "the control's last summaries are too old");
    ck_assert_int_ne(s.rel.v.outcome, VERDICT_FAIL);
    cc_done(&s);
}
END_TEST

Suite *concurrent_suite(void)
{
    Suite *s = suite_create("concurrent");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_pool_figures);
    tcase_add_test(tc, test_pool_degraded_majority);
    tcase_add_test(tc, test_control_is_the_baseline);
    tcase_add_test(tc, test_without_control_no_baseline);
    tcase_add_test(tc, test_healthy_release_passes);
    tcase_add_test(tc, test_shared_before_rollout_withheld);
    tcase_add_test(tc, test_shared_after_rollout_blamed);
    tcase_add_test(tc, test_shared_errors_before_withheld);
    tcase_add_test(tc, test_stale_view_not_used);
    suite_add_tcase(s, tc);
    return s;
}
