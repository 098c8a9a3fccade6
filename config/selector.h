/*
 * selector — the one grammar of app.metrics.selector, used by config
 * validation (cfg_check_selector) and by the scraper (scrape_spec_init), so
 * a selector that loads is a selector that scrapes. Pure libc.
 *
 *   selector := ' '* [ matcher ( ' '* ',' ' '* matcher )* ] ' '*
 *   matcher  := name ' '* ( '=' | '!=' ) ' '* '"' value '"'
 *   name     := [A-Za-z_][A-Za-z0-9_]*      value escapes: \\ and \" only
 *
 * No braces, no quoted label names, no regular expressions, no trailing ','.
 */
#ifndef ROLLGUARD_SELECTOR_H
#define ROLLGUARD_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#define SELECTOR_NAME_MAX 128   /* a label name, including the NUL */
#define SELECTOR_VALUE_MAX 257  /* a value, including the NUL */
#define SELECTOR_MAX_MATCHERS 8 /* matchers in a selector */
#define SELECTOR_MAX_BYTES 1024 /* bytes in a selector string */

/* One term: label == value, or label != value (an absent label reads ""). */
struct selector_matcher {
    char label[SELECTOR_NAME_MAX];
    char value[SELECTOR_VALUE_MAX]; /* unescaped */
    size_t value_len;
    bool negate;
};

struct selector {
    unsigned n;
    struct selector_matcher m[SELECTOR_MAX_MATCHERS];
};

/* column: 1-based byte position of the culprit in the selector, 0 for the whole. */
struct selector_err {
    unsigned column;
    char msg[160];
};

/*
 * Parse s (NUL-terminated; blank means no matchers). Returns 0 and fills
 * *ret, or -EINVAL and fills *err (may be NULL); *ret is untouched on failure.
 */
int selector_parse(const char *s, struct selector *ret, struct selector_err *err);

#endif
