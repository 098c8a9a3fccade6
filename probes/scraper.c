/*
 * scraper — the I/O half of app metrics: a timer, one GET through curlm
 * at a time, and the bookkeeping of good pages. Parsing and deltas are
 * scrape.c's (pure); a page is parsed in slices of SCRAPER_STEP_BYTES,
 * one per loop iteration, so that a 10 MB page never delays a probe
 * answer by more than a slice. Never blocks; never overlaps two fetches
 * (or a fetch and a parse); never turns a failed scrape into zero traffic.
 */
#include "probes/scraper.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "probes/curlm.h"
#include "probes/scrape.h"
#include "probes/sched.h"

#ifndef ROLLGUARD_VERSION
#define ROLLGUARD_VERSION "0.0.0"
#endif

/* Bytes of page parsed per loop iteration: ~0.1 ms of work. */
#define SCRAPER_STEP_BYTES (32 * 1024)

struct scraper {
    struct event_base *base;
    struct curlm *m;
    const struct sched *sc; /* the owner's clock and jitter source */
    struct curlm_req *req;
    struct event *timer;
    struct event *step;     /* zero-timeout timer: the next parse slice */
    struct scrape_job *job; /* the page being parsed, or NULL */
    char *page;             /* its body, owned */
    uint64_t page_ms;       /* monotonic time the page arrived */
    char *url;
    uint32_t interval_ms, timeout_ms, max_bytes;
    struct scrape_spec spec;
    struct scrape_totals prev;
    uint64_t prev_ms;    /* monotonic time of prev */
    uint64_t started_ms; /* of the fetch in flight */
    bool stopped;
    scraper_fn *cb;
    void *arg;
    struct scraper_stats stats;
    struct {
        bool on;
        char *body; /* owned; NULL: none */
        size_t len, skipped;
        uint64_t ms;
        char type[128];
        size_t next_len; /* of the page being parsed */
        char next_type[128];
    } kept; /* scraper_keep_last_page */
};

static const char *const scraper_names[SCRAPER_RESULT_COUNT] = {
    "ok", "unreachable", "http_error", "too_big", "parse_error", "no_metric", "error",
};

const char *scraper_result_name(enum scraper_result r)
{
    return (unsigned)r < SCRAPER_RESULT_COUNT ? scraper_names[r] : "error";
}

int scraper_spec(const struct cfg_metrics *c, struct scrape_spec *spec, char *err, size_t errlen)
{
    struct promtext_err perr = {0};
    double scale = c->latency_unit == CFG_UNIT_SECONDS        ? 1.0
                   : c->latency_unit == CFG_UNIT_MILLISECONDS ? 0.001
                                                              : 0.0;
    int r = scrape_spec_init(spec, c->requests_metric, c->error_label, c->error_match, c->selector,
                             c->latency_histogram, scale, &perr);

    if (r < 0) {
        snprintf(err, errlen, "app.metrics: %s", perr.msg);
        return r;
    }
    scrape_spec_tune(spec, c->preset == CFG_PRESET_OTEL ? SCRAPE_FLAVOUR_OTEL : SCRAPE_FLAVOUR_ANY,
                     c->latency_quantile);
    return 0;
}

/* Reports one finished scrape; a failure hands on an invalid (no data) delta. */
static void finish(struct scraper *s, enum scraper_result r, const char *why)
{
    struct sample_delta d;

    s->stats.scrapes[r]++;
    s->stats.last = r;
    snprintf(s->stats.last_error, sizeof(s->stats.last_error), "%s", why ? why : "");
    if (r == SCRAPER_OK)
        return; /* it delivered its own delta */
    memset(&d, 0, sizeof(d));
    d.valid = false;
    snprintf(d.err_problem, sizeof(d.err_problem), "%s: %.190s", scraper_result_name(r),
             why ? why : "");
    s->cb(&d, s->arg);
}

/* Keeps the cadence from the start of the fetch, never two at once. */
static void rearm(struct scraper *s)
{
    uint64_t spent = s->sc->now_ms() - s->started_ms;

    if (!s->stopped)
        sched_arm(s->timer, spent < s->interval_ms ? s->interval_ms - spent : 0);
}

