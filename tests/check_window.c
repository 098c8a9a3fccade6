/*
 * Tests for sidecar/window: the ring and its running total, classic
 * histogram quantiles against Prometheus' histogram_quantile semantics
 * (cases from its promql test data), count-above, layout changes and
 * malformed deltas.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "sidecar/analysis/window.h"

Suite *window_suite(void);

static const double tw_le[4] = {0.1, 0.2, 1.0, INFINITY};

static uint64_t tw_state;

static uint64_t tw_next(void)
{
    uint64_t z = (tw_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static struct sample_delta tw_delta(uint64_t req, uint64_t err, const uint64_t *counts)
{
    struct sample_delta d;

    memset(&d, 0, sizeof(d));
    d.valid = true;
    d.span_s = 5;
    d.requests = req;
    d.errors = err;
    if (counts) {
        d.has_hist = true;
        d.hist.n = 4;
        memcpy(d.hist.le, tw_le, sizeof(tw_le));
        memcpy(d.hist.count, counts, 4 * sizeof(counts[0]));
    }
    return d;
}

static void tw_assert_counts_eq(const struct window_counts *a, const struct window_counts *b)
{
    ck_assert_uint_eq(a->requests, b->requests);
    ck_assert_uint_eq(a->errors, b->errors);
    ck_assert_uint_eq(a->scrapes, b->scrapes);
    ck_assert_uint_eq(a->scrape_failures, b->scrape_failures);
    ck_assert_uint_eq(a->resets, b->resets);
    ck_assert_uint_eq(a->hist_total, b->hist_total);
    ck_assert_mem_eq(a->hist, b->hist, sizeof(a->hist));
    ck_assert_uint_eq(a->probes, b->probes);
    ck_assert_uint_eq(a->probe_failures, b->probe_failures);
    ck_assert_uint_eq(a->probe_latency.count, b->probe_latency.count);
    ck_assert_mem_eq(a->probe_latency.bin, b->probe_latency.bin, sizeof(a->probe_latency.bin));
}

START_TEST(test_ring_advance)
{
    struct window w;
    uint64_t c[4] = {1, 2, 3, 4};
    struct sample_delta d;

    ck_assert_int_eq(window_init(&w, 3, 1000), 0);
    for (unsigned i = 1; i <= 5; i++) {
        d = tw_delta(10 * i, i, c);
        ck_assert_int_eq(window_add_delta(&w, &d), 0);
        ck_assert_int_eq(window_add_probe(&w, 0.002 * i, i != 3), 0);
        ck_assert_uint_eq(window_slot(&w, 0)->requests, 10 * i);
        if (i < 5)
            window_advance(&w, 1000 + 10000 * (int64_t)i);
    }
    /* three slots hold intervals 3, 4, 5 */
    ck_assert_uint_eq(w.used, 3);
    ck_assert_uint_eq(window_slot(&w, 0)->requests, 50);
    ck_assert_uint_eq(window_slot(&w, 1)->requests, 40);
    ck_assert_uint_eq(window_slot(&w, 2)->requests, 30);
    ck_assert_ptr_null(window_slot(&w, 3));
    ck_assert_uint_eq(w.total.requests, 120);
    ck_assert_uint_eq(w.total.errors, 12);
    ck_assert_uint_eq(w.total.probes, 3);
    ck_assert_uint_eq(w.total.probe_failures, 1);
    ck_assert_uint_eq(w.total.hist_total, 30);
    ck_assert_uint_eq(w.total.hist[3], 12);
    ck_assert_int_eq(window_span_ms(&w, 50000), 50000 - 21000);
    window_done(&w);
}
END_TEST

