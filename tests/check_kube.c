/*
 * Unit tests for the pure parts of sidecar/kube/kube.c and sidecar/admin.c's query parser, and
 * for the transport rules the API client's bearer token relies on.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "probes/curlm.h"
#include "sidecar/admin.h"
#include "sidecar/kube/kube.h"
#include "tests/helpers/upstream.h"

Suite *kube_suite(void);

START_TEST(test_retry_after)
{
    struct kube_status st = {.code = 429, .retry_after_s = 5};

    ck_assert_int_eq(kube_retry_after("2", NULL), 2);
    ck_assert_int_eq(kube_retry_after(" 7 \r\n", &st), 7); /* the header wins */
    ck_assert_int_eq(kube_retry_after(NULL, &st), 5);      /* Status details */
    ck_assert_int_eq(kube_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", NULL), 1);
    ck_assert_int_eq(kube_retry_after(NULL, NULL), -1);
    st.retry_after_s = 0;
    ck_assert_int_eq(kube_retry_after(NULL, &st), -1);
    ck_assert(kube_retryable_status(429));
    ck_assert(kube_retryable_status(500) && kube_retryable_status(503) &&
              kube_retryable_status(504));
    ck_assert(!kube_retryable_status(409) && !kube_retryable_status(422) &&
              !kube_retryable_status(403) && !kube_retryable_status(401));
}
END_TEST

START_TEST(test_resend_allowed)
{
    /* reads and guarded writes: any no-answer, 429, 5xx */
    ck_assert(kube_resend_allowed(KUBE_GET, 0, true));
    ck_assert(kube_resend_allowed(KUBE_LIST, 503, true));
    ck_assert(kube_resend_allowed(KUBE_UPDATE, 500, true));
    ck_assert(kube_resend_allowed(KUBE_CREATE, 429, true));
    ck_assert(!kube_resend_allowed(KUBE_GET, 409, true));
    /* a PATCH that may have landed goes back to its caller */
    ck_assert(!kube_resend_allowed(KUBE_PATCH, 0, true));
    ck_assert(!kube_resend_allowed(KUBE_PATCH, 500, true));
    ck_assert(!kube_resend_allowed(KUBE_PATCH, 504, true));
    ck_assert(!kube_resend_allowed(KUBE_PATCH, 503, true));
    ck_assert(kube_resend_allowed(KUBE_PATCH, 429, true));
    /* nothing left the client: resend */
    ck_assert(kube_resend_allowed(KUBE_PATCH, 0, false));
}
END_TEST

START_TEST(test_backoff_bounds)
{
    ck_assert_uint_eq(kube_backoff_ms(1, -1, 0), KUBE_BACKOFF_BASE_MS);
    ck_assert_uint_eq(kube_backoff_ms(2, -1, 0), 2 * KUBE_BACKOFF_BASE_MS);
    ck_assert_uint_eq(kube_backoff_ms(30, -1, 0), KUBE_BACKOFF_MAX_MS);
    ck_assert_uint_eq(kube_backoff_ms(1, 2, 0), 2000); /* Retry-After wins */
    ck_assert_uint_eq(kube_backoff_ms(1, 3600, 0), KUBE_RETRY_AFTER_MAX_S * 1000);
    ck_assert_uint_le(kube_backoff_ms(1, 2, 0.999), (uint32_t)(2000 * (1 + KUBE_JITTER)));
    ck_assert_uint_gt(kube_backoff_ms(1, 2, 0.5), 2000); /* jitter stretches */
    ck_assert_uint_eq(kube_backoff_ms(1, 2, 7.0), 2000); /* bad rnd ignored */
}
END_TEST

