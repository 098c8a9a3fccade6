/*
 * Loopback tests for probes/scraper.c: real fetches from the fake app,
 * deltas handed on, failures reported as "no data", never as zero.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config/cfg.h"
#include "tests/helpers/test_sched.h"
#include "tests/helpers/upstream.h"
#include "probes/curlm.h"
#include "probes/scraper.h"

Suite *scraper_suite(void);

struct got {
    unsigned n, valid;
    struct sample_delta last;
};

static void on_delta(const struct sample_delta *d, void *arg)
{
    struct got *g = arg;

    g->n++;
    g->valid += d->valid;
    g->last = *d;
}

static bool got_n(void *arg)
{
    struct got *g = ((void **)arg)[0];
    unsigned want = *(unsigned *)((void **)arg)[1];
    return g->n >= want;
}

static bool valid_over(void *arg)
{
    struct got *g = ((void **)arg)[0];
    unsigned base = *(unsigned *)((void **)arg)[1];
    return g->valid > base;
}

/* Runs until a valid delta arrives after the count seen now. */
static bool wait_valid(struct event_base *base, struct got *g)
{
    unsigned before = g->valid;
    void *args[2] = {g, &before};
    return upstream_loop_until(base, valid_over, args, 5000);
}

static bool is_primed(void *arg)
{
    return scraper_stats_get(arg)->primed;
}

static bool wait_deltas(struct event_base *base, struct got *g, unsigned want)
{
    void *args[2] = {g, &want};
    return upstream_loop_until(base, got_n, args, 5000);
}

static const char *page(unsigned req, unsigned err)
{
    static char buf[1024];

    snprintf(buf, sizeof(buf),
             "# TYPE http_requests_total counter\n"
             "http_requests_total{code=\"200\",path=\"/a\"} %u\n"
             "http_requests_total{code=\"503\",path=\"/a\"} %u\n"
             "# TYPE http_request_duration_seconds histogram\n"
             "http_request_duration_seconds_bucket{le=\"0.1\"} %u\n"
             "http_request_duration_seconds_bucket{le=\"+Inf\"} %u\n"
             "http_request_duration_seconds_sum 1\n"
             "http_request_duration_seconds_count %u\n",
             req - err, err, req, req, req);
    return buf;
}

struct fx {
    struct event_base *base;
    struct curlm *m;
    struct upstream *u;
    struct cfg *cfg;
    struct cfg_metrics mc;
    char url[128];
};

static void fx_init(struct fx *f)
{
    struct cfg_errs errs;
    char err[128];

    memset(f, 0, sizeof(*f));
    ck_assert_int_eq(curlm_global_init(err, sizeof(err)), 0);
    f->base = event_base_new();
    f->m = curlm_new(f->base);
    ck_assert_int_eq(upstream_new(f->base, &f->u), 0);
    ck_assert_int_eq(cfg_default(&f->cfg, &errs), 0);
    f->mc = f->cfg->metrics;
    f->mc.url = upstream_url(f->u, "/metrics", f->url, sizeof(f->url));
    f->mc.interval_ms = 100;
    f->mc.timeout_ms = 3000; /* generous: slow runs (valgrind) must not time out */
}

static void fx_done(struct fx *f)
{
    cfg_unref(f->cfg);
    upstream_free(f->u);
    curlm_free(f->m);
    event_base_free(f->base);
}

