/*
 * baseline_summary — the stable revision's baseline as pods publish it on
 * the Lease, so that a pod of a new revision can judge itself against it
 * from its first interval.
 *
 * The type, its limits and the reader's error report only. The analysis
 * fills it (baseline_summarize), interpolates it and renders it
 * (baseline_summary_render_json), all in sidecar/analysis/baseline.h; the
 * strict reader of what another pod wrote is the jansson adapter's
 * (kube_json_baseline_summary_parse). It lives in base/ because analysis/
 * and kube/ both need it and neither may include the other. NaN marks a
 * figure that is unknown (null on the wire).
 */
#ifndef ROLLGUARD_BASELINE_SUMMARY_H
#define ROLLGUARD_BASELINE_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#define BASELINE_REVISION_MAX 63 /* revision and every other string value, in bytes */
#define BASELINE_JSON_MAX 1024   /* the most a reader accepts; a rendered document fits */
#define BASELINE_SUMMARY_VERSION 1

enum baseline_source {
    BASELINE_SRC_NONE = 0,  /* "none": no latency data */
    BASELINE_SRC_HISTOGRAM, /* "histogram": the app's scraped histogram */
    BASELINE_SRC_PROBE,     /* "probe": the sidecar's probe latencies */
};

struct baseline_summary {
    char revision[BASELINE_REVISION_MAX + 1]; /* pod-template-hash it describes */
    int64_t window_ms;                        /* baseline time covered */
    uint64_t requests, errors;                /* scraped, over window_ms */
    double error_rate;                        /* errors / requests; NaN without requests */
    enum baseline_source latency_source;
    uint64_t latency_samples;
    double p50, p90, p99;  /* seconds; NaN when unknown */
    double quantile;       /* the q of the latency rule, in (0, 1) */
    double quantile_value; /* latency at q, seconds */
    double threshold;      /* (1 + max_increase) * quantile_value */
    double exceed;         /* fraction of samples slower than threshold */
};

/* Where a parse stopped (a byte offset into the input) and why. */
struct baseline_parse_err {
    size_t offset;
    char msg[96];
};

#endif
