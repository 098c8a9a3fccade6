/*
 * endpoints — routes a request to a renderer of struct state and fills
 * the reply. Reads state only (counting requests aside); never blocks,
 * never talks to the app or the API server: /health and /ready answer
 * from memory whatever the app or Kubernetes are doing.
 */
#include "sidecar/endpoints.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <stdio.h>

#include "sidecar/analysis/control.h"
#include "sidecar/base/jsonw.h"
#include "sidecar/base/promw.h"
#include "sidecar/base/redact.h"
#include "sidecar/peers.h"
#include "sidecar/rollback/rollback.h"

#ifndef ROLLGUARD_VERSION
#define ROLLGUARD_VERSION "0.0.0"
#endif
#ifndef ROLLGUARD_REVISION
#define ROLLGUARD_REVISION "unknown"
#endif

static const char *const path_names[STATE_PATH_COUNT] = {
    "/health", "/ready", "/livez", "/metrics", "/status", "/summary", "other",
};

static enum state_path route(const char *path, size_t len)
{
    for (int i = 0; i < STATE_PATH_OTHER; i++)
        if (strlen(path_names[i]) == len && !memcmp(path, path_names[i], len))
            return (enum state_path)i;
    return STATE_PATH_OTHER;
}

static void count(struct state *s, enum state_path p, int status)
{
    int i = 0;

    while (i < STATE_CODES - 1 && state_codes[i] != status)
        i++;
    s->http_requests[p][i]++;
}

static int endpoints_render_summary(const struct state *s, struct buf *b);

static void reply_text(struct httpd_resp *resp, int status, const char *text)
{
    resp->status = status;
    resp->content_type = ENDPOINTS_TEXT_TYPE;
    buf_puts(resp->body, text);
}

void endpoints_handle(const struct httpd_req *req, struct httpd_resp *resp, void *arg)
{
    struct state *s = arg;
    enum state_path p = route(req->head->path, req->head->path_len);
    const char *why;

    if (p == STATE_PATH_OTHER) {
        reply_text(resp, 404, "not found\n");
    } else if (req->head->method != HTTPREQ_GET && req->head->method != HTTPREQ_HEAD) {
        resp->allow = "GET, HEAD";
        reply_text(resp, 405, "method not allowed\n");
    } else {
        switch (p) {
        case STATE_PATH_HEALTH:
            if (state_healthy(s))
                reply_text(resp, 200, "ok\n");
            else
                reply_text(resp, 503, "unhealthy: app liveness probe failing\n");
            break;
        case STATE_PATH_READY:
            if (state_ready(s, &why)) {
                reply_text(resp, 200, "ready\n");
            } else {
                resp->status = 503;
                resp->content_type = ENDPOINTS_TEXT_TYPE;
                buf_printf(resp->body, "not ready: %s\n", why);
            }
            break;
        case STATE_PATH_LIVEZ:
            if (s->now_ms() - s->heartbeat_ms <= s->stall_ms)
                reply_text(resp, 200, "alive\n");
            else
                reply_text(resp, 503, "event loop stalled\n");
            break;
        case STATE_PATH_METRICS:
            resp->status = 200;
            resp->content_type = ENDPOINTS_METRICS_TYPE;
            endpoints_render_metrics(s, resp->body);
            break;
        case STATE_PATH_STATUS:
            resp->status = 200;
            resp->content_type = ENDPOINTS_JSON_TYPE;
            endpoints_render_status(s, resp->body);
            break;
        case STATE_PATH_SUMMARY:
            resp->content_type = ENDPOINTS_JSON_TYPE;
            resp->status = endpoints_render_summary(s, resp->body);
            break;
        default:
            reply_text(resp, 404, "not found\n");
        }
    }
    count(s, p, resp->status);
}

/* --- /summary ----------------------------------------------------------- */

/*
 * This pod's window as a concurrent control (sidecar/analysis/control.h)
 * into b; returns the HTTP status: 200 with the summary, 503 with
 * {"version":1,"error":"warming up"} before the analysis has one.
 */
