/*
 * test_sched — the struct sched tests hand to probe_new and scraper_new:
 * the real monotonic clock (sidecar/base/clock) and a fixed-seed rng, so a
 * test's jitter is the same on every run.
 */
#ifndef ROLLGUARD_TEST_SCHED_H
#define ROLLGUARD_TEST_SCHED_H

struct sched;

/* A process-wide struct sched (never freed). */
const struct sched *test_sched(void);

#endif
