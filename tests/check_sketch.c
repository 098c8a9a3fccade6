/*
 * Tests for sidecar/sketch: the relative-error bound against exact sorted
 * samples on several distributions, exact merge/subtract, count_above,
 * refusal of overflow/underflow, the edge bins.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/analysis/sketch.h"

Suite *sketch_suite(void);

/* A small deterministic generator (splitmix64) for reproducible samples. */
static uint64_t ts_state;

static double ts_u01(void)
{
    uint64_t z = (ts_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) * 0x1.0p-53;
}

static double ts_normal(void)
{
    return sqrt(-2 * log(ts_u01())) * cos(2 * M_PI * ts_u01());
}

static int ts_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define TS_N 20000

/* Every quantile of the sketch is within the relative accuracy of the exact one. */
static void ts_check_accuracy(double *v, unsigned n)
{
    static const double qs[] = {0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1};
    struct sketch s;

    sketch_init(&s);
    for (unsigned i = 0; i < n; i++)
        ck_assert_int_eq(sketch_add(&s, v[i], 1), 0);
    ck_assert_uint_eq(s.count, n);
    qsort(v, n, sizeof(*v), ts_cmp);
    for (unsigned k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
        double exact = v[(size_t)floor(qs[k] * (n - 1))], est;
        ck_assert_int_eq(sketch_quantile(&s, qs[k], &est), 0);
        ck_assert_msg(fabs(est - exact) <= SKETCH_REL_ACCURACY * exact * (1 + 1e-9),
                      "q=%g exact=%g est=%g rel=%g", qs[k], exact, est, fabs(est - exact) / exact);
    }
}

START_TEST(test_accuracy_lognormal)
{
    static double v[TS_N];
    ts_state = 1;
    for (unsigned i = 0; i < TS_N; i++)
        v[i] = 0.05 * exp(0.8 * ts_normal());
    ts_check_accuracy(v, TS_N);
}
END_TEST

START_TEST(test_accuracy_log_uniform_full_range)
{
    static double v[TS_N];
    ts_state = 2;
    /* 10 us .. 100 s: every bin of the layout */
    for (unsigned i = 0; i < TS_N; i++)
        v[i] = SKETCH_MIN_S * 1.0001 * exp(ts_u01() * log(100.0 / SKETCH_MIN_S / 1.0002));
    ts_check_accuracy(v, TS_N);
}
END_TEST

START_TEST(test_accuracy_exponential_and_bimodal)
{
    static double v[TS_N];
    ts_state = 3;
    for (unsigned i = 0; i < TS_N; i++)
        v[i] = 0.001 - 0.02 * log(ts_u01());
    ts_check_accuracy(v, TS_N);
    for (unsigned i = 0; i < TS_N; i++)
        v[i] = ts_u01() < 0.9 ? 0.002 * exp(0.2 * ts_normal()) : 1.5 * exp(0.3 * ts_normal());
    ts_check_accuracy(v, TS_N);
}
END_TEST

START_TEST(test_accuracy_bucket_edges)
{
    /* values sitting exactly on bin boundaries are the worst case of the mapping */
    static double v[800];
    for (unsigned i = 0; i < 800; i++)
        v[i] = SKETCH_MIN_S * pow(SKETCH_GAMMA, 1 + i);
    ts_check_accuracy(v, 800);
}
END_TEST

static void ts_fill(struct sketch *s, uint64_t seed, unsigned n)
{
    ts_state = seed;
    sketch_init(s);
    for (unsigned i = 0; i < n; i++)
        ck_assert_int_eq(sketch_add(s, 0.01 * exp(1.5 * ts_normal()), 1 + (i % 3)), 0);
}

START_TEST(test_merge_subtract_exact)
{
    static struct sketch a, b, ab, all, tmp;

    ts_fill(&a, 10, 5000);
    ts_fill(&b, 11, 3000);
    ab = a;
    ck_assert_int_eq(sketch_merge(&ab, &b), 0);
    ck_assert_uint_eq(ab.count, a.count + b.count);
    /* merge is the same as adding everything to one sketch */
    sketch_init(&all);
    ts_state = 10;
    for (unsigned i = 0; i < 5000; i++)
        sketch_add(&all, 0.01 * exp(1.5 * ts_normal()), 1 + (i % 3));
    ts_state = 11;
    for (unsigned i = 0; i < 3000; i++)
        sketch_add(&all, 0.01 * exp(1.5 * ts_normal()), 1 + (i % 3));
    ck_assert_mem_eq(all.bin, ab.bin, sizeof(ab.bin));
    ck_assert_uint_eq(all.count, ab.count);
    /* subtract undoes merge exactly */
    ck_assert_int_eq(sketch_subtract(&ab, &b), 0);
    ck_assert_mem_eq(ab.bin, a.bin, sizeof(a.bin));
    ck_assert_uint_eq(ab.count, a.count);
    ck_assert_uint_eq(ab.lo, a.lo);
    ck_assert_uint_eq(ab.hi, a.hi);
    /* subtracting what is not there is refused and changes nothing */
    tmp = ab;
    ck_assert_int_eq(sketch_subtract(&tmp, &b), -ERANGE);
    ck_assert_mem_eq(&tmp, &ab, sizeof(tmp));
    /* down to empty */
    ck_assert_int_eq(sketch_subtract(&ab, &a), 0);
    ck_assert_uint_eq(ab.count, 0);
    ck_assert_uint_gt(ab.lo, ab.hi);
    for (unsigned i = 0; i < SKETCH_SLOTS; i++)
        ck_assert_uint_eq(ab.bin[i], 0);
}
END_TEST

