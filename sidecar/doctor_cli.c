/*
 * doctor_cli — the doctor's two ways in: `rollguard check-metrics` fetches
 * one page through curlm on a loop of its own; GET /check-metrics renders
 * the scraper's last kept page and never fetches. Both print doctor_report.
 */
#include "sidecar/doctor.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "probes/curlm.h"
#include "probes/scraper.h"
#include "sidecar/endpoints.h"
#include "sidecar/base/redact.h"

#define CLI_OUT_MAX (4u << 20)

/* ---- GET /check-metrics ---------------------------------------------------------------- */

static void reply_line(struct httpd_resp *resp, int status, const char *line)
{
    resp->status = status;
    resp->content_type = ENDPOINTS_TEXT_TYPE;
    buf_puts(resp->body, line);
    buf_puts(resp->body, "\n");
}

void doctor_http(const struct httpd_req *req, struct httpd_resp *resp, const struct cfg *c,
                 struct scraper *s)
{
    struct scraper_page pg;
    const struct scraper_stats *st;
    bool was_keeping;

    if (req->head->method != HTTPREQ_GET && req->head->method != HTTPREQ_HEAD) {
        resp->allow = "GET, HEAD";
        reply_line(resp, 405, "use GET");
        return;
    }
    if (!s) {
        reply_line(resp, 503,
                   c->metrics.url[0]
                       ? "the app's metrics are not scraped (see /status)"
                       : "app.metrics.url is \"\": the app's metrics are not scraped");
        return;
    }
    was_keeping = scraper_keep_last_page(s, true);
    if (scraper_last_page(s, &pg) < 0) {
        resp->status = 503;
        resp->content_type = ENDPOINTS_TEXT_TYPE;
        if (pg.skipped)
            buf_printf(resp->body,
                       "the last metrics page had %zu bytes, more than the %d kept for "
                       "/check-metrics; run `rollguard check-metrics` in the pod\n",
                       pg.skipped, SCRAPER_KEEP_MAX);
        else if (!was_keeping)
            buf_printf(resp->body,
                       "no metrics page kept yet: rollguard keeps the next one from now on; "
                       "ask again after the next scrape (app.metrics.interval %g s)\n",
                       c->metrics.interval_ms / 1000.0);
        else
            buf_puts(resp->body, "no metrics page scraped yet (see /status: scrape)\n");
        return;
    }
    resp->status = 200;
    resp->content_type = ENDPOINTS_TEXT_TYPE;
    st = scraper_stats_get(s);
    buf_printf(resp->body, "source: the page scraped from app.metrics.url %.1f s ago\n",
               (double)pg.age_ms / 1000.0);
    if (st->last != SCRAPER_OK)
        buf_printf(resp->body, "note: the last scrape failed since (%s: %s)\n",
                   scraper_result_name(st->last), st->last_error);
    doctor_report(c, pg.body, pg.len, pg.content_type, resp->body);
}

/* ---- rollguard check-metrics ----------------------------------------------------------- */

struct fetch {
    struct event_base *base;
    bool done;
    enum curlm_fail fail;
    long status;
    char *body; /* owned, NUL-terminated */
    size_t len;
    char *content_type; /* owned, or NULL */
    uint64_t total_us;
    char error[256];
};

static void cli_usage(FILE *f)
{
    fprintf(f, "Usage: rollguard check-metrics [URL] [--config FILE]\n"
               "\n"
               "Fetch the app's metrics page once, as the sidecar scrapes it, and print what\n"
               "rollguard reads from it: the families on the page, the request and error\n"
               "series it counts, the latency family with its unit and p50, and every reason\n"
               "a rule cannot be judged.\n"
               "\n"
               "  URL                the metrics page (default: app.metrics.url of the config)\n"
               "  -c, --config FILE  the sidecar's config (default: the embedded defaults)\n"
               "\n"
               "Exit status: 0 every rule can be judged, 1 the page was read but a rule\n"
               "cannot be judged (each reason printed), 2 bad usage or config, or the page\n"
               "unreachable, not 200, too big or unparseable.\n");
}

static void cli_on_page(const struct curlm_result *res, void *arg)
{
    struct fetch *f = arg;

    f->done = true;
    f->fail = res->fail;
    f->status = res->status;
    f->total_us = res->total_us;
    snprintf(f->error, sizeof(f->error), "%s", res->error);
    if (res->fail == CURLM_FAIL_NONE) {
        f->len = res->body_len;
        f->body = curlm_take_body(res);
        if (res->content_type)
            f->content_type = strdup(res->content_type);
    }
    event_base_loopbreak(f->base);
}

