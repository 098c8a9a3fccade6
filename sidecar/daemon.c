/*
 * daemon — the running sidecar on one event_base: the listeners (httpd +
 * endpoints), the loop heartbeat, signals, the drain on shutdown, and the
 * life cycle of every module. Owns struct daemon (daemon-int.h), struct
 * state and the current config snapshot; the scrape-to-verdict pipeline is
 * pipeline.c, config reload reload.c. Never blocks.
 */
#include "sidecar/daemon-int.h"

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
#include "probes/sched.h"
#include "sidecar/analysis/analysis.h"
#include "sidecar/admin.h"
#include "sidecar/endpoints.h"
#include "sidecar/http/httpd.h"
#include "sidecar/base/clock.h"
#include "sidecar/base/file.h"
#include "sidecar/base/log.h"
#include "sidecar/base/redact.h"
#include "sidecar/base/rng.h"
#include "sidecar/kube/kube_selector.h"
#include "sidecar/rollback/rollback.h"
#include "sidecar/state.h"

/* The pod-template hash /summary names, read once: a label value, else "". */
static void daemon_read_revision(struct state *s)
{
    const char *h = getenv("POD_TEMPLATE_HASH");

    s->revision[0] = '\0';
    if (h && strlen(h) < sizeof(s->revision) && kube_label_value_ok(h))
        snprintf(s->revision, sizeof(s->revision), "%s", h);
}

static double daemon_jitter_unit(void *arg)
{
    return rng_unit(arg);
}

struct httpd_limits daemon_limits(const struct cfg *c)
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

/* --- shutdown ---------------------------------------------------------------- */

static void daemon_on_flush(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;

    (void)fd;
    (void)what;
    if ((d->httpd && httpd_pending_writes(d->httpd)) && clock_mono_ms() < d->flush_deadline_ms) {
        clock_arm(d->flush, DAEMON_FLUSH_STEP_MS);
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
    d->flush_deadline_ms = clock_mono_ms() + DAEMON_FLUSH_MAX_MS;
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
    clock_arm(d->drain, d->cfg->server.drain_ms);
}

static void daemon_on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;

    (void)fd;
    (void)what;
    d->state.heartbeat_ms = clock_mono_ms();
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
    struct httpd_limits l = daemon_limits(d->cfg);
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
    d->state.now_ms = clock_mono_ms;
    d->state.started_ms = clock_mono_ms();
    d->state.heartbeat_ms = d->state.started_ms;
    d->state.stall_ms = DAEMON_STALL_MS;
    d->state.last_reload_ok = true;
    d->state.started_wall = (double)clock_wall_ms() / 1e3;
    daemon_read_revision(&d->state);
    rng_seed_random(&d->rng);
    d->sched = (struct sched){.now_ms = clock_mono_ms, .unit = daemon_jitter_unit, .arg = &d->rng};

    d->sig_term = evsignal_new(d->base, SIGTERM, daemon_on_term, d);
    d->sig_int = evsignal_new(d->base, SIGINT, daemon_on_term, d);
    d->sig_hup = evsignal_new(d->base, SIGHUP, reload_on_hup, d);
    d->heartbeat = event_new(d->base, -1, EV_PERSIST, daemon_on_heartbeat, d);
    d->drain = evtimer_new(d->base, daemon_on_drain, d);
    d->flush = evtimer_new(d->base, daemon_on_flush, d);
    d->debounce = evtimer_new(d->base, reload_on_debounce, d);
    d->poll = evtimer_new(d->base, reload_on_poll, d);
    d->tick = evtimer_new(d->base, pipeline_on_tick, d);
    if (!d->tick || !d->sig_term || !d->sig_int || !d->sig_hup || !d->heartbeat || !d->drain ||
        !d->flush || !d->debounce || !d->poll)
        goto fail;
    if (evsignal_add(d->sig_term, NULL) < 0 || evsignal_add(d->sig_int, NULL) < 0 ||
        evsignal_add(d->sig_hup, NULL) < 0)
        goto fail;
    {
        struct timeval tv = clock_tv(DAEMON_HEARTBEAT_MS);
        event_add(d->heartbeat, &tv);
    }

    r = rollback_new(d->base, d->curlm, d->cfg, &d->rollback);
    if (r < 0)
        goto fail;
    d->state.rollback = d->rollback;
    r = peers_new(d->curlm, d->rollback, d->cfg, pipeline_on_control, d, &d->peers);
    if (r < 0)
        goto fail;
    d->state.peers = d->peers;
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
    r = pipeline_apply_analysis(d, d->cfg);
    if (r < 0) {
        log_event(LOG_LVL_ERROR, "analysis_setup_failed", LF_S("error", strerror(-r)));
        goto fail;
    }
    d->state.analysis = &d->analysis;
    r = pipeline_apply_probes(d, d->cfg);
    if (r < 0)
        goto fail;
    r = pipeline_apply_scraper(d, d->cfg);
    if (r < 0)
        goto fail;
    if (d->cfg_path) {
        char *text = NULL;
        size_t len = 0;

        if (file_read_small(d->cfg_path, CFG_MAX_FILE_BYTES, &text, &len) == 0)
            d->file_fingerprint = reload_fingerprint(text, len);
        free(text);
        reload_watch(d);
        clock_arm(d->poll, DAEMON_RELOAD_POLL_MS);
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
    d->rollback = rollback_free(d->rollback); /* first: no pod LIST answers peers after this */
    d->peers = peers_free(d->peers);
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
