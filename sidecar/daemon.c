/*
 * daemon — the composition of the running sidecar on one event_base:
 * listeners (httpd + endpoints), app probes, the loop heartbeat, signals,
 * config reload (SIGHUP, inotify on the config's folder so the ConfigMap
 * `..data` symlink swap is seen, and a slow poll as a safety net) and the
 * drain on shutdown. Owns struct state and the current config snapshot.
 * Logs state changes; never blocks (the only file I/O is reading the
 * small config file).
 */
#include "sidecar/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "probes/curlm.h"
#include "probes/probe.h"
#include "probes/scraper.h"
#include "sidecar/analysis/analysis.h"
#include "sidecar/admin.h"
#include "sidecar/endpoints.h"
#include "sidecar/http/httpd.h"
#include "sidecar/base/log.h"
#include "sidecar/base/redact.h"
#include "sidecar/rollback/rollback.h"
#include "sidecar/state.h"

#define DAEMON_HEARTBEAT_MS 1000
#define DAEMON_STALL_MS 5000
#define DAEMON_RELOAD_DEBOUNCE_MS 100
#define DAEMON_RELOAD_POLL_MS 30000
#define DAEMON_FLUSH_MAX_MS 1000
#define DAEMON_FLUSH_STEP_MS 20

struct daemon;

struct daemon_probe_ctx {
    struct daemon *d;
    enum state_probe_id id;
};

struct daemon {
    struct event_base *base;
    struct cfg *cfg;
    char *cfg_path;
    struct curlm *curlm;
    struct httpd *httpd;
    struct httpd *admin;
    struct admin_ctx admin_ctx;
    struct rollback *rollback;
    struct state state;
    struct probe *probes[STATE_PROBES];
    struct scraper *scraper;
    struct analysis analysis;
    bool analysis_ok;       /* analysis initialised */
    struct verdict verdict; /* the last one, shown on /status and /metrics */
    uint64_t stable_gen;    /* of the stable baseline last handed to the analysis */
    struct event *tick;
    uint64_t next_tick_ms; /* the interval boundary the next verdict waits for */
    bool rearm_tick;       /* a reload changed analysis.interval */
    struct daemon_probe_ctx probe_ctx[STATE_PROBES];
    struct event *sig_term, *sig_int, *sig_hup;
    struct event *heartbeat, *drain, *flush, *debounce, *poll, *inotify_ev;
    int inotify_fd;
    bool scrape_logged; /* scrape_result holds the last logged result */
    enum scraper_result scrape_result;
    char reading_logged[600];                   /* the reading last logged */
    char problem_logged[2][SAMPLE_PROBLEM_MAX]; /* by rule: error_rate, latency */
    uint64_t file_fingerprint; /* FNV-1a of the bytes last tried, 0 when unreadable */
    char file_error[300];      /* why the file was last unreadable */
    uint64_t flush_deadline_ms;
    int exit_code;
};

