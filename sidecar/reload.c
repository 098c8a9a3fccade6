/*
 * reload — the config file while the daemon runs: SIGHUP, inotify on the
 * file's folder (so the ConfigMap's ..data symlink swap is seen) and a slow
 * poll as a safety net. A new file is parsed and validated whole, the
 * probes, scraper and analysis are rebuilt for it (state carried across),
 * and the snapshot swapped; a bad file is logged with its position and the
 * previous config keeps running. Part of the daemon (daemon-int.h).
 */
#include "sidecar/daemon-int.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "sidecar/base/clock.h"
#include "sidecar/base/file.h"
#include "sidecar/base/log.h"
#include "sidecar/rollback/rollback.h"

uint64_t reload_fingerprint(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
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
void reload_now(struct daemon *d, bool forced, const char *trigger)
{
    struct cfg_errs errs;
    struct cfg *next = NULL;
    char *text = NULL;
    size_t len = 0;
    uint64_t fp;
    int r;

    if (!d->cfg_path || d->state.shutting_down)
        return;
    r = file_read_small(d->cfg_path, CFG_MAX_FILE_BYTES, &text, &len);
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
    fp = reload_fingerprint(text, len);
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
    if (pipeline_apply_probes(d, next) < 0 || pipeline_apply_scraper(d, next) < 0 ||
        pipeline_apply_analysis(d, next) < 0) {
        /* Back to the snapshot in force; what the new one needed could not be built. */
        pipeline_apply_probes(d, d->cfg);
        pipeline_apply_scraper(d, d->cfg);
        cfg_unref(next);
        reload_failed(d, "could not set up the probes, scraper or analysis of the new config");
        return;
    }
    {
        struct httpd_limits l = daemon_limits(next);

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
        pipeline_arm_tick(d);
    }
    d->state.cfg = next;
    rollback_apply_cfg(d->rollback, next);
    peers_apply_cfg(d->peers, next);
    d->state.reloads_ok++;
    d->state.last_reload_ok = true;
    d->state.last_reload_error[0] = '\0';
}

void reload_on_debounce(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    reload_now(arg, false, "file-change");
}

void reload_on_poll(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;

    (void)fd;
    (void)what;
    reload_now(d, false, "poll");
    clock_arm(d->poll, DAEMON_RELOAD_POLL_MS);
}

static void reload_on_inotify(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;
    char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

    (void)what;
    /* Drain; which file changed does not matter, the bytes decide. */
    while (read(fd, events, sizeof(events)) > 0)
        ;
    clock_arm(d->debounce, DAEMON_RELOAD_DEBOUNCE_MS);
}

void reload_watch(struct daemon *d)
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
            event_new(d->base, d->inotify_fd, EV_READ | EV_PERSIST, reload_on_inotify, d);
        if (d->inotify_ev)
            event_add(d->inotify_ev, NULL);
    } else {
        log_event(LOG_LVL_WARN, "config_watch_unavailable", LF_S("dir", dir),
                  LF_S("error", strerror(errno)), LF_U("poll_ms", DAEMON_RELOAD_POLL_MS));
    }
    free(copy);
}

void reload_on_hup(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    reload_now(arg, true, "SIGHUP");
}
