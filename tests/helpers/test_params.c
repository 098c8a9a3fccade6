/*
 * test_params — the default analysis parameters for the analysis suites.
 */
#include "tests/helpers/test_params.h"

#include <check.h>

#include "config/cfg.h"
#include "sidecar/daemon.h"

struct analysis_params test_default_params(void)
{
    struct analysis_params p;
    struct cfg_errs errs;
    struct cfg *c;

    ck_assert_int_eq(cfg_default(&c, &errs), 0);
    daemon_analysis_params(c, &p);
    cfg_unref(c);
    ck_assert_uint_eq(p.interval_ms, 10000);
    ck_assert_uint_eq(p.window_ms, 60000);
    ck_assert_uint_eq(p.warmup_ms, 30000);
    ck_assert_uint_eq(p.error_min_requests, 50);
    ck_assert_uint_eq(p.consecutive_breaches, 2);
    return p;
}