static uint64_t daemon_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct timeval ms_tv(uint64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

static void arm(struct event *ev, uint64_t ms)
{
    struct timeval tv = ms_tv(ms);
    evtimer_add(ev, &tv);
}

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

static struct httpd_limits limits_from(const struct cfg *c)
{
    struct httpd_limits l = {
        .max_connections = c->server.max_connections,
        .timeout_ms = c->server.timeout_ms,
        .max_head_bytes = c->server.max_header_bytes,
        .max_body_bytes = 0,
        .backlog = c->server.backlog,
        .max_response_bytes = 1 << 20,
    };
    return l;
}

/* --- probes -------------------------------------------------------------- */

static void daemon_on_probe(struct probe *p, const struct probe_obs *obs, bool transitioned,
                            void *arg)
{
    struct daemon_probe_ctx *ctx = arg;
    struct daemon *d = ctx->d;
    const struct probe_state *ps = probe_state_get(p);

    if (obs->result != PROBE_RES_ERROR) {
        state_probe_observe(&d->state, ctx->id, (double)obs->latency_us / 1e6);
        if (d->analysis_ok)
            analysis_observe_probe(
                &d->analysis, (double)obs->latency_us / 1e6, obs->result == PROBE_RES_PASS,
                ctx->id == STATE_LIVENESS ? (int32_t)ps->consecutive_fail : ANALYSIS_NOT_LIVENESS,
                (int64_t)daemon_now_ms());
    }
    if (transitioned) {
        log_event(ps->ok ? LOG_LVL_INFO : LOG_LVL_WARN, "probe_state", LF_S("probe", probe_name(p)),
                  LF_S("state", ps->ok ? "passing" : "failing"),
                  LF_S("result", probe_result_name(obs->result)), LF_I("status", obs->http_status),
                  LF_D("latency_ms", (double)obs->latency_us / 1000.0),
                  LF_U("consecutive_failures", ps->consecutive_fail), LF_S("error", obs->error));
    } else if (obs->result == PROBE_RES_ERROR && ps->runs[PROBE_RES_ERROR] == 1) {
        /* Our own failure to probe: said once, counted on /metrics after that. */
        log_event(LOG_LVL_ERROR, "probe_not_attempted", LF_S("probe", probe_name(p)),
                  LF_S("error", obs->error));
    }
}

static const struct cfg_probe *probe_cfg_of(const struct cfg *c, enum state_probe_id id)
{
    return id == STATE_LIVENESS ? &c->liveness : &c->readiness;
}

/* Create, reconfigure or drop each probe to match c. */
static int daemon_apply_probes(struct daemon *d, const struct cfg *c)
{
    for (int i = 0; i < STATE_PROBES; i++) {
        const struct cfg_probe *pc = probe_cfg_of(c, i);
        struct probe **slot = &d->probes[i];
        int r;

        if (pc->kind == CFG_PROBE_NONE) {
            *slot = probe_free(*slot);
            d->state.probe[i] = NULL;
            d->state.probe_cfg[i] = NULL;
            memset(&d->state.probe_hist[i], 0, sizeof(d->state.probe_hist[i]));
            continue;
        }
        if (*slot) {
            r = probe_apply(*slot, pc);
        } else {
            d->probe_ctx[i].d = d;
            d->probe_ctx[i].id = i;
            r = probe_new(d->base, d->curlm, state_probe_name(i), pc, i == STATE_LIVENESS,
                          daemon_on_probe, &d->probe_ctx[i], slot);
        }
        if (r < 0) {
            log_event(LOG_LVL_ERROR, "probe_setup_failed", LF_S("probe", state_probe_name(i)),
                      LF_S("error", strerror(-r)));
            return r;
        }
        d->state.probe[i] = probe_state_get(*slot);
        d->state.probe_cfg[i] = probe_cfg_get(*slot);
    }
    return 0;
}

/* --- scraping and analysis --------------------------------------------------- */

void daemon_analysis_params(const struct cfg *c, struct analysis_params *p)
{
    memset(p, 0, sizeof(*p));
    p->interval_ms = c->analysis.interval_ms;
    p->window_ms = c->analysis.window_ms;
    p->warmup_ms = c->analysis.warmup_ms;
    p->baseline_window_ms = c->analysis.baseline_window_ms;
    p->error_rate_max = c->analysis.error_rate_max;
    p->error_min_requests = c->analysis.error_min_requests;
    p->latency_quantile = c->analysis.latency_quantile;
    p->latency_max_increase = c->analysis.latency_max_increase;
    p->latency_min_samples = c->analysis.latency_min_samples;
    p->health_failures = c->analysis.health_failures;
    p->consecutive_breaches = c->analysis.consecutive_breaches;
    /* Probe latency only stands in when the app exposes no metrics at all. */
    if (!c->metrics.url[0])
        p->latency_from = ANALYSIS_LAT_PROBE;
    else if (!c->metrics.latency_histogram[0])
        p->latency_from = ANALYSIS_LAT_OFF;
    else
        p->latency_from = ANALYSIS_LAT_SCRAPE;
    snprintf(p->config_hash, sizeof(p->config_hash), "%s", c->hash);
}

static void daemon_take_verdict(struct daemon *d);

/* One rule's reading problem: logged once per change, counted on /metrics. */
static void daemon_note_problem(struct daemon *d, int rule, const char *why)
{
    static const char *const rules[2] = {"error_rate", "latency"};
    char *logged = d->problem_logged[rule];

    d->state.metrics_unreadable[rule] = why[0] != '\0';
    if (!strcmp(logged, why))
        return;
    if (why[0]) {
        d->state.metrics_problems[rule]++;
        log_event(LOG_LVL_WARN, "metrics_unreadable", LF_S("rule", rules[rule]),
                  LF_S("reason", why), LF_S("verdict", "INCONCLUSIVE for this rule"));
    } else {
        log_event(LOG_LVL_INFO, "metrics_readable", LF_S("rule", rules[rule]), LF_S("was", logged));
    }
    snprintf(logged, sizeof(d->problem_logged[rule]), "%s", why);
}

/* Scrape results, what the page is read as, and what it cannot tell: said once per change. */
static void daemon_note_scrape(struct daemon *d, const struct sample_delta *delta)
{
    const struct scraper_stats *st = d->scraper ? scraper_stats_get(d->scraper) : NULL;
    char reading[sizeof(d->reading_logged)];

    if (!st)
        return;
    if (!d->scrape_logged || st->last != d->scrape_result) {
        bool ok = st->last == SCRAPER_OK;

        if (d->scrape_logged || !ok)
            log_event(ok ? LOG_LVL_INFO : LOG_LVL_WARN, "scrape_state",
                      LF_S("result", scraper_result_name(st->last)), LF_S("error", st->last_error),
                      LF_S("was", d->scrape_logged ? scraper_result_name(d->scrape_result) : ""));
        d->scrape_logged = true;
        d->scrape_result = st->last;
    }
    if (!delta->valid)
        return;
    scrape_reading_describe(&st->reading, d->cfg->metrics.error_match, reading, sizeof(reading));
    if (strcmp(reading, d->reading_logged)) {
        log_event(LOG_LVL_INFO, "metrics_reading", LF_S("reading", reading));
        snprintf(d->reading_logged, sizeof(d->reading_logged), "%s", reading);
    }
    daemon_note_problem(d, 0, delta->err_problem);
    daemon_note_problem(d, 1, d->cfg->metrics.latency_histogram[0] ? delta->lat_problem : "");
}

static void daemon_on_delta(const struct sample_delta *delta, void *arg)
{
    struct daemon *d = arg;

    daemon_note_scrape(d, delta);
    if (!d->analysis_ok)
        return;
    analysis_observe_delta(&d->analysis, delta, (int64_t)daemon_now_ms());
    if (daemon_now_ms() >= d->next_tick_ms)
        daemon_take_verdict(d);
}

_Static_assert((int)VERDICT_FAIL == (int)ROLLBACK_VERDICT_FAIL &&
                   (int)VERDICT_PASS == (int)ROLLBACK_VERDICT_PASS &&
                   (int)VERDICT_INCONCLUSIVE == (int)ROLLBACK_VERDICT_INCONCLUSIVE,
               "verdict outcomes and rollback verdicts agree");

/*
 * The verdict to the rollback orchestrator (which calls the API only on
 * FAIL), this pod's baseline to it for publication, and the stable
 * revision's baseline it read from the Lease to the analysis.
 */
static void daemon_rollback_tick(struct daemon *d, const struct verdict *v)
{
    char json[BASELINE_JSON_MAX > VERDICT_JSON_MAX ? BASELINE_JSON_MAX : VERDICT_JSON_MAX];
    struct baseline_summary sum;
    const char *stable, *hash = getenv("POD_TEMPLATE_HASH");
    uint64_t gen;

    char sentence[700];

    if (v->outcome == VERDICT_FAIL) {
        if (verdict_render_json(v, json, sizeof(json)) < 0)
            snprintf(json, sizeof(json), "null");
        snprintf(sentence, sizeof(sentence), "rule %s: ", analysis_rule_name(v->rule));
        verdict_render_sentence(v, sentence + strlen(sentence),
                                sizeof(sentence) - strlen(sentence));
    }
    rollback_on_verdict(d->rollback, (enum rollback_verdict)v->outcome,
                        v->outcome == VERDICT_FAIL ? json : NULL,
                        v->outcome == VERDICT_FAIL ? sentence : NULL, (int64_t)daemon_now_ms());
    if (analysis_baseline_summary(&d->analysis, hash ? hash : "", &sum) == 0 &&
        baseline_summary_render_json(&sum, json, sizeof(json)) >= 0)
        rollback_publish_baseline(d->rollback, json);
    stable = rollback_stable_baseline(d->rollback, &gen);
    if (stable && gen != d->stable_gen) {
        d->stable_gen = gen;
        if (baseline_summary_parse_json(stable, strlen(stable), &sum, NULL) == 0)
            analysis_set_stable_baseline(&d->analysis, &sum);
        else
            log_event(LOG_LVL_WARN, "stable_baseline_unreadable",
                      LF_S("reason", "the Lease's baseline does not parse"));
    }
}

/*
 * Verdicts are taken right after the scrape that completes an interval, so
 * a tick judges the freshest data; the timer, armed one scrape interval
 * past the boundary, takes the tick when no scrape arrives (scraping off,
 * or the app's metrics page hanging).
 */
static void daemon_arm_tick(struct daemon *d)
{
    uint64_t now = daemon_now_ms();
    uint64_t grace = d->cfg->metrics.url[0] ? d->cfg->metrics.interval_ms : 0;
    uint64_t at = d->next_tick_ms + grace;

    arm(d->tick, at > now ? at - now : 0);
}

static void daemon_take_verdict(struct daemon *d)
{
    struct verdict v;
    bool changed;
    uint64_t now = daemon_now_ms();

    d->next_tick_ms += d->cfg->analysis.interval_ms;
    if (d->next_tick_ms <= now)
        d->next_tick_ms = now + d->cfg->analysis.interval_ms;
    analysis_tick(&d->analysis, (int64_t)now, &v);
    changed = !d->state.verdict || v.outcome != d->verdict.outcome || v.rule != d->verdict.rule ||
              v.breach != d->verdict.breach;
    d->verdict = v;
    d->state.verdict = &d->verdict;
    d->state.verdicts[v.outcome]++;
    if (changed) {
        char json[VERDICT_JSON_MAX];

        if (verdict_render_json(&v, json, sizeof(json)) < 0)
            snprintf(json, sizeof(json), "null");
        log_event(v.outcome == VERDICT_FAIL ? LOG_LVL_WARN : LOG_LVL_INFO, "verdict",
                  LF_S("outcome", verdict_outcome_name(v.outcome)),
                  LF_S("rule", analysis_rule_name(v.rule)), LF_S("reason", v.reason),
                  LF_RAW("evidence", json));
    }
    daemon_rollback_tick(d, &v);
    daemon_arm_tick(d);
}

static void daemon_on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    daemon_take_verdict(arg);
}

