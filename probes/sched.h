/*
 * sched — what the periodic jobs of probes/ (probe, scraper) take from their
 * owner instead of reading the clock or a random source themselves: probes/
 * may not include sidecar/, so the daemon hands in sidecar/base/clock and
 * sidecar/base/rng through this table (tests hand in their own). Also the
 * one timer-arm helper of probes/.
 */
#ifndef ROLLGUARD_SCHED_H
#define ROLLGUARD_SCHED_H

#include <stdint.h>

struct event;

/* Milliseconds on a monotonic clock. */
typedef uint64_t sched_now_fn(void);

/* A draw uniform in [0, 1) for jitter; arg is struct sched's arg. */
typedef double sched_unit_fn(void *arg);

/* Borrowed by probe_new and scraper_new: must outlive the probe or scraper. */
struct sched {
    sched_now_fn *now_ms;
    sched_unit_fn *unit;
    void *arg;
};

/* A jitter in [0, span) ms drawn from sc; 0 when span is 0. */
uint64_t sched_jitter(const struct sched *sc, uint64_t span);

/* evtimer_add(ev) to fire ms from now; re-arming a pending timer moves it. */
void sched_arm(struct event *ev, uint64_t ms);

#endif
