/*
 * Tests for probes/scrape.c: spec validation, series selection and summing,
 * error matching, selectors, the Prometheus/Linkerd/Istio/OpenMetrics pages
 * under tests/data, histogram validation, and deltas with counter resets.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/promre.h"
#include "probes/scrape.h"
#include "tests/helpers/test_data.h"

Suite *scrape_suite(void); /* registered by the runner */

static struct promtext_err E;

static void spec(struct scrape_spec *s, const char *metric, const char *label, const char *match,
                 const char *selector, const char *hist, double scale)
{
    int r = scrape_spec_init(s, metric, label, match, selector, hist, scale, &E);

    ck_assert_msg(r == 0, "spec_init: %s", E.msg);
}

/* scrape_job in steps of budget bytes must end exactly as scrape_extract did. */
static void same_in_steps(const struct scrape_spec *s, const char *page, const char *ct,
                          size_t budget, int want, const struct scrape_totals *t)
{
    struct scrape_job *j;
    struct scrape_totals t2;
    struct promtext_err e2;
    int r;

    memset(&t2, 0x5a, sizeof(t2));
    memset(&e2, 0, sizeof(e2));
    ck_assert_int_eq(scrape_job_new(s, page, strlen(page), ct, &j), 0);
    while ((r = scrape_job_step(j, budget, &t2, &e2)) == SCRAPE_MORE)
        ;
    ck_assert_int_eq(scrape_job_step(j, budget, &t2, &e2), r); /* done stays done */
    scrape_job_free(j);
    ck_assert_int_eq(r, want);
    if (want == 0)
        ck_assert_msg(memcmp(t, &t2, sizeof(t2)) == 0, "stepped totals differ (budget %zu)",
                      budget);
    else
        ck_assert_msg(!strcmp(E.msg, e2.msg) && E.line == e2.line && E.column == e2.column,
                      "stepped error differs: '%s' vs '%s'", E.msg, e2.msg);
}

static struct scrape_totals extract_ok(const struct scrape_spec *s, const char *page,
                                       const char *ct)
{
    struct scrape_totals t;
    int r;

    memset(&t, 0, sizeof(t));
    memset(&E, 0, sizeof(E));
    r = scrape_extract(s, page, strlen(page), ct, &t, &E);
    ck_assert_msg(r == 0, "extract: %d at %u:%u: %s", r, E.line, E.column, E.msg);
    same_in_steps(s, page, ct, 1, 0, &t);
    same_in_steps(s, page, ct, 40, 0, &t);
    return t;
}

static void extract_bad(const struct scrape_spec *s, const char *page, int want, const char *what)
{
    struct scrape_totals t;
    int r;

    memset(&t, 0x5a, sizeof(t));
    memset(&E, 0, sizeof(E));
    r = scrape_extract(s, page, strlen(page), NULL, &t, &E);
    ck_assert_msg(r == want, "extract returned %d, want %d (%s)", r, want, E.msg);
    ck_assert_msg(strstr(E.msg, what), "message '%s' lacks '%s'", E.msg, what);
    ck_assert_uint_eq(t.hist_n, 0x5a5a5a5a); /* *ret untouched on failure */
    same_in_steps(s, page, NULL, 1, want, NULL);
}

static bool near(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(1.0, fabs(b));
}

/* ---- spec ---------------------------------------------------------------------------------- */

START_TEST(test_spec_init)
{
    struct scrape_spec s;

    spec(&s, "http_requests_total", "code", "5..", NULL, "http_request_duration_seconds", 0);
    ck_assert_str_eq(s.base, "http_requests");
    ck_assert(s.unit_scale == 0); /* auto: decided on the page (UNIT line, then the name) */
    ck_assert_uint_eq(s.nmatchers, 0);
    ck_assert(!s.metric_auto);
    ck_assert_uint_eq(s.nlabels, 1);
    ck_assert_uint_eq(s.nhists, 1);
    spec(&s, "response_total", "classification", "failure", "", "response_latency_ms", 0);
    ck_assert_str_eq(s.base, "response");
    spec(&s, "reqs", "code", "5..", NULL, "istio_request_duration_milliseconds", 0);
    ck_assert_str_eq(s.base, "reqs");
    ck_assert_str_eq(s.histogram, "istio_request_duration_milliseconds");
    spec(&s, "reqs", "code", "5..", NULL, "lat_seconds", 0.001); /* explicit beats the name */
    ck_assert(s.unit_scale == 0.001);
    spec(&s, "auto", "auto", "5..", NULL, "auto", 0);
    ck_assert(s.metric_auto);
    ck_assert_str_eq(s.metric, "http_requests_total");
    ck_assert_uint_eq(s.nlabels, 5);
    ck_assert_str_eq(s.labels[0], "code");
    ck_assert_str_eq(s.labels[4], "http_response_status_code");
    ck_assert_uint_eq(s.nhists, 6);
    ck_assert_str_eq(s.hists[0], "http_request_duration_seconds");
    scrape_spec_tune(&s, SCRAPE_FLAVOUR_OTEL, 0.9);
    ck_assert_uint_eq(s.nlabels, 2);
    ck_assert_str_eq(s.labels[0], "http_response_status_code");
    ck_assert_uint_eq(s.nhists, 4);
    ck_assert_str_eq(s.hists[0], "http_server_request_duration_seconds");
    ck_assert(s.quantile == 0.9);
    spec(&s, "reqs", "code", "5..", NULL, NULL, 0);
    ck_assert_str_eq(s.histogram, "");

    ck_assert_int_eq(scrape_spec_init(&s, "", "code", "5..", NULL, NULL, 1, &E), -EINVAL);
    ck_assert_ptr_nonnull(strstr(E.msg, "requests.metric"));
    ck_assert_int_eq(scrape_spec_init(&s, NULL, "code", "5..", NULL, NULL, 1, &E), -EINVAL);
    ck_assert_int_eq(scrape_spec_init(&s, "m", "", "5..", NULL, NULL, 1, &E), -EINVAL);
    ck_assert_int_eq(scrape_spec_init(&s, "m", "code", "", NULL, NULL, 1, &E), -EINVAL);
    ck_assert_int_eq(scrape_spec_init(&s, "m", "code", NULL, NULL, NULL, 1, &E), -EINVAL);
    ck_assert_int_eq(scrape_spec_init(&s, "m", "code", "5..|", NULL, NULL, 1, &E), -EINVAL);
    ck_assert_int_eq(scrape_spec_init(&s, "m", "code", "5..", NULL, NULL, -1, &E), -EINVAL);
    ck_assert_int_eq(scrape_spec_init(&s, "m", "code", "5..", NULL, NULL, NAN, &E), -EINVAL);
    {
        char longname[SCRAPE_NAME_MAX + 1];

        memset(longname, 'a', SCRAPE_NAME_MAX);
        longname[SCRAPE_NAME_MAX] = '\0';
        ck_assert_int_eq(scrape_spec_init(&s, longname, "code", "5..", NULL, NULL, 1, &E), -EINVAL);
        longname[SCRAPE_NAME_MAX - 1] = '\0';
        spec(&s, longname, "code", "5..", NULL, NULL, 1);
    }
}
END_TEST

