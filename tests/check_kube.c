/* Unit tests for the pure parts of sidecar/kube.c and sidecar/admin.c's query parser. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "sidecar/admin.h"
#include "sidecar/kube.h"

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
    return s;
}
