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

#include "probes/sample.h"
#include "probes/promtext.h"
#include "config/selector.h"

#define SCRAPE_NAME_MAX 128  /* metric and label names, including the NUL */
#define SCRAPE_VALUE_MAX 257 /* selector values and the error pattern, including the NUL */
#define SCRAPE_MAX_MATCHERS SELECTOR_MAX_MATCHERS /* matchers in a selector */
#define SCRAPE_SELECTOR_MAX SELECTOR_MAX_BYTES    /* bytes in a selector string */
#define SCRAPE_MAX_LABELS 5                       /* status label candidates */
#define SCRAPE_MAX_HISTS 6                        /* latency family candidates */
#define SCRAPE_AUTO "auto" /* metric, error_label, histogram: find it on the page */

/* Which names "auto" looks for. */
enum scrape_flavour {
    SCRAPE_FLAVOUR_ANY,  /* Prometheus clients first, then OpenTelemetry and Micrometer */
    SCRAPE_FLAVOUR_OTEL, /* OpenTelemetry semantic conventions only */
};

/* What to select on a page. A plain value: copy it freely; scrape_spec_init fills it. */
struct scrape_spec {
    char metric[SCRAPE_NAME_MAX];      /* request counter as configured (or the auto default) */
    char base[SCRAPE_NAME_MAX];        /* metric without a "_total" suffix */
    bool metric_auto;                  /* no counter on the page: the latency family's _count */
    char error_label[SCRAPE_NAME_MAX]; /* as configured: a label name or "auto" */
    unsigned nlabels;                  /* candidates, in order of preference */
    char labels[SCRAPE_MAX_LABELS][SCRAPE_NAME_MAX];
    char error_match[SCRAPE_VALUE_MAX];
    char histogram[SCRAPE_NAME_MAX]; /* as configured: a name, "auto", or "" = no latency */
    unsigned nhists;                 /* candidates, in order of preference */
    char hists[SCRAPE_MAX_HISTS][SCRAPE_NAME_MAX];
    double hist_scale[SCRAPE_MAX_HISTS]; /* a candidate's conventional unit; 0: by its name */
    unsigned nmatchers;
    struct selector_matcher matchers[SCRAPE_MAX_MATCHERS]; /* config/selector.h */
    double unit_scale; /* le unit in seconds as configured: 1, 0.001; 0 = auto */
    double quantile;   /* of a summary: the quantile series the latency rule reads */
};

enum scrape_req_from { SCRAPE_REQ_NONE, SCRAPE_REQ_COUNTER, SCRAPE_REQ_HIST_COUNT };
enum scrape_lat_kind { SCRAPE_LAT_NONE, SCRAPE_LAT_HISTOGRAM, SCRAPE_LAT_SUMMARY };
enum scrape_unit_from {
    SCRAPE_UNIT_FROM_NONE,
    SCRAPE_UNIT_FROM_CONFIG,     /* latency.unit */
    SCRAPE_UNIT_FROM_UNIT,       /* the page's UNIT line */
    SCRAPE_UNIT_FROM_NAME,       /* the name's suffix (_seconds, _ms, ...) */
    SCRAPE_UNIT_FROM_CONVENTION, /* the semantic convention of that name */
    SCRAPE_UNIT_FROM_ASSUMED,    /* nothing said: seconds, as Prometheus recommends */
};

#define SCRAPE_PROBLEM_MAX SAMPLE_PROBLEM_MAX

/* What a page was read as: the names chosen and what could not be read. */
struct scrape_reading {
    enum scrape_req_from req_from;
    char requests[SCRAPE_NAME_MAX];    /* the family counted: counter, or hist + "_count" */
    unsigned req_series;               /* its selected series */
    char error_label[SCRAPE_NAME_MAX]; /* the label chosen; "" when none is usable */
    enum scrape_lat_kind lat_kind;
    char latency[SCRAPE_NAME_MAX]; /* the latency family; "" when none */
    double unit_scale;             /* of its le / quantile values, in seconds */
    enum scrape_unit_from unit_from;
    char err_problem[SCRAPE_PROBLEM_MAX]; /* why errors cannot be read; "" when they can */
    char lat_problem[SCRAPE_PROBLEM_MAX]; /* why latency cannot be read; "" when it can */
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
    double hist_count;                   /* of the latency family (histogram or summary) */
    double hist_sum;                     /* in the page's unit */
    bool hist_has_created;
    double hist_created; /* min _created of the selected histogram series */
    bool has_summary_q;
    double summary_q; /* summary: mean over series of the quantile, seconds */
    struct scrape_reading rd;
};

