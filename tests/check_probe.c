/*
 * Tests for probes/probe: the threshold state machine as tables, then
 * scheduled probes on a real loop against the in-process fake upstream.
 * Loop waits have watchdogs; no assertion depends on how fast the machine is
 * (negative checks use windows far shorter than the configured period).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "probes/curlm.h"
#include "probes/probe.h"
#include "tests/helpers/test_sched.h"
#include "tests/helpers/upstream.h"

#ifndef ROLLGUARD_VERSION
#define ROLLGUARD_VERSION "0.0.0"
#endif

#define WAIT_MS 5000

/* ---- the state machine ------------------------------------------------- */

struct sm_case {
    const char *name;
    bool initially_ok;
    uint32_t failure_threshold, success_threshold;
    const char *seq;      /* P pass, F fail, U unreachable, E error */
    const char *ok_after; /* T/F: s.ok after each step */
    uint64_t transitions;
};

static const struct sm_case sm_cases[] = {
    {"liveness, failure 3", true, 3, 1, "FFFPF", "TTFTT", 2},
    {"liveness, failure 1", true, 1, 1, "FPUP", "FTFT", 4},
    {"readiness, success 2", false, 1, 2, "PPFPUPP", "FTFFFFT", 3},
    {"error moves no threshold", true, 3, 1, "FFEFE", "TTTFF", 1},
    {"error keeps a success run", false, 1, 2, "PEP", "FFT", 1},
    {"errors only", false, 1, 1, "EEE", "FFF", 0},
    {"unreachable is a failure", true, 2, 1, "UU", "TF", 1},
    {"readiness failing from the start", false, 1, 1, "FF", "FF", 0},
    {"liveness passing", true, 3, 1, "PPP", "TTT", 0},
    {"threshold 0 acts as 1", true, 0, 0, "FP", "FT", 2},
};

static enum probe_result sm_result(char c)
{
    switch (c) {
    case 'P':
        return PROBE_RES_PASS;
    case 'F':
        return PROBE_RES_FAIL;
    case 'U':
        return PROBE_RES_UNREACHABLE;
    default:
        return PROBE_RES_ERROR;
    }
}

START_TEST(test_state_table)
{
    const struct sm_case *tc = &sm_cases[_i];
    struct cfg_probe c = {.kind = CFG_PROBE_HTTP,
                          .failure_threshold = tc->failure_threshold,
                          .success_threshold = tc->success_threshold};
    struct probe_state s;
    uint64_t runs[PROBE_RES_COUNT] = {0};
    uint32_t cok = 0, cfail = 0;
    bool has_run = false;

    probe_state_init(&s, tc->initially_ok);
    ck_assert(s.ok == tc->initially_ok);
    ck_assert(!s.has_run);
    for (size_t i = 0; tc->seq[i]; i++) {
        struct probe_obs o = {.result = sm_result(tc->seq[i]), .http_status = 100 + (long)i};
        bool before = s.ok, flipped;

        flipped = probe_state_record(&s, &c, &o);
        ck_assert_msg(s.ok == (tc->ok_after[i] == 'T'), "%s: step %zu ok", tc->name, i);
        ck_assert_msg(flipped == (before != s.ok), "%s: step %zu flip", tc->name, i);
        ck_assert_int_eq(s.last.result, o.result);
        ck_assert_int_eq(s.last.http_status, o.http_status);
        runs[o.result]++;
        if (o.result == PROBE_RES_PASS) {
            cok++;
            cfail = 0;
            has_run = true;
        } else if (o.result != PROBE_RES_ERROR) {
            cfail++;
            cok = 0;
            has_run = true;
        }
        ck_assert_msg(s.consecutive_ok == cok && s.consecutive_fail == cfail,
                      "%s: step %zu counters %u/%u", tc->name, i, s.consecutive_ok,
                      s.consecutive_fail);
        ck_assert(s.has_run == has_run);
    }
    ck_assert_msg(s.transitions == tc->transitions, "%s: transitions %llu", tc->name,
                  (unsigned long long)s.transitions);
    for (int r = 0; r < PROBE_RES_COUNT; r++)
        ck_assert_uint_eq(s.runs[r], runs[r]);
}
END_TEST

