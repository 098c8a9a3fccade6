/*
 * daemon-int.h — what the running sidecar's three files share: struct
 * daemon, owned by daemon.c (loop, signals, listeners, life cycle); the
 * scrape-to-verdict pipeline and the probes' callbacks (pipeline.c); config
 * reload (reload.c). Not for other modules: they see daemon.h.
 */
#ifndef ROLLGUARD_DAEMON_INT_H
#define ROLLGUARD_DAEMON_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "probes/probe.h"
#include "probes/sched.h"
#include "probes/scraper.h"
#include "sidecar/admin.h"
#include "sidecar/analysis/analysis.h"
#include "sidecar/base/rng.h"
#include "sidecar/daemon.h"
#include "sidecar/http/httpd.h"
#include "sidecar/peers.h"
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
    struct rng rng;     /* probe and scrape jitter */
    struct sched sched; /* the clock and jitter handed to probes/ */
    struct httpd *httpd;
    struct httpd *admin;
    struct admin_ctx admin_ctx;
    struct rollback *rollback;
    struct peers *peers; /* the concurrent control's I/O */
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

/* daemon.c */
struct httpd_limits daemon_limits(const struct cfg *c);

/* pipeline.c: create, reconfigure or drop each part to match c; 0 or -errno */
int pipeline_apply_probes(struct daemon *d, const struct cfg *c);
int pipeline_apply_scraper(struct daemon *d, const struct cfg *c);
int pipeline_apply_analysis(struct daemon *d, const struct cfg *c);
/* arm the verdict timer for the next interval boundary (plus a scrape's grace) */
void pipeline_arm_tick(struct daemon *d);
void pipeline_on_tick(evutil_socket_t fd, short what, void *arg);
/* peers_view_fn: the concurrent control (or why none) to the analysis */
void pipeline_on_control(const struct control_view *v, const char *why, void *arg);

/* reload.c */
uint64_t reload_fingerprint(const char *p, size_t n);
/* re-read the file: forced (SIGHUP) even when its bytes did not change */
void reload_now(struct daemon *d, bool forced, const char *trigger);
/* inotify on the config's folder (the ConfigMap's ..data swap) and the slow poll */
void reload_watch(struct daemon *d);
void reload_on_debounce(evutil_socket_t fd, short what, void *arg);
void reload_on_poll(evutil_socket_t fd, short what, void *arg);
void reload_on_hup(evutil_socket_t fd, short what, void *arg);

#endif
