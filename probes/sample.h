/*
 * sample — what one scrape interval contributes to the analysis windows.
 *
 * The scraper turns two consecutive scrapes of the app's metrics page into
 * one struct sample_delta (increases, counter resets already handled); the
 * windows consume it. Plain data, no functions: the contract between
 * probes/ (producer) and sidecar/ (consumer).
 */
#ifndef ROLLGUARD_SAMPLE_H
#define ROLLGUARD_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>

#define SAMPLE_MAX_BUCKETS 64
#define SAMPLE_PROBLEM_MAX 224 /* a reason a rule cannot be judged, with the NUL */

/*
 * A classic (le-bucket) histogram increase. le[] are upper bounds in
 * seconds, strictly ascending; the last one may be +Inf. count[i] is the
 * increase of bucket i alone (not cumulative).
 */
struct sample_hist {
    unsigned n;
    double le[SAMPLE_MAX_BUCKETS];
    uint64_t count[SAMPLE_MAX_BUCKETS];
};

struct sample_delta {
    bool valid;        /* false: the scrape failed or was malformed (no data, not zero) */
    bool reset;        /* a counter reset was seen (app restart) */
    double span_s;     /* seconds between the two scrapes */
    uint64_t requests; /* increase of the request counter */
    uint64_t errors;   /* increase of the error series */
    bool has_hist;     /* latency histogram found */
    struct sample_hist hist;
    bool has_summary;       /* latency from a summary's quantile series instead */
    double summary_q;       /* that quantile, seconds (mean over the selected series) */
    uint64_t summary_count; /* increase of the summary's _count */
    /* Why a rule cannot be judged from this page ("" when it can): the error label
     * or the latency family is not on the page, or cannot be read. */
    char err_problem[SAMPLE_PROBLEM_MAX];
    char lat_problem[SAMPLE_PROBLEM_MAX];
};

#endif
