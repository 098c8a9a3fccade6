/*
 * probe — one app probe (HTTP or TCP) with kubelet semantics.
 *
 * A probe owns its timer and its in-flight request, and re-arms itself in
 * one place after each run (first run jittered within the period, after
 * initial_delay). The pure state machine (probe_state_*) has no I/O and no
 * clock, so it is tested and reused on its own.
 */
#ifndef ROLLGUARD_PROBE_H
#define ROLLGUARD_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "config/cfg.h"

struct event_base;
struct curlm;
struct sched;
struct probe;

enum probe_result {
    PROBE_RES_UNKNOWN = 0,
    PROBE_RES_PASS,        /* app answered 200-399, or TCP connected */
    PROBE_RES_FAIL,        /* app answered with another status */
    PROBE_RES_UNREACHABLE, /* no answer: refused, timeout, reset, DNS (counts as failure) */
    PROBE_RES_ERROR,       /* could not be attempted at all (our side); changes no threshold */
};
#define PROBE_RES_COUNT 5

/* What one run observed. */
struct probe_obs {
    enum probe_result result;
    long http_status; /* 0 when none */
    uint64_t latency_us;
    char error[160]; /* why, for every result but PASS */
};

/* Threshold bookkeeping, kubelet style. */
struct probe_state {
    bool has_run; /* at least one PASS/FAIL/UNREACHABLE recorded */
    bool ok;      /* current verdict after thresholds */
    uint32_t consecutive_ok;
    uint32_t consecutive_fail;
    uint64_t runs[PROBE_RES_COUNT]; /* totals by result */
    uint64_t transitions;
    struct probe_obs last;
};

/* Initial state: liveness starts ok (like kubelet), readiness starts not ok. */
void probe_state_init(struct probe_state *s, bool initially_ok);

/*
 * Record one observation against thresholds c. Returns true when s->ok
 * changed. PROBE_RES_ERROR is counted and kept as last but moves no threshold.
 */
bool probe_state_record(struct probe_state *s, const struct cfg_probe *c,
                        const struct probe_obs *obs);

const char *probe_result_name(enum probe_result r);

/* Called after every run, and transitioned says whether state->ok flipped. */
typedef void probe_event_fn(struct probe *p, const struct probe_obs *obs, bool transitioned,
                            void *arg);

/*
 * A probe named name ("liveness", "readiness") running c (kind must not be
 * NONE; c is copied, not borrowed), timed by sc (borrowed: it must outlive
 * the probe). initially_ok as in probe_state_init.
 * Returns 0 and *ret, or -ENOMEM/-EINVAL.
 */
int probe_new(struct event_base *base, struct curlm *m, const struct sched *sc, const char *name,
              const struct cfg_probe *c, bool initially_ok, probe_event_fn *cb, void *arg,
              struct probe **ret);

/* Cancels the timer and any in-flight request. NULL-safe; returns NULL. */
struct probe *probe_free(struct probe *p);

/*
 * Swap in new settings, keeping state. A changed target (kind/url/address)
 * or changed thresholds keep counters; a changed period reschedules.
 */
int probe_apply(struct probe *p, const struct cfg_probe *c);

/* Stop running (timer and in-flight request); state stays readable. */
void probe_stop(struct probe *p);

/*
 * First-run jitter in [0, period) is on by default (probes of many pods do
 * not hit their apps in step). Turning it off (tests) re-draws a first run
 * that has not started yet: due initial_delay after probe_new.
 */
void probe_set_jitter(struct probe *p, bool on);

const char *probe_name(const struct probe *p);
const struct probe_state *probe_state_get(const struct probe *p);
const struct cfg_probe *probe_cfg_get(const struct probe *p);

#endif