START_TEST(test_selector_parse)
{
    struct scrape_spec s;

    spec(&s, "m", "code", "5..", " direction = \"inbound\" , code!=\"404\", odd_label=\"a\\\"b\" ",
         NULL, 1);
    ck_assert_uint_eq(s.nmatchers, 3);
    ck_assert_str_eq(s.matchers[0].label, "direction");
    ck_assert_str_eq(s.matchers[0].value, "inbound");
    ck_assert(!s.matchers[0].negate);
    ck_assert_str_eq(s.matchers[1].label, "code");
    ck_assert(s.matchers[1].negate);
    ck_assert_str_eq(s.matchers[2].label, "odd_label");
    ck_assert_str_eq(s.matchers[2].value, "a\"b");
    spec(&s, "m", "code", "5..", "reporter=\"destination\"", NULL, 1);
    ck_assert_uint_eq(s.nmatchers, 1);
    spec(&s, "m", "code", "5..", "a=\"\"", NULL, 1);
    ck_assert_uint_eq(s.matchers[0].value_len, 0);

#define SEL_BAD(sel, col, what)                                                                    \
    do {                                                                                           \
        memset(&E, 0, sizeof(E));                                                                  \
        ck_assert_int_eq(scrape_spec_init(&s, "m", "code", "5..", sel, NULL, 1, &E), -EINVAL);     \
        ck_assert_msg(E.column == (col), "%s: column %u, want %u (%s)", sel, E.column,             \
                      (unsigned)(col), E.msg);                                                     \
        ck_assert_msg(strstr(E.msg, what), "%s: '%s' lacks '%s'", sel, E.msg, what);               \
    } while (0)
    SEL_BAD("direction", 10, "expected '=' or '!='");
    SEL_BAD("direction=inbound", 11, "expected '\"'");
    SEL_BAD("direction=\"inbound", 11, "unterminated");
    SEL_BAD("a=~\"x\"", 2, "regular expression");
    SEL_BAD("a!~\"x\"", 2, "regular expression");
    SEL_BAD("a=\"x\" b=\"y\"", 7, "expected ','");
    SEL_BAD("9a=\"x\"", 1, "expected a label name");
    SEL_BAD("a=\"\\q\"", 4, "invalid escape");
    /* config/selector's grammar, the one cfg validation uses: no braces, no quoted
       label names, no \n escape, no tabs, no trailing comma */
    SEL_BAD("{a=\"x\"}", 1, "expected a label name");
    SEL_BAD("\"odd.label\"=\"x\"", 1, "expected a label name");
    SEL_BAD("a=\"\\n\"", 4, "invalid escape");
    SEL_BAD("a=\"x\",\tb=\"y\"", 7, "expected a label name");
    SEL_BAD("a=\"x\",", 7, "expected a matcher after");
    SEL_BAD("a=\"1\",b=\"2\",c=\"3\",d=\"4\",e=\"5\",f=\"6\",g=\"7\",h=\"8\",i=\"9\"", 49,
            "more than 8");
#undef SEL_BAD
}
END_TEST

/* Whether value matches pattern as error_match means it (config/promre.h). */
static bool pm(const char *pattern, const char *value)
{
    regex_t re;
    char why[160];
    bool hit;

    ck_assert_msg(promre_compile(pattern, &re, why, sizeof(why)) == 0, "%s: %s", pattern, why);
    hit = promre_match(&re, value, strlen(value));
    regfree(&re);
    return hit;
}

START_TEST(test_pattern)
{
    char why[160];

    ck_assert(pm("5..", "500"));
    ck_assert(pm("5..", "503"));
    ck_assert(!pm("5..", "50"));
    ck_assert(!pm("5..", "5000"));
    ck_assert(!pm("5..", "404"));
    ck_assert(!pm("5..", ""));
    ck_assert(pm("5..|429", "429"));
    ck_assert(pm("5..|429", "599"));
    ck_assert(!pm("5..|429", "428"));
    ck_assert(pm("failure", "failure"));
    ck_assert(!pm("failure", "failures"));
    ck_assert(!pm("failure", "success"));
    /* what an SRE writes, meaning what PromQL's =~ means */
    ck_assert(pm("5.*", "5"));
    ck_assert(pm("5.*", "503"));
    ck_assert(!pm("5.*", "404"));
    ck_assert(pm("5[0-9]{2}", "504"));
    ck_assert(!pm("5[0-9]{2}", "5040"));
    ck_assert(pm("5\\d\\d", "502"));
    ck_assert(!pm("5\\d\\d", "5x2"));
    ck_assert(pm("(?:5..|429)", "429"));
    ck_assert(pm("5.+?", "500"));
    ck_assert(pm("SERVER_ERROR", "SERVER_ERROR"));
    ck_assert(!pm("5xx", "500")); /* a literal, as in PromQL; the reading flags it (below) */
    ck_assert(pm("5xx", "5xx"));
    /* refused at load, with a reason */
    ck_assert_int_eq(promre_check("(?i)5..", why, sizeof(why)), -EINVAL);
    ck_assert(strstr(why, "not supported"));
    ck_assert_int_eq(promre_check("5[0-9", why, sizeof(why)), -EINVAL);
    ck_assert_int_eq(promre_check("5..)", why, sizeof(why)), -EINVAL);
    ck_assert_int_eq(promre_check("\\b5..", why, sizeof(why)), -EINVAL);
    ck_assert_int_eq(promre_check("", why, sizeof(why)), -EINVAL);
}
END_TEST

/* ---- extract ------------------------------------------------------------------------------- */

START_TEST(test_prometheus_page)
{
    struct scrape_spec s;
    struct scrape_totals t;
    size_t len;
    char *page = test_read_data("prometheus_go.prom", &len);
    static const double le[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, INFINITY};
    static const double cum[] = {310,  704,  1550, 1950, 2160, 2340,
                                 2385, 2400, 2400, 2400, 2400, 2400};

    spec(&s, "http_requests_total", "code", "5..", NULL, "http_request_duration_seconds", 0);
    t = extract_ok(&s, page, "text/plain; version=0.0.4; charset=utf-8");
    ck_assert(t.requests == 2400);
    ck_assert(t.errors == 40);
    ck_assert_uint_eq(t.series, 5);
    ck_assert(t.has_start_time && t.start_time == 1712345000.12);
    ck_assert(!t.has_created);
    ck_assert(t.has_hist);
    ck_assert_uint_eq(t.hist_n, 12);
    for (unsigned i = 0; i < 12; i++) {
        ck_assert_msg(t.hist_le[i] == le[i], "le[%u] = %g", i, t.hist_le[i]);
        ck_assert_msg(t.hist_cum[i] == cum[i], "cum[%u] = %g", i, t.hist_cum[i]);
    }
    ck_assert(t.hist_count == 2400);
    ck_assert(near(t.hist_sum, 79.75));

    /* the same page through a selector: only POST */
    spec(&s, "http_requests_total", "code", "5..", "method=\"POST\"",
         "http_request_duration_seconds", 1);
    t = extract_ok(&s, page, NULL);
    ck_assert(t.requests == 400);
    ck_assert(t.errors == 10);
    ck_assert(t.hist_count == 400);
    ck_assert(t.hist_cum[1] == 4);

    /* != and a label the histogram lacks (absent reads as "") */
    spec(&s, "http_requests_total", "code", "5..", "code!=\"404\"", "http_request_duration_seconds",
         1);
    t = extract_ok(&s, page, NULL);
    ck_assert(t.requests == 2380);
    ck_assert(t.hist_count == 2400);
    spec(&s, "http_requests_total", "code", "5..", "code=\"\"", "http_request_duration_seconds", 1);
    extract_bad(&s, page, -ENOENT, "requests.metric http_requests_total is not on the page");

    /* error series by alternatives */
    spec(&s, "http_requests_total", "code", "404|5..", NULL, NULL, 1);
    t = extract_ok(&s, page, NULL);
    ck_assert(t.errors == 60);
    ck_assert(!t.has_hist);
    free(page);
}
END_TEST

