/*
 * kube_driver — the rollback orchestrator on its own loop, fed a scripted
 * verdict sequence, for the integration suite (tests/kube/run.py), so that
 * a case decides exactly when the verdict turns: PASS verdicts until --fail-at,
 * FAIL verdicts (with a small evidence object) after it, one per
 * --interval, for --duration (--until-done: or until the first decision
 * after --fail-at ends). --manual N runs one manual job instead.
 * Prints the rollback /status object on stdout at the end; logs on stderr
 * like the daemon.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "config/cfg.h"
#include "probes/curlm.h"
#include "sidecar/base/buf.h"
#include "sidecar/base/log.h"
#include "sidecar/rollback/rollback.h"

struct drv {
    struct event_base *base;
    struct curlm *m;
    struct rollback *rb;
    struct event *tick;
    long fail_at, interval, duration, manual;
    bool dry_run, manual_started, until_done, decided;
    int64_t start, next_verdict;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_done(struct rollback *rb, enum rollback_result result, enum guard_reason reason,
                    void *arg)
{
    struct drv *d = arg;

    (void)rb;
    (void)result;
    (void)reason;
    d->decided = true;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct drv *d = arg;
    int64_t t = now_ms() - d->start;
    struct timeval tv = {0, 20000};

    (void)fd;
    (void)what;
    if (d->manual >= 0) {
        if (!d->manual_started && rollback_identity_known(d->rb)) {
            int64_t id = rollback_manual(d->rb, d->manual, d->dry_run);
            fprintf(stderr, "driver: manual id %lld\n", (long long)id);
            d->manual_started = true;
        }
    } else if (t >= d->next_verdict) {
        bool fail = d->fail_at >= 0 && t >= d->fail_at;

        rollback_on_verdict(d->rb, fail ? ROLLBACK_VERDICT_FAIL : ROLLBACK_VERDICT_PASS,
                            fail ? "{\"outcome\":\"FAIL\",\"rule\":\"error_rate\",\"value\":0.2,"
                                   "\"threshold\":0.05,\"requests\":1200,\"errors\":240}"
                                 : NULL,
                            fail ? "rule error_rate: error rate 20.0% (240 of 1200 requests in the "
                                   "span that decided) above the 5% limit"
                                 : NULL,
                            now_ms());
        d->next_verdict += d->interval;
    }
    if (d->until_done && d->decided && !rollback_busy(d->rb) && curlm_pending(d->m) == 0) {
        event_base_loopexit(d->base, NULL); /* one decision made: done */
        return;
    }
    if (t >= d->duration && !rollback_busy(d->rb) &&
        (curlm_pending(d->m) == 0 || t > d->duration + 10000)) {
        event_base_loopexit(d->base, NULL);
        return;
    }
    evtimer_add(d->tick, &tv);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},   {"fail-at", required_argument, NULL, 'f'},
        {"interval", required_argument, NULL, 'i'}, {"duration", required_argument, NULL, 'd'},
        {"manual", required_argument, NULL, 'm'},   {"dry-run", no_argument, NULL, 'n'},
        {"until-done", no_argument, NULL, 'u'},     {NULL, 0, NULL, 0},
    };
    struct drv d = {.fail_at = -1, .interval = 1000, .duration = 3000, .manual = -1};
    struct cfg *cfg = NULL;
    struct cfg_errs errs;
    const char *path = NULL;
    struct buf b;
    char err[256];
    int o;

    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            path = optarg;
            break;
        case 'f':
            d.fail_at = atol(optarg);
            break;
        case 'i':
            d.interval = atol(optarg);
            break;
        case 'd':
            d.duration = atol(optarg);
            break;
        case 'm':
            d.manual = atol(optarg);
            break;
        case 'n':
            d.dry_run = true;
            break;
        case 'u':
            d.until_done = true;
            break;
        default:
            return 2;
        }
    }
    memset(&errs, 0, sizeof(errs));
    if (!path || cfg_load(path, &cfg, &errs) < 0) {
        fprintf(stderr, "driver: bad config\n");
        return 2;
    }
    log_setup((enum log_level)cfg->log_level, true);
    signal(SIGPIPE, SIG_IGN);
    if (curlm_global_init(err, sizeof(err)) < 0)
        return 1;
    d.base = event_base_new();
    d.m = curlm_new(d.base);
    d.tick = evtimer_new(d.base, on_tick, &d);
    if (rollback_new(d.base, d.m, cfg, &d.rb) < 0)
        return 1;
    rollback_set_done_cb(d.rb, on_done, &d);
    d.start = now_ms();
    {
        struct timeval tv0 = {0, 0};
        evtimer_add(d.tick, &tv0);
    }
    event_base_dispatch(d.base);
    buf_init(&b, 1 << 22);
    rollback_render_status(d.rb, &b);
    printf("%s\n", b.data ? b.data : "{}");
    buf_done(&b);
    rollback_free(d.rb);
    event_free(d.tick);
    curlm_free(d.m);
    event_base_free(d.base);
    curlm_global_done();
    cfg_unref(cfg);
    return 0;
}