START_TEST(test_total_equals_sum_of_slots)
{
    struct window w;
    struct window_counts sum, part;

    tw_state = 42;
    ck_assert_int_eq(window_init(&w, 7, 0), 0);
    for (unsigned step = 0; step < 2000; step++) {
        unsigned what = tw_next() % 10;
        if (what < 5) {
            uint64_t c[4] = {tw_next() % 50, tw_next() % 20, tw_next() % 5, tw_next() % 2};
            uint64_t req = c[0] + c[1] + c[2] + c[3];
            struct sample_delta d = tw_delta(req, req ? tw_next() % (req + 1) : 0, c);
            d.reset = tw_next() % 50 == 0;
            ck_assert_int_ge(window_add_delta(&w, &d), 0);
        } else if (what < 8) {
            ck_assert_int_eq(
                window_add_probe(&w, 0.0001 * (double)(1 + tw_next() % 30000), tw_next() % 7 != 0),
                0);
        } else if (what == 8) {
            struct sample_delta bad = {.valid = false};
            ck_assert_int_eq(window_add_delta(&w, &bad), 0);
        } else {
            window_advance(&w, 10000 * (int64_t)step);
        }
        if (step % 97 == 0) {
            /* the running total equals the sum of the slots */
            window_counts_init(&sum);
            for (unsigned age = 0; age < w.used; age++)
                ck_assert_int_eq(window_counts_merge(&sum, window_slot(&w, age)), 0);
            tw_assert_counts_eq(&sum, &w.total);
            window_sum(&w, w.used, &part);
            tw_assert_counts_eq(&part, &w.total);
            /* the last k slots */
            if (w.used >= 2) {
                window_sum(&w, 2, &part);
                window_counts_init(&sum);
                window_counts_merge(&sum, window_slot(&w, 0));
                window_counts_merge(&sum, window_slot(&w, 1));
                tw_assert_counts_eq(&part, &sum);
            }
        }
    }
    /* after a full turn of advances without data the total is empty again */
    for (unsigned i = 0; i < 7; i++)
        window_advance(&w, 100000000);
    window_counts_init(&sum);
    ck_assert_uint_eq(w.total.requests, 0);
    ck_assert_uint_eq(w.total.probes, 0);
    ck_assert_uint_eq(w.total.hist_total, 0);
    ck_assert_uint_eq(w.total.probe_latency.count, 0);
    window_done(&w);
}
END_TEST

START_TEST(test_counts_merge_subtract_inverse)
{
    struct window_counts a, b, ab, tmp;
    struct window w;
    uint64_t c1[4] = {5, 6, 7, 8}, c2[4] = {1, 1, 1, 1};
    struct sample_delta d;

    ck_assert_int_eq(window_init(&w, 2, 0), 0);
    d = tw_delta(26, 3, c1);
    window_add_delta(&w, &d);
    window_add_probe(&w, 0.01, false);
    a = *window_slot(&w, 0);
    window_advance(&w, 1);
    d = tw_delta(4, 4, c2);
    window_add_delta(&w, &d);
    window_add_probe(&w, 0.5, true);
    b = *window_slot(&w, 0);
    ab = a;
    ck_assert_int_eq(window_counts_merge(&ab, &b), 0);
    tw_assert_counts_eq(&ab, &w.total);
    ck_assert_int_eq(window_counts_subtract(&ab, &b), 0);
    tw_assert_counts_eq(&ab, &a);
    tmp = ab;
    ck_assert_int_eq(window_counts_subtract(&tmp, &b), -ERANGE);
    tw_assert_counts_eq(&tmp, &ab);
    window_done(&w);
}
END_TEST

/* Prometheus promql/testdata/histograms.test: buckets 0+5x10, 0+7x10, 0+11x10, 0+12x10 at 50m */
START_TEST(test_quantile_prometheus_positive)
{
    const double le[4] = {0.1, 0.2, 1, INFINITY};
    const double cum[4] = {50, 70, 110, 120};

    ck_assert_double_eq_tol(window_bucket_quantile(0, le, cum, 4), 0, 1e-12);
    ck_assert_double_eq_tol(window_bucket_quantile(0.2, le, cum, 4), 0.048, 1e-12);
    ck_assert_double_eq_tol(window_bucket_quantile(0.5, le, cum, 4), 0.15, 1e-12);
    ck_assert_double_eq_tol(window_bucket_quantile(0.8, le, cum, 4), 0.72, 1e-12);
    /* rank in the +Inf bucket: the second-highest bound */
    ck_assert_double_eq(window_bucket_quantile(1, le, cum, 4), 1);
    ck_assert_double_eq(window_bucket_quantile(0.99, le, cum, 4), 1);
    ck_assert(isinf(window_bucket_quantile(1.01, le, cum, 4)) &&
              window_bucket_quantile(1.01, le, cum, 4) > 0);
    ck_assert(isinf(window_bucket_quantile(-0.01, le, cum, 4)) &&
              window_bucket_quantile(-0.01, le, cum, 4) < 0);
    ck_assert(isnan(window_bucket_quantile(NAN, le, cum, 4)));
}
END_TEST

/* the "negative" start series of the same test file */
START_TEST(test_quantile_prometheus_negative)
{
    const double le[4] = {-0.2, -0.1, 0.3, INFINITY};
    const double cum[4] = {10, 20, 20, 30};

    ck_assert_double_eq(window_bucket_quantile(0.2, le, cum, 4), -0.2);
    ck_assert_double_eq_tol(window_bucket_quantile(0.5, le, cum, 4), -0.15, 1e-12);
    ck_assert_double_eq(window_bucket_quantile(0.8, le, cum, 4), 0.3);
}
END_TEST

