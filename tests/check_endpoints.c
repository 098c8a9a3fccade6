/*
 * Unit tests for sidecar/endpoints.c and sidecar/state.c: routing, status
 * codes and bodies, /metrics and /status rendering over a hand-built state.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "probes/probe.h"
Suite *endpoints_suite(void);

#include "sidecar/endpoints.h"
#include "sidecar/state.h"

static uint64_t fake_now;

static uint64_t now_ms(void)
{
    return fake_now;
}

struct fx {
    struct cfg *cfg;
    struct cfg_probe live_cfg, ready_cfg;
    struct probe_state live, ready;
    struct state s;
    struct buf body;
};

static void fx_init(struct fx *f)
{
    struct cfg_errs errs;

    memset(f, 0, sizeof(*f));
    ck_assert_int_eq(cfg_default(&f->cfg, &errs), 0);
    f->live_cfg = f->cfg->liveness;
    f->ready_cfg = f->cfg->readiness;
    probe_state_init(&f->live, true);
    probe_state_init(&f->ready, false);
    f->s.cfg = f->cfg;
    f->s.probe[STATE_LIVENESS] = &f->live;
    f->s.probe_cfg[STATE_LIVENESS] = &f->live_cfg;
    f->s.probe[STATE_READINESS] = &f->ready;
    f->s.probe_cfg[STATE_READINESS] = &f->ready_cfg;
    f->s.now_ms = now_ms;
    fake_now = 100000;
    f->s.started_ms = 40000;
    f->s.heartbeat_ms = fake_now;
    f->s.stall_ms = 5000;
    f->s.last_reload_ok = true;
    buf_init(&f->body, 1 << 20);
}

static void fx_done(struct fx *f)
{
    buf_done(&f->body);
    cfg_unref(f->cfg);
}

/* Serves method+path against f and returns the status; the body is in f->body. */
static int serve(struct fx *f, enum httpreq_method m, const char *path, struct httpd_resp *out)
{
    struct httpreq head = {.method = m, .path = path, .path_len = strlen(path), .minor = 1};
    struct httpd_req req = {.head = &head};
    struct httpd_resp resp = {.status = 500, .body = &f->body};

    buf_reset(&f->body);
    endpoints_handle(&req, &resp, &f->s);
    if (out)
        *out = resp;
    return resp.status;
}

static void record(struct probe_state *ps, const struct cfg_probe *c, enum probe_result r)
{
    struct probe_obs o = {
        .result = r, .http_status = r == PROBE_RES_PASS ? 200 : 503, .latency_us = 1500};
    probe_state_record(ps, c, &o);
}

START_TEST(test_health)
{
    struct fx f;
    struct httpd_resp resp;

    fx_init(&f);
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/health", &resp), 200);
    ck_assert_str_eq(f.body.data, "ok\n");
    ck_assert_str_eq(resp.content_type, "text/plain; charset=utf-8");
    /* failure_threshold is 3 in the defaults: two failures keep it healthy. */
    record(&f.live, &f.live_cfg, PROBE_RES_FAIL);
    record(&f.live, &f.live_cfg, PROBE_RES_UNREACHABLE);
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/health", NULL), 200);
    record(&f.live, &f.live_cfg, PROBE_RES_FAIL);
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/health", NULL), 503);
    ck_assert_int_eq(serve(&f, HTTPREQ_HEAD, "/health", NULL), 503);
    record(&f.live, &f.live_cfg, PROBE_RES_PASS);
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/health", NULL), 200);
    /* Not configured: always healthy. */
    f.s.probe[STATE_LIVENESS] = NULL;
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/health", NULL), 200);
    fx_done(&f);
}
END_TEST

START_TEST(test_ready)
{
    struct fx f;

    fx_init(&f);
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/ready", NULL), 503);
    ck_assert_str_eq(f.body.data, "not ready: readiness probe has not passed yet\n");
    record(&f.ready, &f.ready_cfg, PROBE_RES_ERROR); /* could not probe: no change */
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/ready", NULL), 503);
    record(&f.ready, &f.ready_cfg, PROBE_RES_PASS);
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/ready", NULL), 200);
    record(&f.ready, &f.ready_cfg, PROBE_RES_FAIL);
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/ready", NULL), 503);
    ck_assert_str_eq(f.body.data, "not ready: readiness probe failing\n");
    record(&f.ready, &f.ready_cfg, PROBE_RES_PASS);
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/ready", NULL), 200);
    f.s.shutting_down = true;
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/ready", NULL), 503);
    ck_assert_str_eq(f.body.data, "not ready: shutting down\n");
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/health", NULL), 200);
    fx_done(&f);
}
END_TEST