static void drop_job(struct scraper *s)
{
    s->job = scrape_job_free(s->job);
    free(s->page);
    s->page = NULL;
    if (s->step)
        evtimer_del(s->step);
}

/* Moves the page just parsed into s->kept when keeping is on. */
static void keep_page(struct scraper *s)
{
    char *body;

    if (!s->kept.on)
        return;
    free(s->kept.body);
    s->kept.body = NULL;
    s->kept.skipped = 0;
    if (s->kept.next_len > SCRAPER_KEEP_MAX) {
        s->kept.skipped = s->kept.next_len;
        return;
    }
    body = s->page ? realloc(s->page, s->kept.next_len + 1) : calloc(1, 1);
    if (!body)
        return; /* s->page stays owned by the job and is freed with it */
    s->page = NULL;
    s->kept.body = body;
    s->kept.len = s->kept.next_len;
    s->kept.ms = s->page_ms;
    memcpy(s->kept.type, s->kept.next_type, sizeof(s->kept.type));
}

static void next_step(struct scraper *s)
{
    /* A timer, not event_active: the loop polls its sockets between slices. */
    sched_arm(s->step, 0);
}

static void on_step(evutil_socket_t fd, short what, void *arg)
{
    struct scraper *s = arg;
    struct scrape_totals cur;
    struct promtext_err perr = {0};
    struct sample_delta d;
    char why[256];
    int r;

    (void)fd;
    (void)what;
    if (!s->job)
        return;
    r = scrape_job_step(s->job, SCRAPER_STEP_BYTES, &cur, &perr);
    if (r == SCRAPE_MORE) {
        next_step(s);
        return;
    }
    keep_page(s);
    drop_job(s);
    if (r == -ENOENT) {
        finish(s, SCRAPER_NO_METRIC, perr.msg);
    } else if (r < 0) {
        snprintf(why, sizeof(why), "line %u column %u: %.200s", perr.line, perr.column, perr.msg);
        finish(s, SCRAPER_PARSE_ERROR, why);
    } else {
        s->stats.reading = cur.rd;
        if (s->stats.primed) {
            scrape_delta(&s->prev, &cur, (double)(s->page_ms - s->prev_ms) / 1000.0, &d);
            if (d.reset)
                s->stats.resets++;
            s->cb(&d, s->arg);
        }
        s->prev = cur;
        s->prev_ms = s->page_ms;
        s->stats.primed = true;
        finish(s, SCRAPER_OK, NULL);
    }
    rearm(s);
}

static void on_page(const struct curlm_result *res, void *arg)
{
    struct scraper *s = arg;
    char why[256];
    int r;

    s->req = NULL;
    s->stats.last_duration_us = res->total_us;
    s->stats.last_bytes = res->body_len;
    if (res->fail == CURLM_ERR_TOOBIG) {
        snprintf(why, sizeof(why), "page larger than app.metrics.max_bytes (%u)", s->max_bytes);
        finish(s, SCRAPER_TOO_BIG, why);
    } else if (res->fail == CURLM_ERR_INTERNAL) {
        finish(s, SCRAPER_ERROR, res->error);
    } else if (res->fail != CURLM_FAIL_NONE) {
        finish(s, SCRAPER_UNREACHABLE, res->error);
    } else if (res->status != 200) {
        snprintf(why, sizeof(why), "metrics page answered HTTP %ld", res->status);
        finish(s, SCRAPER_HTTP_ERROR, why);
    } else {
        s->page_ms = s->sc->now_ms();
        s->page = curlm_take_body(res);
        s->kept.next_len = s->page ? res->body_len : 0;
        snprintf(s->kept.next_type, sizeof(s->kept.next_type), "%s",
                 res->content_type ? res->content_type : "");
        r = scrape_job_new(&s->spec, s->page ? s->page : "", s->page ? res->body_len : 0,
                           res->content_type, &s->job);
        if (r == 0) {
            next_step(s);
            return; /* on_step finishes the scrape and re-arms */
        }
        drop_job(s);
        finish(s, SCRAPER_ERROR, "out of memory for the page parse");
    }
    rearm(s);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    static const char *const headers[] = {SCRAPER_ACCEPT, NULL};
    struct scraper *s = arg;
    struct curlm_opts o = {
        .url = s->url,
        .headers = headers,
        .timeout_ms = s->timeout_ms,
        .max_body = s->max_bytes,
    };
    int r;

    (void)fd;
    (void)what;
    if (s->stopped || s->req || s->job)
        return;
    s->started_ms = s->sc->now_ms();
    r = curlm_start(s->m, &o, on_page, s, &s->req);
    if (r < 0) {
        char why[100];

        snprintf(why, sizeof(why), "could not start the scrape: %s", strerror(-r));
        finish(s, SCRAPER_ERROR, why);
        sched_arm(s->timer, s->interval_ms);
    }
}