static int endpoints_render_summary(const struct state *s, struct buf *b)
{
    struct control_summary sum;
    char json[CONTROL_SUMMARY_JSON_MAX];

    if (!s->analysis ||
        analysis_control_summary(s->analysis, (int64_t)s->now_ms(), &sum) == -ENODATA) {
        buf_printf(b, "{\"version\":%d,\"error\":\"warming up\"}\n", CONTROL_SUMMARY_VERSION);
        return 503;
    }
    if (control_summary_render_json(&sum, s->revision, json, sizeof(json)) < 0) {
        buf_printf(b, "{\"version\":%d,\"error\":\"summary not renderable\"}\n",
                   CONTROL_SUMMARY_VERSION);
        return 500;
    }
    buf_puts(b, json);
    buf_puts(b, "\n");
    return 200;
}

/* --- /metrics ----------------------------------------------------------- */

static void render_analysis_metrics(const struct state *s, struct buf *b);

static void probe_metric_u64(struct buf *b, const struct state *s, const char *name,
                             uint64_t (*get)(const struct probe_state *))
{
    for (int i = 0; i < STATE_PROBES; i++) {
        if (!s->probe[i])
            continue;
        buf_printf(b, "%s{probe=\"%s\"} %llu\n", name, state_probe_name(i),
                   (unsigned long long)get(s->probe[i]));
    }
}

static uint64_t get_up(const struct probe_state *ps)
{
    return ps->ok;
}

static uint64_t get_consecutive_failures(const struct probe_state *ps)
{
    return ps->consecutive_fail;
}

static uint64_t get_transitions(const struct probe_state *ps)
{
    return ps->transitions;
}

static uint64_t get_last_status(const struct probe_state *ps)
{
    return ps->last.http_status > 0 ? (uint64_t)ps->last.http_status : 0;
}

