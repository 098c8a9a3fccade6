/*
 * promre — label-value regular expressions with PromQL's meaning.
 *
 * A pattern such as "5..", "5.*", "5[0-9]{2}", "5\d\d" or "5..|429" is
 * matched against the whole value, as PromQL's =~ does (RE2 syntax,
 * anchored at both ends). It is translated into a POSIX extended regular
 * expression: \d \w \s and their negations become bracket expressions,
 * (?:...) becomes a plain group, a lazy quantifier (*? +? ?? {m,n}?) is the
 * greedy one (a whole-value match does not care). RE2 features that have
 * no POSIX form — flags such as (?i), named groups, \b, \A, \z, \pN — are
 * refused with a message instead of being read differently.
 * Config validation and the scraper use this one module.
 */
#ifndef ROLLGUARD_PROMRE_H
#define ROLLGUARD_PROMRE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#define PROMRE_MAX 256 /* bytes in a pattern, NUL excluded */

/*
 * Compiles pattern into *ret (free it with regfree). Returns 0, or
 * -EINVAL with a one-line reason in err (errlen bytes).
 */
int promre_compile(const char *pattern, regex_t *ret, char *err, size_t errlen);

/* Whether the n bytes at value match re as a whole (value need not be NUL-terminated). */
bool promre_match(const regex_t *re, const char *value, size_t n);

/* The config key's validator: compiles pattern and frees it again. */
int promre_check(const char *pattern, char *err, size_t errlen);

#endif
