/*
 * Tests for sidecar/doctor.c: the report on real pages (prom-client,
 * express-prom-bundle, OpenTelemetry old and new conventions, client_golang,
 * Python OpenMetrics, a summary), a mismatched config, pages that cannot be
 * read, long pages, and GET /check-metrics over a real scraper's kept page.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config/cfg.h"
#include "tests/helpers/test_sched.h"
#include "tests/helpers/upstream.h"
#include "probes/curlm.h"
#include "probes/scraper.h"
#include "sidecar/doctor.h"
#include "tests/helpers/test_data.h"

Suite *doctor_suite(void); /* registered by the runner */

/* One series of a histogram with bounds 0.01 0.05 0.1 0.5 1 and +Inf (prom-client buckets). */
#define PC_HIST(labels, a, b, c, d, e, n, sum)                                                     \
    "http_request_duration_seconds_bucket{le=\"0.01\"," labels "} " a "\n"                         \
    "http_request_duration_seconds_bucket{le=\"0.05\"," labels "} " b "\n"                         \
    "http_request_duration_seconds_bucket{le=\"0.1\"," labels "} " c "\n"                          \
    "http_request_duration_seconds_bucket{le=\"0.5\"," labels "} " d "\n"                          \
    "http_request_duration_seconds_bucket{le=\"1\"," labels "} " e "\n"                            \
    "http_request_duration_seconds_bucket{le=\"+Inf\"," labels "} " n "\n"                         \
    "http_request_duration_seconds_sum{" labels "} " sum "\n"                                      \
    "http_request_duration_seconds_count{" labels "} " n "\n"

/* prom-client (Node.js): default metrics, a counter and a histogram keyed by status_code. */
static const char prom_client_page[] =
    "# HELP process_cpu_user_seconds_total Total user CPU time spent in seconds.\n"
    "# TYPE process_cpu_user_seconds_total counter\n"
    "process_cpu_user_seconds_total 0.283\n"
    "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
    "# TYPE process_start_time_seconds gauge\n"
    "process_start_time_seconds 1733500000\n"
    "# HELP nodejs_eventloop_lag_seconds Lag of event loop in seconds.\n"
    "# TYPE nodejs_eventloop_lag_seconds gauge\n"
    "nodejs_eventloop_lag_seconds 0.0031\n"
    "# HELP http_requests_total Total number of HTTP requests\n"
    "# TYPE http_requests_total counter\n"
    "http_requests_total{method=\"GET\",route=\"/api/orders\",status_code=\"200\"} 1520\n"
    "http_requests_total{method=\"GET\",route=\"/api/orders\",status_code=\"500\"} 12\n"
    "http_requests_total{method=\"POST\",route=\"/api/orders\",status_code=\"201\"} 310\n"
    "http_requests_total{method=\"GET\",route=\"/api/orders/:id\",status_code=\"404\"} 8\n"
    "# HELP http_request_duration_seconds Duration of HTTP requests in seconds\n"
    "# TYPE http_request_duration_seconds histogram\n" PC_HIST(
        "method=\"GET\",route=\"/api/orders\",status_code=\"200\"", "600", "1400", "1500", "1515",
        "1520", "1520", "38.2") PC_HIST("method=\"POST\",route=\"/api/orders\",status_code=\"201\"",
                                        "100", "280", "300", "310", "310", "310", "9.1");

/* express-prom-bundle: no counter; its histogram (default buckets) counts requests. */
#define EPB_HIST(labels, a, b, c, d, e, f, n, sum)                                                 \
    "http_request_duration_seconds_bucket{le=\"0.003\"," labels "} " a "\n"                        \
    "http_request_duration_seconds_bucket{le=\"0.03\"," labels "} " b "\n"                         \
    "http_request_duration_seconds_bucket{le=\"0.1\"," labels "} " c "\n"                          \
    "http_request_duration_seconds_bucket{le=\"0.3\"," labels "} " d "\n"                          \
    "http_request_duration_seconds_bucket{le=\"1.5\"," labels "} " e "\n"                          \
    "http_request_duration_seconds_bucket{le=\"10\"," labels "} " f "\n"                           \
    "http_request_duration_seconds_bucket{le=\"+Inf\"," labels "} " n "\n"                         \
    "http_request_duration_seconds_sum{" labels "} " sum "\n"                                      \
    "http_request_duration_seconds_count{" labels "} " n "\n"

