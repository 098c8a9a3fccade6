/*
 * fuzz_endpoints — libFuzzer target for what anyone on the pod network
 * can send to `listen` and `admin_listen`: raw request bytes go through
 * httpd_serve (the head parser, httpd's own refusals, pipelining) to
 * endpoints_handle or admin_handle over a realistic state (probes with
 * history, a verdict, scrape counters), and every answer's head is
 * rendered, exactly as sidecar/http/httpd.c does for a connection, minus the
 * socket.
 *
 * Input: one option byte, then the bytes a client sends on one
 * connection:
 *   bits 0-1: probe history (0 nothing run yet, 1 both passing, 2 liveness
 *             failing, 3 readiness failing and shutting down)
 *   bit 2:    a FAIL verdict with evidence (else none yet)
 *   bit 3:    scrape counters (app.metrics.url set)
 *   bit 4:    the admin handler (POST /rollback, no rollback available)
 *   bit 5:    the event loop's heartbeat is stale (/livez fails)
 *   bit 6:    request bodies up to 64 bytes are accepted
 *   bit 7:    responses are capped at 2 KiB (/metrics overflows)
 * What must hold: every answer has a known status and a head that fits,
 * says the body's length and cannot be split by what the client sent; a
 * request consumes what it parsed and HEAD sends no body; the routes
 * answer only with their own statuses; /metrics parses as the Prometheus
 * text format and /status as JSON; each served request is counted once.
 * Any violation aborts.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "probes/probe.h"
#include "probes/promtext.h"
#include "sidecar/admin.h"
#include "sidecar/endpoints.h"
#include "sidecar/http/httpd.h"
#include "sidecar/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz_endpoints: %s:%d: %s\n", __FILE__, __LINE__, #x);                \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MAX_REQUESTS 64 /* per input, to bound the work */

static struct cfg *g_cfg;
static uint64_t g_now;

static uint64_t now_ms(void)
{
    return g_now;
}

static void record(struct probe_state *ps, const struct cfg_probe *c, enum probe_result r,
                   long status, uint64_t latency_us, const char *error)
{
    struct probe_obs o = {.result = r, .http_status = status, .latency_us = latency_us};

    snprintf(o.error, sizeof(o.error), "%s", error);
    probe_state_record(ps, c, &o);
}

struct world {
    struct cfg_probe live_cfg, ready_cfg;
    struct probe_state live, ready;
    struct scraper_stats scrape;
    struct verdict verdict;
    struct state s;
    struct admin_ctx admin;
};

