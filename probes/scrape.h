/*
 * scrape — which series of a metrics page count, and what changed since
 * the previous page.
 *
 * Pure: a page (bytes) goes in, struct scrape_totals comes out; two totals
 * make one struct sample_delta. No I/O, no clock, no allocation.
 *
 * Life of the numbers: every scrape is parsed with scrape_extract; the
 * caller keeps the last good totals. The first good scrape only primes
 * (there is nothing to subtract from), each later one yields
 * scrape_delta(prev, cur). A scrape that fails to parse or validate is
 * INCONCLUSIVE: the caller counts the error, keeps prev, and produces no
 * sample — never a zero sample.
 */
#ifndef ROLLGUARD_SCRAPE_H
#define ROLLGUARD_SCRAPE_H

#include <stdbool.h>
#include <stddef.h>

#include "../sidecar/sample.h"
#include "promtext.h"

#define SCRAPE_NAME_MAX 128      /* metric and label names, including the NUL */
#define SCRAPE_VALUE_MAX 128     /* selector values and the error pattern, including the NUL */
#define SCRAPE_MAX_MATCHERS 8    /* matchers in a selector */
#define SCRAPE_SELECTOR_MAX 1024 /* bytes in a selector string */

/* One selector term: label == value, or label != value (an absent label reads ""). */
struct scrape_matcher {
    char label[SCRAPE_NAME_MAX];
    char value[SCRAPE_VALUE_MAX];
    size_t value_len;
    bool negate;
};

/* What to select on a page. A plain value: copy it freely; scrape_spec_init fills it. */
struct scrape_spec {
    char metric[SCRAPE_NAME_MAX]; /* request counter as configured */
    char base[SCRAPE_NAME_MAX];   /* metric without a "_total" suffix */
    char error_label[SCRAPE_NAME_MAX];
    char error_match[SCRAPE_VALUE_MAX];
    char histogram[SCRAPE_NAME_MAX]; /* "" = no latency histogram */
    unsigned nmatchers;
    struct scrape_matcher matchers[SCRAPE_MAX_MATCHERS];
    double unit_scale; /* histogram le unit in seconds: 1, 0.001, ... */
};

/* The summed state of one page. */
struct scrape_totals {
    double requests; /* sum of the request counter over selected series */
    double errors;   /* the subset whose error label matches */
    unsigned series; /* selected request series */
    bool has_start_time;
    double start_time; /* process_start_time_seconds (max if repeated) */
    bool has_created;
    double created; /* min _created of the selected request series */
    bool has_hist;  /* any selected sample of the histogram was seen */
    unsigned hist_n;
    double hist_le[SAMPLE_MAX_BUCKETS];  /* upper bounds in seconds, ascending, last +Inf */
    double hist_cum[SAMPLE_MAX_BUCKETS]; /* cumulative counts summed over series */
    double hist_count;
    double hist_sum; /* in the page's unit */
    bool hist_has_created;
    double hist_created; /* min _created of the selected histogram series */
};

/*
 * Fill *ret from the configured names. metric (required) is the request
 * counter, spelled with or without "_total"; error_label and error_match
 * (both required) pick the error series: match is a pattern over the
 * whole label value where '.' matches any one character and '|' separates
 * alternatives ("5..", "failure", "5..|429"). selector (NULL or "") is a
 * comma-separated list of label="value" / label!="value" terms applied to
 * the request and histogram series. histogram (NULL or "" for none) is the
 * latency histogram's family name. unit_scale converts its le bounds to
 * seconds (1 for _seconds, 0.001 for _milliseconds); 0 means infer it
 * from the name (_milliseconds/_ms -> 0.001, _microseconds/_us -> 1e-6,
 * else 1). Returns 0, or -EINVAL with a message in err->msg (line 0,
 * column = 1-based position within the selector when it is the culprit).
 */
int scrape_spec_init(struct scrape_spec *ret, const char *metric, const char *error_label,
                     const char *error_match, const char *selector, const char *histogram,
                     double unit_scale, struct promtext_err *err);

/*
 * Parse one page (len bytes, need not be NUL-terminated; content_type may
 * be NULL) and sum what s selects, in one pass. Returns 0 and fills *ret;
 * -EINVAL when the page is malformed or the histogram fails validation
 * (+Inf bucket missing or unequal to _count, buckets decreasing, bounds
 * differing between series, more than SAMPLE_MAX_BUCKETS bounds, NaN or
 * negative counts); -ENOENT when the page is valid but holds no sample of
 * the request counter that matches the selector: the metric is absent
 * (client libraries omit a labelled counter until its first increment;
 * a wrong name looks the same). Absent is not zero: the caller keeps its
 * previous totals and produces no sample; when the counter appears later
 * its value is compared with those totals as usual (a smaller value reads
 * as a reset). -ENOMEM as promtext_parse. err gets the position and message
 * for -EINVAL and -ENOENT. *ret is written only on success.
 */
int scrape_extract(const struct scrape_spec *s, const char *body, size_t len,
                   const char *content_type, struct scrape_totals *ret, struct promtext_err *err);

/*
 * scrape_extract in steps, so that a large page never holds the event loop
 * for long. scrape_job_new copies s and prepares a pass over body (which
 * must outlive the job); returns 0 or -ENOMEM. scrape_job_step parses on
 * for at least budget more bytes (whole lines) and returns SCRAPE_MORE
 * while the page is not finished, else exactly what scrape_extract would
 * (*ret on 0, err on -EINVAL/-ENOENT); once finished it keeps returning
 * the same result. scrape_job_free is NULL-safe and returns NULL.
 */
#define SCRAPE_MORE 1
struct scrape_job;
int scrape_job_new(const struct scrape_spec *s, const char *body, size_t len,
                   const char *content_type, struct scrape_job **ret);
int scrape_job_step(struct scrape_job *j, size_t budget, struct scrape_totals *ret,
                    struct promtext_err *err);
struct scrape_job *scrape_job_free(struct scrape_job *j);

/*
 * The increase from prev to cur over span_s seconds, counter resets handled
 * as Prometheus rate() does: a decrease means the counter restarted from
 * zero, so the increase is cur itself. A change of process_start_time_seconds
 * or of the min _created also means a restart. The request and error
 * counters reset together; the histogram is one unit (its _count dropping,
 * any cumulative bucket dropping, or its bounds changing resets all of its
 * buckets). ret->hist holds per-bucket (not cumulative) increases with le
 * in seconds. Always sets ret->valid; ret->reset when any reset was seen;
 * ret->has_hist when cur has the histogram.
 */
void scrape_delta(const struct scrape_totals *prev, const struct scrape_totals *cur, double span_s,
                  struct sample_delta *ret);

/* Whether value (n bytes) matches pattern as scrape_spec_init describes. */
bool scrape_pattern_match(const char *pattern, const char *value, size_t n);

#endif