/* Start, reconfigure or drop the scraper to match c. */
static int daemon_apply_scraper(struct daemon *d, const struct cfg *c)
{
    char err[200] = "";
    int r = 0;

    if (!c->metrics.url[0]) {
        d->scraper = scraper_free(d->scraper);
        d->state.scrape = NULL;
        return 0;
    }
    if (d->scraper)
        r = scraper_apply(d->scraper, &c->metrics, err, sizeof(err));
    else
        r = scraper_new(d->base, d->curlm, &c->metrics, daemon_on_delta, d, &d->scraper, err,
                        sizeof(err));
    if (r < 0) {
        log_event(LOG_LVL_ERROR, "scraper_setup_failed",
                  LF_S("error", err[0] ? err : strerror(-r)));
        return r;
    }
    d->state.scrape = scraper_stats_get(d->scraper);
    return 0;
}

static int daemon_apply_analysis(struct daemon *d, const struct cfg *c)
{
    struct analysis_params p;
    int r;

    daemon_analysis_params(c, &p);
    if (!d->analysis_ok) {
        r = analysis_init(&d->analysis, &p, (int64_t)daemon_now_ms());
        if (r < 0)
            return r;
        d->analysis_ok = true;
        d->next_tick_ms = daemon_now_ms() + c->analysis.interval_ms;
        daemon_arm_tick(d);
        return 0;
    }
    r = analysis_set_params(&d->analysis, &p, (int64_t)daemon_now_ms());
    if (r == 0 && c->analysis.interval_ms != d->cfg->analysis.interval_ms) {
        d->next_tick_ms = daemon_now_ms() + c->analysis.interval_ms;
        evtimer_del(d->tick); /* re-armed with the new config once it is in force */
        d->rearm_tick = true;
    }
    return r;
}