START_TEST(test_routes_and_methods)
{
    struct fx f;
    struct httpd_resp resp;

    fx_init(&f);
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/nope", NULL), 404);
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/health/", NULL), 404);
    ck_assert_int_eq(serve(&f, HTTPREQ_POST, "/health", &resp), 405);
    ck_assert_str_eq(resp.allow, "GET, HEAD");
    ck_assert_int_eq(serve(&f, HTTPREQ_DELETE, "/ready", NULL), 405);
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/livez", NULL), 200);
    fake_now += 6000; /* heartbeat older than stall_ms */
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/livez", NULL), 503);
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/metrics", &resp), 200);
    ck_assert_str_eq(resp.content_type, "text/plain; version=0.0.4; charset=utf-8");
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/status", &resp), 200);
    ck_assert_str_eq(resp.content_type, "application/json");
    fx_done(&f);
}
END_TEST

START_TEST(test_metrics_content)
{
    struct fx f;

    fx_init(&f);
    record(&f.ready, &f.ready_cfg, PROBE_RES_PASS);
    record(&f.live, &f.live_cfg, PROBE_RES_UNREACHABLE);
    state_probe_observe(&f.s, STATE_LIVENESS, 0.003);
    f.s.reloads_failed = 2;
    serve(&f, HTTPREQ_GET, "/health", NULL);
    serve(&f, HTTPREQ_GET, "/nope", NULL);
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/metrics", NULL), 200);
    ck_assert_ptr_nonnull(strstr(f.body.data, "rollguard_probe_up{probe=\"readiness\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(
        f.body.data, "rollguard_probe_runs_total{probe=\"liveness\",result=\"unreachable\"} 1\n"));
    ck_assert_ptr_nonnull(
        strstr(f.body.data, "rollguard_config_reloads_total{result=\"failed\"} 2\n"));
    ck_assert_ptr_nonnull(
        strstr(f.body.data,
               "rollguard_probe_duration_seconds_bucket{probe=\"liveness\",le=\"0.005\"} 1\n"));
    ck_assert_ptr_nonnull(
        strstr(f.body.data,
               "rollguard_probe_duration_seconds_bucket{probe=\"liveness\",le=\"0.0025\"} 0\n"));
    ck_assert_ptr_nonnull(
        strstr(f.body.data, "rollguard_http_requests_total{path=\"/health\",code=\"200\"} 1\n"));
    ck_assert_ptr_nonnull(
        strstr(f.body.data, "rollguard_http_requests_total{path=\"other\",code=\"404\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(f.body.data, "rollguard_uptime_seconds 60.000\n"));
    ck_assert_ptr_nonnull(
        strstr(f.body.data, "# TYPE rollguard_probe_duration_seconds histogram\n"));
    /* The last line ends in a newline, as the text format requires. */
    ck_assert_int_eq(f.body.data[f.body.len - 1], '\n');
    fx_done(&f);
}
END_TEST

START_TEST(test_status_json)
{
    struct fx f;
    json_error_t jerr;
    json_t *doc, *live;

    fx_init(&f);
    /* live_cfg is a shallow copy of the snapshot's; swap the pointer, not its target. */
    char *orig = f.live_cfg.url;
    f.live_cfg.url = strdup("http://admin:s3cret@127.0.0.1:3000/healthz");
    record(&f.live, &f.live_cfg, PROBE_RES_FAIL);
    snprintf(f.s.last_reload_error, sizeof(f.s.last_reload_error), "x.yaml:3:5: unknown \"key\"");
    ck_assert_int_eq(serve(&f, HTTPREQ_GET, "/status", NULL), 200);
    ck_assert_ptr_null(strstr(f.body.data, "s3cret"));
    doc = json_loads(f.body.data, 0, &jerr);
    ck_assert_msg(doc != NULL, "invalid JSON: %s: %s", jerr.text, f.body.data);
    ck_assert(json_is_false(json_object_get(doc, "ready")));
    ck_assert(json_is_true(json_object_get(doc, "healthy")));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "config"), "hash")),
                     f.cfg->hash);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(doc, "config"), "last_reload_error")),
        "x.yaml:3:5: unknown \"key\"");
    live = json_object_get(json_object_get(doc, "probes"), "liveness");
    ck_assert_int_eq(json_integer_value(json_object_get(live, "consecutive_failures")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(live, "last"), "result")),
                     "fail");
    ck_assert_str_eq(json_string_value(json_object_get(live, "target")),
                     "http://***@127.0.0.1:3000/healthz");
    json_decref(doc);
    /* A probe that is not configured says so. */
    f.s.probe[STATE_READINESS] = NULL;
    serve(&f, HTTPREQ_GET, "/status", NULL);
    ck_assert_ptr_nonnull(strstr(f.body.data, "\"readiness\":{\"configured\":false}"));
    free(f.live_cfg.url);
    f.live_cfg.url = orig;
    fx_done(&f);
}
END_TEST

Suite *endpoints_suite(void)
{
    Suite *s = suite_create("endpoints");
    TCase *tc = tcase_create("endpoints");

    tcase_add_test(tc, test_health);
    tcase_add_test(tc, test_ready);
    tcase_add_test(tc, test_routes_and_methods);
    tcase_add_test(tc, test_metrics_content);
    tcase_add_test(tc, test_status_json);
    suite_add_tcase(s, tc);
    return s;
}