START_TEST(test_linkerd_page)
{
    struct scrape_spec s;
    struct scrape_totals t;
    size_t len;
    char *page = test_read_data("linkerd_proxy.prom", &len);

    spec(&s, "response_total", "classification", "failure", "direction=\"inbound\"",
         "response_latency_ms", 0);
    t = extract_ok(&s, page, "text/plain; version=0.0.4");
    ck_assert(t.requests == 1200);
    ck_assert(t.errors == 20);
    ck_assert_uint_eq(t.series, 2);
    ck_assert(t.has_start_time && t.start_time == 1712345056);
    ck_assert_uint_eq(t.hist_n, 26);
    ck_assert(near(t.hist_le[0], 0.001));
    ck_assert(near(t.hist_le[2], 0.003));
    ck_assert(near(t.hist_le[24], 50.0));
    ck_assert(isinf(t.hist_le[25]));
    ck_assert(t.hist_cum[0] == 120);
    ck_assert(t.hist_cum[2] == 702);
    ck_assert(t.hist_cum[5] == 1115);
    ck_assert(t.hist_cum[25] == 1200);
    ck_assert(t.hist_count == 1200);
    ck_assert(t.hist_sum == 4693);

    /* without the selector, outbound traffic joins in */
    spec(&s, "response_total", "classification", "failure", NULL, "response_latency_ms", 0);
    t = extract_ok(&s, page, NULL);
    ck_assert(t.requests == 1500);
    ck_assert(t.errors == 20);
    ck_assert(t.hist_count == 1500);
    free(page);
}
END_TEST

START_TEST(test_istio_page)
{
    struct scrape_spec s;
    struct scrape_totals t;
    size_t len;
    char *page = test_read_data("istio_envoy.prom", &len);
    static const double cum[] = {101, 605, 3014, 4222, 4842, 5000, 5042, 5052};

    spec(&s, "istio_requests_total", "response_code", "5..", "reporter=\"destination\"",
         "istio_request_duration_milliseconds", 0.001);
    t = extract_ok(&s, page, "text/plain");
    ck_assert(t.requests == 5052);
    ck_assert(t.errors == 40);
    ck_assert_uint_eq(t.series, 3);
    ck_assert(!t.has_start_time);
    ck_assert_uint_eq(t.hist_n, 20);
    for (unsigned i = 0; i < 8; i++)
        ck_assert_msg(t.hist_cum[i] == cum[i], "cum[%u] = %g", i, t.hist_cum[i]);
    ck_assert(t.hist_cum[19] == 5052);
    ck_assert(near(t.hist_le[0], 0.0005));
    ck_assert(near(t.hist_le[17], 1800.0)); /* le="1.8e+06" ms */
    ck_assert(near(t.hist_le[18], 3600.0));
    ck_assert(t.hist_count == 5052);

    spec(&s, "istio_requests_total", "response_code", "5..", "reporter=\"source\"",
         "istio_request_duration_milliseconds", 0.001);
    t = extract_ok(&s, page, NULL);
    ck_assert(t.requests == 7 && t.errors == 7);
    free(page);
}
END_TEST

START_TEST(test_openmetrics_page)
{
    struct scrape_spec s;
    struct scrape_totals t;
    size_t len;
    char *page = test_read_data("openmetrics_python.om", &len);

    spec(&s, "http_requests_total", "code", "5..", NULL, "http_request_duration_seconds", 0);
    t = extract_ok(&s, page, "application/openmetrics-text; version=1.0.0; charset=utf-8");
    ck_assert(t.requests == 835);
    ck_assert(t.errors == 15);
    ck_assert(t.has_created && t.created == 1712345020.1); /* the min of both series */
    ck_assert(t.hist_has_created && t.hist_created == 1712345020.1);
    ck_assert(t.has_start_time && t.start_time == 1712345000.01);
    ck_assert_uint_eq(t.hist_n, 4);
    ck_assert(t.hist_cum[1] == 700);
    /* no Content-Type: detected from # EOF */
    t = extract_ok(&s, page, NULL);
    ck_assert(t.requests == 835);
    /* the counter named without _total selects the same series */
    spec(&s, "http_requests", "code", "5..", NULL, NULL, 1);
    t = extract_ok(&s, page, NULL);
    ck_assert(t.requests == 835);
    /* a 0.0.4 Content-Type on an OpenMetrics body: the exemplar is a syntax error */
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(scrape_extract(&s, page, len, "text/plain; version=0.0.4", &t, &E), -EINVAL);
    ck_assert_uint_eq(E.line, 5);
    free(page);
}
END_TEST

START_TEST(test_spellings)
{
    struct scrape_spec s;
    struct scrape_totals t;

    /* configured with _total, exposed without (an old client), and vice versa */
    spec(&s, "jobs_total", "status", "fail", NULL, NULL, 1);
    t = extract_ok(&s, "jobs{status=\"ok\"} 3\njobs{status=\"fail\"} 1\n", NULL);
    ck_assert(t.requests == 4 && t.errors == 1);
    spec(&s, "jobs", "status", "fail", NULL, NULL, 1);
    t = extract_ok(&s, "jobs_total{status=\"ok\"} 3\n", NULL);
    ck_assert(t.requests == 3 && t.errors == 0);
    /* similar names are not the metric */
    t = extract_ok(&s, "jobs_total 1\njobs_totals 5\njobs_created 7\nxjobs 9\njob 11\n", NULL);
    ck_assert(t.requests == 1);
    ck_assert(t.has_created && t.created == 7);
    /* quoted UTF-8 name with an escape; escaped error label value */
    spec(&s, "my.jobs", "st\"x", "fa.l", NULL, NULL, 1);
    t = extract_ok(&s, "{\"my.jobs\",\"st\\\"x\"=\"fa\\\\l\"} 2\n{\"my.j\\\\obs\"} 5\n", NULL);
    ck_assert(t.requests == 2 && t.errors == 2);
    /* the error label absent: not an error */
    spec(&s, "jobs", "status", "5..", NULL, NULL, 1);
    t = extract_ok(&s, "jobs 3\n", NULL);
    ck_assert(t.requests == 3 && t.errors == 0);
}
END_TEST

START_TEST(test_absent_and_malformed)
{
    struct scrape_spec s;

    spec(&s, "http_requests_total", "code", "5..", NULL, "lat", 1);
    /* HELP/TYPE without samples: the client has not counted anything yet */
    extract_bad(&s, "# HELP http_requests_total x\n# TYPE http_requests_total counter\n", -ENOENT,
                "no sample");
    extract_bad(&s, "", -ENOENT, "no sample");
    extract_bad(&s, "other 1\n", -ENOENT, "no sample");
    extract_bad(&s, "http_requests_total 1\nbad line\n", -EINVAL, "invalid value");
    ck_assert_uint_eq(E.line, 2);
    ck_assert_uint_eq(E.column, 5);
    extract_bad(&s, "http_requests_total NaN\n", -EINVAL, "invalid value");
    ck_assert_uint_eq(E.line, 1);
    extract_bad(&s, "http_requests_total -1\n", -EINVAL, "request counter");
    extract_bad(&s, "http_requests_total +Inf\n", -EINVAL, "request counter");
    extract_bad(&s, "http_requests_total 1\nprocess_start_time_seconds NaN\n", -EINVAL,
                "process_start_time_seconds");
}
END_TEST