/* --- config reload ---------------------------------------------------------- */

/* Reads the config file (capped). Returns 0 with a malloc'd buffer, or -errno. */
static int read_config_file(const char *path, char **ret, size_t *ret_len)
{
    struct stat st;
    char *buf;
    size_t len = 0;
    int fd, r = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        r = -EISDIR;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        r = -EINVAL;
        goto out;
    }
    if (st.st_size > CFG_MAX_FILE_BYTES) {
        r = -EFBIG;
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        r = -ENOMEM;
        goto out;
    }
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *ret = buf;
    *ret_len = len;
out:
    close(fd);
    return r;
}

static void reload_failed(struct daemon *d, const char *msg)
{
    d->state.reloads_failed++;
    d->state.last_reload_ok = false;
    snprintf(d->state.last_reload_error, sizeof(d->state.last_reload_error), "%s", msg);
    log_event(LOG_LVL_ERROR, "config_reload_failed", LF_S("source", d->cfg_path),
              LF_S("error", msg), LF_S("keeping_hash", d->cfg->hash));
}

/*
 * Re-read and apply the config file. forced (SIGHUP) reloads even when the
 * bytes did not change; otherwise unchanged bytes are ignored, so one
 * ConfigMap update counts once however many file events it makes.
 */
static void daemon_reload(struct daemon *d, bool forced, const char *trigger)
{
    struct cfg_errs errs;
    struct cfg *next = NULL;
    char *text = NULL;
    size_t len = 0;
    uint64_t fp;
    int r;

    if (!d->cfg_path || d->state.shutting_down)
        return;
    r = read_config_file(d->cfg_path, &text, &len);
    if (r < 0) {
        char msg[300];

        snprintf(msg, sizeof(msg), "%s: %s", d->cfg_path,
                 r == -EFBIG ? "file larger than 1 MiB" : strerror(-r));
        if (!forced && d->file_fingerprint == 0 && !strcmp(d->file_error, msg))
            return; /* still the same trouble: said already */
        d->file_fingerprint = 0;
        snprintf(d->file_error, sizeof(d->file_error), "%s", msg);
        reload_failed(d, msg);
        return;
    }
    fp = fnv1a(text, len);
    if (!forced && fp == d->file_fingerprint) {
        free(text);
        return;
    }
    d->file_fingerprint = fp;
    d->file_error[0] = '\0';
    if (cfg_text_blank(text, len)) {
        char msg[300];

        /* It would parse to the defaults: a torn write, not a config. */
        free(text);
        snprintf(msg, sizeof(msg), "%s: the file has no settings (empty or only comments)",
                 d->cfg_path);
        reload_failed(d, msg);
        return;
    }

    r = cfg_parse(text, len, d->cfg_path, &next, &errs);
    free(text);
    if (r < 0) {
        char msg[512];

        /* The first problem goes on /status; the log line gets all of them. */
        if (errs.n > 0 && errs.e[0].line > 0)
            snprintf(msg, sizeof(msg), "%s:%u:%u: %s", d->cfg_path, errs.e[0].line,
                     errs.e[0].column, errs.e[0].msg);
        else if (errs.n > 0)
            snprintf(msg, sizeof(msg), "%s: %s", d->cfg_path, errs.e[0].msg);
        else
            snprintf(msg, sizeof(msg), "%s: %s", d->cfg_path, strerror(-r));
        reload_failed(d, msg);
        for (unsigned i = 1; i < errs.n; i++)
            log_event(LOG_LVL_ERROR, "config_error", LF_S("source", d->cfg_path),
                      LF_U("line", errs.e[i].line), LF_U("column", errs.e[i].column),
                      LF_S("error", errs.e[i].msg));
        return;
    }

    if (strcmp(next->listen, d->cfg->listen) || strcmp(next->admin_listen, d->cfg->admin_listen))
        log_event(LOG_LVL_WARN, "config_restart_needed",
                  LF_S("reason", "listen and admin_listen change on restart only"),
                  LF_S("listen", d->cfg->listen), LF_S("admin_listen", d->cfg->admin_listen));
    log_setup((enum log_level)next->log_level, next->log_format == CFG_LOG_JSON);
    if (daemon_apply_probes(d, next) < 0 || daemon_apply_scraper(d, next) < 0 ||
        daemon_apply_analysis(d, next) < 0) {
        /* Back to the snapshot in force; what the new one needed could not be built. */
        daemon_apply_probes(d, d->cfg);
        daemon_apply_scraper(d, d->cfg);
        cfg_unref(next);
        reload_failed(d, "could not set up the probes, scraper or analysis of the new config");
        return;
    }
    {
        struct httpd_limits l = limits_from(next);

        httpd_set_limits(d->httpd, &l);
        if (d->admin)
            httpd_set_limits(d->admin, &l);
    }
    log_event(LOG_LVL_INFO, "config_reloaded", LF_S("source", d->cfg_path),
              LF_S("trigger", trigger), LF_S("old_hash", d->cfg->hash), LF_S("hash", next->hash));
    cfg_unref(d->cfg);
    d->cfg = next;
    if (d->rearm_tick) {
        d->rearm_tick = false;
        daemon_arm_tick(d);
    }
    d->state.cfg = next;
    rollback_apply_cfg(d->rollback, next);
    d->state.reloads_ok++;
    d->state.last_reload_ok = true;
    d->state.last_reload_error[0] = '\0';
}

