/* Unit tests for sidecar/base: clock, rng, file (and config/smallfile under it). */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

Suite *base_suite(void);

#include "sidecar/base/clock.h"
#include "sidecar/base/file.h"
#include "sidecar/base/rng.h"
#include "config/utf8.h"
#include "sidecar/base/jsonw.h"

START_TEST(test_clock_mono_and_wall)
{
    uint64_t a = clock_mono_ms(), b = clock_mono_ms();
    int64_t w = clock_wall_ms();

    ck_assert_uint_ge(b, a);
    ck_assert_int_gt(w, 1600000000000LL); /* after 2020 */
    ck_assert_int_lt(w, 4102444800000LL); /* before 2100 */
}
END_TEST

START_TEST(test_clock_tv)
{
    struct timeval tv = clock_tv(2345);

    ck_assert_int_eq(tv.tv_sec, 2);
    ck_assert_int_eq(tv.tv_usec, 345000);
    tv = clock_tv(0);
    ck_assert_int_eq(tv.tv_sec, 0);
    ck_assert_int_eq(tv.tv_usec, 0);
}
END_TEST

static void fired_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    *(uint64_t *)arg = clock_mono_ms();
}

START_TEST(test_clock_arm)
{
    struct event_base *base = event_base_new();
    uint64_t fired = 0, start;
    struct event *ev = evtimer_new(base, fired_cb, &fired);

    start = clock_mono_ms();
    clock_arm(ev, 30);
    ck_assert(evtimer_pending(ev, NULL));
    event_base_dispatch(base);
    ck_assert_uint_ge(fired, start + 29); /* libevent may round down a millisecond */
    ck_assert_uint_lt(fired, start + 5000);
    event_free(ev);
    event_base_free(base);
}
END_TEST

START_TEST(test_rng_seeded)
{
    struct rng a, b, z;
    double u;

    rng_seed(&a, 42);
    rng_seed(&b, 42);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(rng_next(&a), rng_next(&b));
    rng_seed(&z, 0);
    ck_assert_uint_ne(z.s, 0);
    ck_assert_uint_eq(z.s & 1, 1);
    ck_assert_uint_ne(rng_next(&z), 0);
    /* xorshift64* reference: seed 1 */
    rng_seed(&a, 1);
    ck_assert_uint_eq(rng_next(&a), 5180492295206395165ULL);
    for (int i = 0; i < 10000; i++) {
        u = rng_unit(&a);
        ck_assert(u >= 0.0 && u < 1.0);
    }
}
END_TEST

START_TEST(test_rng_unit_spread)
{
    struct rng r;
    int low = 0;

    rng_seed(&r, 7);
    for (int i = 0; i < 10000; i++)
        low += rng_unit(&r) < 0.5;
    ck_assert_int_gt(low, 4500);
    ck_assert_int_lt(low, 5500);
}
END_TEST

static char tmpdir[64];

static void tmp_setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_base.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_file_read_small)
{
    char path[128], *buf = NULL;
    size_t len = 99;

    tmp_setup();
    snprintf(path, sizeof(path), "%s/a", tmpdir);
    write_file(path, "hello\n");
    ck_assert_int_eq(file_read_small(path, 100, &buf, &len), 0);
    ck_assert_uint_eq(len, 6);
    ck_assert_str_eq(buf, "hello\n");
    free(buf);

    /* exactly at the limit, and one over */
    buf = NULL;
    ck_assert_int_eq(file_read_small(path, 6, &buf, &len), 0);
    ck_assert_str_eq(buf, "hello\n");
    free(buf);
    buf = NULL;
    len = 99;
    ck_assert_int_eq(file_read_small(path, 5, &buf, &len), -EFBIG);
    ck_assert_ptr_null(buf);
    ck_assert_uint_eq(len, 99);

    /* empty file: an empty string, not NULL */
    snprintf(path, sizeof(path), "%s/empty", tmpdir);
    write_file(path, "");
    ck_assert_int_eq(file_read_small(path, 100, &buf, &len), 0);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(buf, "");
    free(buf);
    unlink(path);
    snprintf(path, sizeof(path), "%s/a", tmpdir);
    unlink(path);
    rmdir(tmpdir);
}
END_TEST

START_TEST(test_file_read_small_refuses)
{
    char path[128], *buf = NULL;
    size_t len = 0;

    tmp_setup();
    ck_assert_int_eq(file_read_small(tmpdir, 100, &buf, &len), -EISDIR);
    snprintf(path, sizeof(path), "%s/missing", tmpdir);
    ck_assert_int_eq(file_read_small(path, 100, &buf, &len), -ENOENT);
    /* a FIFO must be refused, not block the open or the read */
    snprintf(path, sizeof(path), "%s/fifo", tmpdir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    ck_assert_int_eq(file_read_small(path, 100, &buf, &len), -EINVAL);
    ck_assert_int_eq(file_read_small("/dev/null", 100, &buf, &len), -EINVAL);
    ck_assert_ptr_null(buf);
    unlink(path);
    rmdir(tmpdir);
}
END_TEST

START_TEST(test_utf8)
{
    static const struct {
        const char *s;
        size_t len;
    } bad[] = {
        {"\xc0\x80", 2},         {"\xe0\x9f\xbf", 3}, {"\xed\xa0\x80", 3}, {"\xf4\x90\x80\x80", 4},
        {"\xf5\x80\x80\x80", 4}, {"\xe2\x82", 2},     {"\x80", 1}};
    const unsigned char *e = (const unsigned char *)"\xe2\x82\xac";

    ck_assert_uint_eq(utf8_char_len(e, e + 3), 3);
    ck_assert_uint_eq(utf8_char_len(e, e + 2), 0); /* cut short by end */
    ck_assert(utf8_valid("a\xc3\xa9\xf0\x9f\x98\x80", 7));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!utf8_valid(bad[i].s, bad[i].len), "bad[%zu] accepted", i);
    ck_assert_uint_eq(utf8_runes("a\xc3\xa9\xe2\x82\xac", 6), 3);
    ck_assert_uint_eq(utf8_cut("ab\xe2\x82\xac", 5, 4), 2);
    ck_assert_uint_eq(utf8_cut("ab\xe2\x82\xac", 5, 5), 5);
}
END_TEST

START_TEST(test_jsonw_num)
{
    char out[JSONW_NUM_MAX];

    jsonw_num_format(out, 0.1);
    ck_assert_str_eq(out, "0.1");
    jsonw_num_format(out, 0.1 + 0.2); /* needs 17 digits to read back */
    ck_assert_str_eq(out, "0.30000000000000004");
    jsonw_num_format(out, 1.0 / 0.0);
    ck_assert_str_eq(out, "null");
}
END_TEST

Suite *base_suite(void)
{
    Suite *s = suite_create("base");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_clock_mono_and_wall);
    tcase_add_test(tc, test_clock_tv);
    tcase_add_test(tc, test_clock_arm);
    tcase_add_test(tc, test_rng_seeded);
    tcase_add_test(tc, test_rng_unit_spread);
    tcase_add_test(tc, test_file_read_small);
    tcase_add_test(tc, test_file_read_small_refuses);
    tcase_add_test(tc, test_utf8);
    tcase_add_test(tc, test_jsonw_num);
    suite_add_tcase(s, tc);
    return s;
}