START_TEST(test_quantile_special_cases)
{
    const double le[3] = {0.1, 0.2, INFINITY}, no_inf[3] = {0.1, 0.2, 0.5};
    const double cum[3] = {5, 8, 10}, zero[3] = {0, 0, 0}, nonmono[3] = {5, 3, 10};
    const double dup_le[4] = {0.1, 0.1, 0.2, INFINITY}, dup_cum[4] = {2, 3, 8, 10};
    const double only_inf[1] = {INFINITY}, one[1] = {4};
    const double tiny_le[3] = {0.1, 0.2, INFINITY}, tiny[3] = {5, 5 * (1 - 1e-13), 10};

    /* no +Inf bucket, no observations, a single bucket: NaN */
    ck_assert(isnan(window_bucket_quantile(0.5, no_inf, cum, 3)));
    ck_assert(isnan(window_bucket_quantile(0.5, le, zero, 3)));
    ck_assert(isnan(window_bucket_quantile(0.5, only_inf, one, 1)));
    /* counts forced monotonic: [5, 5, 10]; rank 5 lies in the first bucket */
    ck_assert_double_eq_tol(window_bucket_quantile(0.5, le, nonmono, 3), 0.1, 1e-12);
    /* equal bounds coalesce: [0.1: 5, 0.2: 8, +Inf: 10] */
    ck_assert_double_eq_tol(window_bucket_quantile(0.5, dup_le, dup_cum, 4), 0.1, 1e-12);
    ck_assert_double_eq_tol(window_bucket_quantile(0.7, dup_le, dup_cum, 4),
                            0.1 + 0.1 * (7.0 - 5) / 3, 1e-12);
    /* a relative difference below 1e-12 is not a decrease */
    ck_assert_double_eq_tol(window_bucket_quantile(0.5, tiny_le, tiny, 3), 0.1, 1e-12);
    /* per-bucket counts give the same answer as their cumulative sums */
    {
        const uint64_t per[4] = {50, 20, 40, 10};
        const double le4[4] = {0.1, 0.2, 1, INFINITY};
        ck_assert_double_eq_tol(window_hist_quantile(0.5, le4, per, 4), 0.15, 1e-12);
        ck_assert_double_eq_tol(window_hist_quantile(0.8, le4, per, 4), 0.72, 1e-12);
    }
}
END_TEST

START_TEST(test_count_above)
{
    const double le[4] = {0.1, 0.2, 1, INFINITY};
    const uint64_t per[4] = {50, 20, 40, 10};

    /* linear inside (0.1, 0.2], the +Inf bucket sits at 1 */
    ck_assert_double_eq_tol(window_hist_count_above(0.15, le, per, 4), 10 + 40 + 10, 1e-9);
    ck_assert_double_eq_tol(window_hist_count_above(0.05, le, per, 4), 25 + 20 + 40 + 10, 1e-9);
    ck_assert_double_eq_tol(window_hist_count_above(0, le, per, 4), 120, 1e-9);
    ck_assert_double_eq_tol(window_hist_count_above(0.6, le, per, 4), 20 + 10, 1e-9);
    ck_assert_double_eq_tol(window_hist_count_above(1, le, per, 4), 0, 1e-9);
    ck_assert_double_eq_tol(window_hist_count_above(5, le, per, 4), 0, 1e-9);
    /* exact at a boundary */
    ck_assert_double_eq_tol(window_hist_count_above(0.2, le, per, 4), 50, 1e-9);
    /* the inverse of histogram_quantile inside the finite buckets */
    for (double q = 0.05; q < 0.9; q += 0.05) {
        double v = window_hist_quantile(q, le, per, 4);
        ck_assert_double_eq_tol(window_hist_count_above(v, le, per, 4), (1 - q) * 120, 1e-9);
    }
}
END_TEST

