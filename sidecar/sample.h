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
    bool valid;          /* false: the scrape failed or was malformed (no data, not zero) */
    bool reset;          /* a counter reset was seen (app restart) */
    double span_s;       /* seconds between the two scrapes */
    uint64_t requests;   /* increase of the request counter */
    uint64_t errors;     /* increase of the error series */
    bool has_hist;       /* latency histogram found */
    struct sample_hist hist;
};

#endif
