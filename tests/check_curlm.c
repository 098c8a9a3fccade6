/*
 * Tests for probes/curlm: real transfers on a loop against the in-process
 * fake upstream on 127.0.0.1. Every wait has a watchdog.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "probes/curlm.h"
#include "tests/helpers/upstream.h"

#ifndef ROLLGUARD_VERSION
#define ROLLGUARD_VERSION "0.0.0"
#endif

#define WAIT_MS 5000

static struct event_base *base;
static struct curlm *cm;
static struct upstream *up;

struct got {
    unsigned calls;
    struct curlm_result res;
    char *body;
    char ctype[128];
    char header[256];
    bool has_ctype, has_header;
};

static void setup(void)
{
    char err[256] = "";

    ck_assert_int_eq(curlm_global_init(err, sizeof err), 0);
    ck_assert_int_eq(curlm_global_init(err, sizeof err), 0); /* idempotent */
    base = event_base_new();
    ck_assert_ptr_nonnull(base);
    cm = curlm_new(base);
    ck_assert_ptr_nonnull(cm);
    ck_assert_int_eq(upstream_new(base, &up), 0);
}

static void teardown(void)
{
    cm = curlm_free(cm);
    up = upstream_free(up);
    event_base_free(base);
    base = NULL;
    curlm_global_done();
}

static void got_cb(const struct curlm_result *res, void *arg)
{
    struct got *g = arg;

    g->calls++;
    g->res = *res;
    free(g->body);
    g->body = malloc(res->body_len + 1);
    ck_assert_ptr_nonnull(g->body);
    memcpy(g->body, res->body, res->body_len + 1); /* includes the promised NUL */
    g->has_ctype = res->content_type != NULL;
    if (res->content_type)
        snprintf(g->ctype, sizeof g->ctype, "%s", res->content_type);
    g->has_header = res->header != NULL;
    if (res->header)
        snprintf(g->header, sizeof g->header, "%s", res->header);
    g->res.body = g->res.content_type = g->res.header = NULL; /* borrowed: gone */
}

static bool got_one(void *arg)
{
    return ((struct got *)arg)->calls > 0;
}

static void got_done(struct got *g)
{
    free(g->body);
    g->body = NULL;
}

/* A URL of the upstream; a ring of buffers so that a few can be alive at once. */
static const char *url(const char *path)
{
    static char bufs[8][256];
    static unsigned next;

    return upstream_url(up, path, bufs[next++ % 8], sizeof bufs[0]);
}

/* Starts a GET of path with max_body and waits for the callback. */
static void get_and_wait(const char *path, size_t max_body, struct got *g)
{
    struct curlm_opts o = {.url = url(path), .max_body = max_body, .timeout_ms = 3000};

    ck_assert_int_eq(curlm_start(cm, &o, got_cb, g, NULL), 0);
    ck_assert_uint_eq(curlm_pending(cm), 1);
    ck_assert_msg(upstream_loop_until(base, got_one, g, WAIT_MS), "watchdog: no completion");
    ck_assert_uint_eq(g->calls, 1);
    ck_assert_uint_eq(curlm_pending(cm), 0);
}

START_TEST(test_ok_with_body)
{
    struct got g = {0};

    upstream_route(up, "/ok", 200, 1000, 0);
    get_and_wait("/ok", 4096, &g);
    ck_assert_int_eq(g.res.fail, CURLM_FAIL_NONE);
    ck_assert_int_eq(g.res.status, 200);
    ck_assert_uint_eq(g.res.body_len, 1000);
    ck_assert_int_eq(g.body[0], 'x');
    ck_assert_int_eq(g.body[999], 'x');
    ck_assert_int_eq(g.body[1000], '\0');
    ck_assert_msg(g.has_ctype, "content type missing");
    ck_assert_str_eq(g.ctype, "text/plain");
    ck_assert(!g.has_header);
    ck_assert(!g.res.truncated);
    ck_assert_str_eq(g.res.error, "");
    ck_assert_uint_eq(upstream_count(up, "/ok"), 1);
    ck_assert_str_eq(upstream_last_method(up), "GET");
    ck_assert_str_eq(upstream_last_header(up, "User-Agent"), "rollguard/" ROLLGUARD_VERSION);
    got_done(&g);
}
END_TEST

