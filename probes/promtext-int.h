/*
 * promtext-int.h — what the parser (promtext.c) and its lexical helpers
 * (promtext_lex.c) share. Not for other modules: they see promtext.h.
 */
#ifndef ROLLGUARD_PROMTEXT_INT_H
#define ROLLGUARD_PROMTEXT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "probes/promtext.h"

static inline bool is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

/*
 * The bytes [p, e) as a sample value (see promtext_number): 0 and *out, -2
 * out of range, -1 malformed.
 */
int promtext_parse_float(const char *p, const char *e, double *out);

/* [p, e) as a decimal int64 (0.0.4 timestamps): 0, -2 out of range, -1 malformed. */
int promtext_parse_int64(const char *p, const char *e, int64_t *out);

#endif