START_TEST(test_escape_and_urls)
{
    char buf[64];

    ck_assert_int_eq(kube_query_escape("app=web,tier in (a,b)", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "app%3Dweb%2Ctier%20in%20%28a%2Cb%29");
    ck_assert_int_eq(kube_query_escape("abcdef", buf, 4), -E2BIG);
    ck_assert_int_eq(kube_incluster_url("10.96.0.1", "443", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "https://10.96.0.1:443");
    ck_assert_int_eq(kube_incluster_url("fd00::1", "443", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "https://[fd00::1]:443");
    ck_assert_int_eq(kube_incluster_url("", "443", buf, sizeof(buf)), -ENOENT);
    ck_assert_int_eq(kube_incluster_url("h", NULL, buf, sizeof(buf)), -ENOENT);
    ck_assert_int_eq(kube_code_index(200), 0);
    ck_assert_int_eq(kube_codes[kube_code_index(422)], 422);
    ck_assert_int_eq(kube_codes[kube_code_index(418)], 0);
    ck_assert_int_eq(kube_codes[kube_code_index(0)], -1);
    ck_assert_str_eq(kube_verb_name(KUBE_PATCH), "patch");
}
END_TEST

START_TEST(test_client_refuses_plain_http)
{
    struct kube_client *c = NULL;
    struct kube_client_cfg cfg = {.api_server = "http://127.0.0.1:1", .sa_dir = "/nonexistent"};
    char err[128];

    ck_assert_int_eq(kube_client_new(NULL, NULL, &cfg, &c, err, sizeof(err)), -EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(strstr(err, "https"));
}
END_TEST

struct sent {
    unsigned calls;
    long status;
    enum curlm_fail fail;
};

static void sent_cb(const struct curlm_result *res, void *arg)
{
    struct sent *g = arg;

    g->calls++;
    g->status = res->status;
    g->fail = res->fail;
}

static bool sent_one(void *arg)
{
    return ((struct sent *)arg)->calls > 0;
}

/*
 * kube.c puts the token in an Authorization header on a curlm request to the API server.
 * That header must reach the API server and nothing else: a redirect (to another port,
 * i.e. another origin) is returned to the caller, not followed, and proxy variables in the
 * environment are ignored.
 */
START_TEST(test_token_goes_to_the_api_server_only)
{
    static const char *const proxy_vars[] = {"http_proxy", "HTTPS_PROXY", "https_proxy",
                                             "ALL_PROXY", "all_proxy"};
    static const int codes[] = {301, 302, 307, 308};
    const char *headers[] = {"Authorization: Bearer tok-secret", "Accept: application/json", NULL};
    struct event_base *base = event_base_new();
    struct upstream *api = NULL, *other = NULL;
    struct curlm *m;
    char err[256] = "", url[128], elsewhere[128];
    struct curlm_opts o;

    ck_assert_ptr_nonnull(base);
    ck_assert_int_eq(curlm_global_init(err, sizeof(err)), 0);
    m = curlm_new(base);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(upstream_new(base, &api), 0);
    ck_assert_int_eq(upstream_new(base, &other), 0);
    upstream_route(other, "/steal", 200, 2, 0);
    upstream_route(api, "/ok", 200, 2, 0);
    upstream_url(other, "/steal", elsewhere, sizeof(elsewhere));

    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        struct sent g = {0};
        char path[32];

        snprintf(path, sizeof(path), "/moved%d", codes[i]);
        upstream_route(api, path, codes[i], 0, 0);
        upstream_route_header(api, path, "Location", elsewhere);
        memset(&o, 0, sizeof(o));
        o.url = upstream_url(api, path, url, sizeof(url));
        o.method = "PATCH";
        o.body = "[]";
        o.body_len = 2;
        o.headers = headers;
        o.timeout_ms = 3000;
        ck_assert_int_eq(curlm_start(m, &o, sent_cb, &g, NULL), 0);
        ck_assert(upstream_loop_until(base, sent_one, &g, 5000));
        ck_assert_int_eq(g.fail, CURLM_FAIL_NONE);
        ck_assert_int_eq(g.status, codes[i]); /* handed back, not followed */
        ck_assert_uint_eq(upstream_count(api, path), 1);
    }
    ck_assert_uint_eq(upstream_total(other), 0);

    for (size_t i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++) {
        char proxy[64];

        snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%u", (unsigned)upstream_port(other));
        setenv(proxy_vars[i], proxy, 1);
    }
    {
        struct sent g = {0};

        memset(&o, 0, sizeof(o));
        o.url = upstream_url(api, "/ok", url, sizeof(url));
        o.headers = headers;
        o.timeout_ms = 3000;
        ck_assert_int_eq(curlm_start(m, &o, sent_cb, &g, NULL), 0);
        ck_assert(upstream_loop_until(base, sent_one, &g, 5000));
        ck_assert_int_eq(g.status, 200);
    }
    for (size_t i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++)
        unsetenv(proxy_vars[i]);
    ck_assert_uint_eq(upstream_count(api, "/ok"), 1);
    ck_assert_str_eq(upstream_last_header(api, "Authorization"), "Bearer tok-secret");
    ck_assert_uint_eq(upstream_total(other), 0);

    m = curlm_free(m);
    api = upstream_free(api);
    other = upstream_free(other);
    event_base_free(base);
    curlm_global_done();
}
END_TEST

START_TEST(test_admin_query)
{
    long rev;
    int dry;

    ck_assert_int_eq(admin_rollback_query_parse(NULL, 0, &rev, &dry), 0);
    ck_assert_int_eq(rev, 0);
    ck_assert_int_eq(dry, 0);
    ck_assert_int_eq(admin_rollback_query_parse("to_revision=3&dry_run=1", 23, &rev, &dry), 0);
    ck_assert_int_eq(rev, 3);
    ck_assert_int_eq(dry, 1);
    ck_assert_int_eq(admin_rollback_query_parse("dry_run&&to_revision=12", 23, &rev, &dry), 0);
    ck_assert_int_eq(rev, 12);
    ck_assert_int_eq(dry, 1);
    ck_assert_int_eq(admin_rollback_query_parse("dry_run=false", 13, &rev, &dry), 0);
    ck_assert_int_eq(dry, 0);
    ck_assert_int_eq(admin_rollback_query_parse("to_revision=-1", 14, &rev, &dry), -EINVAL);
    ck_assert_int_eq(admin_rollback_query_parse("to_revision=", 12, &rev, &dry), -EINVAL);
    ck_assert_int_eq(admin_rollback_query_parse("force=1", 7, &rev, &dry), -EINVAL);
    ck_assert_int_eq(admin_rollback_query_parse("dry_run=maybe", 13, &rev, &dry), -EINVAL);
}
END_TEST

Suite *kube_suite(void)
{
    Suite *s = suite_create("kube");
    TCase *tc = tcase_create("helpers");

    tcase_add_test(tc, test_retry_after);
    tcase_add_test(tc, test_resend_allowed);
    tcase_add_test(tc, test_backoff_bounds);
    tcase_add_test(tc, test_escape_and_urls);
    tcase_add_test(tc, test_client_refuses_plain_http);
    tcase_add_test(tc, test_admin_query);
    suite_add_tcase(s, tc);
    tc = tcase_create("transport");
    tcase_add_test(tc, test_token_goes_to_the_api_server_only);
    suite_add_tcase(s, tc);
    return s;
}