START_TEST(test_state_init_and_names)
{
    struct probe_state s;

    memset(&s, 0xff, sizeof s);
    probe_state_init(&s, true);
    ck_assert(s.ok);
    ck_assert(!s.has_run);
    ck_assert_uint_eq(s.consecutive_ok, 0);
    ck_assert_uint_eq(s.transitions, 0);
    ck_assert_uint_eq(s.runs[PROBE_RES_PASS], 0);
    probe_state_init(&s, false);
    ck_assert(!s.ok);
    ck_assert_str_eq(probe_result_name(PROBE_RES_PASS), "pass");
    ck_assert_str_eq(probe_result_name(PROBE_RES_FAIL), "fail");
    ck_assert_str_eq(probe_result_name(PROBE_RES_UNREACHABLE), "unreachable");
    ck_assert_str_eq(probe_result_name(PROBE_RES_ERROR), "error");
    ck_assert_str_eq(probe_result_name(PROBE_RES_UNKNOWN), "unknown");
}
END_TEST

START_TEST(test_state_error_keeps_last)
{
    struct cfg_probe c = {.failure_threshold = 1, .success_threshold = 1};
    struct probe_state s;
    struct probe_obs pass = {.result = PROBE_RES_PASS, .http_status = 200};
    struct probe_obs err = {.result = PROBE_RES_ERROR, .error = "could not start"};

    probe_state_init(&s, false);
    ck_assert(probe_state_record(&s, &c, &pass));
    ck_assert(!probe_state_record(&s, &c, &err));
    ck_assert(s.ok);
    ck_assert_int_eq(s.last.result, PROBE_RES_ERROR);
    ck_assert_str_eq(s.last.error, "could not start");
    ck_assert_uint_eq(s.consecutive_ok, 1);
    ck_assert_uint_eq(s.runs[PROBE_RES_ERROR], 1);
}
END_TEST

/* ---- scheduled probes ---------------------------------------------------- */

#define REC_MAX 256

struct rec {
    unsigned n;
    enum probe_result res[REC_MAX];
    bool flip[REC_MAX];
    bool ok[REC_MAX];
    long status[REC_MAX];
    char last_error[160];
    unsigned transitions;
    bool free_in_cb;
    struct probe **self;
};

static struct event_base *base;
static struct curlm *cm;
static struct upstream *up;
static struct probe *pr;
static struct rec rec;

static void setup(void)
{
    char err[256] = "";

    ck_assert_int_eq(curlm_global_init(err, sizeof err), 0);
    base = event_base_new();
    ck_assert_ptr_nonnull(base);
    cm = curlm_new(base);
    ck_assert_ptr_nonnull(cm);
    ck_assert_int_eq(upstream_new(base, &up), 0);
    memset(&rec, 0, sizeof rec);
    pr = NULL;
}

static void teardown(void)
{
    pr = probe_free(pr);
    cm = curlm_free(cm);
    up = upstream_free(up);
    event_base_free(base);
    base = NULL;
    curlm_global_done();
}

static void rec_cb(struct probe *p, const struct probe_obs *obs, bool transitioned, void *arg)
{
    struct rec *r = arg;

    ck_assert_ptr_eq(p, pr);
    if (r->n < REC_MAX) {
        r->res[r->n] = obs->result;
        r->flip[r->n] = transitioned;
        r->ok[r->n] = probe_state_get(p)->ok;
        r->status[r->n] = obs->http_status;
    }
    r->n++;
    if (transitioned)
        r->transitions++;
    snprintf(r->last_error, sizeof r->last_error, "%s", obs->error);
    if (r->free_in_cb)
        pr = probe_free(p);
}

static unsigned want_n;
static unsigned want_transitions;

static bool n_reached(void *arg)
{
    (void)arg;
    return rec.n >= want_n;
}

static bool transitions_reached(void *arg)
{
    (void)arg;
    return rec.transitions >= want_transitions;
}

static void wait_runs(unsigned n)
{
    want_n = n;
    ck_assert_msg(upstream_loop_until(base, n_reached, NULL, WAIT_MS), "watchdog: %u of %u runs",
                  rec.n, n);
}

