/*
 * promw — the one writer of Prometheus text exposition (version 0.0.4):
 * family headers, sample values, whole gauge lines, into a struct buf.
 * Knows no metric; each subsystem renders its own families through it.
 */
#ifndef ROLLGUARD_PROMW_H
#define ROLLGUARD_PROMW_H

struct buf;

/* "# HELP name help\n# TYPE name type\n" (help must not hold a newline). */
void promw_family(struct buf *b, const char *name, const char *type, const char *help);

/* A sample value: %.17g, or NaN, +Inf, -Inf. */
void promw_value(struct buf *b, double v);

/* "name{labels} v\n"; labels (already escaped, without braces) may be NULL. */
void promw_gauge(struct buf *b, const char *name, const char *labels, double v);

#endif