static void daemon_on_debounce(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    daemon_reload(arg, false, "file-change");
}

static void daemon_on_poll(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;

    (void)fd;
    (void)what;
    daemon_reload(d, false, "poll");
    arm(d->poll, DAEMON_RELOAD_POLL_MS);
}

static void daemon_on_inotify(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;
    char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

    (void)what;
    /* Drain; which file changed does not matter, the bytes decide. */
    while (read(fd, events, sizeof(events)) > 0)
        ;
    arm(d->debounce, DAEMON_RELOAD_DEBOUNCE_MS);
}

static void daemon_watch_config(struct daemon *d)
{
    char *copy = strdup(d->cfg_path);
    const char *dir;

    if (!copy)
        return;
    dir = dirname(copy);
    d->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (d->inotify_fd >= 0 &&
        inotify_add_watch(d->inotify_fd, dir,
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                              IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF) >= 0) {
        d->inotify_ev =
            event_new(d->base, d->inotify_fd, EV_READ | EV_PERSIST, daemon_on_inotify, d);
        if (d->inotify_ev)
            event_add(d->inotify_ev, NULL);
    } else {
        log_event(LOG_LVL_WARN, "config_watch_unavailable", LF_S("dir", dir),
                  LF_S("error", strerror(errno)), LF_U("poll_ms", DAEMON_RELOAD_POLL_MS));
    }
    free(copy);
}