START_TEST(test_overflow_and_invalid)
{
    static struct sketch s, t, before;
    double v;

    sketch_init(&s);
    ck_assert_int_eq(sketch_quantile(&s, 0.5, &v), -ENODATA);
    ck_assert_int_eq(sketch_add(&s, NAN, 1), -EINVAL);
    ck_assert_int_eq(sketch_add(&s, 0.1, UINT32_MAX), 0);
    before = s;
    ck_assert_int_eq(sketch_add(&s, 0.1, 1), -EOVERFLOW);
    ck_assert_mem_eq(&s, &before, sizeof(s));
    sketch_init(&t);
    sketch_add(&t, 0.1, 1);
    ck_assert_int_eq(sketch_merge(&s, &t), -EOVERFLOW);
    ck_assert_mem_eq(&s, &before, sizeof(s));
    ck_assert_int_eq(sketch_quantile(&s, -0.1, &v), -EINVAL);
    ck_assert_int_eq(sketch_quantile(&s, 1.1, &v), -EINVAL);
    ck_assert_int_eq(sketch_quantile(&s, NAN, &v), -EINVAL);
    ck_assert_int_eq(sketch_add(&s, 0.2, 0), 0);
    ck_assert_uint_eq(s.count, UINT32_MAX);
}
END_TEST

START_TEST(test_edge_bins)
{
    static struct sketch s;
    double v;

    sketch_init(&s);
    sketch_add(&s, 0, 1);
    sketch_add(&s, -1, 1);
    sketch_add(&s, 1e-9, 1);
    ck_assert_uint_eq(sketch_index(0), 0);
    ck_assert_uint_eq(sketch_index(SKETCH_MIN_S), 0);
    ck_assert_uint_eq(sketch_index(1e6), SKETCH_BINS + 1);
    ck_assert_uint_eq(s.bin[0], 3);
    ck_assert_int_eq(sketch_quantile(&s, 1, &v), 0);
    ck_assert_double_eq(v, SKETCH_MIN_S);
    sketch_add(&s, 1e6, 1);
    ck_assert_int_eq(sketch_quantile(&s, 1, &v), 0);
    ck_assert_double_ge(v, 100.0);
    /* the layout reaches 100 s with 1 % accuracy */
    ck_assert_uint_le(sketch_index(100.0), SKETCH_BINS);
    ck_assert_double_le(fabs(sketch_bin_value(sketch_index(100.0)) - 100.0),
                        SKETCH_REL_ACCURACY * 100.0);
}
END_TEST

START_TEST(test_count_above)
{
    static struct sketch s;
    static double v[TS_N];
    unsigned n = TS_N;

    ts_state = 5;
    sketch_init(&s);
    for (unsigned i = 0; i < n; i++) {
        v[i] = 0.03 * exp(0.7 * ts_normal());
        sketch_add(&s, v[i], 1);
    }
    qsort(v, n, sizeof(*v), ts_cmp);
    ck_assert_double_eq(sketch_count_above(&s, 0), n);
    ck_assert_double_eq(sketch_count_above(&s, 1e9), 0);
    for (double t = 0.001; t < 2; t *= 1.37) {
        unsigned exact = 0, bin = sketch_index(t), in_bin = s.bin[bin];
        double got = sketch_count_above(&s, t);
        for (unsigned i = 0; i < n; i++)
            exact += v[i] > t;
        /* off by at most the samples sharing the threshold's bin */
        ck_assert_msg(fabs(got - exact) <= in_bin, "t=%g exact=%u got=%g bin=%u", t, exact, got,
                      in_bin);
    }
    /* at a bin's upper bound the count is exact: everything in later bins */
    {
        unsigned b = sketch_index(0.03);
        double upper = SKETCH_MIN_S * pow(SKETCH_GAMMA, b);
        double later = 0;
        for (unsigned i = b + 1; i < SKETCH_SLOTS; i++)
            later += s.bin[i];
        ck_assert_double_eq_tol(sketch_count_above(&s, upper * (1 - 1e-12)), later, 1e-6 * n);
    }
}
END_TEST

START_TEST(test_clear_and_memory)
{
    static struct sketch s;

    ts_fill(&s, 7, 1000);
    sketch_clear(&s);
    ck_assert_uint_eq(s.count, 0);
    for (unsigned i = 0; i < SKETCH_SLOTS; i++)
        ck_assert_uint_eq(s.bin[i], 0);
    ck_assert_uint_eq(sketch_memory(), sizeof(struct sketch));
    /* 816 uint32 bins plus a header: one window slot stays under 4 KiB */
    ck_assert_uint_le(sketch_memory(), 4096);
    ck_assert_double_le(SKETCH_REL_ACCURACY, 0.01);
}
END_TEST

Suite *sketch_suite(void)
{
    Suite *s = suite_create("sketch");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_accuracy_lognormal);
    tcase_add_test(tc, test_accuracy_log_uniform_full_range);
    tcase_add_test(tc, test_accuracy_exponential_and_bimodal);
    tcase_add_test(tc, test_accuracy_bucket_edges);
    tcase_add_test(tc, test_merge_subtract_exact);
    tcase_add_test(tc, test_overflow_and_invalid);
    tcase_add_test(tc, test_edge_bins);
    tcase_add_test(tc, test_count_above);
    tcase_add_test(tc, test_clear_and_memory);
    suite_add_tcase(s, tc);
    return s;
}