START_TEST(test_deltas_and_reset)
{
    struct fx f;
    struct scraper *s;
    struct got g = {0};
    char err[128];

    fx_init(&f);
    upstream_route_text(f.u, "/metrics", 200, page(100, 1));
    ck_assert_int_eq(
        scraper_new(f.base, f.m, test_sched(), &f.mc, on_delta, &g, &s, err, sizeof(err)), 0);
    /* The first page primes; nothing is reported until the second. */
    ck_assert(upstream_loop_until(f.base, is_primed, s, 5000));
    /* Every good page but the first made a delta. */
    ck_assert_uint_eq(g.valid, scraper_stats_get(s)->scrapes[SCRAPER_OK] - 1);
    upstream_route_text(f.u, "/metrics", 200, page(150, 11));
    ck_assert(wait_deltas(f.base, &g, 1));
    ck_assert(g.last.valid);
    /* Whichever page the second scrape saw, the totals moved by 0 or 50. */
    upstream_route_text(f.u, "/metrics", 200, page(160, 11));
    ck_assert(wait_deltas(f.base, &g, 3));
    ck_assert(g.last.valid);
    ck_assert_uint_eq(scraper_stats_get(s)->resets, 0);
    /* A restart: the counter drops, the increase is the new value. */
    upstream_route_text(f.u, "/metrics", 200, page(7, 2));
    {
        unsigned before = g.n;
        ck_assert(wait_deltas(f.base, &g, before + 1));
    }
    ck_assert(g.last.valid);
    ck_assert(g.last.reset);
    ck_assert_uint_eq(g.last.requests, 7);
    ck_assert_uint_eq(g.last.errors, 2);
    ck_assert(g.last.has_hist);
    ck_assert_uint_ge(scraper_stats_get(s)->resets, 1);
    scraper_free(s);
    fx_done(&f);
}
END_TEST

START_TEST(test_failures_are_no_data)
{
    struct fx f;
    struct scraper *s;
    struct got g = {0};
    char err[128];
    const struct scraper_stats *st;

    fx_init(&f);
    upstream_route_text(f.u, "/metrics", 200, page(100, 1));
    ck_assert_int_eq(
        scraper_new(f.base, f.m, test_sched(), &f.mc, on_delta, &g, &s, err, sizeof(err)), 0);
    ck_assert(upstream_loop_until(f.base, is_primed, s, 5000));
    st = scraper_stats_get(s);

    upstream_route(f.u, "/metrics", 500, 10, 0);
    ck_assert(wait_deltas(f.base, &g, g.n + 1));
    ck_assert(!g.last.valid);
    ck_assert_int_eq(st->last, SCRAPER_HTTP_ERROR);

    upstream_route_text(f.u, "/metrics", 200, "http_requests_total{code=\"200\" 5\n");
    ck_assert(wait_deltas(f.base, &g, g.n + 1));
    ck_assert(!g.last.valid);
    ck_assert_int_eq(st->last, SCRAPER_PARSE_ERROR);
    ck_assert_ptr_nonnull(strstr(st->last_error, "line 1"));

    upstream_route(f.u, "/metrics", 200, 20000, 0);
    f.mc.max_bytes = 4096;
    ck_assert_int_eq(scraper_apply(s, &f.mc, err, sizeof(err)), 0);
    ck_assert(wait_deltas(f.base, &g, g.n + 1));
    ck_assert(!g.last.valid);
    ck_assert_int_eq(st->last, SCRAPER_TOO_BIG);

    f.mc.timeout_ms = 100;
    ck_assert_int_eq(scraper_apply(s, &f.mc, err, sizeof(err)), 0);
    upstream_route(f.u, "/metrics", 200, 0, 500); /* slower than the 100 ms timeout */
    ck_assert(wait_deltas(f.base, &g, g.n + 1));
    ck_assert(!g.last.valid);
    ck_assert_int_eq(st->last, SCRAPER_UNREACHABLE);

    /* Data again: still primed from the first page, so a valid delta. */
    f.mc.timeout_ms = 3000;
    ck_assert_int_eq(scraper_apply(s, &f.mc, err, sizeof(err)), 0);
    upstream_route_text(f.u, "/metrics", 200, page(130, 1));
    ck_assert(wait_valid(f.base, &g));
    ck_assert(g.last.valid);
    ck_assert_uint_eq(g.last.requests, 30);
    ck_assert_uint_eq(g.last.errors, 0);
    ck_assert_uint_gt(st->scrapes[SCRAPER_OK], 1);
    scraper_free(s);
    fx_done(&f);
}
END_TEST

