/*
 * test_hist — a latency histogram increase for the analysis tests: n
 * requests with a lognormal latency (median, sigma 0.5) spread over the
 * default Prometheus client buckets, counts rounded to sum to exactly n.
 */
#ifndef ROLLGUARD_TEST_HIST_H
#define ROLLGUARD_TEST_HIST_H

#include <stdint.h>

#include "probes/sample.h"

#define TEST_HIST_NB 12
extern const double test_hist_le[TEST_HIST_NB]; /* seconds; the last is +Inf */

void test_hist_lognormal(struct sample_hist *h, uint64_t n, double median);

#endif