static const char express_page[] =
    "# HELP up 1 = up, 0 = not up\n"
    "# TYPE up gauge\n"
    "up 1\n"
    "# HELP http_request_duration_seconds duration histogram of http responses labeled with: "
    "status_code, method, path\n"
    "# TYPE http_request_duration_seconds histogram\n" EPB_HIST(
        "status_code=\"200\",method=\"GET\",path=\"/\"", "3", "40", "48", "50", "50", "50", "50",
        "1.234") EPB_HIST("status_code=\"503\",method=\"GET\",path=\"/api\"", "0", "1", "2", "5",
                          "5", "5", "5", "1.9");

/* OpenTelemetry JS, old HTTP semconv: milliseconds by convention, http_status_code. */
#define OTEL_OLD(labels, n, sum, a, b, c, d, e)                                                    \
    "http_server_duration_count{" labels "} " n "\n"                                               \
    "http_server_duration_sum{" labels "} " sum "\n"                                               \
    "http_server_duration_bucket{" labels ",le=\"0\"} 0\n"                                         \
    "http_server_duration_bucket{" labels ",le=\"5\"} " a "\n"                                     \
    "http_server_duration_bucket{" labels ",le=\"10\"} " b "\n"                                    \
    "http_server_duration_bucket{" labels ",le=\"25\"} " c "\n"                                    \
    "http_server_duration_bucket{" labels ",le=\"50\"} " d "\n"                                    \
    "http_server_duration_bucket{" labels ",le=\"100\"} " e "\n"                                   \
    "http_server_duration_bucket{" labels ",le=\"+Inf\"} " n "\n"

static const char otel_old_page[] =
    "# HELP target_info Target metadata\n"
    "# TYPE target_info gauge\n"
    "target_info{service_name=\"checkout\",telemetry_sdk_language=\"nodejs\","
    "telemetry_sdk_name=\"opentelemetry\",telemetry_sdk_version=\"1.18.1\"} 1\n"
    "# HELP http_server_duration Measures the duration of inbound HTTP requests.\n"
    "# TYPE http_server_duration histogram\n" OTEL_OLD(
        "http_scheme=\"http\",http_method=\"GET\",http_status_code=\"200\",http_route=\"/cart\"",
        "40", "412.5", "10", "25", "36", "39", "40")
        OTEL_OLD("http_scheme=\"http\",http_method=\"GET\",http_status_code=\"500\","
                 "http_route=\"/cart\"",
                 "2", "80", "0", "0", "1", "2", "2");

/* OpenTelemetry, HTTP semconv 1.23+: the unit on a UNIT line, http_response_status_code. */
#define OTEL_NEW(labels, a, b, c, d, e, n, sum)                                                    \
    "http_server_request_duration_bucket{" labels ",le=\"0.005\"} " a "\n"                         \
    "http_server_request_duration_bucket{" labels ",le=\"0.01\"} " b "\n"                          \
    "http_server_request_duration_bucket{" labels ",le=\"0.025\"} " c "\n"                         \
    "http_server_request_duration_bucket{" labels ",le=\"0.05\"} " d "\n"                          \
    "http_server_request_duration_bucket{" labels ",le=\"0.1\"} " e "\n"                           \
    "http_server_request_duration_bucket{" labels ",le=\"+Inf\"} " n "\n"                          \
    "http_server_request_duration_sum{" labels "} " sum "\n"                                       \
    "http_server_request_duration_count{" labels "} " n "\n"

static const char otel_new_page[] =
    "# HELP http_server_request_duration Duration of HTTP server requests.\n"
    "# UNIT http_server_request_duration seconds\n"
    "# TYPE http_server_request_duration histogram\n" OTEL_NEW(
        "http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/cart\"", "10",
        "30", "45", "50", "50", "50", "0.6")
        OTEL_NEW("http_request_method=\"GET\",http_response_status_code=\"503\","
                 "http_route=\"/cart\"",
                 "0", "0", "1", "2", "3", "3", "0.15");