int endpoints_render_metrics(const struct state *s, struct buf *b)
{
    static const char *const res_names[] = {"pass", "fail", "unreachable", "error"};
    static const enum probe_result res_ids[] = {PROBE_RES_PASS, PROBE_RES_FAIL,
                                                PROBE_RES_UNREACHABLE, PROBE_RES_ERROR};
    const char *why;
    uint64_t now = s->now_ms();

    promw_family(b, "rollguard_build_info", "gauge", "Version and source revision of this build.");
    buf_printf(b, "rollguard_build_info{version=\"%s\",revision=\"%s\"} 1\n", ROLLGUARD_VERSION,
               ROLLGUARD_REVISION);
    promw_family(b, "rollguard_start_time_seconds", "gauge", "Unix time the daemon started.");
    buf_puts(b, "rollguard_start_time_seconds ");
    promw_value(b, s->started_wall);
    buf_puts(b, "\n");
    promw_family(b, "rollguard_uptime_seconds", "gauge", "Seconds since the daemon started.");
    buf_printf(b, "rollguard_uptime_seconds %.3f\n", (double)(now - s->started_ms) / 1000.0);

    promw_family(b, "rollguard_config_info", "gauge", "Hash of the configuration in force.");
    buf_puts(b, "rollguard_config_info{hash=\"");
    buf_label_escape(b, s->cfg->hash);
    buf_puts(b, "\"} 1\n");
    promw_family(b, "rollguard_config_reloads_total", "counter",
                 "Configuration reloads by result.");
    buf_printf(b, "rollguard_config_reloads_total{result=\"ok\"} %llu\n",
               (unsigned long long)s->reloads_ok);
    buf_printf(b, "rollguard_config_reloads_total{result=\"failed\"} %llu\n",
               (unsigned long long)s->reloads_failed);
    promw_family(b, "rollguard_config_last_reload_success", "gauge",
                 "1 when the last reload attempt succeeded (or none was made).");
    buf_printf(b, "rollguard_config_last_reload_success %d\n", s->last_reload_ok ? 1 : 0);

    promw_family(b, "rollguard_healthy", "gauge", "1 when /health answers 200.");
    buf_printf(b, "rollguard_healthy %d\n", state_healthy(s) ? 1 : 0);
    promw_family(b, "rollguard_ready", "gauge", "1 when /ready answers 200.");
    buf_printf(b, "rollguard_ready %d\n", state_ready(s, &why) ? 1 : 0);
    promw_family(b, "rollguard_shutting_down", "gauge", "1 once SIGTERM or SIGINT arrived.");
    buf_printf(b, "rollguard_shutting_down %d\n", s->shutting_down ? 1 : 0);

    promw_family(b, "rollguard_probe_up", "gauge",
                 "1 when the app probe passes per its thresholds, by probe.");
    probe_metric_u64(b, s, "rollguard_probe_up", get_up);
    promw_family(b, "rollguard_probe_runs_total", "counter",
                 "App probe runs by result: pass, fail (the app answered badly), unreachable (no "
                 "answer), error (could not be attempted).");
    for (int i = 0; i < STATE_PROBES; i++) {
        if (!s->probe[i])
            continue;
        for (unsigned r = 0; r < sizeof(res_ids) / sizeof(res_ids[0]); r++)
            buf_printf(b, "rollguard_probe_runs_total{probe=\"%s\",result=\"%s\"} %llu\n",
                       state_probe_name(i), res_names[r],
                       (unsigned long long)s->probe[i]->runs[res_ids[r]]);
    }
    promw_family(b, "rollguard_probe_consecutive_failures", "gauge",
                 "Failed app probe runs in a row, by probe.");
    probe_metric_u64(b, s, "rollguard_probe_consecutive_failures", get_consecutive_failures);
    promw_family(b, "rollguard_probe_transitions_total", "counter",
                 "Times the probe's pass/fail state flipped, by probe.");
    probe_metric_u64(b, s, "rollguard_probe_transitions_total", get_transitions);
    promw_family(b, "rollguard_probe_last_status_code", "gauge",
                 "HTTP status of the last app probe answer (0 for none or TCP), by probe.");
    probe_metric_u64(b, s, "rollguard_probe_last_status_code", get_last_status);
    promw_family(b, "rollguard_probe_duration_seconds", "histogram",
                 "App probe duration, by probe.");
    for (int i = 0; i < STATE_PROBES; i++) {
        const struct state_probe_hist *h = &s->probe_hist[i];
        uint64_t cum = 0;

        if (!s->probe[i])
            continue;
        for (int k = 0; k < STATE_PROBE_BUCKETS; k++) {
            cum += h->bucket[k];
            buf_printf(b, "rollguard_probe_duration_seconds_bucket{probe=\"%s\",le=\"%g\"} %llu\n",
                       state_probe_name(i), state_probe_bounds[k], (unsigned long long)cum);
        }
        cum += h->bucket[STATE_PROBE_BUCKETS];
        buf_printf(b, "rollguard_probe_duration_seconds_bucket{probe=\"%s\",le=\"+Inf\"} %llu\n",
                   state_probe_name(i), (unsigned long long)cum);
        buf_printf(b, "rollguard_probe_duration_seconds_sum{probe=\"%s\"} ", state_probe_name(i));
        promw_value(b, h->sum);
        buf_printf(b, "\nrollguard_probe_duration_seconds_count{probe=\"%s\"} %llu\n",
                   state_probe_name(i), (unsigned long long)h->count);
    }

    promw_family(b, "rollguard_http_requests_total", "counter",
                 "Requests answered by rollguard's endpoints, by path and status code.");
    for (int p = 0; p < STATE_PATH_COUNT; p++)
        for (int c = 0; c < STATE_CODES; c++) {
            if (!s->http_requests[p][c])
                continue;
            if (state_codes[c])
                buf_printf(b, "rollguard_http_requests_total{path=\"%s\",code=\"%d\"} %llu\n",
                           path_names[p], state_codes[c],
                           (unsigned long long)s->http_requests[p][c]);
            else
                buf_printf(b, "rollguard_http_requests_total{path=\"%s\",code=\"other\"} %llu\n",
                           path_names[p], (unsigned long long)s->http_requests[p][c]);
        }
    render_analysis_metrics(s, b);
    if (s->httpd) {
        const struct httpd_stats *hs = httpd_stats_get(s->httpd);

        promw_family(b, "rollguard_http_connections", "gauge", "Open connections on `listen`.");
        buf_printf(b, "rollguard_http_connections %llu\n", (unsigned long long)hs->active);
        promw_family(b, "rollguard_http_connections_accepted_total", "counter",
                     "Connections accepted on `listen`.");
        buf_printf(b, "rollguard_http_connections_accepted_total %llu\n",
                   (unsigned long long)hs->accepted);
        promw_family(b, "rollguard_http_connections_closed_total", "counter",
                     "Connections closed by rollguard before the client did, by reason: evicted "
                     "(at server.max_connections), timeout (server.timeout).");
        buf_printf(b, "rollguard_http_connections_closed_total{reason=\"evicted\"} %llu\n",
                   (unsigned long long)hs->evicted);
        buf_printf(b, "rollguard_http_connections_closed_total{reason=\"timeout\"} %llu\n",
                   (unsigned long long)hs->timed_out);
        promw_family(b, "rollguard_http_rejected_total", "counter",
                     "Requests refused as malformed or over a limit.");
        buf_printf(b, "rollguard_http_rejected_total %llu\n", (unsigned long long)hs->rejected);
    }
    if (s->rollback)
        rollback_render_metrics(s->rollback, b);
    if (s->peers)
        peers_render_metrics(s->peers, b);
    return b->failed ? -E2BIG : 0;
}