START_TEST(test_503_is_a_response)
{
    struct got g = {0};

    upstream_route(up, "/down", 503, 10, 0);
    get_and_wait("/down", 4096, &g);
    ck_assert_int_eq(g.res.fail, CURLM_FAIL_NONE);
    ck_assert_int_eq(g.res.status, 503);
    ck_assert_uint_eq(g.res.body_len, 10);
    got_done(&g);
}
END_TEST

START_TEST(test_unknown_path_404)
{
    struct got g = {0};

    get_and_wait("/nothing-here", 4096, &g);
    ck_assert_int_eq(g.res.fail, CURLM_FAIL_NONE);
    ck_assert_int_eq(g.res.status, 404);
    got_done(&g);
}
END_TEST

START_TEST(test_refused)
{
    struct got g = {0};
    uint16_t port;
    char u[64], want[64];
    struct curlm_opts o = {.url = u, .timeout_ms = 3000};

    ck_assert_int_eq(upstream_closed_port(&port), 0);
    snprintf(u, sizeof u, "http://127.0.0.1:%u/x", (unsigned)port);
    snprintf(want, sizeof want, "connect to 127.0.0.1:%u refused", (unsigned)port);
    ck_assert_int_eq(curlm_start(cm, &o, got_cb, &g, NULL), 0);
    ck_assert(upstream_loop_until(base, got_one, &g, WAIT_MS));
    ck_assert_int_eq(g.res.fail, CURLM_ERR_CONNECT);
    ck_assert_int_eq(g.res.status, 0);
    ck_assert_str_eq(g.res.error, want);
    got_done(&g);
}
END_TEST

START_TEST(test_dns_failure)
{
    struct got g = {0};
    struct curlm_opts o = {.url = "http://no-such-host.invalid/x", .timeout_ms = 4000};

    ck_assert_int_eq(curlm_start(cm, &o, got_cb, &g, NULL), 0);
    ck_assert(upstream_loop_until(base, got_one, &g, WAIT_MS));
    ck_assert_int_eq(g.res.fail, CURLM_ERR_DNS);
    ck_assert_ptr_nonnull(strstr(g.res.error, "no-such-host.invalid"));
    got_done(&g);
}
END_TEST

START_TEST(test_timeout)
{
    struct got g = {0};
    struct curlm_opts o = {.url = url("/slow"), .timeout_ms = 200};

    upstream_route(up, "/slow", 200, 10, 3000);
    ck_assert_int_eq(curlm_start(cm, &o, got_cb, &g, NULL), 0);
    ck_assert(upstream_loop_until(base, got_one, &g, WAIT_MS));
    ck_assert_int_eq(g.res.fail, CURLM_ERR_TIMEOUT);
    ck_assert_ptr_nonnull(strstr(g.res.error, "timed out"));
    ck_assert_uint_eq(upstream_count(up, "/slow"), 1);
    got_done(&g);
}
END_TEST

START_TEST(test_body_too_big)
{
    struct got g = {0};

    upstream_route(up, "/big", 200, 50 * 1024, 0);
    get_and_wait("/big", 1024, &g);
    ck_assert_int_eq(g.res.fail, CURLM_ERR_TOOBIG);
    ck_assert_str_eq(g.res.error, "response body larger than 1024 bytes");
    ck_assert(!g.res.truncated);
    got_done(&g);
}
END_TEST

START_TEST(test_body_exactly_at_cap)
{
    struct got g = {0};

    upstream_route(up, "/fit", 200, 1024, 0);
    get_and_wait("/fit", 1024, &g);
    ck_assert_int_eq(g.res.fail, CURLM_FAIL_NONE);
    ck_assert_uint_eq(g.res.body_len, 1024);
    ck_assert(!g.res.truncated);
    got_done(&g);
}
END_TEST