/* A summary with quantiles (Go's or Java's Summary), the status in "status". */
static const char summary_page[] =
    "# TYPE http_requests_total counter\n"
    "http_requests_total{status=\"200\"} 950\n"
    "http_requests_total{status=\"500\"} 50\n"
    "# TYPE http_request_duration_seconds summary\n"
    "http_request_duration_seconds{status=\"200\",quantile=\"0.5\"} 0.021\n"
    "http_request_duration_seconds{status=\"200\",quantile=\"0.9\"} 0.05\n"
    "http_request_duration_seconds{status=\"200\",quantile=\"0.99\"} 0.2\n"
    "http_request_duration_seconds_sum{status=\"200\"} 25\n"
    "http_request_duration_seconds_count{status=\"200\"} 950\n"
    "http_request_duration_seconds{status=\"500\",quantile=\"0.5\"} 0.04\n"
    "http_request_duration_seconds{status=\"500\",quantile=\"0.9\"} 0.09\n"
    "http_request_duration_seconds{status=\"500\",quantile=\"0.99\"} 0.3\n"
    "http_request_duration_seconds_sum{status=\"500\"} 2.5\n"
    "http_request_duration_seconds_count{status=\"500\"} 50\n";

/* The config of yaml (NULL: the embedded defaults). */
static struct cfg *config(const char *yaml)
{
    struct cfg_errs errs;
    struct cfg *c = NULL;
    int r;

    memset(&errs, 0, sizeof(errs));
    r = yaml ? cfg_parse(yaml, strlen(yaml), "test.yaml", &c, &errs) : cfg_default(&c, &errs);
    ck_assert_msg(r == 0, "config: %s", errs.n ? errs.e[0].msg : "?");
    return c;
}

/* The report on page under yaml into out (initialised here); returns doctor_report's code. */
static int report(const char *yaml, const char *page, size_t len, const char *ct, struct buf *out)
{
    struct cfg *c = config(yaml);
    int r;

    buf_init(out, 1 << 20);
    r = doctor_report(c, page, len, ct, out);
    cfg_unref(c);
    ck_assert(!out->failed);
    ck_assert_ptr_nonnull(out->data);
    return r;
}

#define HAS(b, needle)                                                                             \
    ck_assert_msg(strstr((b)->data, (needle)) != NULL, "report lacks \"%s\":\n%s", (needle),       \
                  (b)->data)
#define LACKS(b, needle)                                                                           \
    ck_assert_msg(strstr((b)->data, (needle)) == NULL, "report has \"%s\":\n%s", (needle),         \
                  (b)->data)

/* The report ends with exactly this result line. */
static void ends_with(const struct buf *b, const char *line)
{
    size_t n = strlen(line);

    ck_assert_msg(b->len > n && !strcmp(b->data + b->len - n, line) &&
                      b->data[b->len - n - 1] == '\n',
                  "report does not end with \"%s\":\n%s", line, b->data);
}

START_TEST(test_prom_client)
{
    struct buf b;

    ck_assert_int_eq(report(NULL, prom_client_page, strlen(prom_client_page), NULL, &b), DOCTOR_OK);
    HAS(&b, "families: 5");
    HAS(&b, "  counter              4  http_requests_total  <- requests\n");
    HAS(&b, "  histogram            2  http_request_duration_seconds  <- latency\n");
    HAS(&b, "  counter              1  process_cpu_user_seconds_total  *\n");
    HAS(&b, "  gauge                1  nodejs_eventloop_lag_seconds\n");
    HAS(&b, "requests: http_requests_total (counter; auto), 4 series, total 1850");
    HAS(&b, "errors: label status_code (auto: the first present of code, status_code,");
    HAS(&b, "error_match \"5..\": 1 of 4 series, total 12 = 0.65% of requests");
    HAS(&b, "  status_code=\"500\": 1 series, 12  <- errors\n");
    HAS(&b, "  status_code=\"404\": 1 series, 8\n");
    HAS(&b,
        "latency: http_request_duration_seconds (histogram; auto), 2 series, 1830 observations");
    HAS(&b, "  unit: seconds, from the name's suffix\n");
    HAS(&b, "  buckets: 5 bounds from 10 ms to 1 s, and +Inf\n");
    /* rank 915 of 1830 in (0.01, 0.05]: 0.01 + 0.04 * 215 / 980 */
    HAS(&b, "  p50: 18.8 ms");
    LACKS(&b, "warning:");
    ends_with(&b, "result: ok\n");
    buf_done(&b);
}
END_TEST