/* --- analysis on /metrics --------------------------------------------------- */

/* name{rule="error_rate"} a, name{rule="latency"} b */
static void family_lines_u(struct buf *b, const char *name, uint64_t err, uint64_t lat)
{
    buf_printf(b, "%s{rule=\"error_rate\"} %llu\n%s{rule=\"latency\"} %llu\n", name,
               (unsigned long long)err, name, (unsigned long long)lat);
}

static void render_analysis_metrics(const struct state *s, struct buf *b)
{
    static const char *const outcomes[] = {"inconclusive", "pass", "fail"};
    static const enum verdict_outcome outcome_ids[] = {VERDICT_INCONCLUSIVE, VERDICT_PASS,
                                                       VERDICT_FAIL};
    static const enum verdict_rule_state rule_states[] = {
        VERDICT_RULE_OFF, VERDICT_RULE_INCONCLUSIVE, VERDICT_RULE_PASS, VERDICT_RULE_BREACH};
    const struct verdict *v = s->verdict;
    char labels[96];

    if (s->scrape) {
        promw_family(b, "rollguard_scrapes_total", "counter",
                     "Scrapes of the app's metrics page by result.");
        for (int r = 0; r < SCRAPER_RESULT_COUNT; r++)
            buf_printf(b, "rollguard_scrapes_total{result=\"%s\"} %llu\n", scraper_result_name(r),
                       (unsigned long long)s->scrape->scrapes[r]);
        promw_family(b, "rollguard_scrape_duration_seconds", "gauge",
                     "Duration of the last scrape of the app's metrics page.");
        promw_gauge(b, "rollguard_scrape_duration_seconds", NULL,
                    (double)s->scrape->last_duration_us / 1e6);
        promw_family(b, "rollguard_app_restarts_total", "counter",
                     "Counter resets seen on the app's metrics page (app restarts).");
        buf_printf(b, "rollguard_app_restarts_total %llu\n", (unsigned long long)s->scrape->resets);
        promw_family(b, "rollguard_metrics_unreadable", "gauge",
                     "1 while the app's page cannot feed this rule (label or family not on it).");
        family_lines_u(b, "rollguard_metrics_unreadable", s->metrics_unreadable[0],
                       s->metrics_unreadable[1]);
        promw_family(b, "rollguard_metrics_problems_total", "counter",
                     "Times the app's page stopped feeding this rule, or for another reason.");
        family_lines_u(b, "rollguard_metrics_problems_total", s->metrics_problems[0],
                       s->metrics_problems[1]);
    }

    promw_family(b, "rollguard_verdicts_total", "counter", "Analysis verdicts by outcome.");
    for (int i = 0; i < 3; i++)
        buf_printf(b, "rollguard_verdicts_total{outcome=\"%s\"} %llu\n", outcomes[i],
                   (unsigned long long)s->verdicts[outcome_ids[i]]);
    if (!v)
        return;
    promw_family(b, "rollguard_verdict", "gauge", "1 for the outcome of the last verdict.");
    for (int i = 0; i < 3; i++)
        buf_printf(b, "rollguard_verdict{outcome=\"%s\"} %d\n", outcomes[i],
                   v->outcome == outcome_ids[i]);
    promw_family(b, "rollguard_verdict_breaches_in_row", "gauge",
                 "Verdicts in a row with a breach; FAIL at analysis.consecutive_breaches.");
    buf_printf(b, "rollguard_verdict_breaches_in_row %u\n", v->breaches_in_row);
    promw_family(b, "rollguard_rule_state", "gauge",
                 "1 for each rule's state at the last verdict.");
    for (int r = 0; r < ANALYSIS_RULE_COUNT; r++)
        for (unsigned k = 0; k < sizeof(rule_states) / sizeof(rule_states[0]); k++)
            buf_printf(b, "rollguard_rule_state{rule=\"%s\",state=\"%s\"} %d\n",
                       analysis_rule_name(r), verdict_rule_state_name(rule_states[k]),
                       v->ev[r].state == rule_states[k]);

    {
        const struct verdict_evidence *e = &v->ev[ANALYSIS_RULE_ERROR_RATE];
        const struct verdict_evidence *l = &v->ev[ANALYSIS_RULE_LATENCY];
        const struct verdict_evidence *h = &v->ev[ANALYSIS_RULE_HEALTH];
        promw_family(b, "rollguard_error_rate", "gauge",
                     "Error rate over the analysis window, by the traffic it came from.");
        snprintf(labels, sizeof(labels), "source=\"%s\"", analysis_source_name(e->source));
        promw_gauge(b, "rollguard_error_rate", labels, e->value);
        promw_family(b, "rollguard_error_rate_threshold", "gauge", "analysis.error_rate.max.");
        promw_gauge(b, "rollguard_error_rate_threshold", NULL, e->threshold);
        promw_family(b, "rollguard_baseline_error_rate", "gauge",
                     "Error rate of the baseline in use.");
        promw_gauge(b, "rollguard_baseline_error_rate", NULL, e->baseline);
        promw_family(b, "rollguard_window_requests", "gauge",
                     "Requests in the analysis window, by the traffic they came from.");
        buf_printf(b, "rollguard_window_requests{source=\"scrape\"} %llu\n",
                   (unsigned long long)e->requests);
        buf_printf(b, "rollguard_window_requests{source=\"probe\"} %llu\n",
                   (unsigned long long)e->probes);
        promw_family(b, "rollguard_window_errors", "gauge",
                     "Errors in the analysis window, by the traffic they came from.");
        buf_printf(b, "rollguard_window_errors{source=\"scrape\"} %llu\n",
                   (unsigned long long)e->errors);
        buf_printf(b, "rollguard_window_errors{source=\"probe\"} %llu\n",
                   (unsigned long long)e->probe_failures);
        promw_family(b, "rollguard_latency_quantile", "gauge",
                     "analysis.latency.quantile: the quantile the latency gauges are at.");
        promw_gauge(b, "rollguard_latency_quantile", NULL, s->cfg->analysis.latency_quantile);
        promw_family(b, "rollguard_latency_seconds", "gauge",
                     "Latency at analysis.latency.quantile over the analysis window.");
        promw_gauge(b, "rollguard_latency_seconds", NULL, l->value);
        promw_family(b, "rollguard_baseline_latency_seconds", "gauge",
                     "Baseline latency at analysis.latency.quantile.");
        promw_gauge(b, "rollguard_baseline_latency_seconds", NULL, l->baseline);
        promw_family(
            b, "rollguard_latency_threshold_seconds", "gauge",
            "Latency above which a request counts as slow: (1 + max_increase) x baseline.");
        promw_gauge(b, "rollguard_latency_threshold_seconds", NULL, l->threshold);
        promw_family(b, "rollguard_rule_statistic", "gauge",
                     "The sequential test's statistic (CUSUM) per rule; it breaches at its bound.");
        for (int r = 0; r < 2; r++) {
            snprintf(labels, sizeof(labels), "rule=\"%s\"", analysis_rule_name(r));
            promw_gauge(b, "rollguard_rule_statistic", labels, v->ev[r].statistic);
        }
        promw_family(b, "rollguard_liveness_consecutive_failures", "gauge",
                     "Liveness failures in a row as the health rule counts them.");
        promw_gauge(b, "rollguard_liveness_consecutive_failures", NULL, h->value);
    }
}

