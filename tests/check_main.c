/*
 * The one Check runner. Every tests/check_<module>.c defines
 * `Suite *<module>_suite(void)`; the Makefile collects those names into
 * suites.h, so adding a test file needs no edit here.
 * CK_FORK stays on (each test isolated); CK_RUN_SUITE=name runs one suite.
 */
#include <check.h>
#include <stdlib.h>

#define SUITE(name) Suite *name##_suite(void);
#include "suites.h"
#undef SUITE

int main(void)
{
    SRunner *sr = srunner_create(NULL);
    int failed;

#define SUITE(name) srunner_add_suite(sr, name##_suite());
#include "suites.h"
#undef SUITE

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
