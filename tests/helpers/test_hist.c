/*
 * test_hist — lognormal latency histograms for the analysis tests.
 */
#include "tests/helpers/test_hist.h"

#include <math.h>

const double test_hist_le[TEST_HIST_NB] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                           0.5,   1,    2.5,   5,    10,  INFINITY};

void test_hist_lognormal(struct sample_hist *h, uint64_t n, double median)
{
    double prev = 0, rem[TEST_HIST_NB];
    uint64_t sum = 0;

    h->n = TEST_HIST_NB;
    for (int i = 0; i < TEST_HIST_NB; i++) {
        double le = test_hist_le[i];
        double c = isinf(le) ? 1 : 0.5 * erfc(-(log(le / median) / 0.5) / M_SQRT2);
        double want = (double)n * (c - prev);

        h->le[i] = le;
        h->count[i] = (uint64_t)floor(want);
        rem[i] = want - floor(want);
        sum += h->count[i];
        prev = c;
    }
    while (sum < n) {
        int best = 0;

        for (int i = 1; i < TEST_HIST_NB; i++)
            if (rem[i] > rem[best])
                best = i;
        h->count[best]++;
        rem[best] = -1;
        sum++;
    }
}
