/*
 * attribution — whether a breach of a new revision is the release's doing,
 * judged against a concurrent control: the stable revision's pods measured
 * over the same minutes.
 *
 * Pure: structs in, a decision out; no I/O, no clock (times are passed in).
 * The caller has a breaching rule of the release (the analysis verdict) and,
 * when it could read one, the control's summary. The release is blamed when
 * it is worse than the control by the policy's margin; a control degraded
 * the same way since before the rollout began withholds the rollback, one
 * degraded only after it leaves the release the prime suspect. Without a
 * usable control the decision is today's (blame on the release's own
 * evidence). The rules and their edges are in sidecar/analysis/README.md.
 */
#ifndef ROLLGUARD_ATTRIBUTION_H
#define ROLLGUARD_ATTRIBUTION_H

#include <stdbool.h>
#include <stdint.h>

/*
 * "Significantly above the control": one-sided p < 3e-5. The release is
 * compared with its control at every tick of the guard window (180 looks
 * by 3 pods with the defaults): a 99 % test blamed a release in a shared
 * incident in more than half the rollouts (bench_sim).
 */
#define ATTRIBUTION_Z 4.0
#define ATTRIBUTION_REASON_MAX 224

/* One side's figures for the rule being judged. */
struct attribution_side {
    uint64_t requests, errors; /* error rule: window counts */
    double latency;            /* latency rule: the quantile, seconds; NaN unknown */
    uint64_t samples;          /* behind latency */
    bool degraded;             /* its own rules breach against its own baseline */
    int64_t degraded_since_ms; /* when degraded (the caller's clock) */
    /*
     * Where the span its figures cover begins (same clock; 0: not known). A
     * control degraded more recently than that mixes before and during its
     * degradation: its figures are not compared, the timing alone decides.
     */
    int64_t figures_from_ms;
};

struct attribution_params {
    double error_rate_max;       /* analysis.error_rate.max */
    double latency_max_increase; /* analysis.latency.max_increase */
    uint64_t min_requests;       /* the control needs this many requests ... */
    uint64_t min_samples;        /* ... or latency samples to count */
};

enum attribution_rule { ATTRIBUTION_ERRORS, ATTRIBUTION_LATENCY };

enum attribution_decision {
    ATTRIBUTION_NO_CONTROL,   /* no usable control: judge the release alone */
    ATTRIBUTION_BLAME,        /* worse than the control: the release's doing */
    ATTRIBUTION_BLAME_SHARED, /* the control degraded too, but only after the rollout began */
    ATTRIBUTION_WITHHOLD,     /* the control degraded the same way since before the rollout */
    ATTRIBUTION_NOT_WORSE,    /* no worse than a healthy control: not the release */
};

struct attribution_result {
    enum attribution_decision decision;
    char reason[ATTRIBUTION_REASON_MAX];
};

/*
 * Decide for a breaching rule of the release. control may be NULL (none
 * read). rollout_start_ms is the new ReplicaSet's creation (wall clock).
 * Fills *ret; never fails.
 */
void attribution_decide(const struct attribution_params *p, enum attribution_rule rule,
                        const struct attribution_side *release,
                        const struct attribution_side *control, int64_t rollout_start_ms,
                        struct attribution_result *ret);

/*
 * Pods of the new revision that must vote FAIL: an explicit quorum (> 0)
 * wins; otherwise a majority of the new revision's pods, counted as the
 * larger of its ready replicas and the pods that voted (1 of 1, 2 of 3, 3
 * of 5); at least 1.
 */
uint32_t attribution_quorum(uint32_t explicit_quorum, uint32_t ready_replicas, uint32_t voters);

const char *attribution_decision_name(enum attribution_decision d);

#endif