START_TEST(test_express_prom_bundle)
{
    struct buf b;

    ck_assert_int_eq(report(NULL, express_page, strlen(express_page), NULL, &b), DOCTOR_OK);
    HAS(&b, "  histogram            2  http_request_duration_seconds  <- requests (_count) and "
            "latency\n");
    HAS(&b, "requests: http_request_duration_seconds_count (histogram _count; auto: no "
            "http_requests_total, so the latency family's _count), 2 series, total 55");
    HAS(&b, "errors: label status_code (auto");
    HAS(&b, "1 of 2 series, total 5 = 9.09% of requests");
    HAS(&b, "  status_code=\"503\": 1 series, 5  <- errors\n");
    HAS(&b, "  buckets: 6 bounds from 3 ms to 10 s, and +Inf\n");
    /* rank 27.5 of 55 in (0.003, 0.03]: 0.003 + 0.027 * 24.5 / 38 */
    HAS(&b, "  p50: 20.4 ms");
    ends_with(&b, "result: ok\n");
    buf_done(&b);
}
END_TEST

START_TEST(test_otel_old_semconv_ms)
{
    struct buf b;

    ck_assert_int_eq(report(NULL, otel_old_page, strlen(otel_old_page), NULL, &b), DOCTOR_OK);
    HAS(&b, "  gauge                1  target_info\n");
    HAS(&b, "requests: http_server_duration_count (histogram _count; auto: no http_requests_total");
    HAS(&b, "2 series, total 42");
    HAS(&b, "errors: label http_status_code (auto");
    HAS(&b, "1 of 2 series, total 2 = 4.76% of requests");
    HAS(&b, "latency: http_server_duration (histogram; auto), 2 series, 42 observations");
    HAS(&b, "  unit: milliseconds, from the name's semantic convention\n");
    HAS(&b, "  buckets: 6 bounds from 0 ms to 100 ms, and +Inf\n");
    /* rank 21 of 42 in (5, 10] ms: 5 + 5 * 11 / 15 */
    HAS(&b, "  p50: 8.67 ms");
    ends_with(&b, "result: ok\n");
    buf_done(&b);

    /* the same page with preset otel: the same names, found among OpenTelemetry's only */
    ck_assert_int_eq(report("app:\n  metrics:\n    preset: otel\n", otel_old_page,
                            strlen(otel_old_page), NULL, &b),
                     DOCTOR_OK);
    HAS(&b, "errors: label http_status_code (auto: the first present of "
            "http_response_status_code, http_status_code)");
    buf_done(&b);
}
END_TEST

START_TEST(test_otel_new_semconv_unit_line)
{
    struct buf b;

    ck_assert_int_eq(report(NULL, otel_new_page, strlen(otel_new_page), NULL, &b), DOCTOR_OK);
    HAS(&b, "requests: http_server_request_duration_count (histogram _count");
    HAS(&b, "2 series, total 53");
    HAS(&b, "errors: label http_response_status_code (auto");
    HAS(&b, "1 of 2 series, total 3 = 5.66% of requests");
    HAS(&b, "  http_response_status_code=\"503\": 1 series, 3  <- errors\n");
    HAS(&b, "  unit: seconds, from the page's UNIT line\n");
    /* rank 26.5 of 53 in (0.005, 0.01]: 0.005 + 0.005 * 16.5 / 20 */
    HAS(&b, "  p50: 9.13 ms");
    ends_with(&b, "result: ok\n");
    buf_done(&b);
}
END_TEST