/* GETs url once with the scraper's header, timeout and size cap. Returns 0 or -errno. */
static int cli_fetch(const struct cfg_metrics *m, const char *url, struct fetch *f)
{
    static const char *const headers[] = {SCRAPER_ACCEPT, NULL};
    struct curlm_opts o = {
        .url = url,
        .headers = headers,
        .timeout_ms = m->timeout_ms,
        .max_body = m->max_bytes,
    };
    struct curlm *cm;
    int r = -ENOMEM;

    f->base = event_base_new();
    cm = f->base ? curlm_new(f->base) : NULL;
    if (cm) {
        r = curlm_start(cm, &o, cli_on_page, f, NULL);
        if (r == 0)
            event_base_dispatch(f->base);
        if (r == 0 && !f->done)
            r = -EIO;
    }
    curlm_free(cm);
    if (f->base)
        event_base_free(f->base);
    f->base = NULL;
    return r;
}

/* The page, or why there is none ("error: " on stderr). Returns 0 or DOCTOR_FAILED. */
static int cli_check_fetch(const struct cfg_metrics *m, const char *shown, int r,
                           const struct fetch *f)
{
    if (r == -EINVAL) {
        fprintf(stderr, "error: %s is not an http:// or https:// URL\n", shown);
    } else if (r < 0) {
        fprintf(stderr, "error: could not fetch %s: %s\n", shown, strerror(-r));
    } else if (f->fail == CURLM_ERR_TOOBIG) {
        fprintf(stderr, "error: %s: the page is larger than app.metrics.max_bytes (%u)\n", shown,
                m->max_bytes);
    } else if (f->fail != CURLM_FAIL_NONE) {
        fprintf(stderr, "error: %s unreachable: %s\n", shown, f->error);
    } else if (f->status != 200) {
        fprintf(stderr, "error: %s answered HTTP %ld (the scraper needs 200)\n", shown, f->status);
    } else {
        return 0;
    }
    return DOCTOR_FAILED;
}

/* Parses argv into *url and *path. Returns -1 to go on, else the exit status. */
static int cli_args(int argc, char **argv, const char **url, const char **path)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int o;

    optind = 1;
    while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (o == 'c') {
            *path = optarg;
        } else if (o == 'h') {
            cli_usage(stdout);
            return DOCTOR_OK;
        } else {
            cli_usage(stderr);
            return DOCTOR_FAILED;
        }
    }
    if (optind < argc)
        *url = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "rollguard check-metrics: unexpected argument '%s'\n", argv[optind]);
        return DOCTOR_FAILED;
    }
    return -1;
}

static int cli_load(const char *path, struct cfg **ret)
{
    struct cfg_errs errs;
    char text[CFG_MAX_ERRORS * 300];

    memset(&errs, 0, sizeof(errs));
    if ((path ? cfg_load(path, ret, &errs) : cfg_default(ret, &errs)) == 0)
        return 0;
    cfg_errs_render(&errs, path ? path : "(embedded defaults)", text, sizeof(text));
    fputs(text, stderr);
    return DOCTOR_FAILED;
}

/* Fetches url and prints the report. Returns the exit status. */
static int cli_run(const struct cfg *c, const char *url)
{
    struct fetch f;
    struct buf out;
    char shown[512], err[256];
    int r, status;

    memset(&f, 0, sizeof(f));
    redact_url(url, shown, sizeof(shown));
    if (curlm_global_init(err, sizeof(err)) < 0) {
        fprintf(stderr, "error: %s\n", err);
        return DOCTOR_FAILED;
    }
    r = cli_fetch(&c->metrics, url, &f);
    curlm_global_done();
    status = cli_check_fetch(&c->metrics, shown, r, &f);
    if (status == 0) {
        buf_init(&out, CLI_OUT_MAX);
        buf_printf(&out, "source: GET %s: HTTP 200 in %.0f ms\n", shown,
                   (double)f.total_us / 1000.0);
        status = doctor_report(c, f.body ? f.body : "", f.body ? f.len : 0, f.content_type, &out);
        if (out.data)
            fputs(out.data, stdout);
        if (out.failed) {
            fprintf(stderr, "error: the report did not fit in %u bytes\n", CLI_OUT_MAX);
            status = DOCTOR_FAILED;
        }
        buf_done(&out);
    }
    free(f.body);
    free(f.content_type);
    return status;
}

int doctor_cli_main(int argc, char **argv)
{
    const char *url = NULL, *path = NULL;
    struct cfg *c = NULL;
    int status = cli_args(argc, argv, &url, &path);

    if (status >= 0)
        return status;
    if (cli_load(path, &c) != 0)
        return DOCTOR_FAILED;
    if (!url)
        url = c->metrics.url;
    if (!url[0]) {
        fprintf(stderr, "error: no URL: give one, or set app.metrics.url in the config\n");
        cfg_unref(c);
        return DOCTOR_FAILED;
    }
    signal(SIGPIPE, SIG_IGN);
    status = cli_run(c, url);
    cfg_unref(c);
    return status;
}
