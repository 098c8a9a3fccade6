/*
 * control — this pod's window as a concurrent control, for GET /summary:
 * the summary the analysis keeps at every tick (analysis_control_summary)
 * and its JSON form (control_summary_render_json). The type and its limits
 * are sidecar/base/control_summary.h; the strict reader of another pod's
 * answer is kube_json_control_summary_parse.
 *
 * Pure: no I/O, no clock (now_ms is passed in), no allocation.
 *
 * The document (version 1; numbers null when unknown):
 *   {"version":1,"revision":"<pod-template-hash>","window_ms":60000,
 *    "requests":600,"errors":6,
 *    "latency":{"quantile":0.5,"seconds":0.05,"samples":600,"source":"histogram",
 *               "p50":0.05,"p75":0.07,"p90":0.09,"p99":0.2},
 *    "slow_share":0.21,"baseline":{"error_rate":0.01,"latency_seconds":0.049},
 *    "degraded":false,"degraded_for_ms":0,"rule":null}
 */
#ifndef ROLLGUARD_CONTROL_H
#define ROLLGUARD_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "sidecar/analysis/analysis.h"
#include "sidecar/base/control_summary.h"

/*
 * The figures of the last tick's window (scraped requests and errors,
 * latency at analysis.latency.quantile with its samples and source, the
 * share of samples slower than the latency threshold in force, the rolling
 * baseline's error rate and latency once usable) with whether this pod's
 * own rules breach now and for how long at now_ms (same clock as the
 * ticks). Returns 0, or -ENODATA while warming up (before the first tick
 * after the warmup, and during a restart's warmup); *ret is set only on
 * success.
 */
int analysis_control_summary(const struct analysis *a, int64_t now_ms, struct control_summary *ret);

/*
 * Renders s with revision (NULL is "") as one compact JSON object into buf
 * (size bytes, NUL terminated), the shape above. revision must be a label
 * value (the caller checks it with kube_label_value_ok; here only its
 * length, CONTROL_REVISION_MAX, is). Returns the length; -EINVAL when s
 * breaks a rule the reader enforces (counts, ranges, NaN or infinite
 * figures where a number is required, degraded without a rule), so what
 * renders reads back; -ENOSPC when the document does not fit in size or in
 * CONTROL_SUMMARY_JSON_MAX (buf is then "" when size > 0).
 */
int control_summary_render_json(const struct control_summary *s, const char *revision, char *buf,
                                size_t size);

/*
 * Pools n summaries (n <= CONTROL_POOL_MAX) read from pods of revision into
 * *ret, asked pods having been asked; taken_ms and rollout_start_ms are
 * copied. Returns 0, or -ENODATA when n is 0 (*ret then has asked set and
 * nothing else).
 */
int control_pool(const struct control_summary *s, unsigned n, unsigned asked, const char *revision,
                 int64_t taken_ms, int64_t rollout_start_ms, struct control_view *ret);

const char *control_latency_source_name(enum control_latency_source s);
/* "error_rate", "latency", "health"; NULL for CONTROL_RULE_NONE. */
const char *control_rule_name(enum control_rule r);

#endif