static void wait_transitions(unsigned n)
{
    want_transitions = n;
    ck_assert_msg(upstream_loop_until(base, transitions_reached, NULL, WAIT_MS),
                  "watchdog: %u of %u transitions", rec.transitions, n);
}

static const char *path_seen;

static bool path_reached(void *arg)
{
    return upstream_count(up, path_seen) >= *(unsigned *)arg;
}

static void wait_requests(const char *path, unsigned n)
{
    path_seen = path;
    ck_assert_msg(upstream_loop_until(base, path_reached, &n, WAIT_MS), "watchdog: %s", path);
}

static char url_bufs[4][128];

static struct cfg_probe http_cfg(const char *path, int slot)
{
    struct cfg_probe c = {.kind = CFG_PROBE_HTTP,
                          .url = upstream_url(up, path, url_bufs[slot], sizeof url_bufs[0]),
                          .timeout_ms = 2000,
                          .period_ms = 100,
                          .failure_threshold = 2,
                          .success_threshold = 1};
    return c;
}

static void start(const struct cfg_probe *c, bool initially_ok)
{
    ck_assert_int_eq(
        probe_new(base, cm, test_sched(), "liveness", c, initially_ok, rec_cb, &rec, &pr), 0);
    probe_set_jitter(pr, false);
}

START_TEST(test_up_failing_recovering)
{
    struct cfg_probe c = http_cfg("/healthz", 0);
    const struct probe_state *s;
    unsigned first_fail, flip_at;

    upstream_route(up, "/healthz", 200, 2, 0);
    start(&c, true);
    ck_assert_str_eq(probe_name(pr), "liveness");
    /* the probe keeps its own copy of the config */
    memset(url_bufs[0], 0, sizeof url_bufs[0]);
    ck_assert_ptr_nonnull(strstr(probe_cfg_get(pr)->url, "/healthz"));

    wait_runs(2);
    s = probe_state_get(pr);
    ck_assert(s->ok && s->has_run);
    ck_assert_int_eq(rec.res[0], PROBE_RES_PASS);
    ck_assert_int_eq(rec.status[0], 200);
    ck_assert_uint_eq(rec.transitions, 0);
    ck_assert_str_eq(upstream_last_header(up, "User-Agent"), "rollguard/" ROLLGUARD_VERSION);
    ck_assert_str_eq(upstream_last_header(up, "Accept"), "*/*");

    upstream_route(up, "/healthz", 500, 2, 0);
    wait_transitions(1);
    ck_assert(!s->ok);
    for (first_fail = 0; rec.res[first_fail] == PROBE_RES_PASS; first_fail++)
        ;
    for (flip_at = 0; !rec.flip[flip_at]; flip_at++)
        ;
    /* failure_threshold 2: the second consecutive FAIL flips, not the first */
    ck_assert_uint_eq(flip_at, first_fail + 1);
    ck_assert_int_eq(rec.res[flip_at], PROBE_RES_FAIL);
    ck_assert_int_eq(rec.status[flip_at], 500);
    ck_assert(!rec.ok[flip_at]);
    ck_assert_str_eq(rec.last_error, "HTTP probe failed with statuscode: 500");
    ck_assert_uint_eq(s->consecutive_fail, 2);

    upstream_route(up, "/healthz", 200, 2, 0);
    wait_transitions(2);
    ck_assert(s->ok);
    ck_assert_int_eq(rec.res[rec.n - 1], PROBE_RES_PASS);
    ck_assert(rec.flip[rec.n - 1]);
    ck_assert_uint_eq(s->transitions, 2);
    ck_assert_uint_eq(s->runs[PROBE_RES_PASS] + s->runs[PROBE_RES_FAIL], rec.n);
}
END_TEST

START_TEST(test_redirect_is_pass_404_fail)
{
    struct cfg_probe c = http_cfg("/moved", 0);

    upstream_route(up, "/moved", 302, 0, 0);
    start(&c, false);
    wait_runs(1);
    ck_assert_int_eq(rec.res[0], PROBE_RES_PASS);
    ck_assert_int_eq(rec.status[0], 302);
    ck_assert(rec.flip[0]); /* readiness: first success flips to ready */

    upstream_route(up, "/moved", 404, 0, 0);
    wait_runs(rec.n + 1);
    ck_assert_int_eq(rec.res[rec.n - 1], PROBE_RES_FAIL);
    ck_assert_str_eq(rec.last_error, "HTTP probe failed with statuscode: 404");
}
END_TEST

