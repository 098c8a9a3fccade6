/* Unit tests for the small helpers: buf, redact, log rendering. */
#include <check.h>
#include <errno.h>
#include <string.h>

Suite *util_suite(void);

#include "sidecar/base/buf.h"
#include "sidecar/base/log.h"
#include "sidecar/base/redact.h"

START_TEST(test_buf_cap)
{
    struct buf b;

    buf_init(&b, 10);
    ck_assert_int_eq(buf_puts(&b, "12345"), 0);
    ck_assert_int_eq(buf_printf(&b, "%d", 6789), 0);
    ck_assert_str_eq(b.data, "123456789");
    ck_assert_int_eq(buf_puts(&b, "ab"), -E2BIG);
    ck_assert(b.failed);
    ck_assert_str_eq(b.data, "123456789"); /* unchanged by the failed append */
    buf_reset(&b);
    ck_assert(!b.failed);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(buf_puts(&b, "0123456789"), 0);
    buf_done(&b);
}
END_TEST

START_TEST(test_buf_escapes)
{
    struct buf b;

    buf_init(&b, 1024);
    buf_json_escape(&b, "a\"b\\c\nd\x01"
                        "e");
    ck_assert_str_eq(b.data, "a\\\"b\\\\c\\nd\\u0001e");
    buf_reset(&b);
    buf_json_escape(&b, "\b\f\x7f caf\xc3\xa9 \xc3 \xed\xa0\x80 \xf4\x90\x80\x80");
    ck_assert_str_eq(b.data, "\\b\\f\\u007f caf\xc3\xa9 \\ufffd \\ufffd\\ufffd\\ufffd "
                             "\\ufffd\\ufffd\\ufffd\\ufffd");
    buf_reset(&b);
    buf_label_escape(&b, "x\"y\\z\nw");
    ck_assert_str_eq(b.data, "x\\\"y\\\\z\\nw");
    buf_done(&b);
}
END_TEST

START_TEST(test_redact)
{
    char out[128];

    ck_assert_str_eq(redact_url("http://user:s3cret@127.0.0.1:3000/healthz", out, sizeof(out)),
                     "http://***@127.0.0.1:3000/healthz");
    ck_assert_str_eq(redact_url("https://a@b@host/x?y=@", out, sizeof(out)),
                     "https://***@host/x?y=@");
    ck_assert_str_eq(redact_url("http://127.0.0.1:3000/p?u=a@b", out, sizeof(out)),
                     "http://127.0.0.1:3000/p?u=a@b");
    ck_assert_str_eq(redact_url("127.0.0.1:3000", out, sizeof(out)), "127.0.0.1:3000");
}
END_TEST

START_TEST(test_log_json)
{
    char line[512];
    struct log_field f[] = {LF_S("probe", "live\"ness"),
                            LF_I("status", -3),
                            LF_U("n", 7),
                            LF_B("ok", true),
                            LF_D("ms", 1.5),
                            LF_RAW("ev", "{\"a\":1}")};
    size_t n = log_render(line, sizeof(line), true, "T", LOG_LVL_WARN, "probe_state", f, 6);

    ck_assert_str_eq(line, "{\"ts\":\"T\",\"level\":\"warn\",\"event\":\"probe_state\","
                           "\"probe\":\"live\\\"ness\",\"status\":-3,\"n\":7,\"ok\":true,"
                           "\"ms\":1.5,\"ev\":{\"a\":1}}\n");
    ck_assert_uint_eq(n, strlen(line));
}
END_TEST

START_TEST(test_log_text)
{
    char line[512];
    struct log_field f[] = {LF_S("error", "connection refused"), LF_S("probe", "liveness")};

    log_render(line, sizeof(line), false, "T", LOG_LVL_INFO, "probe_state", f, 2);
    ck_assert_str_eq(line, "ts=T level=info event=probe_state error=\"connection refused\" "
                           "probe=liveness\n");
}
END_TEST

/* App- and server-supplied strings cannot break a line or the JSON of one. */
START_TEST(test_log_injection)
{
    char line[512];
    /* a forged second line, a lone continuation byte, an overlong '/', a cut sequence,
       a UTF-16 surrogate, and well-formed 2-, 3- and 4-byte characters */
    struct log_field f[] = {
        LF_S("error", "bad\n{\"level\":\"error\",\"event\":\"rollback\"}\r\x1b[2J"),
        LF_S("metric", "a\x80"
                       "b\xc0\xaf"
                       "c\xe2\x82"),
        LF_S("sur", "\xed\xa0\x80"),
        LF_S("ok", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
    };

    log_render(line, sizeof(line), true, "T", LOG_LVL_INFO, "scrape", f, 4);
    ck_assert_str_eq(line, "{\"ts\":\"T\",\"level\":\"info\",\"event\":\"scrape\","
                           "\"error\":\"bad\\n{\\\"level\\\":\\\"error\\\",\\\"event\\\":"
                           "\\\"rollback\\\"}\\r\\u001b[2J\","
                           "\"metric\":\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\","
                           "\"sur\":\"\\ufffd\\ufffd\\ufffd\","
                           "\"ok\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}\n");
    ck_assert_ptr_eq(strchr(line, '\n'), line + strlen(line) - 1);

    log_render(line, sizeof(line), false, "T", LOG_LVL_INFO, "scrape", f, 1);
    ck_assert_str_eq(line, "ts=T level=info event=scrape error=\"bad\\n{\\\"level\\\":"
                           "\\\"error\\\",\\\"event\\\":\\\"rollback\\\"}\\r\\u001b[2J\"\n");
}
END_TEST

START_TEST(test_log_truncates_whole_fields)
{
    char line[200], big[400];
    struct log_field f[2];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    f[0] = LF_S("a", "short");
    f[1] = LF_S("b", big);
    log_render(line, sizeof(line), true, "T", LOG_LVL_INFO, "e", f, 2);
    ck_assert_ptr_nonnull(strstr(line, "\"a\":\"short\",\"truncated\":true}\n"));
    ck_assert_ptr_null(strstr(line, "\"b\""));
}
END_TEST

Suite *util_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("util");

    tcase_add_test(tc, test_buf_cap);
    tcase_add_test(tc, test_buf_escapes);
    tcase_add_test(tc, test_redact);
    tcase_add_test(tc, test_log_json);
    tcase_add_test(tc, test_log_text);
    tcase_add_test(tc, test_log_truncates_whole_fields);
    tcase_add_test(tc, test_log_injection);
    suite_add_tcase(s, tc);
    return s;
}