START_TEST(test_client_golang)
{
    struct buf b;
    size_t len;
    char *page = test_read_data("prometheus_go.prom", &len);

    ck_assert_int_eq(report(NULL, page, len, "text/plain; version=0.0.4; charset=utf-8", &b),
                     DOCTOR_OK);
    HAS(&b, "page: ");
    HAS(&b, "Prometheus text 0.0.4 (content type text/plain; version=0.0.4; charset=utf-8)");
    HAS(&b, "  summary              1  go_gc_duration_seconds  *\n");
    HAS(&b, "  counter              3  promhttp_metric_handler_requests_total  *\n");
    HAS(&b, "requests: http_requests_total (counter; auto), 5 series, total 2400");
    HAS(&b, "errors: label code (auto");
    HAS(&b, "2 of 5 series, total 40 = 1.67% of requests");
    HAS(&b, "  code=\"503\": 1 series, 10  <- errors\n");
    HAS(&b, "latency: http_request_duration_seconds (histogram; auto), 2 series, 2400 "
            "observations");
    ends_with(&b, "result: ok\n");
    buf_done(&b);

    /* OpenMetrics (Python): a counter family without _total, exemplars, a UNIT line */
    free(page);
    page = test_read_data("openmetrics_python.om", &len);
    ck_assert_int_eq(report(NULL, page, len, "application/openmetrics-text; version=1.0.0", &b),
                     DOCTOR_OK);
    HAS(&b, "OpenMetrics 1.0");
    HAS(&b, "  counter              2  http_requests_total  <- requests\n");
    HAS(&b, "  unit: seconds, from the page's UNIT line\n");
    ends_with(&b, "result: ok\n");
    buf_done(&b);
    free(page);
}
END_TEST

START_TEST(test_summary)
{
    struct buf b;

    ck_assert_int_eq(report(NULL, summary_page, strlen(summary_page), NULL, &b), DOCTOR_OK);
    HAS(&b, "  summary              2  http_request_duration_seconds  <- latency\n");
    HAS(&b, "errors: label status (auto");
    HAS(&b, "1 of 2 series, total 50 = 5.00% of requests");
    HAS(&b, "latency: http_request_duration_seconds (summary; auto), 2 series, 1000 observations");
    HAS(&b, "  quantiles: 0.5, 0.9, 0.99\n");
    HAS(&b, "  quantile 0.5 (analysis.latency.quantile): 30.5 ms, the mean over its series\n");
    ends_with(&b, "result: ok\n");
    buf_done(&b);

    /* a quantile the summary does not have: the latency rule cannot be judged */
    ck_assert_int_eq(report("analysis:\n  latency:\n    quantile: 0.95\n", summary_page,
                            strlen(summary_page), NULL, &b),
                     DOCTOR_PROBLEMS);
    HAS(&b, "warning: latency: http_request_duration_seconds is a summary without a "
            "quantile=\"0.95\" series");
    ends_with(&b, "result: problems (1)\n");
    buf_done(&b);
}
END_TEST

START_TEST(test_mismatched_error_label)
{
    struct buf b;

    ck_assert_int_eq(report("app:\n  metrics:\n    requests:\n      error_label: nosuchlabel\n",
                            prom_client_page, strlen(prom_client_page), NULL, &b),
                     DOCTOR_PROBLEMS);
    HAS(&b, "error_label nosuchlabel");
    HAS(&b, "requests: http_requests_total (counter; auto), 4 series, total 1850");
    HAS(&b, "errors: no status label chosen (error_label nosuchlabel); see the warning\n");
    HAS(&b, "warning: errors: error_label nosuchlabel is on none of the 4 series of "
            "http_requests_total; labels seen: method, route, status_code\n");
    HAS(&b, "  p50: 18.8 ms"); /* latency is still read */
    ends_with(&b, "result: problems (1)\n");
    buf_done(&b);

    /* "5xx" is no regular expression for status codes: said, with the fix */
    ck_assert_int_eq(report("app:\n  metrics:\n    requests:\n      error_match: 5xx\n",
                            prom_client_page, strlen(prom_client_page), NULL, &b),
                     DOCTOR_PROBLEMS);
    HAS(&b, "error_match \"5xx\": 0 of 4 series, total 0");
    HAS(&b, "warning: errors: error_match \"5xx\" never matches");
    buf_done(&b);
}
END_TEST

