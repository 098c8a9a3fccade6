/* Unit tests for sidecar/http/httpreq.c: the strict request-head parser. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

Suite *httpreq_suite(void);

#include "sidecar/http/httpreq.h"

static int parse(const char *s, struct httpreq *r)
{
    return httpreq_parse(s, strlen(s), 8192, r);
}

START_TEST(test_kubelet_probe)
{
    struct httpreq r;
    const char *s = "GET /health HTTP/1.1\r\nHost: 10.0.0.7:8080\r\nUser-Agent: kube-probe/1.32\r\n"
                    "Accept: */*\r\nConnection: close\r\n\r\n";

    ck_assert_int_eq(parse(s, &r), 1);
    ck_assert_int_eq(r.method, HTTPREQ_GET);
    ck_assert_int_eq((int)r.path_len, 7);
    ck_assert(!memcmp(r.path, "/health", 7));
    ck_assert_ptr_null(r.query);
    ck_assert_int_eq(r.minor, 1);
    ck_assert(!r.keep_alive);
    ck_assert_int_eq((int)r.content_length, -1);
    ck_assert_uint_eq(r.head_len, strlen(s));
    ck_assert_uint_eq(r.headers, 4);
}
END_TEST

START_TEST(test_keep_alive_rules)
{
    struct httpreq r;

    ck_assert_int_eq(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &r), 1);
    ck_assert(r.keep_alive);
    ck_assert_int_eq(parse("GET / HTTP/1.0\r\n\r\n", &r), 1);
    ck_assert(!r.keep_alive);
    ck_assert_int_eq(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r), 1);
    ck_assert(r.keep_alive);
    ck_assert_int_eq(
        parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, CLOSE\r\n\r\n", &r), 1);
    ck_assert(!r.keep_alive);
}
END_TEST

START_TEST(test_query_and_methods)
{
    struct httpreq r;

    ck_assert_int_eq(parse("HEAD /ready?verbose=1 HTTP/1.1\r\nHost: a\r\n\r\n", &r), 1);
    ck_assert_int_eq(r.method, HTTPREQ_HEAD);
    ck_assert_uint_eq(r.path_len, 6);
    ck_assert_uint_eq(r.query_len, 9);
    ck_assert(!memcmp(r.query, "verbose=1", 9));
    ck_assert_int_eq(parse("POST /rollback HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n", &r),
                     1);
    ck_assert_int_eq(r.method, HTTPREQ_POST);
    ck_assert_int_eq((int)r.content_length, 12);
    ck_assert_int_eq(parse("BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", &r), 1);
    ck_assert_int_eq(r.method, HTTPREQ_OTHER);
    ck_assert_str_eq(httpreq_method_name(HTTPREQ_PATCH), "PATCH");
}
END_TEST

START_TEST(test_incremental)
{
    const char *s = "GET /health HTTP/1.1\r\nHost: a\r\n\r\n";
    struct httpreq r;

    for (size_t i = 0; i < strlen(s); i++)
        ck_assert_msg(httpreq_parse(s, i, 8192, &r) == 0, "prefix %zu", i);
    ck_assert_int_eq(httpreq_parse(s, strlen(s), 8192, &r), 1);
}
END_TEST

START_TEST(test_bare_lf_and_leading_crlf)
{
    struct httpreq r;

    ck_assert_int_eq(parse("GET /a HTTP/1.1\nHost: a\n\n", &r), 1);
    ck_assert_int_eq(parse("\r\nGET /a HTTP/1.1\r\nHost: a\r\n\r\n", &r), 1);
    ck_assert_uint_eq(r.path_len, 2);
}
END_TEST

static void expect_error(const char *s, int status)
{
    struct httpreq r;

    ck_assert_msg(parse(s, &r) == -EINVAL, "accepted: %s", s);
    ck_assert_msg(r.error_status == status, "%s: status %d, wanted %d (%s)", s, r.error_status,
                  status, r.error);
    ck_assert_ptr_nonnull(r.error);
}

START_TEST(test_rejects)
{
    expect_error("GET /a HTTP/1.1\r\n\r\n", 400); /* no Host */
    expect_error("GET /a HTTP/2.0\r\nHost: a\r\n\r\n", 505);
    expect_error("GET /a HTTP/1.2\r\nHost: a\r\n\r\n", 505);
    expect_error("GET /a FTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_error("GET http://x/a HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_error("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_error("GET /a HTTP/1.1\r\nHost : a\r\n\r\n", 400);           /* space before colon */
    expect_error("GET /a HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400); /* obs-fold */
    expect_error("GET /a HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400);      /* bare CR */
    expect_error("GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
    expect_error("GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                 400);
    expect_error("GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400);
    expect_error("GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 400);
    expect_error(
        "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        400);
    expect_error("GET /a HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400);
    expect_error("G(T /a HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_error("GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}
END_TEST

START_TEST(test_same_content_length_twice_is_fine)
{
    struct httpreq r;

    ck_assert_int_eq(
        parse("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n", &r),
        1);
    ck_assert_int_eq((int)r.content_length, 2);
}
END_TEST

START_TEST(test_limits)
{
    char big[9000];
    struct httpreq r;
    int n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\nX: ");

    memset(big + n, 'a', sizeof(big) - (size_t)n - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(httpreq_parse(big, strlen(big), 8192, &r), -EINVAL);
    ck_assert_int_eq(r.error_status, 431);
    /* Under the limit it just waits for more. */
    ck_assert_int_eq(httpreq_parse(big, 4000, 8192, &r), 0);

    {
        char many[8192] = "GET / HTTP/1.1\r\nHost: a\r\n";
        for (int i = 0; i < HTTPREQ_MAX_HEADERS + 1; i++)
            strcat(many, "X-A: b\r\n");
        strcat(many, "\r\n");
        ck_assert_int_eq(httpreq_parse(many, strlen(many), 8192, &r), -EINVAL);
        ck_assert_int_eq(r.error_status, 431);
    }
}
END_TEST

START_TEST(test_pipelined_head_len)
{
    const char *s = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n";
    struct httpreq r;

    ck_assert_int_eq(parse(s, &r), 1);
    ck_assert_uint_eq(r.head_len, strlen(s) / 2);
    ck_assert_int_eq(httpreq_parse(s + r.head_len, strlen(s) - r.head_len, 8192, &r), 1);
    ck_assert(!memcmp(r.path, "/b", 2));
}
END_TEST

Suite *httpreq_suite(void)
{
    Suite *s = suite_create("httpreq");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, test_kubelet_probe);
    tcase_add_test(tc, test_keep_alive_rules);
    tcase_add_test(tc, test_query_and_methods);
    tcase_add_test(tc, test_incremental);
    tcase_add_test(tc, test_bare_lf_and_leading_crlf);
    tcase_add_test(tc, test_rejects);
    tcase_add_test(tc, test_same_content_length_twice_is_fine);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_pipelined_head_len);
    suite_add_tcase(s, tc);
    return s;
}