static void world_init(struct world *w, uint8_t opt)
{
    memset(w, 0, sizeof(*w));
    w->live_cfg = g_cfg->liveness;
    w->ready_cfg = g_cfg->readiness;
    probe_state_init(&w->live, true);
    probe_state_init(&w->ready, false);
    w->s.cfg = g_cfg;
    w->s.probe[STATE_LIVENESS] = &w->live;
    w->s.probe_cfg[STATE_LIVENESS] = &w->live_cfg;
    w->s.probe[STATE_READINESS] = &w->ready;
    w->s.probe_cfg[STATE_READINESS] = &w->ready_cfg;
    w->s.now_ms = now_ms;
    g_now = 3600000;
    w->s.started_wall = 1785000000.25;
    w->s.started_ms = 1000;
    w->s.heartbeat_ms = opt & 32 ? g_now - 60000 : g_now - 20;
    w->s.stall_ms = 5000;
    w->s.reloads_ok = 2;
    w->s.reloads_failed = 1;
    w->s.last_reload_ok = true;
    snprintf(w->s.last_reload_error, sizeof(w->s.last_reload_error),
             "/etc/rollguard/rollguard.yaml:3:5: unknown key \"anaylsis\"\\t");
    switch (opt & 3) {
    case 0:
        break;
    case 1:
        record(&w->live, &w->live_cfg, PROBE_RES_PASS, 200, 1800, "");
        record(&w->ready, &w->ready_cfg, PROBE_RES_PASS, 204, 950, "");
        state_probe_observe(&w->s, STATE_LIVENESS, 0.0018);
        state_probe_observe(&w->s, STATE_READINESS, 0.00095);
        break;
    case 2:
        for (int i = 0; i < 4; i++) {
            record(&w->live, &w->live_cfg, i & 1 ? PROBE_RES_UNREACHABLE : PROBE_RES_FAIL,
                   i & 1 ? 0 : 500, 1000000, "connection refused");
            state_probe_observe(&w->s, STATE_LIVENESS, 1.0);
        }
        record(&w->ready, &w->ready_cfg, PROBE_RES_PASS, 200, 700, "");
        break;
    default:
        record(&w->live, &w->live_cfg, PROBE_RES_PASS, 200, 1200, "");
        record(&w->ready, &w->ready_cfg, PROBE_RES_PASS, 200, 800, "");
        record(&w->ready, &w->ready_cfg, PROBE_RES_FAIL, 503, 30000, "status 503 \"draining\"");
        record(&w->ready, &w->ready_cfg, PROBE_RES_ERROR, 0, 0, "could not start: out of memory");
        state_probe_observe(&w->s, STATE_READINESS, 0.03);
        w->s.shutting_down = true;
        break;
    }
    if (opt & 4) {
        struct verdict *v = &w->verdict;

        v->outcome = VERDICT_FAIL;
        v->rule = ANALYSIS_RULE_ERROR_RATE;
        v->breach = true;
        v->breaches_in_row = 2;
        v->breaches_needed = 2;
        v->t_ms = 3590000;
        v->window_ms = 60000;
        snprintf(v->config_hash, sizeof(v->config_hash), "%s", g_cfg->hash);
        snprintf(v->reason, sizeof(v->reason), "error rate 0.12 > 0.05 over 60s (\"5..\")");
        for (int r = 0; r < ANALYSIS_RULE_COUNT; r++) {
            struct verdict_evidence *e = &v->ev[r];

            e->rule = (enum analysis_rule)r;
            e->source = r == ANALYSIS_RULE_HEALTH ? ANALYSIS_SRC_PROBE : ANALYSIS_SRC_SCRAPE;
            e->window_ms = 60000;
            e->requests = 1200;
            e->errors = 144;
            e->probes = 12;
            e->probe_failures = 1;
            e->p0 = 0.03;
            e->p1 = 0.1;
            e->bound = 10;
        }
        v->ev[0].state = VERDICT_RULE_BREACH;
        v->ev[0].value = 0.12;
        v->ev[0].baseline = 0.004;
        v->ev[0].threshold = 0.05;
        v->ev[0].statistic = 23.5;
        v->ev[0].confidence_bound = 0.101;
        v->ev[0].confidence_limit = 0.05;
        v->ev[1].state = VERDICT_RULE_INCONCLUSIVE;
        v->ev[1].value = 0.25;
        v->ev[1].baseline = __builtin_nan("");
        v->ev[1].threshold = __builtin_inf();
        v->ev[1].samples = 30;
        v->ev[1].statistic = __builtin_nan("");
        snprintf(v->ev[1].reason, sizeof(v->ev[1].reason), "no baseline yet");
        v->ev[2].state = VERDICT_RULE_PASS;
        v->ev[2].value = 0;
        v->ev[2].threshold = 3;
        w->s.verdict = v;
        w->s.verdicts[VERDICT_PASS] = 40;
        w->s.verdicts[VERDICT_INCONCLUSIVE] = 6;
        w->s.verdicts[VERDICT_FAIL] = 2;
    }
    if (opt & 8) {
        w->scrape.scrapes[SCRAPER_OK] = 700;
        w->scrape.scrapes[SCRAPER_UNREACHABLE] = 3;
        w->scrape.scrapes[SCRAPER_PARSE_ERROR] = 1;
        w->scrape.resets = 1;
        w->scrape.last = SCRAPER_PARSE_ERROR;
        w->scrape.last_duration_us = 4200;
        w->scrape.last_bytes = 18000;
        w->scrape.primed = true;
        snprintf(w->scrape.last_error, sizeof(w->scrape.last_error),
                 "line 7, column 3: unexpected \"\\x01\"");
        w->s.scrape = &w->scrape;
    }
    w->admin.state = &w->s;
    w->admin.rollback = NULL;
}

static int count_sample(const struct promtext_sample *s, void *arg)
{
    (void)s;
    ++*(unsigned *)arg;
    return 0;
}

static void check_metrics(const char *body, size_t len)
{
    unsigned samples = 0;
    struct promtext_handler h = {.sample = count_sample, .arg = &samples};
    struct promtext_err err;

    CHECK(len > 0 && body[len - 1] == '\n');
    CHECK(promtext_parse(body, len, PROMTEXT_TEXT, &h, &err) == 0);
    CHECK(samples > 10);
}

static void check_status(const char *body, size_t len)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, 0, &jerr);

    CHECK(doc && json_is_object(doc));
    CHECK(json_is_boolean(json_object_get(doc, "healthy")));
    CHECK(json_is_boolean(json_object_get(doc, "ready")));
    CHECK(json_is_object(json_object_get(doc, "probes")));
    json_decref(doc);
}

static bool known_status(int st)
{
    static const int ok[] = {200, 202, 400, 404, 405, 409, 411, 413, 431, 500, 501, 503, 505};

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (ok[i] == st)
            return true;
    return false;
}