/* A page of many slices: filler series first, the counter and histogram last. */
static char *big_page(unsigned fill, unsigned req, unsigned err)
{
    size_t cap = (size_t)fill * 48 + 1024, o = 0;
    char *buf = malloc(cap);

    ck_assert_ptr_nonnull(buf);
    o += (size_t)snprintf(buf + o, cap - o, "# TYPE filler_bytes gauge\n");
    for (unsigned i = 0; i < fill; i++)
        o += (size_t)snprintf(buf + o, cap - o, "filler_bytes{shard=\"%u\"} %u\n", i, i);
    snprintf(buf + o, cap - o, "%s", page(req, err));
    return buf;
}

static bool bytes_at_least(void *arg)
{
    return scraper_stats_get(((void **)arg)[0])->last_bytes >= *(size_t *)((void **)arg)[1];
}

START_TEST(test_large_page_in_slices)
{
    struct fx f;
    struct scraper *s;
    struct got g = {0};
    char err[128];
    char *p1 = big_page(40000, 1000, 10), *p2 = big_page(40000, 1600, 70);
    size_t want = strlen(p1);
    void *args[2];

    ck_assert_uint_gt(want, 1024 * 1024); /* many parse slices */
    fx_init(&f);
    upstream_route_big(f.u, "/metrics", 200, p1);
    ck_assert_int_eq(
        scraper_new(f.base, f.m, test_sched(), &f.mc, on_delta, &g, &s, err, sizeof(err)), 0);
    ck_assert(upstream_loop_until(f.base, is_primed, s, 10000));
    upstream_route_big(f.u, "/metrics", 200, p2);
    ck_assert(wait_valid(f.base, &g));
    /* The delta between the two pages, whichever scrape first saw p2. */
    ck_assert_uint_eq(g.last.requests, 600);
    ck_assert_uint_eq(g.last.errors, 60);
    ck_assert_uint_eq(scraper_stats_get(s)->scrapes[SCRAPER_PARSE_ERROR], 0);
    /* Freed, stopped or re-pointed in the middle of a page: nothing leaks or fires later. */
    args[0] = s;
    args[1] = &want;
    ck_assert(upstream_loop_until(f.base, bytes_at_least, args, 10000));
    scraper_stop(s);
    event_base_loop(f.base, EVLOOP_NONBLOCK);
    scraper_free(s);
    ck_assert_int_eq(
        scraper_new(f.base, f.m, test_sched(), &f.mc, on_delta, &g, &s, err, sizeof(err)), 0);
    while (scraper_stats_get(s)->last_bytes == 0)
        event_base_loop(f.base, EVLOOP_ONCE);
    scraper_free(s); /* most likely mid-parse: the page arrived a moment ago */
    event_base_loop(f.base, EVLOOP_NONBLOCK);
    free(p1);
    free(p2);
    fx_done(&f);
}
END_TEST

START_TEST(test_bad_selector_refused)
{
    struct fx f;
    struct scraper *s = NULL;
    struct got g = {0};
    char err[128] = "";

    fx_init(&f);
    f.mc.selector = "direction=inbound"; /* value not quoted */
    ck_assert_int_lt(
        scraper_new(f.base, f.m, test_sched(), &f.mc, on_delta, &g, &s, err, sizeof(err)), 0);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(err, "app.metrics"));
    fx_done(&f);
}
END_TEST

Suite *scraper_suite(void)
{
    Suite *s = suite_create("scraper");
    TCase *tc = tcase_create("loopback");

    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_deltas_and_reset);
    tcase_add_test(tc, test_failures_are_no_data);
    tcase_add_test(tc, test_large_page_in_slices);
    tcase_add_test(tc, test_bad_selector_refused);
    suite_add_tcase(s, tc);
    return s;
}