START_TEST(test_histogram_validation)
{
    struct scrape_spec s;
    struct scrape_totals t;

    spec(&s, "r", "code", "5..", NULL, "lat", 1);
    /* fine, and bounds given in another order and spelling get merged and sorted */
    t = extract_ok(&s,
                   "r 1\n# TYPE lat histogram\n"
                   "lat_bucket{a=\"1\",le=\"+Inf\"} 5\nlat_bucket{a=\"1\",le=\"0.5\"} 2\n"
                   "lat_bucket{le=\"5e-1\",a=\"2\"} 1\nlat_bucket{a=\"2\",le=\"+Inf\"} 1\n"
                   "lat_count{a=\"1\"} 5\nlat_count{a=\"2\"} 1\nlat_sum{a=\"1\"} 2\n",
                   NULL);
    ck_assert_uint_eq(t.hist_n, 2);
    ck_assert(t.hist_le[0] == 0.5 && t.hist_cum[0] == 3);
    ck_assert(isinf(t.hist_le[1]) && t.hist_cum[1] == 6);
    ck_assert(t.hist_count == 6 && t.hist_sum == 2);
    /* untyped page: le read from the label */
    t = extract_ok(&s, "r 1\nlat_bucket{le=\"1\"} 1\nlat_bucket{le=\"+Inf\"} 2\nlat_count 2\n",
                   NULL);
    ck_assert_uint_eq(t.hist_n, 2);
    /* absent histogram is no error */
    t = extract_ok(&s, "r 1\n", NULL);
    ck_assert(!t.has_hist);
    ck_assert_uint_eq(t.hist_n, 0);

    extract_bad(&s, "r 1\nlat_bucket{le=\"1\"} 1\nlat_count 1\n", -EINVAL, "no +Inf bucket");
    {
        /* _count and _sum alone (an untyped summary without quantiles) is no histogram,
         * but no broken page either: the latency rule says why, errors stay readable */
        struct scrape_totals only = extract_ok(&s, "r 1\nlat_count 1\n", NULL);

        ck_assert(!only.has_hist);
        ck_assert_ptr_nonnull(strstr(only.rd.lat_problem, "no buckets or quantiles"));
    }
    extract_bad(&s, "r 1\nlat_bucket{le=\"+Inf\"} 2\n", -EINVAL, "no _count");
    extract_bad(&s, "r 1\nlat_bucket{le=\"+Inf\"} 2\nlat_count 3\n", -EINVAL,
                "differs from _count");
    extract_bad(&s, "r 1\nlat_bucket{le=\"1\"} 3\nlat_bucket{le=\"+Inf\"} 2\nlat_count 2\n",
                -EINVAL, "is below");
    extract_bad(&s,
                "r 1\nlat_bucket{a=\"1\",le=\"1\"} 1\nlat_bucket{a=\"1\",le=\"+Inf\"} 2\n"
                "lat_bucket{a=\"2\",le=\"2\"} 1\nlat_bucket{a=\"2\",le=\"+Inf\"} 2\nlat_count 4\n",
                -EINVAL, "different bucket bounds");
    extract_bad(&s, "r 1\nlat_bucket{le=\"x\"} 1\n", -EINVAL, "without a valid le");
    extract_bad(&s, "r 1\nlat_bucket 1\n", -EINVAL, "without a valid le");
    extract_bad(&s, "r 1\nlat_bucket{le=\"1\"} -1\n", -EINVAL, "histogram bucket");
    extract_bad(&s, "r 1\nlat_bucket{le=\"+Inf\"} 1\nlat_count NaN\n", -EINVAL, "_count");
    {
        /* SAMPLE_MAX_BUCKETS bounds are fine, one more is not */
        char page[8192];
        size_t o = (size_t)sprintf(page, "r 1\n");

        for (int i = 1; i < SAMPLE_MAX_BUCKETS; i++)
            o += (size_t)sprintf(page + o, "lat_bucket{le=\"%d\"} %d\n", i, i);
        o += (size_t)sprintf(page + o, "lat_bucket{le=\"+Inf\"} 100\nlat_count 100\n");
        t = extract_ok(&s, page, NULL);
        ck_assert_uint_eq(t.hist_n, SAMPLE_MAX_BUCKETS);
        sprintf(page + o, "lat_bucket{le=\"1000\"} 100\n");
        extract_bad(&s, page, -EINVAL, "more than 64 bucket bounds");
    }
}
END_TEST

/* ---- delta --------------------------------------------------------------------------------- */

static struct scrape_totals totals(double req, double err)
{
    struct scrape_totals t;

    memset(&t, 0, sizeof(t));
    t.requests = req;
    t.errors = err;
    t.series = 1;
    return t;
}

static void set_hist(struct scrape_totals *t, unsigned n, const double *le, const double *cum)
{
    t->has_hist = true;
    t->hist_n = n;
    for (unsigned i = 0; i < n; i++) {
        t->hist_le[i] = le[i];
        t->hist_cum[i] = cum[i];
    }
    t->hist_count = cum[n - 1];
}

START_TEST(test_delta_plain)
{
    struct scrape_totals p = totals(100, 5), c = totals(150, 8);
    struct sample_delta d;

    scrape_delta(&p, &c, 5.0, &d);
    ck_assert(d.valid);
    ck_assert(!d.reset);
    ck_assert(d.span_s == 5.0);
    ck_assert_uint_eq(d.requests, 50);
    ck_assert_uint_eq(d.errors, 3);
    ck_assert(!d.has_hist);

    scrape_delta(&p, &p, 5.0, &d); /* nothing happened */
    ck_assert(d.valid && !d.reset);
    ck_assert_uint_eq(d.requests, 0);
    ck_assert_uint_eq(d.errors, 0);
}
END_TEST

START_TEST(test_delta_reset_by_drop)
{
    struct scrape_totals p = totals(1000, 50), c = totals(30, 2);
    struct sample_delta d;

    scrape_delta(&p, &c, 10, &d);
    ck_assert(d.reset);
    ck_assert_uint_eq(d.requests, 30);
    ck_assert_uint_eq(d.errors, 2);

    /* no errors at all: the request counter alone tells */
    p = totals(1000, 0);
    c = totals(30, 0);
    scrape_delta(&p, &c, 10, &d);
    ck_assert(d.reset);
    ck_assert_uint_eq(d.requests, 30);
    ck_assert_uint_eq(d.errors, 0);

    /* only the errors dropped: the counter family restarted as a whole */
    p = totals(100, 50);
    c = totals(120, 3);
    scrape_delta(&p, &c, 10, &d);
    ck_assert(d.reset);
    ck_assert_uint_eq(d.requests, 120);
    ck_assert_uint_eq(d.errors, 3);
}
END_TEST

START_TEST(test_delta_reset_by_start_time)
{
    struct scrape_totals p = totals(100, 5), c = totals(150, 8);
    struct sample_delta d;

    p.has_start_time = c.has_start_time = true;
    p.start_time = 1712345000;
    c.start_time = 1712345000;
    scrape_delta(&p, &c, 10, &d);
    ck_assert(!d.reset);
    ck_assert_uint_eq(d.requests, 50);
    /* restarted and already past the old value: only the start time tells */
    c.start_time = 1712345990;
    scrape_delta(&p, &c, 10, &d);
    ck_assert(d.reset);
    ck_assert_uint_eq(d.requests, 150);
    ck_assert_uint_eq(d.errors, 8);
    /* one side without the gauge: no conclusion from it */
    c.has_start_time = false;
    scrape_delta(&p, &c, 10, &d);
    ck_assert(!d.reset);
    ck_assert_uint_eq(d.requests, 50);
}
END_TEST