/* The head is well formed and says what the answer says. */
static void check_head(const struct httpd_answer *a)
{
    char head[512], want[64];
    int n = httpd_head_render(a, "Thu, 26 Nov 2026 12:00:00 GMT", head, sizeof(head));
    const char *end;

    CHECK(n > 0);
    snprintf(want, sizeof(want), "HTTP/1.1 %d ", a->status);
    CHECK(!strncmp(head, want, strlen(want)));
    snprintf(want, sizeof(want), "\r\nContent-Length: %zu\r\n", a->body_len);
    CHECK(strstr(head, want));
    end = strstr(head, "\r\n\r\n");
    CHECK(end && end + 4 == head + n); /* one blank line, at the end */
    for (const char *p = head; p < head + n; p++) {
        CHECK(*p != '\0');
        if (*p == '\n')
            CHECK(p > head && p[-1] == '\r');
        if (*p == '\r')
            CHECK(p[1] == '\n');
    }
    CHECK((a->allow != NULL) == (a->status == 405));
}

static uint64_t served_total(const struct state *s)
{
    uint64_t t = 0;

    for (int p = 0; p < STATE_PATH_COUNT; p++)
        for (int c = 0; c < STATE_CODES; c++)
            t += s->http_requests[p][c];
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct world w;
    struct httpd_limits lim;
    struct buf scratch;
    const char *in;
    size_t len, off = 0;
    uint8_t opt;
    bool admin;
    uint64_t served = 0;
    char *copy;

    if (!g_cfg) {
        struct cfg_errs errs;

        if (cfg_default(&g_cfg, &errs) < 0)
            abort();
    }
    if (size < 1)
        return 0;
    opt = data[0];
    admin = opt & 16;
    world_init(&w, opt);
    /* The daemon's limits (sidecar/daemon.c limits_from). */
    memset(&lim, 0, sizeof(lim));
    lim.max_connections = g_cfg->server.max_connections;
    lim.timeout_ms = g_cfg->server.timeout_ms;
    lim.max_head_bytes = g_cfg->server.max_header_bytes;
    lim.max_body_bytes = opt & 64 ? 64 : 0;
    lim.backlog = g_cfg->server.backlog;
    lim.max_response_bytes = opt & 128 ? 2048 : 1 << 20;
    buf_init(&scratch, lim.max_response_bytes);
    /* An exact-size copy: the connection's buffer is no larger than what arrived. */
    len = size - 1;
    copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, data + 1, len);
    in = copy;

    for (int i = 0; i < MAX_REQUESTS && off < len; i++) {
        struct httpd_answer a;
        struct httpreq head;
        int r = httpd_serve(&lim, in + off, len - off, admin ? admin_handle : endpoints_handle,
                            admin ? (void *)&w.admin : (void *)&w.s, &scratch, &a);

        if (r == 0) {
            /* Awaiting more: only while the head may still fit. */
            CHECK(httpreq_parse(in + off, len - off, lim.max_head_bytes, &head) >= 0);
            break;
        }
        CHECK(r == 1);
        CHECK(known_status(a.status) && a.content_type && a.body);
        CHECK(a.body_len <= lim.max_response_bytes);
        check_head(&a);
        if (a.rejected) {
            CHECK(a.consumed == 0 && !a.keep_alive && !a.head_only);
            CHECK(a.status == 400 || a.status == 411 || a.status == 413 || a.status == 431 ||
                  a.status == 501 || a.status == 505);
            break;
        }
        CHECK(httpreq_parse(in + off, len - off, lim.max_head_bytes, &head) == 1);
        CHECK(a.consumed >= head.head_len && a.consumed <= len - off);
        CHECK(a.head_only == (head.method == HTTPREQ_HEAD));
        CHECK(a.keep_alive == head.keep_alive);
        served++;
        if (admin && head.path_len == 9 && !memcmp(head.path, "/rollback", 9)) {
            CHECK(a.status == 405 || a.status == 400 || a.status == 503);
            CHECK((a.status == 405) == (head.method != HTTPREQ_POST));
            served--; /* not one of the counted paths */
        } else if (a.status == 500) {
            CHECK(scratch.len == strlen("response too large\n")); /* only on overflow */
        } else {
            bool get = head.method == HTTPREQ_GET || head.method == HTTPREQ_HEAD;
            bool metrics = head.path_len == 8 && !memcmp(head.path, "/metrics", 8);
            bool status = head.path_len == 7 && !memcmp(head.path, "/status", 7);

            CHECK(a.status == 200 || a.status == 503 || a.status == 404 || a.status == 405);
            if (a.status == 405)
                CHECK(!get);
            if (metrics && get) {
                CHECK(a.status == 200);
                check_metrics(a.body, a.body_len);
            }
            if (status && get) {
                CHECK(a.status == 200);
                check_status(a.body, a.body_len);
            }
        }
        CHECK(served_total(&w.s) == served);
        off += a.consumed;
        if (!a.keep_alive)
            break; /* the server closes after this answer */
    }
    buf_done(&scratch);
    free(copy);
    return 0;
}