START_TEST(test_timeout_unreachable_no_overlap)
{
    struct cfg_probe c = http_cfg("/slow", 0);

    c.timeout_ms = 250; /* longer than the period: ticks must be skipped */
    c.failure_threshold = 1;
    upstream_route(up, "/slow", 200, 0, 2000);
    start(&c, true);
    wait_runs(3);
    for (unsigned i = 0; i < 3; i++)
        ck_assert_int_eq(rec.res[i], PROBE_RES_UNREACHABLE);
    ck_assert(rec.flip[0]);
    ck_assert_ptr_nonnull(strstr(rec.last_error, "timed out"));
    ck_assert(!probe_state_get(pr)->ok);
    /* never two runs at once: at most one request beyond the finished ones */
    ck_assert_uint_le(upstream_count(up, "/slow"), rec.n + 1);
    ck_assert_uint_le(curlm_pending(cm), 1);
}
END_TEST

START_TEST(test_tcp_pass_and_refused)
{
    char addr[64], want[96];
    struct cfg_probe c = {.kind = CFG_PROBE_TCP,
                          .address = addr,
                          .timeout_ms = 1000,
                          .period_ms = 100,
                          .failure_threshold = 1,
                          .success_threshold = 1};
    uint16_t closed;

    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)upstream_port(up));
    start(&c, false);
    wait_runs(2);
    ck_assert_int_eq(rec.res[0], PROBE_RES_PASS);
    ck_assert_int_eq(rec.status[0], 0);
    ck_assert(probe_state_get(pr)->ok);
    ck_assert_uint_eq(upstream_total(up), 0); /* connected, sent nothing */

    ck_assert_int_eq(upstream_closed_port(&closed), 0);
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)closed);
    snprintf(want, sizeof want, "connect to 127.0.0.1:%u refused", (unsigned)closed);
    ck_assert_int_eq(probe_apply(pr, &c), 0);
    wait_transitions(2);
    ck_assert_int_eq(rec.res[rec.n - 1], PROBE_RES_UNREACHABLE);
    ck_assert_str_eq(rec.last_error, want);
    ck_assert(!probe_state_get(pr)->ok);
}
END_TEST

START_TEST(test_big_body_still_passes)
{
    struct cfg_probe c = http_cfg("/big", 0);

    upstream_route(up, "/big", 200, 50 * 1024, 0);
    start(&c, false);
    wait_runs(1);
    ck_assert_int_eq(rec.res[0], PROBE_RES_PASS);
    ck_assert_int_eq(rec.status[0], 200);
    ck_assert(probe_state_get(pr)->ok);
}
END_TEST

START_TEST(test_dropped_connection_unreachable)
{
    struct cfg_probe c = http_cfg("/drop", 0);

    upstream_route(up, "/drop", 200, 0, 0);
    upstream_route_close(up, "/drop");
    start(&c, false);
    wait_runs(1);
    ck_assert_int_eq(rec.res[0], PROBE_RES_UNREACHABLE);
    ck_assert_str_ne(rec.last_error, "");
}
END_TEST

START_TEST(test_cannot_start_is_error)
{
    struct cfg_probe c = http_cfg("/x", 0);
    const struct probe_state *s;

    c.url = "ftp://127.0.0.1/x";
    start(&c, true);
    wait_runs(2);
    s = probe_state_get(pr);
    ck_assert_int_eq(rec.res[0], PROBE_RES_ERROR);
    ck_assert(!rec.flip[0] && !rec.flip[1]);
    ck_assert(s->ok);
    ck_assert(!s->has_run);
    ck_assert_uint_eq(s->consecutive_fail, 0);
    ck_assert_uint_ge(s->runs[PROBE_RES_ERROR], 2);
    ck_assert_str_eq(rec.last_error, "could not start probe: Invalid argument");
}
END_TEST