START_TEST(test_delta_reset_by_created)
{
    struct scrape_totals p = totals(100, 5), c = totals(150, 8);
    struct sample_delta d;

    p.has_created = c.has_created = true;
    p.created = c.created = 1712000000;
    scrape_delta(&p, &c, 10, &d);
    ck_assert(!d.reset);
    ck_assert_uint_eq(d.requests, 50);
    c.created = 1712000500;
    scrape_delta(&p, &c, 10, &d);
    ck_assert(d.reset);
    ck_assert_uint_eq(d.requests, 150);
    ck_assert_uint_eq(d.errors, 8);
}
END_TEST

START_TEST(test_delta_histogram)
{
    static const double le[] = {0.1, 0.5, INFINITY};
    static const double pc[] = {10, 30, 40}, cc[] = {15, 45, 62};
    struct scrape_totals p = totals(100, 0), c = totals(122, 1);
    struct sample_delta d;

    set_hist(&p, 3, le, pc);
    set_hist(&c, 3, le, cc);
    scrape_delta(&p, &c, 10, &d);
    ck_assert(!d.reset);
    ck_assert(d.has_hist);
    ck_assert_uint_eq(d.hist.n, 3);
    ck_assert(d.hist.le[0] == 0.1 && d.hist.le[1] == 0.5 && isinf(d.hist.le[2]));
    /* cumulative increases 5, 15, 22 -> per bucket 5, 10, 7 */
    ck_assert_uint_eq(d.hist.count[0], 5);
    ck_assert_uint_eq(d.hist.count[1], 10);
    ck_assert_uint_eq(d.hist.count[2], 7);

    /* the histogram appears for the first time: all of it is new, no reset */
    p.has_hist = false;
    p.hist_n = 0;
    scrape_delta(&p, &c, 10, &d);
    ck_assert(!d.reset);
    ck_assert_uint_eq(d.hist.count[0], 15);
    ck_assert_uint_eq(d.hist.count[1], 30);
    ck_assert_uint_eq(d.hist.count[2], 17);

    /* histogram gone from cur: no histogram in the delta */
    set_hist(&p, 3, le, pc);
    c.has_hist = false;
    c.hist_n = 0;
    scrape_delta(&p, &c, 10, &d);
    ck_assert(!d.has_hist);
    ck_assert_uint_eq(d.hist.n, 0);
}
END_TEST

START_TEST(test_delta_histogram_reset_as_unit)
{
    static const double le[] = {0.1, 0.5, INFINITY};
    static const double pc[] = {10, 30, 40};
    struct scrape_totals p = totals(100, 0), c = totals(110, 0);
    struct sample_delta d;

    set_hist(&p, 3, le, pc);
    {
        /* _count dropped: every bucket restarts, even one that grew */
        static const double cc[] = {12, 14, 20};

        set_hist(&c, 3, le, cc);
        scrape_delta(&p, &c, 10, &d);
        ck_assert(d.reset);
        ck_assert_uint_eq(d.requests, 10); /* the request counter did not reset */
        ck_assert_uint_eq(d.hist.count[0], 12);
        ck_assert_uint_eq(d.hist.count[1], 2);
        ck_assert_uint_eq(d.hist.count[2], 6);
    }
    {
        /* one bucket dropped while _count grew */
        static const double cc[] = {5, 35, 45};

        set_hist(&c, 3, le, cc);
        scrape_delta(&p, &c, 10, &d);
        ck_assert(d.reset);
        ck_assert_uint_eq(d.hist.count[0], 5);
        ck_assert_uint_eq(d.hist.count[1], 30);
        ck_assert_uint_eq(d.hist.count[2], 10);
    }
    {
        /* bounds changed (a new build): take cur */
        static const double le2[] = {0.2, 0.5, INFINITY}, cc[] = {20, 40, 50};

        set_hist(&c, 3, le2, cc);
        scrape_delta(&p, &c, 10, &d);
        ck_assert(d.reset);
        ck_assert(d.hist.le[0] == 0.2);
        ck_assert_uint_eq(d.hist.count[0], 20);
        ck_assert_uint_eq(d.hist.count[2], 10);
    }
    {
        /* histogram _created moved */
        static const double cc[] = {11, 31, 41};

        set_hist(&c, 3, le, cc);
        p.hist_has_created = c.hist_has_created = true;
        p.hist_created = 1;
        c.hist_created = 2;
        scrape_delta(&p, &c, 10, &d);
        ck_assert(d.reset);
        ck_assert_uint_eq(d.hist.count[0], 11);
        c.hist_created = 1;
        scrape_delta(&p, &c, 10, &d);
        ck_assert(!d.reset);
        ck_assert_uint_eq(d.hist.count[0], 1);
        ck_assert_uint_eq(d.hist.count[1], 0);
        ck_assert_uint_eq(d.hist.count[2], 0);
    }
    {
        /* a process restart resets the histogram too */
        static const double cc[] = {11, 31, 41};

        set_hist(&c, 3, le, cc);
        p.has_start_time = c.has_start_time = true;
        p.start_time = 1;
        c.start_time = 2;
        scrape_delta(&p, &c, 10, &d);
        ck_assert(d.reset);
        ck_assert_uint_eq(d.requests, 110);
        ck_assert_uint_eq(d.hist.count[0], 11);
        ck_assert_uint_eq(d.hist.count[2], 10);
    }
}
END_TEST

START_TEST(test_delta_rounding)
{
    struct scrape_totals p = totals(100.4, 5), c = totals(105.2, 20);
    struct sample_delta d;

    /* errors never exceed requests; fractional counters round */
    scrape_delta(&p, &c, 1, &d);
    ck_assert_uint_eq(d.requests, 5);
    ck_assert_uint_eq(d.errors, 5);
}
END_TEST

START_TEST(test_pages_to_delta)
{
    struct scrape_spec s;
    struct scrape_totals p, c;
    struct sample_delta d;
    const char *a = "process_start_time_seconds 100\n"
                    "req{code=\"200\"} 90\nreq{code=\"500\"} 10\n"
                    "lat_ms_bucket{le=\"10\"} 50\nlat_ms_bucket{le=\"100\"} 90\n"
                    "lat_ms_bucket{le=\"+Inf\"} 100\nlat_ms_count 100\n";
    const char *b = "process_start_time_seconds 100\n"
                    "req{code=\"200\"} 180\nreq{code=\"500\"} 20\nreq{code=\"503\"} 5\n"
                    "lat_ms_bucket{le=\"10\"} 120\nlat_ms_bucket{le=\"100\"} 190\n"
                    "lat_ms_bucket{le=\"+Inf\"} 205\nlat_ms_count 205\n";

    spec(&s, "req", "code", "5..", NULL, "lat_ms", 0);
    p = extract_ok(&s, a, NULL);
    c = extract_ok(&s, b, NULL);
    scrape_delta(&p, &c, 5, &d);
    ck_assert(d.valid && !d.reset && d.has_hist);
    ck_assert_uint_eq(d.requests, 105);
    ck_assert_uint_eq(d.errors, 15);
    ck_assert_uint_eq(d.hist.n, 3);
    ck_assert(near(d.hist.le[0], 0.01) && near(d.hist.le[1], 0.1));
    ck_assert_uint_eq(d.hist.count[0], 70);
    ck_assert_uint_eq(d.hist.count[1], 30);
    ck_assert_uint_eq(d.hist.count[2], 5);
}
END_TEST