START_TEST(test_latency_missing_or_off)
{
    struct buf b;
    static const char counter_only[] = "# TYPE http_requests_total counter\n"
                                       "http_requests_total{code=\"200\"} 10\n"
                                       "# TYPE app_latency_ms histogram\n"
                                       "app_latency_ms_bucket{le=\"10\"} 4\n"
                                       "app_latency_ms_bucket{le=\"+Inf\"} 10\n"
                                       "app_latency_ms_count 10\n"
                                       "app_latency_ms_sum 80\n";

    ck_assert_int_eq(report(NULL, counter_only, strlen(counter_only), NULL, &b), DOCTOR_PROBLEMS);
    HAS(&b, "latency: no family found; see the warning\n");
    HAS(&b, "warning: latency: no latency histogram on the page (looked for "
            "http_request_duration_seconds, ");
    HAS(&b, "hint: app_latency_ms on the page could serve as app.metrics.latency.histogram\n");
    ends_with(&b, "result: problems (1)\n");
    buf_done(&b);

    ck_assert_int_eq(report("app:\n  metrics:\n    latency:\n      histogram: app_latency_ms\n",
                            counter_only, strlen(counter_only), NULL, &b),
                     DOCTOR_OK);
    HAS(&b, "latency: app_latency_ms (histogram; as configured), 1 series, 10 observations");
    HAS(&b, "  unit: milliseconds, from the name's suffix\n");
    HAS(&b, "  buckets: 1 bound from 10 ms to 10 ms, and +Inf\n");
    buf_done(&b);

    ck_assert_int_eq(report("app:\n  metrics:\n    latency:\n      histogram: \"\"\n", counter_only,
                            strlen(counter_only), NULL, &b),
                     DOCTOR_OK);
    HAS(&b, "latency: off (app.metrics.latency.histogram is \"\")\n");
    ends_with(&b, "result: ok\n");
    buf_done(&b);
}
END_TEST

START_TEST(test_no_requests)
{
    struct buf b;
    static const char page[] = "# TYPE app_hits_total counter\n"
                               "app_hits_total{code=\"200\"} 3\n"
                               "# TYPE app_time_seconds summary\n"
                               "app_time_seconds_count 3\n"
                               "app_time_seconds_sum 1\n";

    ck_assert_int_eq(report(NULL, page, strlen(page), NULL, &b), DOCTOR_PROBLEMS);
    HAS(&b, "requests: none\nerror: no request counter: http_requests_total is not on the page");
    HAS(&b, "hint: app_hits_total on the page could serve as app.metrics.requests.metric\n");
    HAS(&b, "hint: app_time_seconds on the page could serve as app.metrics.latency.histogram");
    ends_with(&b, "result: problems (1)\n");
    buf_done(&b);

    /* a named counter that is not there */
    ck_assert_int_eq(report("app:\n  metrics:\n    requests:\n      metric: orders_total\n",
                            prom_client_page, strlen(prom_client_page), NULL, &b),
                     DOCTOR_PROBLEMS);
    HAS(&b, "error: requests.metric orders_total is not on the page");
    buf_done(&b);

    /* an empty page */
    ck_assert_int_eq(report(NULL, "", 0, NULL, &b), DOCTOR_PROBLEMS);
    HAS(&b, "page: 0 bytes");
    HAS(&b, "families: none\n");
    buf_done(&b);
}
END_TEST