static void daemon_on_hup(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    daemon_reload(arg, true, "SIGHUP");
}

/* --- shutdown ---------------------------------------------------------------- */

static void daemon_on_flush(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;

    (void)fd;
    (void)what;
    if ((d->httpd && httpd_pending_writes(d->httpd)) && daemon_now_ms() < d->flush_deadline_ms) {
        arm(d->flush, DAEMON_FLUSH_STEP_MS);
        return;
    }
    event_base_loopexit(d->base, NULL);
}

static void daemon_on_drain(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;

    (void)fd;
    (void)what;
    httpd_stop_accepting(d->httpd);
    httpd_stop_accepting(d->admin);
    d->flush_deadline_ms = daemon_now_ms() + DAEMON_FLUSH_MAX_MS;
    log_event(LOG_LVL_INFO, "shutdown_drained",
              LF_U("pending_replies", d->httpd ? httpd_pending_writes(d->httpd) : 0));
    daemon_on_flush(-1, 0, d);
}

static void daemon_on_term(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *d = arg;

    (void)what;
    if (d->state.shutting_down) {
        log_event(LOG_LVL_WARN, "shutdown_now", LF_S("signal", strsignal((int)sig)));
        event_base_loopbreak(d->base);
        return;
    }
    d->state.shutting_down = true;
    log_event(LOG_LVL_INFO, "shutdown_started", LF_S("signal", strsignal((int)sig)),
              LF_U("drain_ms", d->cfg->server.drain_ms));
    for (int i = 0; i < STATE_PROBES; i++)
        if (d->probes[i])
            probe_stop(d->probes[i]);
    if (d->scraper)
        scraper_stop(d->scraper);
    evtimer_del(d->tick);
    evtimer_del(d->debounce);
    evtimer_del(d->poll);
    arm(d->drain, d->cfg->server.drain_ms);
}

