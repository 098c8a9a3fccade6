/*
 * test_data — reading a file of tests/data in a Check test.
 */
#ifndef ROLLGUARD_TEST_DATA_H
#define ROLLGUARD_TEST_DATA_H

#include <stddef.h>

/*
 * The whole of tests/data/NAME (the tests run from the repository root),
 * NUL-terminated, its length in *len; the caller frees it. A file that
 * cannot be read fails the running test.
 */
char *test_read_data(const char *name, size_t *len);

#endif