/* --- /status ------------------------------------------------------------ */

static void json_str(struct buf *b, const char *key, const char *v)
{
    buf_printf(b, "\"%s\":\"", key);
    buf_json_escape(b, v);
    buf_puts(b, "\"");
}

static void json_num(struct buf *b, const char *key, double v)
{
    char num[JSONW_NUM_MAX];

    jsonw_num_format(num, v);
    buf_printf(b, "\"%s\":%s", key, num);
}

/* What the last good page was read as (scrape.h struct scrape_reading). */
static void status_reading(struct buf *b, const struct scrape_reading *rd, const char *match)
{
    char line[600];

    scrape_reading_describe(rd, match, line, sizeof(line));
    buf_puts(b, "{");
    json_str(b, "summary", line);
    buf_puts(b, ",");
    json_str(b, "requests", rd->requests);
    buf_puts(b, ",");
    json_str(b, "requests_from", scrape_req_from_name(rd->req_from));
    buf_printf(b, ",\"series\":%u,", rd->req_series);
    json_str(b, "error_label", rd->error_label);
    buf_puts(b, ",");
    json_str(b, "error_match", match);
    buf_puts(b, ",");
    json_str(b, "latency", rd->latency);
    buf_puts(b, ",");
    json_str(b, "latency_kind", scrape_lat_kind_name(rd->lat_kind));
    buf_puts(b, ",");
    json_num(b, "unit_seconds", rd->unit_scale);
    buf_puts(b, ",");
    json_str(b, "unit_from", scrape_unit_from_name(rd->unit_from));
    buf_puts(b, ",\"problems\":{");
    json_str(b, "error_rate", rd->err_problem);
    buf_puts(b, ",");
    json_str(b, "latency", rd->lat_problem);
    buf_puts(b, "}}");
}