/* ---- what "auto" finds, and what a page cannot tell --------------------------------------- */

/* A spec as the daemon builds it from the defaults: every name auto. */
static void spec_auto(struct scrape_spec *s, enum scrape_flavour f)
{
    spec(s, "auto", "auto", "5..", NULL, "auto", 0);
    scrape_spec_tune(s, f, 0.5);
}

#define LAT_HIST(name, labels, a, b, c, n, sum)                                                    \
    name "_bucket{" labels "le=\"0.1\"} " a "\n" name "_bucket{" labels "le=\"0.5\"} " b "\n" name \
         "_bucket{" labels "le=\"+Inf\"} " c "\n" name "_count{" labels "} " n "\n" name           \
         "_sum{" labels "} " sum "\n"

/* prom-client: a counter and a histogram, the status in status_code. */
static const char prom_client_page[] =
    "# TYPE http_requests_total counter\n"
    "http_requests_total{method=\"GET\",route=\"/work\",status_code=\"200\"} 90\n"
    "http_requests_total{method=\"GET\",route=\"/work\",status_code=\"500\"} 10\n"
    "# TYPE http_request_duration_seconds histogram\n" LAT_HIST(
        "http_request_duration_seconds", "method=\"GET\",route=\"/work\",status_code=\"200\",",
        "80", "90", "90", "90", "9")
        LAT_HIST("http_request_duration_seconds",
                 "method=\"GET\",route=\"/work\",status_code=\"500\",", "1", "10", "10", "10", "2");

START_TEST(test_auto_status_label)
{
    struct scrape_spec s;
    struct scrape_totals t;

    spec_auto(&s, SCRAPE_FLAVOUR_ANY);
    t = extract_ok(&s, prom_client_page, NULL);
    ck_assert_int_eq(t.rd.req_from, SCRAPE_REQ_COUNTER);
    ck_assert_str_eq(t.rd.requests, "http_requests_total");
    ck_assert_str_eq(t.rd.error_label, "status_code");
    ck_assert(near(t.requests, 100) && near(t.errors, 10));
    ck_assert_str_eq(t.rd.err_problem, "");
    ck_assert_int_eq(t.rd.lat_kind, SCRAPE_LAT_HISTOGRAM);
    ck_assert_int_eq(t.rd.unit_from, SCRAPE_UNIT_FROM_NAME);
    ck_assert_str_eq(t.rd.lat_problem, "");

    /* the label a newcomer copies from a Go example: named, never a silent 0 % */
    spec(&s, "http_requests_total", "code", "5..", NULL, "http_request_duration_seconds", 0);
    t = extract_ok(&s, prom_client_page, NULL);
    ck_assert(near(t.errors, 0));
    ck_assert_msg(strstr(t.rd.err_problem, "error_label code is on none of the 2 series of "
                                           "http_requests_total; labels seen: method, route, "
                                           "status_code"),
                  "%s", t.rd.err_problem);

    /* no status label at all */
    t = extract_ok(&s, "http_requests_total{path=\"/\"} 5\n", NULL);
    spec_auto(&s, SCRAPE_FLAVOUR_ANY);
    t = extract_ok(&s, "http_requests_total{path=\"/\"} 5\n", NULL);
    ck_assert_msg(strstr(t.rd.err_problem, "no status label on the 1 series") &&
                      strstr(t.rd.err_problem, "labels seen: path"),
                  "%s", t.rd.err_problem);
    ck_assert_ptr_nonnull(strstr(t.rd.lat_problem, "no latency histogram on the page"));
}
END_TEST

/* express-prom-bundle: no counter, one histogram; OpenTelemetry alike. */
START_TEST(test_requests_from_histogram_count)
{
    static const char page[] = "# TYPE http_request_duration_seconds histogram\n" LAT_HIST(
        "http_request_duration_seconds", "method=\"GET\",path=\"/work\",status_code=\"200\",", "60",
        "70", "72", "72", "7")
        LAT_HIST("http_request_duration_seconds",
                 "method=\"GET\",path=\"/work\",status_code=\"503\",", "8", "8", "8", "8", "0.4");
    struct scrape_spec s;
    struct scrape_totals t;

    spec_auto(&s, SCRAPE_FLAVOUR_ANY);
    t = extract_ok(&s, page, NULL);
    ck_assert_int_eq(t.rd.req_from, SCRAPE_REQ_HIST_COUNT);
    ck_assert_str_eq(t.rd.requests, "http_request_duration_seconds_count");
    ck_assert(near(t.requests, 80) && near(t.errors, 8));
    ck_assert_str_eq(t.rd.error_label, "status_code");
    ck_assert(near(t.hist_count, 80));

    /* the documented explicit form */
    spec(&s, "http_request_duration_seconds_count", "status_code", "5..", NULL,
         "http_request_duration_seconds", 0);
    t = extract_ok(&s, page, NULL);
    ck_assert(near(t.requests, 80) && near(t.errors, 8));

    /* a named counter that is absent: the reason names it */
    spec(&s, "http_requests_total", "auto", "5..", NULL, "auto", 0);
    extract_bad(&s, page, -ENOENT, "requests.metric http_requests_total is not on the page");
}
END_TEST

START_TEST(test_otel_names_and_units)
{
    static const char new_semconv[] =
        "# HELP http_server_request_duration Duration of HTTP server requests.\n"
        "# UNIT http_server_request_duration seconds\n"
        "# TYPE http_server_request_duration histogram\n" LAT_HIST(
            "http_server_request_duration",
            "http_request_method=\"GET\",http_response_status_code=\"500\",", "2", "3", "3", "3",
            "0.3") LAT_HIST("http_server_request_duration",
                            "http_request_method=\"GET\",http_response_status_code=\"200\",", "20",
                            "27", "27", "27", "2");
    static const char old_semconv_ms[] =
        "# TYPE http_server_duration histogram\n"
        "http_server_duration_bucket{http_status_code=\"200\",le=\"5\"} 4\n"
        "http_server_duration_bucket{http_status_code=\"200\",le=\"25\"} 9\n"
        "http_server_duration_bucket{http_status_code=\"200\",le=\"+Inf\"} 10\n"
        "http_server_duration_count{http_status_code=\"200\"} 10\n"
        "http_server_duration_sum{http_status_code=\"200\"} 120\n";
    char page[1024];
    struct scrape_spec s;
    struct scrape_totals t;

    for (int f = 0; f < 2; f++) {
        spec_auto(&s, f ? SCRAPE_FLAVOUR_OTEL : SCRAPE_FLAVOUR_ANY);
        t = extract_ok(&s, new_semconv, NULL);
        ck_assert_str_eq(t.rd.latency, "http_server_request_duration");
        ck_assert_int_eq(t.rd.unit_from, SCRAPE_UNIT_FROM_UNIT);
        ck_assert(t.rd.unit_scale == 1);
        ck_assert(near(t.hist_le[0], 0.1));
        ck_assert_str_eq(t.rd.error_label, "http_response_status_code");
        ck_assert(near(t.requests, 30) && near(t.errors, 3));

        /* milliseconds by the old convention, no UNIT line: bounds read as ms */
        t = extract_ok(&s, old_semconv_ms, NULL);
        ck_assert_str_eq(t.rd.latency, "http_server_duration");
        ck_assert_int_eq(t.rd.unit_from, SCRAPE_UNIT_FROM_CONVENTION);
        ck_assert(near(t.hist_le[0], 0.005) && near(t.hist_le[1], 0.025));
        ck_assert_str_eq(t.rd.error_label, "http_status_code");
    }
    /* a UNIT line beats the convention, and the name */
    snprintf(page, sizeof(page), "# UNIT http_server_duration s\n%s", old_semconv_ms);
    t = extract_ok(&s, page, NULL);
    ck_assert_int_eq(t.rd.unit_from, SCRAPE_UNIT_FROM_UNIT);
    ck_assert(near(t.hist_le[0], 5));
    /* an explicit unit beats everything */
    spec(&s, "auto", "auto", "5..", NULL, "http_server_duration", 1);
    t = extract_ok(&s, page, NULL);
    ck_assert_int_eq(t.rd.unit_from, SCRAPE_UNIT_FROM_CONFIG);
    /* a UNIT that is no time unit is said, not guessed */
    snprintf(page, sizeof(page), "# UNIT http_server_duration bytes\n%s", old_semconv_ms);
    spec_auto(&s, SCRAPE_FLAVOUR_ANY);
    t = extract_ok(&s, page, NULL);
    ck_assert_ptr_nonnull(strstr(t.rd.lat_problem, "not a time unit"));
}
END_TEST

