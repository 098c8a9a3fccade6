/*
 * analysis-int.h — what analysis.c (state, observations, baselines, the
 * tick) and rules.c (each rule's judgement at a tick) share. Not for other
 * modules: they see analysis.h.
 */
#ifndef ROLLGUARD_ANALYSIS_INT_H
#define ROLLGUARD_ANALYSIS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sidecar/analysis/analysis.h"

/* One-sided Wilson score lower bound of x successes in n trials. */
double analysis_wilson_lower(double x, double n, double z);
/* The error test's threshold h for the p0 in force. */
double analysis_err_h(const struct analysis *a);
/* vsnprintf into a reason buffer. */
void analysis_reason(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* rules.c: one rule's evidence for the interval that ends now (see README.md) */
void analysis_ev_init(struct verdict_evidence *e, enum analysis_rule r, int64_t span);
void analysis_rule_error(struct analysis *a, const struct window_counts *slot, bool warm,
                         struct verdict_evidence *e);
void analysis_rule_latency(struct analysis *a, const struct window_counts *slot, bool warm,
                           struct verdict_evidence *e);
void analysis_rule_health(struct analysis *a, struct verdict_evidence *e);

#endif