int scraper_new(struct event_base *base, struct curlm *m, const struct sched *sc,
                const struct cfg_metrics *c, scraper_fn *cb, void *arg, struct scraper **ret,
                char *err, size_t errlen)
{
    struct scraper *s;
    int r;

    if (!sc || !sc->now_ms || !sc->unit) {
        snprintf(err, errlen, "internal: no clock");
        return -EINVAL;
    }
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->base = base;
    s->m = m;
    s->sc = sc;
    s->cb = cb;
    s->arg = arg;
    r = scraper_spec(c, &s->spec, err, errlen);
    if (r < 0)
        goto fail;
    r = -ENOMEM;
    s->url = strdup(c->url);
    s->timer = evtimer_new(base, on_timer, s);
    s->step = evtimer_new(base, on_step, s);
    if (!s->url || !s->timer || !s->step)
        goto fail;
    s->interval_ms = c->interval_ms;
    s->timeout_ms = c->timeout_ms;
    s->max_bytes = c->max_bytes;
    /* The first page soon after start, spread so pods do not scrape in step. */
    sched_arm(s->timer, sched_jitter(s->sc, s->interval_ms > 1000 ? 1000 : s->interval_ms));
    *ret = s;
    return 0;
fail:
    scraper_free(s);
    return r;
}

struct scraper *scraper_free(struct scraper *s)
{
    if (!s)
        return NULL;
    curlm_cancel(s->req);
    drop_job(s);
    if (s->step)
        event_free(s->step);
    if (s->timer)
        event_free(s->timer);
    free(s->url);
    free(s->kept.body);
    free(s);
    return NULL;
}

int scraper_apply(struct scraper *s, const struct cfg_metrics *c, char *err, size_t errlen)
{
    struct scrape_spec spec;
    char *url;
    int r = scraper_spec(c, &spec, err, errlen);

    if (r < 0)
        return r;
    url = strdup(c->url);
    if (!url)
        return -ENOMEM;
    if (strcmp(url, s->url) || memcmp(&spec, &s->spec, sizeof(spec))) {
        /* Another page or selection: totals are not comparable any more. */
        s->stats.primed = false;
        curlm_cancel(s->req);
        s->req = NULL;
        drop_job(s);
    }
    free(s->url);
    s->url = url;
    s->spec = spec;
    if (c->interval_ms != s->interval_ms && !s->stopped && !s->req && !s->job)
        sched_arm(s->timer, c->interval_ms);
    s->interval_ms = c->interval_ms;
    s->timeout_ms = c->timeout_ms;
    s->max_bytes = c->max_bytes;
    if (!s->stopped && !s->req && !s->job && !evtimer_pending(s->timer, NULL))
        sched_arm(s->timer, 0);
    return 0;
}

void scraper_stop(struct scraper *s)
{
    s->stopped = true;
    evtimer_del(s->timer);
    curlm_cancel(s->req);
    s->req = NULL;
    drop_job(s);
}

const struct scraper_stats *scraper_stats_get(const struct scraper *s)
{
    return &s->stats;
}

bool scraper_keep_last_page(struct scraper *s, bool on)
{
    bool was = s->kept.on;

    s->kept.on = on;
    if (!on) {
        free(s->kept.body);
        s->kept.body = NULL;
        s->kept.skipped = 0;
    }
    return was;
}

int scraper_last_page(const struct scraper *s, struct scraper_page *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->content_type = "";
    ret->skipped = s->kept.skipped;
    if (!s->kept.body)
        return -ENOENT;
    ret->body = s->kept.body;
    ret->len = s->kept.len;
    ret->content_type = s->kept.type;
    ret->age_ms = s->sc->now_ms() - s->kept.ms;
    return 0;
}