START_TEST(test_absent_histogram_named)
{
    struct scrape_spec s;
    struct scrape_totals t;

    spec(&s, "auto", "auto", "5..", NULL, "app_latency_seconds", 0);
    t = extract_ok(&s, prom_client_page, NULL);
    ck_assert(!t.has_hist);
    ck_assert_int_eq(t.rd.lat_kind, SCRAPE_LAT_NONE);
    ck_assert_str_eq(t.rd.lat_problem, "latency.histogram app_latency_seconds is not on the page");
    ck_assert_str_eq(t.rd.err_problem, ""); /* errors are still read */
    ck_assert(near(t.errors, 10));
    spec(&s, "auto", "auto", "5..", NULL, "http_request_duration_seconds_bucket", 0);
    t = extract_ok(&s, prom_client_page, NULL);
    ck_assert_ptr_nonnull(strstr(t.rd.lat_problem, "without _bucket"));
    /* "" means no latency rule: no problem to report */
    spec(&s, "auto", "auto", "5..", NULL, "", 0);
    t = extract_ok(&s, prom_client_page, NULL);
    ck_assert_str_eq(t.rd.lat_problem, "");
    ck_assert(!t.has_hist);
}
END_TEST

START_TEST(test_summary)
{
    static const char with_quantiles[] =
        "# TYPE http_request_duration_seconds summary\n"
        "http_request_duration_seconds{status_code=\"200\",quantile=\"0.5\"} 0.02\n"
        "http_request_duration_seconds{status_code=\"200\",quantile=\"0.9\"} 0.05\n"
        "http_request_duration_seconds_sum{status_code=\"200\"} 2.5\n"
        "http_request_duration_seconds_count{status_code=\"200\"} 95\n"
        "http_request_duration_seconds{status_code=\"500\",quantile=\"0.5\"} 0.04\n"
        "http_request_duration_seconds{status_code=\"500\",quantile=\"0.9\"} 0.09\n"
        "http_request_duration_seconds_sum{status_code=\"500\"} 0.3\n"
        "http_request_duration_seconds_count{status_code=\"500\"} 5\n";
    /* Python's Summary: count and sum only */
    static const char no_quantiles[] = "# TYPE http_requests_total counter\n"
                                       "http_requests_total{status=\"200\"} 9\n"
                                       "http_requests_total{status=\"500\"} 1\n"
                                       "# TYPE http_request_duration_seconds summary\n"
                                       "http_request_duration_seconds_count 10\n"
                                       "http_request_duration_seconds_sum 0.4\n";
    struct scrape_spec s;
    struct scrape_totals t;

    spec_auto(&s, SCRAPE_FLAVOUR_ANY);
    t = extract_ok(&s, with_quantiles, NULL);
    ck_assert_int_eq(t.rd.lat_kind, SCRAPE_LAT_SUMMARY);
    ck_assert(t.has_summary_q && near(t.summary_q, 0.03)); /* mean over the two series */
    ck_assert(!t.has_hist);
    ck_assert(near(t.requests, 100) && near(t.errors, 5)); /* the error rule keeps its counts */
    ck_assert_str_eq(t.rd.lat_problem, "");
    scrape_spec_tune(&s, SCRAPE_FLAVOUR_ANY, 0.99);
    t = extract_ok(&s, with_quantiles, NULL);
    ck_assert(!t.has_summary_q);
    ck_assert_ptr_nonnull(strstr(t.rd.lat_problem, "without a quantile=\"0.99\" series"));

    spec_auto(&s, SCRAPE_FLAVOUR_ANY);
    t = extract_ok(&s, no_quantiles, NULL);
    ck_assert(near(t.requests, 10) && near(t.errors, 1));
    ck_assert_str_eq(t.rd.error_label, "status");
    ck_assert_ptr_nonnull(strstr(t.rd.lat_problem, "it has none"));
}
END_TEST

START_TEST(test_error_match_regex_on_pages)
{
    static const char page[] = "r{code=\"200\"} 80\nr{code=\"500\"} 5\nr{code=\"503\"} 10\n"
                               "r{code=\"429\"} 5\n";
    static const struct {
        const char *match;
        double errors;
    } cases[] = {{"5..", 15},     {"5.*", 15}, {"5[0-9]{2}", 15}, {"5\\d\\d", 15},
                 {"5..|429", 20}, {"503", 10}, {"4..", 5}};
    struct scrape_spec s;
    struct scrape_totals t;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        spec(&s, "r", "code", cases[i].match, NULL, NULL, 0);
        t = extract_ok(&s, page, NULL);
        ck_assert_msg(near(t.errors, cases[i].errors), "%s: %g", cases[i].match, t.errors);
        ck_assert_str_eq(t.rd.err_problem, "");
    }
    /* "5xx" is a literal in PromQL too: on numeric codes it can never match, and says so */
    spec(&s, "r", "code", "5xx", NULL, NULL, 0);
    t = extract_ok(&s, page, NULL);
    ck_assert_ptr_nonnull(strstr(t.rd.err_problem, "never matches"));
    /* ... but is right where the label holds classes (Envoy's response_code_class) */
    t = extract_ok(&s, "r{code=\"2xx\"} 9\nr{code=\"5xx\"} 1\n", NULL);
    ck_assert_str_eq(t.rd.err_problem, "");
    ck_assert(near(t.errors, 1));
}
END_TEST