static void daemon_on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;

    (void)fd;
    (void)what;
    d->state.heartbeat_ms = daemon_now_ms();
}

/* --- libevent's own messages ------------------------------------------------ */

static void daemon_libevent_log(int severity, const char *msg)
{
    enum log_level l = severity >= EVENT_LOG_ERR    ? LOG_LVL_ERROR
                       : severity >= EVENT_LOG_WARN ? LOG_LVL_WARN
                                                    : LOG_LVL_DEBUG;
    log_event(l, "libevent", LF_S("message", msg));
}

static void daemon_libevent_fatal(int err)
{
    log_event(LOG_LVL_ERROR, "libevent_fatal", LF_I("code", err));
}

/* --- life cycle --------------------------------------------------------------- */

static int daemon_listen(struct daemon *d, const char *addr, const char *what, struct httpd **ret)
{
    struct httpd_limits l = limits_from(d->cfg);
    bool admin = ret == &d->admin;
    int r = httpd_new(d->base, addr, &l, admin ? admin_handle : endpoints_handle,
                      admin ? (void *)&d->admin_ctx : (void *)&d->state, ret);

    if (r < 0)
        log_event(LOG_LVL_ERROR, "listen_failed", LF_S("listener", what), LF_S("address", addr),
                  LF_S("error", strerror(-r)));
    return r;
}

int daemon_new(struct cfg *cfg, const char *cfg_path, struct daemon **ret)
{
    struct daemon *d;
    int r = -ENOMEM;

    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->inotify_fd = -1;
    d->cfg = cfg_ref(cfg);
    event_set_log_callback(daemon_libevent_log);
    event_set_fatal_callback(daemon_libevent_fatal);
    if (cfg_path && !(d->cfg_path = strdup(cfg_path)))
        goto fail;
    d->base = event_base_new();
    if (!d->base)
        goto fail;
    d->curlm = curlm_new(d->base);
    if (!d->curlm)
        goto fail;

    d->state.cfg = d->cfg;
    d->state.now_ms = daemon_now_ms;
    d->state.started_ms = daemon_now_ms();
    d->state.heartbeat_ms = d->state.started_ms;
    d->state.stall_ms = DAEMON_STALL_MS;
    d->state.last_reload_ok = true;
    {
        struct timespec wall;
        clock_gettime(CLOCK_REALTIME, &wall);
        d->state.started_wall = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
    }

    d->sig_term = evsignal_new(d->base, SIGTERM, daemon_on_term, d);
    d->sig_int = evsignal_new(d->base, SIGINT, daemon_on_term, d);
    d->sig_hup = evsignal_new(d->base, SIGHUP, daemon_on_hup, d);
    d->heartbeat = event_new(d->base, -1, EV_PERSIST, daemon_on_heartbeat, d);
    d->drain = evtimer_new(d->base, daemon_on_drain, d);
    d->flush = evtimer_new(d->base, daemon_on_flush, d);
    d->debounce = evtimer_new(d->base, daemon_on_debounce, d);
    d->poll = evtimer_new(d->base, daemon_on_poll, d);
    d->tick = evtimer_new(d->base, daemon_on_tick, d);
    if (!d->tick || !d->sig_term || !d->sig_int || !d->sig_hup || !d->heartbeat || !d->drain ||
        !d->flush || !d->debounce || !d->poll)
        goto fail;
    if (evsignal_add(d->sig_term, NULL) < 0 || evsignal_add(d->sig_int, NULL) < 0 ||
        evsignal_add(d->sig_hup, NULL) < 0)
        goto fail;
    {
        struct timeval tv = ms_tv(DAEMON_HEARTBEAT_MS);
        event_add(d->heartbeat, &tv);
    }

    r = rollback_new(d->base, d->curlm, d->cfg, &d->rollback);
    if (r < 0)
        goto fail;
    d->state.rollback = d->rollback;
    d->admin_ctx.state = &d->state;
    d->admin_ctx.rollback = d->rollback;
    d->admin_ctx.scraper = &d->scraper;

    r = daemon_listen(d, d->cfg->listen, "listen", &d->httpd);
    if (r < 0)
        goto fail;
    d->state.httpd = d->httpd;
    if (d->cfg->admin_listen[0]) {
        r = daemon_listen(d, d->cfg->admin_listen, "admin_listen", &d->admin);
        if (r < 0)
            goto fail;
    }
    r = daemon_apply_analysis(d, d->cfg);
    if (r < 0) {
        log_event(LOG_LVL_ERROR, "analysis_setup_failed", LF_S("error", strerror(-r)));
        goto fail;
    }
    r = daemon_apply_probes(d, d->cfg);
    if (r < 0)
        goto fail;
    r = daemon_apply_scraper(d, d->cfg);
    if (r < 0)
        goto fail;
    if (d->cfg_path) {
        char *text = NULL;
        size_t len = 0;

        if (read_config_file(d->cfg_path, &text, &len) == 0)
            d->file_fingerprint = fnv1a(text, len);
        free(text);
        daemon_watch_config(d);
        arm(d->poll, DAEMON_RELOAD_POLL_MS);
    }
    *ret = d;
    return 0;
fail:
    daemon_free(d);
    return r < 0 ? r : -ENOMEM;
}