START_TEST(test_unreadable)
{
    struct buf b;
    static const char garbage[] = "<html><body>Bad gateway</body></html>\n";
    static const char bad_hist[] = "# TYPE http_requests_total counter\n"
                                   "http_requests_total 10\n"
                                   "# TYPE http_request_duration_seconds histogram\n"
                                   "http_request_duration_seconds_bucket{le=\"0.1\"} 4\n"
                                   "http_request_duration_seconds_bucket{le=\"+Inf\"} 9\n"
                                   "http_request_duration_seconds_count 10\n"
                                   "http_request_duration_seconds_sum 1\n";

    ck_assert_int_eq(report(NULL, garbage, strlen(garbage), "text/html", &b), DOCTOR_FAILED);
    HAS(&b, "error: the page cannot be read: line 1 column ");
    ends_with(&b, "result: problems (1)\n");
    buf_done(&b);

    ck_assert_int_eq(report(NULL, bad_hist, strlen(bad_hist), NULL, &b), DOCTOR_FAILED);
    HAS(&b, "error: the page cannot be read: histogram http_request_duration_seconds: +Inf "
            "bucket 9 differs from _count 10\n");
    HAS(&b, "  histogram            1  http_request_duration_seconds"); /* families still listed */
    buf_done(&b);
}
END_TEST

START_TEST(test_values_cannot_forge_lines)
{
    struct buf b;
    static const char page[] = "# TYPE http_requests_total counter\n"
                               "http_requests_total{code=\"200\"} 5\n"
                               "http_requests_total{code=\"5\\nresult: ok\"} 1\n"
                               "http_requests_total{path=\"/\"} 2\n";

    ck_assert_int_eq(report("app:\n  metrics:\n    latency:\n      histogram: \"\"\n", page,
                            strlen(page), NULL, &b),
                     DOCTOR_OK);
    HAS(&b, "  code=\"5?result: ok\": 1 series, 1\n");
    HAS(&b, "  code absent: 1 series, 2\n");
    buf_done(&b);
}
END_TEST

START_TEST(test_many_families)
{
    struct buf b, page;

    buf_init(&page, 1 << 20);
    for (int i = 0; i < 60; i++)
        buf_printf(&page, "# TYPE go_stat_%02d gauge\ngo_stat_%02d %d\n", i, i, i);
    buf_puts(&page, "# TYPE http_requests_total counter\n"
                    "http_requests_total{code=\"200\"} 7\n"
                    "# TYPE rpc_seconds histogram\n"
                    "rpc_seconds_bucket{le=\"+Inf\"} 1\nrpc_seconds_count 1\nrpc_seconds_sum 1\n");
    ck_assert(!page.failed);
    report("app:\n  metrics:\n    latency:\n      histogram: \"\"\n", page.data, page.len, NULL,
           &b);
    HAS(&b, "families: 62");
    HAS(&b, "go_stat_39\n");
    LACKS(&b, "go_stat_40");
    HAS(&b, "  ...and 22 more: counter 1, gauge 20, histogram 1\n");
    HAS(&b, "  more candidates: http_requests_total (counter), rpc_seconds (histogram)\n");
    HAS(&b, "requests: http_requests_total (counter; auto), 1 series, total 7");
    buf_done(&b);
    buf_done(&page);
}
END_TEST

/* ---- GET /check-metrics -------------------------------------------------------------------- */

static void http_get(const struct cfg *c, struct scraper *s, enum httpreq_method method,
                     struct buf *body, struct httpd_resp *resp)
{
    struct httpreq head;
    struct httpd_req req = {.head = &head};

    memset(&head, 0, sizeof(head));
    head.method = method;
    head.path = "/check-metrics";
    head.path_len = strlen(head.path);
    buf_reset(body);
    memset(resp, 0, sizeof(*resp));
    resp->body = body;
    doctor_http(&req, resp, c, s);
}

static bool page_kept(void *arg)
{
    struct scraper_page pg;

    return scraper_last_page(arg, &pg) == 0;
}

static bool big_skipped(void *arg)
{
    struct scraper_page pg;

    return scraper_last_page(arg, &pg) < 0 && pg.skipped > SCRAPER_KEEP_MAX;
}

static void on_delta(const struct sample_delta *d, void *arg)
{
    (void)d;
    (void)arg;
}