START_TEST(test_body_truncate_ok)
{
    struct got g = {0};
    struct curlm_opts o = {
        .url = url("/big"), .max_body = 1024, .truncate_ok = true, .timeout_ms = 3000};

    upstream_route(up, "/big", 200, 50 * 1024, 0);
    ck_assert_int_eq(curlm_start(cm, &o, got_cb, &g, NULL), 0);
    ck_assert(upstream_loop_until(base, got_one, &g, WAIT_MS));
    ck_assert_int_eq(g.res.fail, CURLM_FAIL_NONE);
    ck_assert_int_eq(g.res.status, 200);
    ck_assert(g.res.truncated);
    ck_assert_uint_eq(g.res.body_len, 1024);
    ck_assert_int_eq(g.body[1024], '\0');
    got_done(&g);
}
END_TEST

START_TEST(test_body_discarded)
{
    struct got g = {0};

    upstream_route(up, "/big", 200, 50 * 1024, 0);
    get_and_wait("/big", 0, &g);
    ck_assert_int_eq(g.res.fail, CURLM_FAIL_NONE);
    ck_assert_int_eq(g.res.status, 200);
    ck_assert_uint_eq(g.res.body_len, 0);
    ck_assert_str_eq(g.body, "");
    got_done(&g);
}
END_TEST

START_TEST(test_capture_header)
{
    struct got g = {0}, g2 = {0};
    struct curlm_opts o = {
        .url = url("/busy"), .capture_header = "retry-after", .timeout_ms = 3000};

    upstream_route(up, "/busy", 429, 0, 0);
    upstream_route_header(up, "/busy", "Retry-After", "  120 \t");
    ck_assert_int_eq(curlm_start(cm, &o, got_cb, &g, NULL), 0);
    ck_assert(upstream_loop_until(base, got_one, &g, WAIT_MS));
    ck_assert_int_eq(g.res.status, 429);
    ck_assert(g.has_header);
    ck_assert_str_eq(g.header, "120");

    /* absent header: NULL, not "" */
    upstream_route(up, "/plain", 200, 0, 0);
    o.url = url("/plain");
    ck_assert_int_eq(curlm_start(cm, &o, got_cb, &g2, NULL), 0);
    ck_assert(upstream_loop_until(base, got_one, &g2, WAIT_MS));
    ck_assert_int_eq(g2.res.status, 200);
    ck_assert(!g2.has_header);
    got_done(&g);
    got_done(&g2);
}
END_TEST

START_TEST(test_post_with_headers)
{
    struct got g = {0};
    const char *hdrs[] = {"X-Test: yes", "Content-Type: application/json", NULL};
    struct curlm_opts o = {.url = url("/post"),
                           .method = "PATCH",
                           .headers = hdrs,
                           .body = "{\"a\":1}",
                           .body_len = 7,
                           .timeout_ms = 3000};
    size_t blen = 0;

    upstream_route(up, "/post", 201, 0, 0);
    ck_assert_int_eq(curlm_start(cm, &o, got_cb, &g, NULL), 0);
    ck_assert(upstream_loop_until(base, got_one, &g, WAIT_MS));
    ck_assert_int_eq(g.res.fail, CURLM_FAIL_NONE);
    ck_assert_int_eq(g.res.status, 201);
    ck_assert_str_eq(upstream_last_method(up), "PATCH");
    ck_assert_str_eq(upstream_last_body(up, &blen), "{\"a\":1}");
    ck_assert_uint_eq(blen, 7);
    ck_assert_str_eq(upstream_last_header(up, "X-Test"), "yes");
    ck_assert_str_eq(upstream_last_header(up, "Content-Type"), "application/json");
    ck_assert_ptr_null(upstream_last_header(up, "Expect"));
    got_done(&g);
}
END_TEST