int daemon_run(struct daemon *d)
{
    char hash[17];
    char live[512] = "", ready[512] = "";
    const struct cfg *c = d->cfg;

    if (c->liveness.kind == CFG_PROBE_HTTP)
        redact_url(c->liveness.url, live, sizeof(live));
    else if (c->liveness.kind == CFG_PROBE_TCP)
        snprintf(live, sizeof(live), "tcp://%s", c->liveness.address);
    if (c->readiness.kind == CFG_PROBE_HTTP)
        redact_url(c->readiness.url, ready, sizeof(ready));
    else if (c->readiness.kind == CFG_PROBE_TCP)
        snprintf(ready, sizeof(ready), "tcp://%s", c->readiness.address);
    snprintf(hash, sizeof(hash), "%s", c->hash);
    log_event(LOG_LVL_INFO, "started", LF_S("version", ROLLGUARD_VERSION),
              LF_S("listen", c->listen), LF_I("port", httpd_port(d->httpd)),
              LF_S("admin_listen", c->admin_listen), LF_S("config", c->source), LF_S("hash", hash),
              LF_S("liveness", live), LF_S("readiness", ready),
              LF_S("rollback_mode", cfg_rollback_mode_name(c->rollback.mode)));
    event_base_dispatch(d->base);
    log_event(LOG_LVL_INFO, "stopped", LF_I("exit_code", d->exit_code));
    return d->exit_code;
}

struct daemon *daemon_free(struct daemon *d)
{
    if (!d)
        return NULL;
    for (int i = 0; i < STATE_PROBES; i++)
        d->probes[i] = probe_free(d->probes[i]);
    d->scraper = scraper_free(d->scraper);
    if (d->analysis_ok)
        analysis_done(&d->analysis);
    d->admin = httpd_free(d->admin);
    d->httpd = httpd_free(d->httpd);
    d->rollback = rollback_free(d->rollback);
    d->curlm = curlm_free(d->curlm);
    struct event **evs[] = {&d->sig_term, &d->sig_int,  &d->sig_hup, &d->heartbeat,  &d->drain,
                            &d->flush,    &d->debounce, &d->poll,    &d->inotify_ev, &d->tick};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (*evs[i]) {
            event_free(*evs[i]);
            *evs[i] = NULL;
        }
    if (d->inotify_fd >= 0)
        close(d->inotify_fd);
    if (d->base)
        event_base_free(d->base);
    cfg_unref(d->cfg);
    free(d->cfg_path);
    free(d);
    return NULL;
}