START_TEST(test_apply_target)
{
    struct cfg_probe c = http_cfg("/a", 0);
    unsigned a_before, n_before;

    upstream_route(up, "/a", 200, 0, 0);
    upstream_route(up, "/b", 503, 0, 0);
    start(&c, true);
    wait_runs(2);
    c = http_cfg("/b", 1);
    ck_assert_int_eq(probe_apply(pr, &c), 0);
    a_before = upstream_count(up, "/a");
    n_before = rec.n;
    wait_runs(n_before + 3);
    ck_assert_uint_eq(upstream_count(up, "/a"), a_before);
    ck_assert_uint_ge(upstream_count(up, "/b"), 2);
    ck_assert_int_eq(rec.res[rec.n - 1], PROBE_RES_FAIL);
    ck_assert_int_eq(rec.status[rec.n - 1], 503);
    /* counters were kept across the change */
    ck_assert_uint_ge(probe_state_get(pr)->runs[PROBE_RES_PASS], 2);
}
END_TEST

START_TEST(test_apply_target_cancels_in_flight)
{
    struct cfg_probe c = http_cfg("/slow", 0);
    const struct probe_state *s;

    upstream_route(up, "/slow", 200, 0, 1500);
    upstream_route(up, "/fast", 500, 0, 0);
    start(&c, true);
    wait_requests("/slow", 1);
    ck_assert_uint_eq(curlm_pending(cm), 1);
    c = http_cfg("/fast", 1);
    ck_assert_int_eq(probe_apply(pr, &c), 0);
    ck_assert_uint_eq(curlm_pending(cm), 0);
    wait_runs(1);
    s = probe_state_get(pr);
    ck_assert_int_eq(rec.res[0], PROBE_RES_FAIL);
    ck_assert_int_eq(rec.status[0], 500);
    ck_assert_uint_eq(s->runs[PROBE_RES_PASS] + s->runs[PROBE_RES_UNREACHABLE], 0);
    ck_assert_uint_eq(upstream_count(up, "/slow"), 1);
}
END_TEST

START_TEST(test_apply_period)
{
    struct cfg_probe c = http_cfg("/a", 0);
    unsigned n0, req0;

    upstream_route(up, "/a", 200, 0, 0);
    start(&c, true);
    wait_runs(1);
    c.period_ms = 60000;
    ck_assert_int_eq(probe_apply(pr, &c), 0);
    ck_assert_uint_eq(probe_cfg_get(pr)->period_ms, 60000);
    n0 = rec.n;
    req0 = upstream_count(up, "/a");
    upstream_loop_until(base, NULL, NULL, 400); /* four old periods, far from a new one */
    ck_assert_uint_eq(rec.n, n0);
    ck_assert_uint_eq(upstream_count(up, "/a"), req0);
    /* back to 100 ms: due since long (last start + 100 ms), so it runs again */
    c.period_ms = 100;
    ck_assert_int_eq(probe_apply(pr, &c), 0);
    wait_runs(n0 + 2);
}
END_TEST

START_TEST(test_initial_delay)
{
    struct cfg_probe c = http_cfg("/a", 0);

    upstream_route(up, "/a", 200, 0, 0);
    c.initial_delay_ms = 60000;
    start(&c, false);
    upstream_loop_until(base, NULL, NULL, 300);
    ck_assert_uint_eq(rec.n, 0);
    ck_assert(!probe_state_get(pr)->has_run);
    c.initial_delay_ms = 0; /* before the first run: re-drawn */
    ck_assert_int_eq(probe_apply(pr, &c), 0);
    wait_runs(1);
    ck_assert_int_eq(rec.res[0], PROBE_RES_PASS);
}
END_TEST

START_TEST(test_stop_cancels)
{
    struct cfg_probe c = http_cfg("/slow", 0);
    const struct probe_state *s;

    upstream_route(up, "/slow", 200, 0, 500);
    start(&c, true);
    wait_requests("/slow", 1);
    ck_assert_uint_eq(curlm_pending(cm), 1);
    probe_stop(pr);
    ck_assert_uint_eq(curlm_pending(cm), 0);
    upstream_loop_until(base, NULL, NULL, 800); /* past the reply and several periods */
    ck_assert_uint_eq(rec.n, 0);
    ck_assert_uint_eq(upstream_count(up, "/slow"), 1);
    s = probe_state_get(pr);
    ck_assert(s->ok && !s->has_run);
    /* apply on a stopped probe takes the config but does not restart it */
    c.period_ms = 50;
    ck_assert_int_eq(probe_apply(pr, &c), 0);
    upstream_loop_until(base, NULL, NULL, 200);
    ck_assert_uint_eq(upstream_count(up, "/slow"), 1);
}
END_TEST