START_TEST(test_close_without_reply)
{
    struct got g = {0};

    upstream_route(up, "/drop", 200, 0, 0);
    upstream_route_close(up, "/drop");
    get_and_wait("/drop", 4096, &g);
    ck_assert_int_eq(g.res.fail, CURLM_ERR_PROTOCOL);
    ck_assert_str_ne(g.res.error, "");
    got_done(&g);
}
END_TEST

static void never_cb(const struct curlm_result *res, void *arg)
{
    (void)res;
    (void)arg;
    ck_abort_msg("callback must not run (fail %d status %ld: %s)", res->fail, res->status,
                 res->error);
}

START_TEST(test_bad_input_no_callback)
{
    static const char *const bad_urls[] = {
        "", "not a url", "ftp://127.0.0.1/x", "file:///etc/passwd", "http://", "127.0.0.1:80",
    };
    const char *crlf[] = {"X-Evil: a\r\nInjected: b", NULL};
    const char *noname[] = {": value", NULL};
    struct curlm_opts o = {.timeout_ms = 1000};
    struct curlm_req *req = (struct curlm_req *)&o; /* must stay untouched */

    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        o.url = bad_urls[i];
        ck_assert_msg(curlm_start(cm, &o, never_cb, NULL, &req) == -EINVAL, "url '%s'",
                      bad_urls[i]);
    }
    o.url = NULL;
    ck_assert_int_eq(curlm_start(cm, &o, never_cb, NULL, &req), -EINVAL);
    o.url = url("/x");
    ck_assert_int_eq(curlm_start(cm, &o, NULL, NULL, &req), -EINVAL);
    o.headers = crlf;
    ck_assert_int_eq(curlm_start(cm, &o, never_cb, NULL, &req), -EINVAL);
    o.headers = noname;
    ck_assert_int_eq(curlm_start(cm, &o, never_cb, NULL, &req), -EINVAL);
    o.headers = NULL;
    o.method = "get";
    ck_assert_int_eq(curlm_start(cm, &o, never_cb, NULL, &req), -EINVAL);
    o.method = "GET\r\nX";
    ck_assert_int_eq(curlm_start(cm, &o, never_cb, NULL, &req), -EINVAL);
    ck_assert_ptr_eq(req, (struct curlm_req *)&o);
    ck_assert_uint_eq(curlm_pending(cm), 0);
    upstream_loop_until(base, NULL, NULL, 100);
    ck_assert_uint_eq(upstream_total(up), 0);
}
END_TEST

static bool slow_seen(void *arg)
{
    (void)arg;
    return upstream_count(up, "/slow") > 0;
}

START_TEST(test_cancel)
{
    struct curlm_req *a = NULL, *b = NULL;
    struct curlm_opts o = {.url = url("/slow"), .timeout_ms = 3000};

    upstream_route(up, "/slow", 200, 10, 300);
    /* cancelled before the loop ever ran */
    ck_assert_int_eq(curlm_start(cm, &o, never_cb, NULL, &a), 0);
    curlm_cancel(a);
    ck_assert_uint_eq(curlm_pending(cm), 0);
    /* cancelled while the upstream holds the request */
    ck_assert_int_eq(curlm_start(cm, &o, never_cb, NULL, &b), 0);
    ck_assert(upstream_loop_until(base, slow_seen, NULL, WAIT_MS));
    ck_assert_uint_eq(curlm_pending(cm), 1);
    curlm_cancel(b);
    curlm_cancel(NULL);
    ck_assert_uint_eq(curlm_pending(cm), 0);
    upstream_loop_until(base, NULL, NULL, 600); /* past the reply delay */
    ck_assert_uint_eq(curlm_pending(cm), 0);
}
END_TEST

#define MANY 40

struct many {
    unsigned done, ok;
};

static void many_cb(const struct curlm_result *res, void *arg)
{
    struct many *m = arg;

    m->done++;
    if (res->fail == CURLM_FAIL_NONE && res->status == 200 && res->body_len == 100)
        m->ok++;
}

static bool many_done(void *arg)
{
    return ((struct many *)arg)->done == MANY;
}