START_TEST(test_http_check_metrics)
{
    struct event_base *base;
    struct curlm *m;
    struct upstream *u;
    struct cfg *c = config(NULL);
    struct cfg_metrics mc = c->metrics;
    struct scraper *s;
    struct httpd_resp resp;
    struct buf body, big;
    char url[128], err[128];

    ck_assert_int_eq(curlm_global_init(err, sizeof(err)), 0);
    base = event_base_new();
    m = curlm_new(base);
    ck_assert_int_eq(upstream_new(base, &u), 0);
    upstream_route_text(u, "/metrics", 200, express_page);
    mc.url = upstream_url(u, "/metrics", url, sizeof(url));
    mc.interval_ms = 100;
    mc.timeout_ms = 3000;
    buf_init(&body, 1 << 20);

    /* no scraper, another method */
    http_get(c, NULL, HTTPREQ_GET, &body, &resp);
    ck_assert_int_eq(resp.status, 503);
    http_get(c, NULL, HTTPREQ_POST, &body, &resp);
    ck_assert_int_eq(resp.status, 405);
    ck_assert_str_eq(resp.allow, "GET, HEAD");

    ck_assert_int_eq(scraper_new(base, m, test_sched(), &mc, on_delta, NULL, &s, err, sizeof(err)),
                     0);
    /* pages are not kept until someone asks */
    ck_assert(upstream_loop_until(base, NULL, NULL, 400));
    ck_assert(!page_kept(s));
    http_get(c, s, HTTPREQ_GET, &body, &resp);
    ck_assert_int_eq(resp.status, 503);
    ck_assert_ptr_nonnull(strstr(body.data, "no metrics page kept yet"));
    ck_assert(upstream_loop_until(base, page_kept, s, 5000));
    http_get(c, s, HTTPREQ_GET, &body, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.content_type, "text/plain; charset=utf-8");
    HAS(&body, "source: the page scraped from app.metrics.url ");
    HAS(&body, "requests: http_request_duration_seconds_count (histogram _count");
    ends_with(&body, "result: ok\n");

    /* a page over SCRAPER_KEEP_MAX is not kept, and the answer says so */
    buf_init(&big, 4 << 20);
    while (big.len <= SCRAPER_KEEP_MAX)
        buf_puts(&big,
                 "http_requests_total{code=\"200\",padding=\"xxxxxxxxxxxxxxxxxxxxxxxx\"} 1\n");
    upstream_route_big(u, "/metrics", 200, big.data);
    ck_assert(upstream_loop_until(base, big_skipped, s, 5000));
    http_get(c, s, HTTPREQ_GET, &body, &resp);
    ck_assert_int_eq(resp.status, 503);
    ck_assert_ptr_nonnull(strstr(body.data, "more than the 1048576 kept"));

    /* off again: nothing kept, nothing held */
    upstream_route_text(u, "/metrics", 200, express_page);
    ck_assert(upstream_loop_until(base, page_kept, s, 5000));
    ck_assert(scraper_keep_last_page(s, false));
    ck_assert(!page_kept(s));

    scraper_free(s);
    upstream_free(u);
    buf_done(&big);
    buf_done(&body);
    curlm_free(m);
    event_base_free(base);
    cfg_unref(c);
}
END_TEST

Suite *doctor_suite(void)
{
    Suite *s = suite_create("doctor");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_prom_client);
    tcase_add_test(tc, test_express_prom_bundle);
    tcase_add_test(tc, test_otel_old_semconv_ms);
    tcase_add_test(tc, test_otel_new_semconv_unit_line);
    tcase_add_test(tc, test_client_golang);
    tcase_add_test(tc, test_summary);
    tcase_add_test(tc, test_mismatched_error_label);
    tcase_add_test(tc, test_latency_missing_or_off);
    tcase_add_test(tc, test_no_requests);
    tcase_add_test(tc, test_unreadable);
    tcase_add_test(tc, test_values_cannot_forge_lines);
    tcase_add_test(tc, test_many_families);
    tcase_add_test(tc, test_http_check_metrics);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}
