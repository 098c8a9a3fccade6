/*
 * probe — one HTTP or TCP probe of the app, with kubelet semantics.
 *
 * Owns a private copy of its struct cfg_probe, one timer and at most one
 * in-flight curlm request. The timer ticks every period from the start of
 * the previous run (first tick: initial_delay plus a jitter in [0, period));
 * a tick that finds the previous run still in flight is skipped, so runs
 * never overlap. The threshold state machine (probe_state_*) is pure.
 *
 * Must never: run two requests at once, block, log, or count a run that
 * was cancelled because the target changed.
 */
#include "probes/probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "probes/curlm.h"
#include "probes/sched.h"

#ifndef ROLLGUARD_VERSION
#define ROLLGUARD_VERSION "0.0.0"
#endif

#define PROBE_HTTP_MAX_BODY (10 * 1024) /* what the kubelet reads of a probe body */
#define PROBE_ADDRESS_MAX 255

struct probe {
    struct event_base *base;
    struct curlm *m;
    char *name;
    struct cfg_probe cfg; /* url/address owned */
    char *tcp_url;        /* "http://address/" for kind TCP */
    struct probe_state st;
    probe_event_fn *cb;
    void *arg;
    struct event *timer;
    struct curlm_req *req;  /* the run in flight, or NULL */
    const struct sched *sc; /* the owner's clock and jitter source */
    uint64_t created_ms;    /* monotonic */
    uint64_t last_start_ms;
    uint64_t next_due_ms;
    uint64_t jitter_ms;
    bool jitter;
    bool started; /* a run has started */
    bool stopped;
    unsigned in_cb; /* > 0 while the event callback runs */
    bool doomed;    /* probe_free was called from the event callback */
};

/* ---- the pure state machine ---------------------------------------------- */

/* s starts with no runs; ok is initially_ok (liveness true, readiness false). */
void probe_state_init(struct probe_state *s, bool initially_ok)
{
    memset(s, 0, sizeof *s);
    s->ok = initially_ok;
}

static uint32_t probe_inc(uint32_t v)
{
    return v == UINT32_MAX ? v : v + 1;
}

/*
 * PASS counts toward success_threshold, FAIL/UNREACHABLE toward
 * failure_threshold (a threshold of 0 acts as 1); ERROR and UNKNOWN are
 * counted in runs[] and kept as last but move nothing. Returns true when
 * s->ok flipped.
 */
bool probe_state_record(struct probe_state *s, const struct cfg_probe *c,
                        const struct probe_obs *obs)
{
    uint32_t fail_thr = c->failure_threshold ? c->failure_threshold : 1;
    uint32_t ok_thr = c->success_threshold ? c->success_threshold : 1;
    enum probe_result r = obs->result;

    if ((unsigned)r >= PROBE_RES_COUNT)
        r = PROBE_RES_UNKNOWN;
    s->runs[r]++;
    s->last = *obs;
    s->last.result = r;
    switch (r) {
    case PROBE_RES_PASS:
        s->has_run = true;
        s->consecutive_ok = probe_inc(s->consecutive_ok);
        s->consecutive_fail = 0;
        if (!s->ok && s->consecutive_ok >= ok_thr) {
            s->ok = true;
            s->transitions++;
            return true;
        }
        return false;
    case PROBE_RES_FAIL:
    case PROBE_RES_UNREACHABLE:
        s->has_run = true;
        s->consecutive_fail = probe_inc(s->consecutive_fail);
        s->consecutive_ok = 0;
        if (s->ok && s->consecutive_fail >= fail_thr) {
            s->ok = false;
            s->transitions++;
            return true;
        }
        return false;
    default:
        return false;
    }
}

/* A static lower-case name for r ("pass", ...); "unknown" for anything else. */
const char *probe_result_name(enum probe_result r)
{
    switch (r) {
    case PROBE_RES_PASS:
        return "pass";
    case PROBE_RES_FAIL:
        return "fail";
    case PROBE_RES_UNREACHABLE:
        return "unreachable";
    case PROBE_RES_ERROR:
        return "error";
    default:
        return "unknown";
    }
}

/* ---- scheduling ---------------------------------------------------------- */

static uint64_t probe_period_ms(const struct probe *p)
{
    return (uint64_t)p->cfg.period_ms;
}

/* Arms the timer for next_due_ms (at once if that has passed). */
static void probe_arm(struct probe *p, uint64_t now)
{
    sched_arm(p->timer, p->next_due_ms > now ? p->next_due_ms - now : 0);
}

/* When the first run is due: initial_delay (+ jitter) after creation. */
static void probe_schedule_first(struct probe *p, uint64_t now)
{
    p->jitter_ms = p->jitter ? sched_jitter(p->sc, probe_period_ms(p)) : 0;
    p->next_due_ms = p->created_ms + (uint64_t)p->cfg.initial_delay_ms + p->jitter_ms;
    probe_arm(p, now);
}