START_TEST(test_many_concurrent)
{
    struct many m = {0};
    struct curlm_opts o = {.url = url("/ok"), .max_body = 1024, .timeout_ms = 4000};

    upstream_route(up, "/ok", 200, 100, 20);
    for (int i = 0; i < MANY; i++)
        ck_assert_int_eq(curlm_start(cm, &o, many_cb, &m, NULL), 0);
    ck_assert_uint_eq(curlm_pending(cm), MANY);
    ck_assert(upstream_loop_until(base, many_done, &m, 3 * WAIT_MS));
    ck_assert_uint_eq(m.ok, MANY);
    ck_assert_uint_eq(upstream_count(up, "/ok"), MANY);
    ck_assert_uint_eq(curlm_pending(cm), 0);
}
END_TEST

START_TEST(test_connect_only)
{
    struct got g = {0}, g2 = {0};
    uint16_t closed;
    char u[64];
    struct curlm_opts o = {.url = u, .connect_only = true, .timeout_ms = 2000};

    snprintf(u, sizeof u, "http://127.0.0.1:%u/", (unsigned)upstream_port(up));
    ck_assert_int_eq(curlm_start(cm, &o, got_cb, &g, NULL), 0);
    ck_assert(upstream_loop_until(base, got_one, &g, WAIT_MS));
    ck_assert_int_eq(g.res.fail, CURLM_FAIL_NONE);
    ck_assert_int_eq(g.res.status, 0);

    ck_assert_int_eq(upstream_closed_port(&closed), 0);
    snprintf(u, sizeof u, "http://127.0.0.1:%u/", (unsigned)closed);
    ck_assert_int_eq(curlm_start(cm, &o, got_cb, &g2, NULL), 0);
    ck_assert(upstream_loop_until(base, got_one, &g2, WAIT_MS));
    ck_assert_int_eq(g2.res.fail, CURLM_ERR_CONNECT);
    ck_assert_ptr_nonnull(strstr(g2.res.error, "refused"));

    upstream_loop_until(base, NULL, NULL, 100);
    ck_assert_uint_eq(upstream_total(up), 0); /* nothing was sent */
    got_done(&g);
    got_done(&g2);
}
END_TEST

START_TEST(test_free_with_pending)
{
    struct curlm_opts o = {.url = url("/slow"), .max_body = 1024, .timeout_ms = 3000};
    struct curlm_opts oc = {.url = url("/"), .connect_only = true};

    upstream_route(up, "/slow", 200, 100, 200);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(curlm_start(cm, &o, never_cb, NULL, NULL), 0);
    ck_assert(upstream_loop_until(base, slow_seen, NULL, WAIT_MS));
    /* and one that has not even connected yet */
    ck_assert_int_eq(curlm_start(cm, &oc, never_cb, NULL, NULL), 0);
    ck_assert_uint_eq(curlm_pending(cm), 6);
    cm = curlm_free(cm);
    ck_assert_ptr_null(cm);
    upstream_loop_until(base, NULL, NULL, 400); /* the upstream answers into closed sockets */
}
END_TEST

/* Callbacks that act on the curlm they are called from. */
struct reenter {
    struct curlm_req *victim;
    struct got second;
    unsigned first_calls;
    bool free_it;
};

static void reenter_cb(const struct curlm_result *res, void *arg)
{
    struct reenter *r = arg;
    struct curlm_opts o = {.url = url("/ok"), .max_body = 1024, .timeout_ms = 3000};

    ck_assert_int_eq(res->fail, CURLM_FAIL_NONE);
    r->first_calls++;
    if (r->free_it) {
        cm = curlm_free(cm);
        return;
    }
    curlm_cancel(r->victim);
    r->victim = NULL;
    ck_assert_int_eq(curlm_start(cm, &o, got_cb, &r->second, NULL), 0);
}

static bool second_done(void *arg)
{
    return ((struct reenter *)arg)->second.calls > 0;
}