START_TEST(test_layout_change)
{
    struct window w;
    uint64_t c[4] = {3, 2, 1, 0};
    struct sample_delta d = tw_delta(6, 1, c), e;

    ck_assert_int_eq(window_init(&w, 4, 0), 0);
    ck_assert_int_eq(window_add_delta(&w, &d), 0);
    window_advance(&w, 10);
    ck_assert_int_eq(window_add_delta(&w, &d), 0);
    ck_assert_uint_eq(w.total.hist_total, 12);
    /* a new bucket layout: the histogram part restarts, the counts stay */
    e = d;
    e.hist.le[1] = 0.25;
    ck_assert_int_eq(window_add_delta(&w, &e), WINDOW_LAYOUT_CHANGED);
    ck_assert_uint_eq(w.layout_changes, 1);
    ck_assert_double_eq(w.le[1], 0.25);
    ck_assert_uint_eq(w.total.hist_total, 6);
    ck_assert_uint_eq(window_slot(&w, 1)->hist_total, 0);
    ck_assert_uint_eq(window_slot(&w, 1)->hist[0], 0);
    ck_assert_uint_eq(w.total.requests, 18);
    /* a different number of buckets too */
    e.hist.n = 3;
    e.hist.le[2] = INFINITY;
    ck_assert_int_eq(window_add_delta(&w, &e), WINDOW_LAYOUT_CHANGED);
    ck_assert_uint_eq(w.hist_n, 3);
    ck_assert_uint_eq(w.total.hist_total, 6);
    /* the same layout again: no change */
    ck_assert_int_eq(window_add_delta(&w, &e), 0);
    ck_assert_uint_eq(w.layout_changes, 2);
    /* the evicted slot no longer holds histogram counts: no underflow */
    for (unsigned i = 0; i < 8; i++)
        window_advance(&w, 100 + i);
    ck_assert_uint_eq(w.total.hist_total, 0);
    ck_assert_uint_eq(w.total.requests, 0);
    window_done(&w);
}
END_TEST

START_TEST(test_malformed_deltas)
{
    struct window w;
    uint64_t c[4] = {1, 1, 1, 1};
    struct sample_delta d;
    struct sample_delta bad = {.valid = false};

    ck_assert_int_eq(window_init(&w, 2, 0), 0);
    d = tw_delta(3, 4, NULL); /* errors > requests */
    ck_assert_int_eq(window_add_delta(&w, &d), -EINVAL);
    d = tw_delta(4, 0, c);
    d.hist.le[2] = 0.15; /* not ascending */
    ck_assert_int_eq(window_add_delta(&w, &d), -EINVAL);
    d = tw_delta(4, 0, c);
    d.hist.n = 0;
    ck_assert_int_eq(window_add_delta(&w, &d), -EINVAL);
    d.hist.n = SAMPLE_MAX_BUCKETS + 1;
    ck_assert_int_eq(window_add_delta(&w, &d), -EINVAL);
    d = tw_delta(4, 0, c);
    d.hist.le[0] = NAN;
    ck_assert_int_eq(window_add_delta(&w, &d), -EINVAL);
    d = tw_delta(4, 0, c);
    d.hist.count[0] = UINT64_MAX;
    ck_assert_int_eq(window_add_delta(&w, &d), -EINVAL);
    d = tw_delta(4, 0, c);
    d.span_s = INFINITY;
    ck_assert_int_eq(window_add_delta(&w, &d), -EINVAL);
    ck_assert_uint_eq(w.total.requests, 0);
    ck_assert_uint_eq(w.total.scrapes, 0);
    ck_assert_uint_eq(w.hist_n, 0);
    /* a failed scrape is counted as such, with no data */
    ck_assert_int_eq(window_add_delta(&w, &bad), 0);
    ck_assert_uint_eq(w.total.scrape_failures, 1);
    ck_assert_uint_eq(w.total.scrapes, 0);
    ck_assert_int_eq(window_add_probe(&w, NAN, true), -EINVAL);
    ck_assert_uint_eq(w.total.probes, 0);
    window_done(&w);
    ck_assert_int_eq(window_init(&w, 0, 0), -EINVAL);
    window_done(&w);
    ck_assert_int_eq(window_init(&w, WINDOW_MAX_SLOTS + 1, 0), -EINVAL);
    window_done(&w);
}
END_TEST

START_TEST(test_memory)
{
    /* the default 60 s / 10 s window, and the largest allowed */
    ck_assert_uint_lt(window_memory(6), 32 * 1024);
    ck_assert_uint_lt(window_memory(WINDOW_MAX_SLOTS), 1536 * 1024);
}
END_TEST

Suite *window_suite(void)
{
    Suite *s = suite_create("window");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_ring_advance);
    tcase_add_test(tc, test_total_equals_sum_of_slots);
    tcase_add_test(tc, test_counts_merge_subtract_inverse);
    tcase_add_test(tc, test_quantile_prometheus_positive);
    tcase_add_test(tc, test_quantile_prometheus_negative);
    tcase_add_test(tc, test_quantile_special_cases);
    tcase_add_test(tc, test_count_above);
    tcase_add_test(tc, test_layout_change);
    tcase_add_test(tc, test_malformed_deltas);
    tcase_add_test(tc, test_memory);
    suite_add_tcase(s, tc);
    return s;
}