/*
 * Fill *ret from the configured names. metric (required) is the request
 * counter, spelled with or without "_total", or "auto": http_requests_total
 * when the page has it, else the latency family's _count. error_label
 * (required) picks the error series, or "auto": the first label of code,
 * status_code, status, http_status_code, http_response_status_code (OTEL:
 * the last two) found on the request series. error_match is an anchored
 * regular expression over the label value (config/promre.h). selector
 * (NULL or "") is a comma-separated list of label="value" / label!="value"
 * terms applied to the request and histogram series. histogram (NULL or ""
 * for none) is the latency family's name (a histogram or a summary), or
 * "auto": the first present of a list of common names. unit_scale converts
 * its le bounds to seconds (1 for _seconds, 0.001 for _milliseconds); 0
 * means auto: the page's UNIT line, else the name (_milliseconds/_ms ->
 * 0.001, _microseconds/_us -> 1e-6), else the name's convention, else 1.
 * Returns 0, or -EINVAL with a message in err->msg (line 0, column =
 * 1-based position within the selector when it is the culprit). The
 * flavour and summary quantile may be changed afterwards with
 * scrape_spec_tune.
 */
int scrape_spec_init(struct scrape_spec *ret, const char *metric, const char *error_label,
                     const char *error_match, const char *selector, const char *histogram,
                     double unit_scale, struct promtext_err *err);

/* Candidate lists of flavour f for the "auto" names of s, and the summary quantile q. */
void scrape_spec_tune(struct scrape_spec *s, enum scrape_flavour f, double quantile);

/*
 * Parse one page (len bytes, need not be NUL-terminated; content_type may
 * be NULL) and sum what s selects, in one pass. Returns 0 and fills *ret;
 * -EINVAL when the page is malformed or the histogram fails validation
 * (+Inf bucket missing or unequal to _count, buckets decreasing, bounds
 * differing between series, more than SAMPLE_MAX_BUCKETS bounds, NaN or
 * negative counts); -ENOENT when the page is valid but holds no sample of
 * the request counter (nor, with metric auto, of the latency family's
 * _count) that matches the selector: the metric is absent (client
 * libraries omit a labelled counter until its first increment; a wrong
 * name looks the same). A page whose error label or latency family cannot
 * be read is still read (0): ret->rd says what was chosen and why a rule
 * cannot be judged. Absent is not zero: the caller keeps its
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
 * ret->has_hist when cur has the histogram. When the
 * request family, the error label or the latency family chosen on cur
 * differs from prev's, that part of the delta is empty (the two pages
 * count different things). The reading's problems are copied into ret.
 */
void scrape_delta(const struct scrape_totals *prev, const struct scrape_totals *cur, double span_s,
                  struct sample_delta *ret);

/*
 * One line saying what rd reads: "requests from X (counter, 6 series);
 * errors from X{code=~"5.."}; latency from H (histogram, seconds from the
 * name)". Returns what snprintf returns.
 */
int scrape_reading_describe(const struct scrape_reading *rd, const char *error_match, char *buf,
                            size_t size);

/* "counter", "histogram_count", ...: names for logs and /status. */
const char *scrape_req_from_name(enum scrape_req_from f);
const char *scrape_lat_kind_name(enum scrape_lat_kind k);
const char *scrape_unit_from_name(enum scrape_unit_from f);

/* "seconds", "milliseconds", ... for a unit scale of 1, 1e-3, ...; NULL for another scale. */
const char *scrape_unit_word(double scale);

/* Whether sample smp satisfies every matcher of s's selector (an absent label reads ""). */
bool scrape_selected(const struct scrape_spec *s, const struct promtext_sample *smp);

#endif