/* Records obs and tells the owner. Callers must not touch p afterwards. */
static void probe_emit(struct probe *p, const struct probe_obs *obs)
{
    bool flipped = probe_state_record(&p->st, &p->cfg, obs);

    if (p->cb) {
        p->in_cb++;
        p->cb(p, &p->st.last, flipped, p->arg);
        p->in_cb--;
    }
    if (p->doomed && p->in_cb == 0)
        probe_free(p);
}

static void probe_done(const struct curlm_result *res, void *arg)
{
    struct probe *p = arg;
    struct probe_obs obs;

    memset(&obs, 0, sizeof obs);
    p->req = NULL;
    obs.latency_us = res->total_us;
    obs.http_status = res->status;
    switch (res->fail) {
    case CURLM_FAIL_NONE:
        if (p->cfg.kind == CFG_PROBE_TCP || (res->status >= 200 && res->status < 400)) {
            obs.result = PROBE_RES_PASS;
        } else {
            obs.result = PROBE_RES_FAIL;
            snprintf(obs.error, sizeof obs.error, "HTTP probe failed with statuscode: %ld",
                     res->status);
        }
        break;
    case CURLM_ERR_INTERNAL:
        obs.result = PROBE_RES_ERROR;
        snprintf(obs.error, sizeof obs.error, "%.*s", (int)sizeof obs.error - 1, res->error);
        break;
    default: /* CONNECT, DNS, TIMEOUT, TLS, PROTOCOL (TOOBIG cannot happen: truncate_ok) */
        obs.result = PROBE_RES_UNREACHABLE;
        snprintf(obs.error, sizeof obs.error, "%.*s", (int)sizeof obs.error - 1, res->error);
        break;
    }
    probe_emit(p, &obs);
}

/* Starts one run. Callers must not touch p afterwards (a failed start reports at once). */
static void probe_run(struct probe *p)
{
    static const char *const headers[] = {"User-Agent: rollguard/" ROLLGUARD_VERSION, "Accept: */*",
                                          NULL};
    struct curlm_opts o;
    struct probe_obs obs;
    int rc;

    memset(&o, 0, sizeof o);
    o.timeout_ms = p->cfg.timeout_ms;
    o.fresh_connect = true; /* like the kubelet: no keep-alive between probes */
    if (p->cfg.kind == CFG_PROBE_TCP) {
        o.url = p->tcp_url;
        o.connect_only = true;
    } else {
        o.url = p->cfg.url;
        o.headers = headers;
        o.max_body = PROBE_HTTP_MAX_BODY;
        o.truncate_ok = true;
        o.tls_verify = p->cfg.tls_verify;
    }
    rc = curlm_start(p->m, &o, probe_done, p, &p->req);
    if (rc >= 0)
        return;
    p->req = NULL;
    memset(&obs, 0, sizeof obs);
    obs.result = PROBE_RES_ERROR;
    snprintf(obs.error, sizeof obs.error, "could not start probe: %s", strerror(-rc));
    probe_emit(p, &obs);
}

/* The one place that re-arms: a tick either starts a run or is skipped. */
static void probe_tick(evutil_socket_t fd, short what, void *arg)
{
    struct probe *p = arg;
    uint64_t now = p->sc->now_ms(), period = probe_period_ms(p);

    (void)fd;
    (void)what;
    if (p->req) {
        /* the previous run is still in flight: skip this tick */
        do
            p->next_due_ms += period;
        while (p->next_due_ms <= now);
        probe_arm(p, now);
        return;
    }
    p->started = true;
    p->last_start_ms = now;
    p->next_due_ms = now + period;
    probe_arm(p, now);
    probe_run(p);
}

/* ---- lifecycle ----------------------------------------------------------- */

static bool probe_cfg_valid(const struct cfg_probe *c)
{
    if (!c || c->period_ms == 0)
        return false;
    switch (c->kind) {
    case CFG_PROBE_HTTP:
        return c->url && c->url[0];
    case CFG_PROBE_TCP:
        return c->address && c->address[0] && strlen(c->address) <= PROBE_ADDRESS_MAX &&
               !strpbrk(c->address, "/?#@ \t\r\n");
    default:
        return false;
    }
}

/* Deep copy of c's strings into *dst and the TCP URL into *tcp_url. */
static int probe_cfg_copy(const struct cfg_probe *c, struct cfg_probe *dst, char **tcp_url)
{
    *dst = *c;
    dst->url = NULL;
    dst->address = NULL;
    *tcp_url = NULL;
    if (c->url && !(dst->url = strdup(c->url)))
        goto fail;
    if (c->address && !(dst->address = strdup(c->address)))
        goto fail;
    if (c->kind == CFG_PROBE_TCP && asprintf(tcp_url, "http://%s/", c->address) < 0) {
        *tcp_url = NULL;
        goto fail;
    }
    return 0;
fail:
    free(dst->url);
    free(dst->address);
    dst->url = dst->address = NULL;
    return -ENOMEM;
}

