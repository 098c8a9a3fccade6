/*
 * scraper — fetches the app's metrics page every interval and turns each
 * pair of good pages into one struct sample_delta.
 *
 * Owns its timer, its in-flight request and the last good totals. A page
 * that cannot be fetched or parsed yields a delta with valid = false (no
 * data, never zero); the first good page only primes.
 */
#ifndef ROLLGUARD_SCRAPER_H
#define ROLLGUARD_SCRAPER_H

#include <stdbool.h>
#include <stdint.h>

#include "config/cfg.h"
#include "probes/scrape.h"
#include "probes/sample.h"

struct event_base;
struct curlm;
struct scraper;
struct sched;

/* The Accept header of every scrape: OpenMetrics preferred, then text 0.0.4. */
#define SCRAPER_ACCEPT                                                                             \
    "Accept: application/openmetrics-text;version=1.0.0;q=0.8,"                                    \
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

enum scraper_result {
    SCRAPER_OK,
    SCRAPER_UNREACHABLE, /* no answer: refused, timeout, DNS, reset */
    SCRAPER_HTTP_ERROR,  /* answered with a status other than 200 */
    SCRAPER_TOO_BIG,     /* page over app.metrics.max_bytes */
    SCRAPER_PARSE_ERROR, /* malformed page or histogram */
    SCRAPER_NO_METRIC,   /* valid page without the request counter */
    SCRAPER_ERROR,       /* could not be attempted (our side) */
    SCRAPER_RESULT_COUNT
};

struct scraper_stats {
    uint64_t scrapes[SCRAPER_RESULT_COUNT];
    uint64_t resets; /* counter resets seen (app restarts) */
    enum scraper_result last;
    uint64_t last_duration_us;
    uint64_t last_bytes;
    char last_error[256];
    bool primed;                   /* a good page is held */
    struct scrape_reading reading; /* what the last good page was read as */
};

/*
 * The spec cfg selects: names, "auto" candidates (the preset's flavour),
 * the summary quantile. Returns 0, or -EINVAL with a message in err.
 */
int scraper_spec(const struct cfg_metrics *c, struct scrape_spec *spec, char *err, size_t errlen);

/*
 * Called after every scrape but the priming one; d->valid says whether it
 * holds data (a failed scrape's reason is in d->err_problem).
 */
typedef void scraper_fn(const struct sample_delta *d, void *arg);

/*
 * A scraper for c (copied), timed by sc (borrowed: it must outlive the
 * scraper). Returns 0 and *ret; -EINVAL with a message in err when the
 * selector/metric names are unusable; -ENOMEM.
 */
int scraper_new(struct event_base *base, struct curlm *m, const struct sched *sc,
                const struct cfg_metrics *c, scraper_fn *cb, void *arg, struct scraper **ret,
                char *err, size_t errlen);

/* Cancels the timer and any request. NULL-safe; returns NULL. */
struct scraper *scraper_free(struct scraper *s);

/*
 * New settings, keeping the primed totals when the selection did not
 * change (otherwise the next good page primes again). Returns 0 or -EINVAL
 * (err filled; the old settings stay).
 */
int scraper_apply(struct scraper *s, const struct cfg_metrics *c, char *err, size_t errlen);

/* Stop scraping; stats stay readable. */
void scraper_stop(struct scraper *s);

const struct scraper_stats *scraper_stats_get(const struct scraper *s);
const char *scraper_result_name(enum scraper_result r);

/*
 * The last page fetched with HTTP 200 (parsed or not), kept for
 * GET /check-metrics on admin_listen. Off by default: a kept page is
 * resident memory. At most one page of at most SCRAPER_KEEP_MAX bytes is
 * kept; it is replaced by the next 200 page and freed by turning keeping
 * off or by scraper_free.
 */
#define SCRAPER_KEEP_MAX (1024 * 1024)

struct scraper_page {
    const char *body; /* NUL-terminated; valid until the next page, NULL: none */
    size_t len;
    const char *content_type; /* "" when the app sent none */
    uint64_t age_ms;          /* since the page arrived */
    size_t skipped;           /* > 0: the last page had this many bytes, too many to keep */
};

/* Keep each next page (on), or stop and free the kept one (off). Returns the previous setting. */
bool scraper_keep_last_page(struct scraper *s, bool on);

/* Fills *ret. Returns 0, or -ENOENT when no page is kept (ret->skipped may say why). */
int scraper_last_page(const struct scraper *s, struct scraper_page *ret);

#endif