START_TEST(test_callback_cancels_and_starts)
{
    struct reenter r = {0};
    struct curlm_opts fast = {.url = url("/ok"), .max_body = 1024, .timeout_ms = 3000};
    struct curlm_opts slow = {.url = url("/slow"), .timeout_ms = 3000};

    upstream_route(up, "/ok", 200, 5, 0);
    upstream_route(up, "/slow", 200, 5, 300);
    ck_assert_int_eq(curlm_start(cm, &slow, never_cb, NULL, &r.victim), 0);
    ck_assert_int_eq(curlm_start(cm, &fast, reenter_cb, &r, NULL), 0);
    ck_assert(upstream_loop_until(base, second_done, &r, WAIT_MS));
    ck_assert_uint_eq(r.first_calls, 1);
    ck_assert_int_eq(r.second.res.status, 200);
    ck_assert_uint_eq(curlm_pending(cm), 0);
    upstream_loop_until(base, NULL, NULL, 500); /* the cancelled one stays silent */
    got_done(&r.second);
}
END_TEST

START_TEST(test_callback_frees_curlm)
{
    struct reenter r = {.free_it = true};
    struct curlm_opts fast = {.url = url("/ok"), .max_body = 1024, .timeout_ms = 3000};

    upstream_route(up, "/ok", 200, 5, 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(curlm_start(cm, &fast, reenter_cb, &r, NULL), 0);
    ck_assert(upstream_loop_until(base, NULL, NULL, 500));
    ck_assert_uint_eq(r.first_calls, 1);
    ck_assert_ptr_null(cm);
}
END_TEST

#define RIVALS 10

struct rivals {
    struct curlm_req *req[RIVALS];
    unsigned calls;
};

/*
 * The first to finish cancels every other request. Equal timeouts expire in
 * one libcurl timer run, so the cancelled ones have mostly finished already
 * and wait in the same dispatch for callbacks that must not come.
 */
static void rival_cb(const struct curlm_result *res, void *arg)
{
    struct rivals *r = arg;

    ck_assert_int_eq(res->fail, CURLM_ERR_TIMEOUT);
    r->calls++;
    for (int i = 0; i < RIVALS; i++) {
        curlm_cancel(r->req[i]); /* our own: a no-op */
        r->req[i] = NULL;
    }
}

START_TEST(test_callback_cancels_finished_rivals)
{
    struct rivals r = {0};
    struct curlm_opts o = {.url = url("/slow"), .timeout_ms = 200};

    upstream_route(up, "/slow", 200, 0, 2000);
    for (int i = 0; i < RIVALS; i++)
        ck_assert_int_eq(curlm_start(cm, &o, rival_cb, &r, &r.req[i]), 0);
    ck_assert(upstream_loop_until(base, NULL, NULL, 600));
    ck_assert_uint_eq(r.calls, 1);
    ck_assert_uint_eq(curlm_pending(cm), 0);
}
END_TEST

Suite *curlm_suite(void);

Suite *curlm_suite(void)
{
    Suite *s = suite_create("curlm");
    TCase *tc = tcase_create("transfers");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_ok_with_body);
    tcase_add_test(tc, test_503_is_a_response);
    tcase_add_test(tc, test_unknown_path_404);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_dns_failure);
    tcase_add_test(tc, test_timeout);
    tcase_add_test(tc, test_body_too_big);
    tcase_add_test(tc, test_body_exactly_at_cap);
    tcase_add_test(tc, test_body_truncate_ok);
    tcase_add_test(tc, test_body_discarded);
    tcase_add_test(tc, test_capture_header);
    tcase_add_test(tc, test_post_with_headers);
    tcase_add_test(tc, test_close_without_reply);
    tcase_add_test(tc, test_bad_input_no_callback);
    tcase_add_test(tc, test_cancel);
    tcase_add_test(tc, test_many_concurrent);
    tcase_add_test(tc, test_connect_only);
    tcase_add_test(tc, test_free_with_pending);
    tcase_add_test(tc, test_callback_cancels_and_starts);
    tcase_add_test(tc, test_callback_frees_curlm);
    tcase_add_test(tc, test_callback_cancels_finished_rivals);
    suite_add_tcase(s, tc);
    return s;
}