static void status_probe(struct buf *b, const struct probe_state *ps, const struct cfg_probe *c)
{
    char target[512];

    buf_puts(b, "{\"configured\":true,");
    json_str(b, "kind", c->kind == CFG_PROBE_TCP ? "tcp" : "http");
    buf_puts(b, ",");
    json_str(b, "target",
             c->kind == CFG_PROBE_TCP ? c->address : redact_url(c->url, target, sizeof(target)));
    buf_printf(b,
               ",\"ok\":%s,\"has_run\":%s,\"consecutive_failures\":%u,"
               "\"consecutive_successes\":%u,\"transitions\":%llu,",
               ps->ok ? "true" : "false", ps->has_run ? "true" : "false", ps->consecutive_fail,
               ps->consecutive_ok, (unsigned long long)ps->transitions);
    buf_printf(b, "\"runs\":{\"pass\":%llu,\"fail\":%llu,\"unreachable\":%llu,\"error\":%llu},",
               (unsigned long long)ps->runs[PROBE_RES_PASS],
               (unsigned long long)ps->runs[PROBE_RES_FAIL],
               (unsigned long long)ps->runs[PROBE_RES_UNREACHABLE],
               (unsigned long long)ps->runs[PROBE_RES_ERROR]);
    buf_puts(b, "\"last\":{");
    json_str(b, "result", probe_result_name(ps->last.result));
    buf_printf(b, ",\"status\":%ld,", ps->last.http_status);
    json_num(b, "latency_seconds", (double)ps->last.latency_us / 1e6);
    buf_puts(b, ",");
    json_str(b, "error", ps->last.error);
    buf_puts(b, "}}");
}

