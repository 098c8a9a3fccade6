/*
 * The one Check runner. Every tests/check_<module>.c defines
 * `Suite *<module>_suite(void)`; the Makefile collects those names into
 * suites.h, so adding a test file needs no edit here.
 * CK_FORK stays on (each test isolated); CK_RUN_SUITE=name runs one suite.
 * The code under test logs only its errors here; RG_TEST_LOGS=1 shows every
 * line (the rollback job's log is part of what a failing case tells).
 */
#include <check.h>
#include <stdlib.h>

#include "sidecar/base/log.h"

#define SUITE(name) Suite *name##_suite(void);
#include "suites.h"
#undef SUITE

int main(void)
{
    SRunner *sr = srunner_create(NULL);
    int failed;
    const char *logs = getenv("RG_TEST_LOGS");

    log_setup(logs && *logs && *logs != '0' ? LOG_LVL_DEBUG : LOG_LVL_ERROR, true);
#define SUITE(name) srunner_add_suite(sr, name##_suite());
#include "suites.h"
#undef SUITE

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