static bool probe_str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/*
 * A probe on base using m for its requests and sc (borrowed) for the time
 * and jitter; c is copied. Its first run is due initial_delay plus a random
 * jitter in [0, period) from now (see probe_set_jitter). cb (may be NULL)
 * runs after every recorded run.
 * Returns 0 and *ret, -EINVAL (kind NONE, missing url/address, period 0)
 * or -ENOMEM.
 */
int probe_new(struct event_base *base, struct curlm *m, const struct sched *sc, const char *name,
              const struct cfg_probe *c, bool initially_ok, probe_event_fn *cb, void *arg,
              struct probe **ret)
{
    struct probe *p;

    if (!base || !m || !sc || !sc->now_ms || !sc->unit || !name || !probe_cfg_valid(c) || !ret)
        return -EINVAL;
    p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->base = base;
    p->m = m;
    p->sc = sc;
    p->cb = cb;
    p->arg = arg;
    p->jitter = true;
    probe_state_init(&p->st, initially_ok);
    p->created_ms = p->sc->now_ms();
    p->name = strdup(name);
    p->timer = evtimer_new(base, probe_tick, p);
    if (!p->name || !p->timer || probe_cfg_copy(c, &p->cfg, &p->tcp_url) < 0)
        goto fail;
    probe_schedule_first(p, p->created_ms);
    *ret = p;
    return 0;
fail:
    probe_free(p);
    return -ENOMEM;
}

/*
 * Stops the timer and cancels any run in flight (it is not counted). The
 * state stays readable; probe_apply does not restart a stopped probe.
 */
void probe_stop(struct probe *p)
{
    if (!p)
        return;
    p->stopped = true;
    if (p->timer)
        evtimer_del(p->timer);
    if (p->req) {
        curlm_cancel(p->req);
        p->req = NULL;
    }
}

/*
 * Stops p and frees it. From inside p's own event callback the free happens
 * when the callback returns. NULL-safe; returns NULL.
 */
struct probe *probe_free(struct probe *p)
{
    if (!p)
        return NULL;
    probe_stop(p);
    if (p->in_cb) {
        p->doomed = true;
        return NULL;
    }
    if (p->timer)
        event_free(p->timer);
    free(p->cfg.url);
    free(p->cfg.address);
    free(p->tcp_url);
    free(p->name);
    free(p);
    return NULL;
}

/*
 * Swaps in c (copied), keeping the state and counters. A changed target
 * (kind, url, address, tls_verify) cancels the run in flight uncounted; the
 * next tick uses the new target. A changed period re-arms to last start +
 * new period (at once if that has passed); before the first run, a changed
 * period or initial_delay re-draws the first run. Returns 0, -EINVAL (p
 * unchanged) or -ENOMEM (p unchanged).
 */
int probe_apply(struct probe *p, const struct cfg_probe *c)
{
    struct cfg_probe next;
    char *tcp_url;
    bool target, period, first;
    uint64_t now;

    if (!p || !probe_cfg_valid(c))
        return -EINVAL;
    if (probe_cfg_copy(c, &next, &tcp_url) < 0)
        return -ENOMEM;
    target = next.kind != p->cfg.kind || !probe_str_eq(next.url, p->cfg.url) ||
             !probe_str_eq(next.address, p->cfg.address) || next.tls_verify != p->cfg.tls_verify;
    period = next.period_ms != p->cfg.period_ms;
    first = !p->started && (period || next.initial_delay_ms != p->cfg.initial_delay_ms);
    free(p->cfg.url);
    free(p->cfg.address);
    free(p->tcp_url);
    p->cfg = next;
    p->tcp_url = tcp_url;
    if (target && p->req) {
        curlm_cancel(p->req);
        p->req = NULL;
    }
    if (p->stopped)
        return 0;
    now = p->sc->now_ms();
    if (first) {
        probe_schedule_first(p, now);
    } else if (period && p->started) {
        p->next_due_ms = p->last_start_ms + probe_period_ms(p);
        probe_arm(p, now);
    }
    return 0;
}

/*
 * Turns the first-run jitter on (the default) or off; if the first run has
 * not started yet it is re-drawn. Tests turn it off to avoid waiting up to
 * a period.
 */
void probe_set_jitter(struct probe *p, bool on)
{
    if (!p)
        return;
    p->jitter = on;
    if (!p->started && !p->stopped)
        probe_schedule_first(p, p->sc->now_ms());
}

/* The name given to probe_new (borrowed, lives as long as p). */
const char *probe_name(const struct probe *p)
{
    return p->name;
}

/* p's state (borrowed; updated before each event callback). */
const struct probe_state *probe_state_get(const struct probe *p)
{
    return &p->st;
}

/* p's own copy of its settings (borrowed; replaced by probe_apply). */
const struct cfg_probe *probe_cfg_get(const struct probe *p)
{
    return &p->cfg;
}