int endpoints_render_status(const struct state *s, struct buf *b)
{
    const char *why;
    bool ready = state_ready(s, &why);

    buf_puts(b, "{");
    json_str(b, "version", ROLLGUARD_VERSION);
    buf_puts(b, ",");
    json_str(b, "revision", ROLLGUARD_REVISION);
    buf_puts(b, ",");
    json_num(b, "uptime_seconds", (double)(s->now_ms() - s->started_ms) / 1000.0);
    buf_printf(b, ",\"healthy\":%s,\"ready\":%s,", state_healthy(s) ? "true" : "false",
               ready ? "true" : "false");
    json_str(b, "not_ready_reason", why);
    buf_printf(b, ",\"shutting_down\":%s,\"config\":{", s->shutting_down ? "true" : "false");
    json_str(b, "hash", s->cfg->hash);
    buf_puts(b, ",");
    json_str(b, "source", s->cfg->source);
    buf_printf(b, ",\"reloads_ok\":%llu,\"reloads_failed\":%llu,\"last_reload_ok\":%s,",
               (unsigned long long)s->reloads_ok, (unsigned long long)s->reloads_failed,
               s->last_reload_ok ? "true" : "false");
    json_str(b, "last_reload_error", s->last_reload_error);
    buf_puts(b, ",");
    json_str(b, "rollback_mode", cfg_rollback_mode_name(s->cfg->rollback.mode));
    buf_puts(b, "},\"analysis\":");
    if (s->verdict) {
        char vj[VERDICT_JSON_MAX];

        if (verdict_render_json(s->verdict, vj, sizeof(vj)) >= 0)
            buf_puts(b, vj);
        else
            buf_puts(b, "null");
    } else {
        buf_puts(b, "null");
    }
    buf_puts(b, ",\"scrape\":");
    if (s->scrape) {
        buf_printf(b,
                   "{\"last\":\"%s\",\"primed\":%s,\"last_duration_seconds\":%.6f,"
                   "\"last_bytes\":%llu,\"app_restarts\":%llu,",
                   scraper_result_name(s->scrape->last), s->scrape->primed ? "true" : "false",
                   (double)s->scrape->last_duration_us / 1e6,
                   (unsigned long long)s->scrape->last_bytes,
                   (unsigned long long)s->scrape->resets);
        json_str(b, "last_error", s->scrape->last_error);
        buf_puts(b, ",\"reading\":");
        status_reading(b, &s->scrape->reading, s->cfg->metrics.error_match);
        buf_puts(b, "}");
    } else {
        buf_puts(b, "null");
    }
    buf_puts(b, ",\"probes\":{");
    for (int i = 0; i < STATE_PROBES; i++) {
        buf_printf(b, "%s\"%s\":", i ? "," : "", state_probe_name(i));
        if (s->probe[i])
            status_probe(b, s->probe[i], s->probe_cfg[i]);
        else
            buf_puts(b, "{\"configured\":false}");
    }
    buf_puts(b, "}");
    if (s->rollback) {
        buf_puts(b, ",\"rollback\":");
        rollback_render_status(s->rollback, b);
    }
    if (s->peers) {
        buf_puts(b, ",");
        peers_render_status(s->peers, b);
    }
    buf_puts(b, "}\n");
    return b->failed ? -E2BIG : 0;
}
