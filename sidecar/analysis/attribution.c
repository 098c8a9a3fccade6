/*
 * attribution — the release against its concurrent control (attribution.h).
 * Must never: read the clock, do I/O, or blame the release without its own
 * evidence (the caller only asks for a rule the release breached).
 */
#include "sidecar/analysis/attribution.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
decide(struct attribution_result *ret, enum attribution_decision d, const char *fmt, ...)
{
    va_list ap;

    ret->decision = d;
    va_start(ap, fmt);
    vsnprintf(ret->reason, sizeof(ret->reason), fmt, ap);
    va_end(ap);
}

static bool usable(const struct attribution_params *p, enum attribution_rule rule,
                   const struct attribution_side *c)
{
    if (!c)
        return false;
    if (rule == ATTRIBUTION_ERRORS)
        return c->requests > 0 && c->requests >= p->min_requests && c->errors <= c->requests;
    return c->samples >= p->min_samples && isfinite(c->latency) && c->latency > 0;
}

/* Pooled two-proportion z statistic of the release's rate over the control's. */
static double two_proportion_z(const struct attribution_side *r, const struct attribution_side *c)
{
    double n1 = (double)r->requests, n2 = (double)c->requests;
    double p1 = (double)r->errors / n1, p2 = (double)c->errors / n2;
    double p = ((double)r->errors + (double)c->errors) / (n1 + n2);
    double se = sqrt(p * (1 - p) * (1 / n1 + 1 / n2));

    if (!(se > 0))
        return p1 > p2 ? INFINITY : 0;
    return (p1 - p2) / se;
}

/* Wilson score bound of x hits in n at z (sign: -1 lower, +1 upper). */
static double wilson(double x, double n, double z, int sign)
{
    double p = x / n, d = 1 + z * z / n;
    double c = p + z * z / (2 * n), h = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n));

    return (c + sign * h) / d;
}

/* Whether the release is worse than the control by the policy's margin. */
static bool worse(const struct attribution_params *p, enum attribution_rule rule,
                  const struct attribution_side *r, const struct attribution_side *c, char *why,
                  size_t size)
{
    if (rule == ATTRIBUTION_ERRORS) {
        double rr = r->requests ? (double)r->errors / (double)r->requests : 0;
        double cr = (double)c->errors / (double)c->requests;
        double z = r->requests ? two_proportion_z(r, c) : 0;

        snprintf(why, size, "error rate %.2f%% vs the stable revision's %.2f%% (z %.1f)", 100 * rr,
                 100 * cr, isfinite(z) ? z : 99.0);
        /*
         * Against a degraded control the release's excess alone must breach the
         * policy, even from the release's lower bound to the control's upper one:
         * in an incident every window swings, and what the release adds matters
         * only if it would be a breach by itself.
         */
        return rr > p->error_rate_max && z > ATTRIBUTION_Z &&
               (!c->degraded ||
                wilson((double)r->errors, (double)r->requests, ATTRIBUTION_Z, -1) -
                        wilson((double)c->errors, (double)c->requests, ATTRIBUTION_Z, 1) >
                    p->error_rate_max);
    }
    snprintf(why, size, "latency %.4gs vs the stable revision's %.4gs (limit %.3gx)", r->latency,
             c->latency, 1 + p->latency_max_increase);
    return isfinite(r->latency) && r->latency > (1 + p->latency_max_increase) * c->latency;
}

void attribution_decide(const struct attribution_params *p, enum attribution_rule rule,
                        const struct attribution_side *release,
                        const struct attribution_side *control, int64_t rollout_start_ms,
                        struct attribution_result *ret)
{
    char why[160];

    memset(ret, 0, sizeof(*ret));
    if (!usable(p, rule, control)) {
        decide(ret, ATTRIBUTION_NO_CONTROL, "no usable control: judged on its own evidence");
        return;
    }
    if (control->degraded && control->figures_from_ms != 0 &&
        control->degraded_since_ms > control->figures_from_ms) {
        /* its window is part healthy, part degraded: a release measured only since
         * it started would look worse than it; judge by when the control degraded */
        snprintf(why, sizeof(why),
                 "the stable revision's window began before its degradation (%lld ms into it)",
                 (long long)(control->degraded_since_ms - control->figures_from_ms));
    } else if (worse(p, rule, release, control, why, sizeof(why))) {
        if (control->degraded && control->degraded_since_ms >= rollout_start_ms)
            decide(ret, ATTRIBUTION_BLAME_SHARED,
                   "%s; the stable revision degraded too, since %lld ms after the rollout "
                   "began",
                   why, (long long)(control->degraded_since_ms - rollout_start_ms));
        else
            decide(ret, ATTRIBUTION_BLAME, "%s", why);
        return;
    }
    if (!control->degraded) {
        decide(ret, ATTRIBUTION_NOT_WORSE, "%s: no worse than the stable revision", why);
        return;
    }
    if (control->degraded_since_ms < rollout_start_ms) {
        decide(ret, ATTRIBUTION_WITHHOLD,
               "stable revision degraded too, since before the rollout (%lld ms before); %s",
               (long long)(rollout_start_ms - control->degraded_since_ms), why);
        return;
    }
    /* degraded only after the rollout began: a release can hurt what both share */
    decide(ret, ATTRIBUTION_BLAME_SHARED,
           "the stable revision degraded too, but only %lld ms after the rollout began; %s",
           (long long)(control->degraded_since_ms - rollout_start_ms), why);
}

uint32_t attribution_quorum(uint32_t explicit_quorum, uint32_t ready_replicas, uint32_t voters)
{
    uint32_t n = ready_replicas > voters ? ready_replicas : voters;

    if (explicit_quorum > 0)
        return explicit_quorum;
    return n / 2 + 1;
}

const char *attribution_decision_name(enum attribution_decision d)
{
    static const char *const names[] = {"no_control", "blame", "blame_shared", "withhold",
                                        "not_worse"};

    return (unsigned)d < sizeof(names) / sizeof(names[0]) ? names[d] : "no_control";
}