START_TEST(test_free_from_callback)
{
    struct cfg_probe c = http_cfg("/a", 0);

    upstream_route(up, "/a", 200, 0, 0);
    rec.free_in_cb = true;
    start(&c, true);
    wait_runs(1);
    ck_assert_ptr_null(pr);
    upstream_loop_until(base, NULL, NULL, 300);
    ck_assert_uint_eq(rec.n, 1);
    ck_assert_uint_eq(upstream_count(up, "/a"), 1);
}
END_TEST

START_TEST(test_new_rejects)
{
    struct cfg_probe c = http_cfg("/a", 0);
    struct probe *p = (struct probe *)&c;

    c.kind = CFG_PROBE_NONE;
    ck_assert_int_eq(probe_new(base, cm, test_sched(), "x", &c, true, NULL, NULL, &p), -EINVAL);
    c.kind = CFG_PROBE_HTTP;
    c.url = NULL;
    ck_assert_int_eq(probe_new(base, cm, test_sched(), "x", &c, true, NULL, NULL, &p), -EINVAL);
    c = http_cfg("/a", 0);
    c.period_ms = 0;
    ck_assert_int_eq(probe_new(base, cm, test_sched(), "x", &c, true, NULL, NULL, &p), -EINVAL);
    c.kind = CFG_PROBE_TCP;
    c.period_ms = 100;
    c.address = "127.0.0.1:80/path";
    ck_assert_int_eq(probe_new(base, cm, test_sched(), "x", &c, true, NULL, NULL, &p), -EINVAL);
    ck_assert_ptr_eq(p, (struct probe *)&c);
    /* a valid probe rejects an invalid apply and keeps its config */
    c = http_cfg("/a", 0);
    ck_assert_int_eq(probe_new(base, cm, test_sched(), "x", &c, true, NULL, NULL, &pr), 0);
    c.kind = CFG_PROBE_NONE;
    ck_assert_int_eq(probe_apply(pr, &c), -EINVAL);
    ck_assert_int_eq(probe_cfg_get(pr)->kind, CFG_PROBE_HTTP);
    ck_assert_ptr_null(probe_free(NULL));
}
END_TEST

Suite *probe_suite(void);

Suite *probe_suite(void)
{
    Suite *s = suite_create("probe");
    TCase *sm = tcase_create("state");
    TCase *run = tcase_create("scheduled");

    tcase_set_timeout(sm, 5);
    tcase_add_loop_test(sm, test_state_table, 0, (int)(sizeof sm_cases / sizeof sm_cases[0]));
    tcase_add_test(sm, test_state_init_and_names);
    tcase_add_test(sm, test_state_error_keeps_last);
    suite_add_tcase(s, sm);

    tcase_add_checked_fixture(run, setup, teardown);
    tcase_set_timeout(run, 20);
    tcase_add_test(run, test_up_failing_recovering);
    tcase_add_test(run, test_redirect_is_pass_404_fail);
    tcase_add_test(run, test_timeout_unreachable_no_overlap);
    tcase_add_test(run, test_tcp_pass_and_refused);
    tcase_add_test(run, test_big_body_still_passes);
    tcase_add_test(run, test_dropped_connection_unreachable);
    tcase_add_test(run, test_cannot_start_is_error);
    tcase_add_test(run, test_apply_target);
    tcase_add_test(run, test_apply_target_cancels_in_flight);
    tcase_add_test(run, test_apply_period);
    tcase_add_test(run, test_initial_delay);
    tcase_add_test(run, test_stop_cancels);
    tcase_add_test(run, test_free_from_callback);
    tcase_add_test(run, test_new_rejects);
    suite_add_tcase(s, run);
    return s;
}