START_TEST(test_delta_source_switch)
{
    struct scrape_spec s;
    struct scrape_totals a, b;
    struct sample_delta d;

    spec_auto(&s, SCRAPE_FLAVOUR_ANY);
    /* the counter appears after the histogram: the two pages count different things */
    a = extract_ok(
        &s, LAT_HIST("http_request_duration_seconds", "code=\"200\",", "5", "5", "5", "5", "0.1"),
        NULL);
    b = extract_ok(&s, prom_client_page, NULL);
    ck_assert_int_eq(a.rd.req_from, SCRAPE_REQ_HIST_COUNT);
    ck_assert_int_eq(b.rd.req_from, SCRAPE_REQ_COUNTER);
    scrape_delta(&a, &b, 1, &d);
    ck_assert(d.valid);
    ck_assert_uint_eq(d.requests, 0);
    ck_assert_uint_eq(d.errors, 0);
    ck_assert(!d.reset);
    /* problems travel with the delta */
    spec(&s, "http_requests_total", "code", "5..", NULL, "none_seconds", 0);
    a = extract_ok(&s, prom_client_page, NULL);
    scrape_delta(&a, &a, 1, &d);
    ck_assert_ptr_nonnull(strstr(d.err_problem, "error_label code"));
    ck_assert_ptr_nonnull(strstr(d.lat_problem, "none_seconds"));
}
END_TEST

START_TEST(test_delta_summary)
{
    static const char p1[] = "# TYPE lat summary\nlat{quantile=\"0.5\"} 0.02\nlat_count 100\n"
                             "lat_sum 2\nr 100\n";
    static const char p2[] = "# TYPE lat summary\nlat{quantile=\"0.5\"} 0.04\nlat_count 160\n"
                             "lat_sum 4\nr 160\n";
    struct scrape_spec s;
    struct scrape_totals a, b;
    struct sample_delta d;

    spec(&s, "r", "code", "5..", NULL, "lat", 0);
    a = extract_ok(&s, p1, NULL);
    b = extract_ok(&s, p2, NULL);
    ck_assert_int_eq(a.rd.unit_from, SCRAPE_UNIT_FROM_ASSUMED);
    scrape_delta(&a, &b, 1, &d);
    ck_assert(d.has_summary && near(d.summary_q, 0.04));
    ck_assert_uint_eq(d.summary_count, 60);
    ck_assert(!d.has_hist);
    ck_assert_uint_eq(d.requests, 60);
}
END_TEST

/* Pages in the shapes of libraries the interop suite cannot install here: the README's
 * block and auto must read the same. */
START_TEST(test_library_shapes)
{
    static const char micrometer[] =
        "# HELP http_server_requests_seconds\n"
        "# TYPE http_server_requests_seconds histogram\n" LAT_HIST(
            "http_server_requests_seconds",
            "error=\"none\",exception=\"none\",method=\"GET\",outcome=\"SUCCESS\",status=\"200\","
            "uri=\"/work\",",
            "70", "90", "90", "90", "3") LAT_HIST("http_server_requests_seconds",
                                                  "error=\"none\",exception=\"none\",method="
                                                  "\"GET\",outcome=\"SERVER_ERROR\",status="
                                                  "\"500\",uri=\"/work\",",
                                                  "5", "10", "10", "10", "1");
    static const char otel_java[] =
        "# TYPE http_server_request_duration_seconds histogram\n" LAT_HIST(
            "http_server_request_duration_seconds",
            "http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/work\",",
            "70", "90", "90", "90", "3") LAT_HIST("http_server_request_duration_seconds",
                                                  "http_request_method=\"GET\","
                                                  "http_response_status_code=\"503\","
                                                  "http_route=\"/work\",",
                                                  "5", "10", "10", "10", "1");
    static const char otel_python_ms[] =
        "# TYPE http_server_duration_milliseconds histogram\n"
        "http_server_duration_milliseconds_bucket{http_status_code=\"200\",le=\"10\"} 60\n"
        "http_server_duration_milliseconds_bucket{http_status_code=\"200\",le=\"+Inf\"} 90\n"
        "http_server_duration_milliseconds_count{http_status_code=\"200\"} 90\n"
        "http_server_duration_milliseconds_sum{http_status_code=\"200\"} 900\n"
        "http_server_duration_milliseconds_bucket{http_status_code=\"500\",le=\"10\"} 10\n"
        "http_server_duration_milliseconds_bucket{http_status_code=\"500\",le=\"+Inf\"} 10\n"
        "http_server_duration_milliseconds_count{http_status_code=\"500\"} 10\n"
        "http_server_duration_milliseconds_sum{http_status_code=\"500\"} 50\n";
    static const struct {
        const char *page, *metric, *label, *match, *hist;
        enum scrape_flavour flavour;
        double scale;
    } libs[] = {
        {micrometer, "http_server_requests_seconds_count", "status", "5..",
         "http_server_requests_seconds", SCRAPE_FLAVOUR_ANY, 1},
        {micrometer, "http_server_requests_seconds_count", "outcome", "SERVER_ERROR",
         "http_server_requests_seconds", SCRAPE_FLAVOUR_ANY, 1},
        {otel_java, "auto", "auto", "5..", "auto", SCRAPE_FLAVOUR_OTEL, 1},
        {otel_python_ms, "auto", "auto", "5..", "auto", SCRAPE_FLAVOUR_OTEL, 1e-3},
    };
    struct scrape_spec s;
    struct scrape_totals t, a;

    for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
        spec(&s, libs[i].metric, libs[i].label, libs[i].match, NULL, libs[i].hist, 0);
        scrape_spec_tune(&s, libs[i].flavour, 0.5);
        t = extract_ok(&s, libs[i].page, NULL);
        ck_assert_msg(near(t.requests, 100) && near(t.errors, 10), "%zu: %g %g", i, t.requests,
                      t.errors);
        ck_assert_str_eq(t.rd.err_problem, "");
        ck_assert_str_eq(t.rd.lat_problem, "");
        ck_assert(t.rd.unit_scale == libs[i].scale);
        /* the defaults read the same page alike */
        spec_auto(&s, SCRAPE_FLAVOUR_ANY);
        a = extract_ok(&s, libs[i].page, NULL);
        ck_assert(near(a.requests, 100) && near(a.errors, 10));
        ck_assert(a.rd.unit_scale == libs[i].scale);
    }
}
END_TEST

Suite *scrape_suite(void)
{
    Suite *s = suite_create("scrape");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_spec_init);
    tcase_add_test(tc, test_selector_parse);
    tcase_add_test(tc, test_pattern);
    tcase_add_test(tc, test_prometheus_page);
    tcase_add_test(tc, test_linkerd_page);
    tcase_add_test(tc, test_istio_page);
    tcase_add_test(tc, test_openmetrics_page);
    tcase_add_test(tc, test_spellings);
    tcase_add_test(tc, test_absent_and_malformed);
    tcase_add_test(tc, test_histogram_validation);
    tcase_add_test(tc, test_delta_plain);
    tcase_add_test(tc, test_delta_reset_by_drop);
    tcase_add_test(tc, test_delta_reset_by_start_time);
    tcase_add_test(tc, test_delta_reset_by_created);
    tcase_add_test(tc, test_delta_histogram);
    tcase_add_test(tc, test_delta_histogram_reset_as_unit);
    tcase_add_test(tc, test_delta_rounding);
    tcase_add_test(tc, test_pages_to_delta);
    tcase_add_test(tc, test_auto_status_label);
    tcase_add_test(tc, test_requests_from_histogram_count);
    tcase_add_test(tc, test_otel_names_and_units);
    tcase_add_test(tc, test_absent_histogram_named);
    tcase_add_test(tc, test_summary);
    tcase_add_test(tc, test_error_match_regex_on_pages);
    tcase_add_test(tc, test_delta_source_switch);
    tcase_add_test(tc, test_delta_summary);
    tcase_add_test(tc, test_library_shapes);
    suite_add_tcase(s, tc);
    return s;
}
