/*
 * test_params — the analysis parameters of the embedded default config, as
 * the daemon maps them (daemon_analysis_params), for the analysis suites.
 * Checks the figures those suites are written against: interval 10 s,
 * window 60 s, warmup 30 s, min_requests 50, consecutive_breaches 2.
 */
#ifndef ROLLGUARD_TEST_PARAMS_H
#define ROLLGUARD_TEST_PARAMS_H

#include "sidecar/analysis/analysis.h"

struct analysis_params test_default_params(void);

#endif
