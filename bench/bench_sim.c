/*
 * bench_sim — replay simulator for rollguard's detection policy.
 *
 * Runs the real analysis code (sidecar/analysis/analysis.c, no sockets, no clock)
 * over synthetic traffic and prints false rollbacks per 1000 pod-days and
 * time to detect, side by side with two reference policies judged on the
 * same traces: Argo Rollouts-style and Flagger-style analysis.
 *
 * Traffic model (all randomness from one seeded xoshiro256** stream):
 *  - requests per 5 s scrape period: each latency bucket's count is an
 *    independent Poisson draw (exact for Poisson arrivals with iid
 *    latencies), errors a binomial draw on the total;
 *  - latency lognormal per pod (median 20-200 ms, sigma 0.4-0.8); GC pauses
 *    at 1/min, pause lognormal (median 50 ms, sigma 1.2, capped at 3 s);
 *    requests arriving during a pause wait up to its length;
 *  - healthy days: diurnal rate from a quiet night (0.2-0.8 req/s) to a
 *    peak of 5-200 req/s, with per-minute noise;
 *  - the app exposes cumulative Prometheus counters and histogram buckets
 *    (.005 .. 10, +Inf); the sidecar scrapes every 5 s and computes deltas
 *    exactly like the scraper (cur >= prev ? cur - prev : cur, a reset of
 *    the +Inf bucket resets the whole histogram), so every number reaches
 *    the analysis through struct sample_delta;
 *  - restarts: the app is down 5-20 s (scrapes and liveness fail; at most
 *    two liveness periods), its counters restart at zero, then a cold
 *    start (latency x2 decaying with a 10 s time constant, +5 % errors
 *    decaying with 5 s); restarts are at least a minute apart (closer ones
 *    keep the app down for 3+ liveness periods: a crash loop, which the
 *    health rule is there to catch);
 *  - scrape gaps: the metrics endpoint fails for 1-10 minutes; plus 0.1 %
 *    of scrapes fail at random everywhere;
 *  - liveness probe every 10 s (2 ms), failing while the app is down.
 *
 * Reference policies (as Argo Rollouts and Flagger document their analysis):
 *  - Argo Rollouts: a measurement every 1m of rate(errors[1m]) /
 *    rate(requests[1m]) with successCondition result[0] <= 0.05, and
 *    histogram_quantile(0.5, rate(bucket[1m])) <= L; failureLimit 0 (the
 *    first failed measurement aborts) or 3 (the 4th); NaN (no requests)
 *    is a Failed measurement, an empty result (fewer than two samples in
 *    the range, e.g. during a scrape gap) an Error, retried after 10 s,
 *    and the 5th consecutive Error aborts (consecutiveErrorLimit 4).
 *  - Flagger: a check every 1m on the same two queries (success rate >= 95 %,
 *    p50 <= L); a failed check or no data increments failedChecks, which
 *    never resets; the tick after it reaches threshold 5 rolls back.
 *  - L, the latency limit, is 1.5 x the pod's healthy p50 as
 *    histogram_quantile reports it on the healthy distribution: the level
 *    an SRE would read off a dashboard, plus 50 %. p50 matches rollguard's
 *    configured quantile, so the comparison is about the decision rule.
 *  - The references see the same 5 s samples as rollguard (as if Prometheus
 *    scraped every 5 s, in their favour). After a rollback a healthy run
 *    restarts the policy (and rollguard with a fresh pod); in fault runs
 *    the references start their analysis run at the fault (failure counts
 *    from zero, in their favour), rollguard has run for 25-35 minutes.
 *
 * Two populations (rollout rows): one app, three pods of the stable revision
 * (the control, analyses running from 40 min before the rollout) and three
 * pods of the new revision (from the rollout, for the 30 min guard window), on
 * one time axis with shared fault modifiers. Each interval a round reads the
 * control pods' summaries (analysis_control_summary), pools them
 * (control_pool) and hands the previous round's view to the release pods
 * (analysis_set_control: one interval stale, as over the network); control
 * pod 0's baseline summary, taken at a random time in the 15 min before the
 * rollout, is the published baseline (analysis_set_stable_baseline). Every
 * release pod runs three analyses on the same data: control and published,
 * control only, published only (today's behaviour). A rollback is FAIL votes
 * of a quorum (auto: a majority, 2 of 3) within the vote TTL; the references
 * judge the release pods' summed series.
 *
 * Usage: bench_sim [--quick] [--days N] [--runs N] [--trials N] [--seed N]
 *                  [--only SUBSTR] [--rollout-only | --no-rollout]
 *                  [--aligned | --unaligned] [--verbose] [--trace] [--json FILE]
 * --trials: rollouts per rollout row without a release fault (default 6000;
 * fault rows take --runs). The default (full) run takes about 10 CPU minutes and exits 1 when an
 * acceptance check fails; --quick (100 pod-days, 40 runs, ~20 s) is a
 * smoke run that exits 0 once it completes. --unaligned puts ticks on a
 * timer independent of the scrapes; --verbose prints each false rollback
 * with the verdicts before it; --trace every verdict around a fault.
 * --json FILE also writes every row to FILE (for bench/run.py): per policy
 * the rollbacks and pod-days (healthy rows), or each run's time to detect
 * in seconds, null when not detected (fault rows).
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/cfg.h"
#include "sidecar/analysis/analysis.h"
#include "sidecar/analysis/attribution.h"
#include "sidecar/analysis/control.h"
#include "sidecar/daemon.h"

#define NB 12
static const double sim_le[NB] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                  0.5,   1,    2.5,   5,    10,  INFINITY};

#define DAY 86400.0
#define SCRAPE_S 5.0
#define PROBE_S 10.0
#define REF_S 60.0
#define ARGO_RETRY_S 10.0

/* ---- PRNG and samplers ------------------------------------------------------- */

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

/* uniform in (0, 1) */
static double rng_u01(struct rng *r)
{
    return ((double)(rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

static double rng_normal(struct rng *r)
{
    return sqrt(-2 * log(rng_u01(r))) * cos(2 * M_PI * rng_u01(r));
}

static double rng_exp(struct rng *r, double rate)
{
    return -log(rng_u01(r)) / rate;
}

/* Poisson: inversion below 12, Hoermann's PTRS (exact) above. */
static uint64_t rng_poisson(struct rng *r, double mu)
{
    if (!(mu > 0))
        return 0;
    if (mu < 12) {
        double p = exp(-mu), f = p, u = rng_u01(r);
        uint64_t k = 0;
        while (u > f && k < 200) {
            k++;
            p *= mu / (double)k;
            f += p;
        }
        return k;
    }
    {
        double slam = sqrt(mu), loglam = log(mu);
        double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
        double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
        for (;;) {
            double u = rng_u01(r) - 0.5, v = rng_u01(r), us = 0.5 - fabs(u);
            double k = floor((2 * a / us + b) * u + mu + 0.43);
            if (us >= 0.07 && v <= vr)
                return (uint64_t)k;
            if (k < 0 || (us < 0.013 && v > us))
                continue;
            if (log(v) + log(invalpha) - log(a / (us * us) + b) <= -mu + k * loglam - lgamma(k + 1))
                return (uint64_t)k;
        }
    }
}

/* Binomial: inversion for small n*p, Hoermann's BTRS (exact) otherwise. */
static uint64_t rng_binomial(struct rng *r, uint64_t n, double p)
{
    if (n == 0 || !(p > 0))
        return 0;
    if (p >= 1)
        return n;
    if (p > 0.5)
        return n - rng_binomial(r, n, 1 - p);
    if ((double)n * p < 12) {
        double q = 1 - p, s = p / q, a = ((double)n + 1) * s, f = pow(q, (double)n);
        double u = rng_u01(r);
        uint64_t k = 0;
        while (u > f && k < n) {
            u -= f;
            k++;
            f *= a / (double)k - s;
        }
        return k;
    }
    {
        double nd = (double)n, q = 1 - p, spq = sqrt(nd * p * q);
        double b = 1.15 + 2.53 * spq, a = -0.0873 + 0.0248 * b + 0.01 * p;
        double c = nd * p + 0.5, vr = 0.92 - 4.2 / b;
        double alpha = (2.83 + 5.1 / b) * spq, lpq = log(p / q);
        double m = floor((nd + 1) * p), h = lgamma(m + 1) + lgamma(nd - m + 1);
        for (;;) {
            double u = rng_u01(r) - 0.5, v = rng_u01(r), us = 0.5 - fabs(u);
            double k = floor((2 * a / us + b) * u + c);
            if (k < 0 || k > nd)
                continue;
            if (us >= 0.07 && v <= vr)
                return (uint64_t)k;
            v = log(v * alpha / (a / (us * us) + b));
            if (v <= h - lgamma(k + 1) - lgamma(nd - k + 1) + (k - m) * lpq)
                return (uint64_t)k;
        }
    }
}

/* ---- latency model ------------------------------------------------------------ */

static double phi(double x)
{
    return 0.5 * erfc(-x / M_SQRT2);
}

/* Bucket probabilities of X + U*extra, X lognormal(median, sigma), U uniform(0,1). */
static void lat_probs(double median, double sigma, double extra, double *p)
{
    double prev = 0;
    int nq = extra > 0 ? 16 : 1;

    for (int i = 0; i < NB; i++) {
        double c = 0;
        if (isinf(sim_le[i])) {
            c = 1;
        } else {
            for (int j = 0; j < nq; j++) {
                double x = sim_le[i] - extra * ((double)j + 0.5) / nq;
                if (x > 0)
                    c += phi((log(x) - log(median)) / sigma);
            }
            c /= nq;
        }
        p[i] = fmax(0, c - prev);
        prev = c;
    }
}

/* histogram_quantile on bucket probabilities (as if observed forever). */
static double lat_hist_quantile(const double *p, double q)
{
    double cum[NB], s = 0;

    for (int i = 0; i < NB; i++) {
        s += p[i];
        cum[i] = s;
    }
    return window_bucket_quantile(q, sim_le, cum, NB);
}

/* ---- scenarios ------------------------------------------------------------------ */

enum sim_kind { SIM_HEALTHY, SIM_FAULT };

struct scenario {
    const char *name;
    enum sim_kind kind;
    double err; /* healthy error rate */
    double restarts_day;
    double gaps_day;
    /* fault runs */
    double rate;       /* constant req/s */
    double fault_err;  /* error rate during the fault, 0 = none */
    double fault_mult; /* latency multiplier during the fault, 1 = none */
    bool tolerance;    /* a change the rules must not roll back (30 min watched) */
};

/*
 * A rollout (two populations on one time axis): control pods of the stable
 * revision run from RO_CONTROL_LEAD before the rollout, release pods from
 * the rollout on, for the guard window. Faults shared by both populations
 * start at shared_at (seconds from the rollout); a release fault is there
 * from the release pods' start.
 */
struct rollout {
    const char *name;
    bool fault;       /* a release-side fault: time to detect; else false rollbacks */
    double rate, err; /* per pod, req/s and healthy error rate */
    double shared_at; /* NAN: no shared fault */
    double shared_mult, shared_err;
    double rel_mult, rel_err; /* 1 / 0: none */
    bool drift;               /* time of day: published at night, rolled out at the peak */
};

#define RO_GUARD_S 1800.0         /* rollback.guard_window */
#define RO_CONTROL_LEAD 2400.0    /* control pods' analyses start this long before */
#define RO_PUBLISH_S 900.0        /* rollback.baseline_publish_interval */
#define RO_VOTE_TTL_S 600.0       /* rollback.h's ROLLBACK_VOTE_TTL_S */
#define RO_NCONTROL 3             /* control pods asked each round */
#define RO_NRELEASE 3             /* release pods; quorum auto = 2 */
#define DRIFT_RAMP_S (3 * 3600.0) /* night to morning peak */
#define DRIFT_NIGHT_RATE 1.0
#define DRIFT_PEAK_RATE 20.0
#define DRIFT_PEAK_MULT 1.6
#define DRIFT_NIGHT_ERR 0.01
#define DRIFT_PEAK_ERR 0.015
#define DRIFT_NIGHT_RUN_S 1200.0 /* the night pod that publishes the baseline */

/* ---- the simulated pod -------------------------------------------------------------- */

struct refsample {
    double t;
    uint64_t req, err, cum[NB];
};

#define REFRING 32

struct argo_variant {
    uint32_t limit;
    uint32_t failed[2], cons_err[2];
    uint64_t aborts, aborts_nodata;
    double decided; /* fault runs: abort time, or -1 */
};

struct flagger {
    double next;
    uint32_t failed;
    uint64_t rollbacks, rollbacks_nodata;
    uint32_t nodata_in_count;
    double decided;
};

struct rollout;

#define NVAR 3 /* rollguard variants fed the same release pod's data (rollout rows) */

struct pod {
    struct rng rng;
    const struct scenario *sc;
    /* rollout rows (two populations): the scenario, the rollout's time, the population */
    const struct rollout *ro;
    double ro_at;
    bool release, is_night; /* a release pod; the night pod that publishes (time of day) */
    /* release pods: the analyses of variants 1.. on the same data (an is variant 0) */
    struct analysis var[NVAR - 1];
    unsigned nvar;
    /* traffic */
    bool diurnal;
    double peak, night, rate_const;
    double err;
    double median, sigma, ref_limit;
    double base_p[NB], base_mult;
    double gc_p[48][NB]; /* GC-pause bucket tables by quantised pause, at base_mult 1 */
    bool gc_ok[48];
    double noise, noise_until;
    /* app */
    uint64_t req, errs, cum[NB];
    bool up;
    double up_at, started_at, gen_t;
    double next_restart, gap_until, next_gap;
    double fault_at; /* fault starts (fault runs), +inf otherwise */
    /* scraper */
    bool have_prev;
    double prev_t;
    uint64_t prev_req, prev_err, prev_cum[NB];
    /* liveness */
    int32_t live_fail;
    /* rollguard */
    struct analysis an;
    struct analysis_params ap;
    uint64_t rg_fails;
    uint64_t rg_fail_rule[ANALYSIS_RULE_COUNT];
    double rg_decided;
    /* --verbose: the latest verdicts, printed with a false FAIL */
    char hist_js[6][VERDICT_JSON_MAX];
    double hist_t[6];
    unsigned hist_n;
    /* references */
    struct refsample ring[REFRING];
    unsigned ring_n, ring_head;
    double argo_next[2];
    bool argo_started, flagger_started;
    struct argo_variant argo[2];
    struct flagger fl;
};

static struct analysis_params sim_params(void)
{
    /* config/rollguard.yaml's defaults, mapped as the daemon maps them */
    struct analysis_params p;
    struct cfg_errs errs;
    struct cfg *c;

    if (cfg_default(&c, &errs) < 0) {
        fprintf(stderr, "bench_sim: the embedded default config does not load\n");
        exit(2);
    }
    daemon_analysis_params(c, &p);
    cfg_unref(c);
    snprintf(p.config_hash, sizeof(p.config_hash), "0123456789abcdef");
    return p;
}

static double pod_rate(struct pod *p, double t)
{
    double x;

    if (!p->diurnal)
        return p->rate_const;
    /* 0 at 03:00, peak at 15:00; a long quiet night */
    x = 0.5 - 0.5 * cos(2 * M_PI * fmod(t, DAY) / DAY);
    return p->night + (p->peak - p->night) * pow(x, 2.0);
}

static void pod_base_probs(struct pod *p, double mult)
{
    if (mult == p->base_mult)
        return;
    lat_probs(p->median * mult, p->sigma, 0, p->base_p);
    p->base_mult = mult;
}

/* A rollout pod's request rate, latency multiplier and error rate at t. */
static void ro_conditions(const struct pod *p, double t, double *rate, double *mult, double *err)
{
    const struct rollout *ro = p->ro;

    *rate = ro->rate;
    *mult = 1;
    *err = ro->err;
    if (ro->drift) {
        double x =
            p->is_night ? 0 : fmin(1, fmax(0, (t - (p->ro_at - DRIFT_RAMP_S)) / DRIFT_RAMP_S));
        *rate = DRIFT_NIGHT_RATE + (DRIFT_PEAK_RATE - DRIFT_NIGHT_RATE) * x;
        *mult = 1 + (DRIFT_PEAK_MULT - 1) * x;
        *err = DRIFT_NIGHT_ERR + (DRIFT_PEAK_ERR - DRIFT_NIGHT_ERR) * x;
    }
    if (!p->is_night && !isnan(ro->shared_at) && t >= p->ro_at + ro->shared_at) {
        *mult *= ro->shared_mult;
        if (ro->shared_err > 0)
            *err = fmax(*err, ro->shared_err);
    }
    if (p->release) {
        *mult *= ro->rel_mult;
        if (ro->rel_err > 0)
            *err = ro->rel_err;
    }
}

/* Generates the app's traffic over (gen_t, t1] in one piece of constant state. */
static void pod_generate_span(struct pod *p, double t1)
{
    double t0 = p->gen_t, d = t1 - t0, tm = (t0 + t1) / 2;
    double mult = 1, err = p->err, lambda, f = 0, gmax = 0, probs[NB], gc_p[NB];
    uint64_t c[NB], n = 0, e, acc = 0;
    uint64_t k;

    p->gen_t = t1;
    if (d <= 0 || !p->up)
        return;
    if (tm >= p->noise_until) {
        p->noise = exp(0.15 * rng_normal(&p->rng));
        p->noise_until = tm + 60;
    }
    if (p->ro) {
        double rate;
        ro_conditions(p, tm, &rate, &mult, &err);
        lambda = rate * p->noise;
    } else {
        lambda = pod_rate(p, tm) * p->noise;
        if (tm >= p->fault_at) {
            mult = p->sc->fault_mult;
            if (p->sc->fault_err > 0)
                err = p->sc->fault_err;
        }
    }
    if (tm - p->started_at < 120) {
        double age = tm - p->started_at;
        mult *= 1 + exp(-age / 10);
        err = fmin(1, err + 0.05 * exp(-age / 5));
        /* quantise the cold-start multiplier so the bucket table is reused */
        mult = round(mult * 50) / 50;
    }
    pod_base_probs(p, mult);
    memcpy(probs, p->base_p, sizeof(probs));
    k = rng_poisson(&p->rng, d / 60.0);
    if (k > 0) {
        double g = 0;
        for (uint64_t i = 0; i < k; i++) {
            double gi = fmin(3.0, 0.05 * exp(1.2 * rng_normal(&p->rng)));
            g += gi;
            gmax = fmax(gmax, gi);
        }
        f = fmin(1, g / d);
        /* pauses quantised to 4 steps per e-fold (1 ms .. 3 s) so tables are reused */
        {
            int lvl = (int)lround(4 * log(fmax(gmax, 0.001) / 0.001));
            if (lvl > 47)
                lvl = 47;
            if (mult == 1) {
                if (!p->gc_ok[lvl]) {
                    lat_probs(p->median, p->sigma, 0.001 * exp(lvl / 4.0), p->gc_p[lvl]);
                    p->gc_ok[lvl] = true;
                }
                memcpy(gc_p, p->gc_p[lvl], sizeof(gc_p));
            } else {
                lat_probs(p->median * mult, p->sigma, 0.001 * exp(lvl / 4.0), gc_p);
            }
        }
        for (int i = 0; i < NB; i++)
            probs[i] = (1 - f) * probs[i] + f * gc_p[i];
    }
    for (int i = 0; i < NB; i++) {
        c[i] = rng_poisson(&p->rng, lambda * d * probs[i]);
        n += c[i];
    }
    e = rng_binomial(&p->rng, n, err);
    p->req += n;
    p->errs += e;
    for (int i = 0; i < NB; i++) {
        acc += c[i];
        p->cum[i] += acc;
    }
}

/* Generates the app's traffic over (gen_t, t1], split where the fault starts. */
static void pod_generate(struct pod *p, double t1)
{
    if (p->gen_t < p->fault_at && t1 > p->fault_at)
        pod_generate_span(p, p->fault_at);
    pod_generate_span(p, t1);
}

static void pod_analysis_start(struct pod *p, double t)
{
    analysis_done(&p->an);
    if (analysis_init(&p->an, &p->ap, (int64_t)(t * 1000)) < 0) {
        fprintf(stderr, "analysis_init failed\n");
        exit(1);
    }
}

static void pod_init(struct pod *p, const struct scenario *sc, uint64_t seed)
{
    memset(p, 0, sizeof(*p));
    rng_seed(&p->rng, seed);
    p->sc = sc;
    p->ap = sim_params();
    if (sc->kind == SIM_HEALTHY) {
        p->diurnal = true;
        p->peak = exp(log(5) + rng_u01(&p->rng) * (log(200) - log(5)));
        p->night = 0.2 + 0.6 * rng_u01(&p->rng);
        p->err = sc->err;
        p->fault_at = INFINITY;
    } else {
        p->rate_const = sc->rate;
        p->err = 0.01;
        p->fault_at = 1500 + 600 * rng_u01(&p->rng);
    }
    p->median = exp(log(0.02) + rng_u01(&p->rng) * (log(0.2) - log(0.02)));
    p->sigma = 0.4 + 0.4 * rng_u01(&p->rng);
    p->base_mult = -1;
    {
        double hp[NB];
        lat_probs(p->median, p->sigma, 0, hp);
        p->ref_limit = 1.5 * lat_hist_quantile(hp, 0.5);
    }
    p->up = true;
    p->started_at = -1e9;
    p->next_restart = sc->restarts_day > 0 ? rng_exp(&p->rng, sc->restarts_day / DAY) : INFINITY;
    p->next_gap = sc->gaps_day > 0 ? rng_exp(&p->rng, sc->gaps_day / DAY) : INFINITY;
    p->up_at = INFINITY;
    p->rg_decided = -1;
    p->argo[0].limit = 0;
    p->argo[1].limit = 3;
    p->argo[0].decided = p->argo[1].decided = -1;
    p->fl.decided = -1;
    pod_analysis_start(p, 0);
}

/* ---- the scraper ------------------------------------------------------------------- */

static uint64_t inc(uint64_t cur, uint64_t prev)
{
    return cur >= prev ? cur - prev : cur;
}

static void pod_scrape(struct pod *p, double t)
{
    struct sample_delta d;
    bool ok;

    pod_generate(p, t);
    ok = p->up && t >= p->gap_until && rng_u01(&p->rng) >= 0.001;
    memset(&d, 0, sizeof(d));
    if (!ok) {
        if (p->have_prev) {
            d.valid = false;
            analysis_observe_delta(&p->an, &d, (int64_t)(t * 1000));
            for (unsigned k = 0; k < p->nvar; k++)
                analysis_observe_delta(&p->var[k], &d, (int64_t)(t * 1000));
        }
        return;
    }
    /* the reference policies read the same sample from "Prometheus" */
    {
        struct refsample *s = &p->ring[p->ring_head];
        s->t = t;
        s->req = p->req;
        s->err = p->errs;
        memcpy(s->cum, p->cum, sizeof(s->cum));
        p->ring_head = (p->ring_head + 1) % REFRING;
        if (p->ring_n < REFRING)
            p->ring_n++;
    }
    if (p->have_prev) {
        bool hreset = p->cum[NB - 1] < p->prev_cum[NB - 1];
        uint64_t prev_inc = 0;
        d.valid = true;
        d.span_s = t - p->prev_t;
        d.requests = inc(p->req, p->prev_req);
        d.errors = inc(p->errs, p->prev_err);
        d.reset = p->req < p->prev_req || p->errs < p->prev_err || hreset;
        if (d.errors > d.requests)
            d.errors = d.requests;
        d.has_hist = true;
        d.hist.n = NB;
        for (int i = 0; i < NB; i++) {
            uint64_t ci = hreset ? p->cum[i] : inc(p->cum[i], p->prev_cum[i]);
            d.hist.le[i] = sim_le[i];
            d.hist.count[i] = ci >= prev_inc ? ci - prev_inc : 0;
            prev_inc = ci > prev_inc ? ci : prev_inc;
        }
        analysis_observe_delta(&p->an, &d, (int64_t)(t * 1000));
        for (unsigned k = 0; k < p->nvar; k++)
            analysis_observe_delta(&p->var[k], &d, (int64_t)(t * 1000));
    }
    p->have_prev = true;
    p->prev_t = t;
    p->prev_req = p->req;
    p->prev_err = p->errs;
    memcpy(p->prev_cum, p->cum, sizeof(p->cum));
}

static void pod_probe(struct pod *p, double t)
{
    double lat;
    bool ok = p->up;

    if (ok) {
        lat = 0.002 * exp(0.3 * rng_normal(&p->rng));
        p->live_fail = 0;
    } else {
        lat = 0.0005;
        p->live_fail++;
    }
    analysis_observe_probe(&p->an, lat, ok, p->live_fail, (int64_t)(t * 1000));
    for (unsigned k = 0; k < p->nvar; k++)
        analysis_observe_probe(&p->var[k], lat, ok, p->live_fail, (int64_t)(t * 1000));
}

/* ---- reference policies --------------------------------------------------------------- */

/*
 * The [1m] range query at t: error ratio and p50 over the samples in
 * (t - 60, t]. Returns false for an empty result (fewer than 2 samples).
 */
static bool ref_query(const struct pod *p, double t, double *ratio, double *p50)
{
    const struct refsample *s[REFRING];
    unsigned n = 0;
    uint64_t dreq = 0, derr = 0;
    double dcum[NB] = {0};

    for (unsigned i = 0; i < p->ring_n; i++) {
        const struct refsample *x = &p->ring[(p->ring_head + REFRING - p->ring_n + i) % REFRING];
        if (x->t > t - REF_S && x->t <= t)
            s[n++] = x;
    }
    if (n < 2)
        return false;
    for (unsigned i = 1; i < n; i++) {
        dreq += inc(s[i]->req, s[i - 1]->req);
        derr += inc(s[i]->err, s[i - 1]->err);
        for (int b = 0; b < NB; b++)
            dcum[b] += (double)inc(s[i]->cum[b], s[i - 1]->cum[b]);
    }
    *ratio = dreq ? (double)derr / (double)dreq : NAN;
    *p50 = window_bucket_quantile(0.5, sim_le, dcum, NB);
    return true;
}

static void argo_reset(struct argo_variant *v)
{
    v->failed[0] = v->failed[1] = 0;
    v->cons_err[0] = v->cons_err[1] = 0;
}

/* One Argo measurement of both metrics at t; returns when each metric is due next. */
static void ref_argo(struct pod *p, double t, bool fault_mode)
{
    double ratio = NAN, p50 = NAN;
    bool have = ref_query(p, t, &ratio, &p50);
    int due[2] = {p->argo_next[0] <= t, p->argo_next[1] <= t};

    for (int m = 0; m < 2; m++) {
        bool failed;
        if (!due[m])
            continue;
        p->argo_next[m] = t + (have ? REF_S : ARGO_RETRY_S);
        /* NaN compares false: a Failed measurement */
        failed = m == 0 ? !(ratio <= 0.05) : !(p50 <= p->ref_limit);
        for (int v = 0; v < 2; v++) {
            struct argo_variant *av = &p->argo[v];
            bool abort_now = false, nodata = false;
            if (fault_mode && av->decided >= 0)
                continue;
            if (!have) {
                if (++av->cons_err[m] > 4) {
                    abort_now = true;
                    nodata = true;
                }
            } else {
                av->cons_err[m] = 0;
                if (failed && ++av->failed[m] > av->limit) {
                    abort_now = true;
                    nodata = m == 0 ? isnan(ratio) : isnan(p50);
                }
            }
            if (abort_now) {
                av->aborts++;
                av->aborts_nodata += nodata;
                if (fault_mode)
                    av->decided = t;
                argo_reset(av);
            }
        }
    }
}

static void ref_flagger(struct pod *p, double t, bool fault_mode)
{
    struct flagger *f = &p->fl;
    double ratio = NAN, p50 = NAN;
    bool have, bad;

    f->next = t + REF_S;
    if (fault_mode && f->decided >= 0)
        return;
    /* the threshold is checked before the analysis of this tick */
    if (f->failed >= 5) {
        f->rollbacks++;
        f->rollbacks_nodata += f->nodata_in_count >= 3;
        if (fault_mode)
            f->decided = t;
        f->failed = 0;
        f->nodata_in_count = 0;
        return;
    }
    have = ref_query(p, t, &ratio, &p50);
    bad = !have || !(ratio <= 0.05) || !(p50 <= p->ref_limit);
    if (bad) {
        f->failed++;
        f->nodata_in_count += !have || isnan(ratio) || isnan(p50);
    }
}

/* ---- running one pod ---------------------------------------------------------------------- */

struct sim_opts {
    bool aligned;
    bool verbose;
    bool trace; /* print every verdict from 20 s before the fault (fault runs) */
};

/*
 * Runs a pod from 0 to end seconds. Healthy: counts rollbacks. Fault: stops
 * once every policy decided after fault_at.
 */
static void pod_run(struct pod *p, double end, const struct sim_opts *o)
{
    bool fault_mode = p->sc->kind == SIM_FAULT;
    double ph_scrape = SCRAPE_S * rng_u01(&p->rng);
    double next_scrape = ph_scrape, next_probe = PROBE_S * rng_u01(&p->rng);
    double next_tick =
        o->aligned ? ph_scrape + 0.001 + 5.0 * (rng_u01(&p->rng) < 0.5) : 10.0 * rng_u01(&p->rng);
    double t = 0;
    struct verdict v;

    if (!fault_mode) {
        p->argo_next[0] = p->argo_next[1] = 30 + REF_S * rng_u01(&p->rng);
        p->fl.next = 30 + REF_S * rng_u01(&p->rng);
        p->argo_started = p->flagger_started = true;
    } else {
        p->argo_next[0] = p->argo_next[1] = p->fault_at + REF_S * rng_u01(&p->rng);
        p->fl.next = p->fault_at + REF_S * rng_u01(&p->rng);
    }
    while (t < end) {
        double next_ref = fmin(fmin(p->argo_next[0], p->argo_next[1]), p->fl.next);
        double tn = fmin(fmin(next_scrape, next_probe), fmin(next_tick, next_ref));
        tn = fmin(tn, fmin(p->next_restart, p->up_at));
        tn = fmin(tn, p->next_gap);
        t = tn;
        if (t >= end)
            break;
        if (t == p->next_restart) {
            pod_generate(p, t);
            p->up = false;
            p->up_at = t + 5 + 15 * rng_u01(&p->rng);
            p->req = p->errs = 0;
            memset(p->cum, 0, sizeof(p->cum));
            /* one restart at a time: two in a row would be a crash loop */
            p->next_restart = INFINITY;
        } else if (t == p->up_at) {
            pod_generate(p, t);
            p->up = true;
            p->started_at = t;
            p->up_at = INFINITY;
            /* the next restart at least a minute later: closer ones are a crash loop,
             * which the health rule is meant to catch */
            p->next_restart = t + 60 + rng_exp(&p->rng, p->sc->restarts_day / DAY);
        } else if (t == p->next_gap) {
            p->gap_until = t + 60 + 540 * rng_u01(&p->rng);
            p->next_gap = t + rng_exp(&p->rng, p->sc->gaps_day / DAY);
        } else if (t == next_scrape) {
            pod_scrape(p, t);
            next_scrape += SCRAPE_S;
        } else if (t == next_probe) {
            pod_probe(p, t);
            next_probe += PROBE_S;
        } else if (t == next_tick) {
            analysis_tick(&p->an, (int64_t)(t * 1000), &v);
            next_tick += 10.0;
            if (o->trace && fault_mode && t >= p->fault_at - 20 && p->rg_decided < 0) {
                char js[VERDICT_JSON_MAX];
                verdict_render_json(&v, js, sizeof(js));
                printf("  t=%+.1fs %s\n", t - p->fault_at, js);
            }
            if (o->verbose && v.outcome != VERDICT_FAIL) {
                verdict_render_json(&v, p->hist_js[p->hist_n % 6], VERDICT_JSON_MAX);
                p->hist_t[p->hist_n % 6] = t;
                p->hist_n++;
            }
            if (v.outcome == VERDICT_FAIL) {
                if (fault_mode && t >= p->fault_at) {
                    if (p->rg_decided < 0)
                        p->rg_decided = t;
                } else {
                    if (o->verbose) {
                        char js[VERDICT_JSON_MAX];
                        for (unsigned k = p->hist_n > 6 ? p->hist_n - 6 : 0; k < p->hist_n; k++)
                            printf("  before %.0fs: %s\n", p->hist_t[k % 6], p->hist_js[k % 6]);
                        verdict_render_json(&v, js, sizeof(js));
                        printf("  false FAIL at %.0fs (day %.2f, rate %.2f/s): %s\n", t, t / DAY,
                               pod_rate(p, t), js);
                    }
                    p->rg_fails++;
                    p->rg_fail_rule[v.rule]++;
                    pod_analysis_start(p, t);
                }
            }
        } else {
            if (t == p->fl.next)
                ref_flagger(p, t, fault_mode);
            if (t == p->argo_next[0] || t == p->argo_next[1])
                ref_argo(p, t, fault_mode);
        }
        if (fault_mode && p->rg_decided >= 0 && p->argo[0].decided >= 0 &&
            p->argo[1].decided >= 0 && p->fl.decided >= 0)
            break;
    }
}

/* ---- statistics and the table ---------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Quantile of n values (inf = not detected); nearest rank. */
static double q_of(double *v, unsigned n, double q)
{
    unsigned i;

    if (n == 0)
        return NAN;
    qsort(v, n, sizeof(*v), cmp_double);
    i = (unsigned)ceil(q * n);
    if (i < 1)
        i = 1;
    return v[i - 1];
}

enum { POL_RG, POL_A0, POL_A3, POL_FL, POL_N };
static const char *const pol_name[POL_N] = {"rollguard", "argo(fl=0)", "argo(fl=3)", "flagger(5)"};

struct result {
    const struct scenario *sc;
    double pod_days;
    uint64_t rollbacks[POL_N], nodata[POL_N];
    uint64_t rule[ANALYSIS_RULE_COUNT];
    unsigned runs, detected[POL_N], pre_fault;
    double p50[POL_N], p95[POL_N];
    double *ttd[POL_N]; /* fault rows: each run's time to detect (inf: missed), sorted */
};

static void fmt_time(char *buf, size_t n, double s)
{
    if (isnan(s))
        snprintf(buf, n, "-");
    else if (isinf(s))
        snprintf(buf, n, "miss");
    else if (s < 100)
        snprintf(buf, n, "%.1fs", s);
    else if (s < 600)
        snprintf(buf, n, "%.0fs", s);
    else
        snprintf(buf, n, "%.1fm", s / 60);
}

static void print_header(void)
{
    printf("%-34s", "scenario");
    for (int i = 0; i < POL_N; i++)
        printf(" | %-24s", pol_name[i]);
    printf("\n%-34s", "");
    for (int i = 0; i < POL_N; i++)
        printf(" | %8s %7s %7s", "FR/1kpd", "TTD50", "TTD95");
    printf("\n");
}

static void print_row(const struct result *r)
{
    printf("%-34s", r->sc->name);
    for (int i = 0; i < POL_N; i++) {
        char a[16], b[16], c[16];
        if (r->sc->kind == SIM_HEALTHY) {
            snprintf(a, sizeof(a), "%.2f", 1000.0 * (double)r->rollbacks[i] / r->pod_days);
            snprintf(b, sizeof(b), "-");
            snprintf(c, sizeof(c), "-");
        } else {
            snprintf(a, sizeof(a), "%u/%u", r->detected[i], r->runs);
            fmt_time(b, sizeof(b), r->p50[i]);
            fmt_time(c, sizeof(c), r->p95[i]);
        }
        printf(" | %8s %7s %7s", a, b, c);
    }
    printf("\n");
    fflush(stdout);
}

static void run_healthy(const struct scenario *sc, double days, uint64_t seed,
                        const struct sim_opts *o, struct result *r)
{
    const double pod_days = 10;
    unsigned pods = (unsigned)ceil(days / pod_days);
    static struct pod p;

    memset(r, 0, sizeof(*r));
    r->sc = sc;
    for (unsigned i = 0; i < pods; i++) {
        double d = fmin(pod_days, days - i * pod_days);
        pod_init(&p, sc, seed * 1000003 + i);
        pod_run(&p, d * DAY, o);
        r->pod_days += d;
        r->rollbacks[POL_RG] += p.rg_fails;
        for (int k = 0; k < ANALYSIS_RULE_COUNT; k++)
            r->rule[k] += p.rg_fail_rule[k];
        r->rollbacks[POL_A0] += p.argo[0].aborts;
        r->nodata[POL_A0] += p.argo[0].aborts_nodata;
        r->rollbacks[POL_A3] += p.argo[1].aborts;
        r->nodata[POL_A3] += p.argo[1].aborts_nodata;
        r->rollbacks[POL_FL] += p.fl.rollbacks;
        r->nodata[POL_FL] += p.fl.rollbacks_nodata;
        analysis_done(&p.an);
    }
}

static void run_faults(const struct scenario *sc, unsigned runs, uint64_t seed,
                       const struct sim_opts *o, struct result *r)
{
    static struct pod p;
    double **ttd = r->ttd;
    double horizon = sc->rate < 5 || sc->tolerance ? 1800 : 900;

    memset(r, 0, sizeof(*r));
    r->sc = sc;
    r->runs = runs;
    for (int i = 0; i < POL_N; i++) {
        ttd[i] = calloc(runs ? runs : 1, sizeof(double));
        if (!ttd[i]) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
    }
    for (unsigned i = 0; i < runs; i++) {
        double dec[POL_N];
        pod_init(&p, sc, seed * 7919 + i);
        pod_run(&p, p.fault_at + horizon, o);
        dec[POL_RG] = p.rg_decided;
        dec[POL_A0] = p.argo[0].decided;
        dec[POL_A3] = p.argo[1].decided;
        dec[POL_FL] = p.fl.decided;
        r->pre_fault += (unsigned)p.rg_fails;
        for (int k = 0; k < POL_N; k++) {
            ttd[k][i] = dec[k] >= 0 ? dec[k] - p.fault_at : INFINITY;
            r->detected[k] += dec[k] >= 0;
        }
        analysis_done(&p.an);
    }
    for (int k = 0; k < POL_N; k++) {
        r->p50[k] = q_of(ttd[k], runs, 0.5);
        r->p95[k] = q_of(ttd[k], runs, 0.95);
    }
}

/* ---- two populations: a rollout against its concurrent control ------------------------------ */

/* The rollguard variants a release pod runs side by side on the same data. */
enum { VAR_CP, VAR_C, VAR_P };
static const char *const var_name[NVAR] = {"control+published", "control, no published",
                                           "published only"};

struct ro_result {
    const struct rollout *ro;
    unsigned trials, no_published;
    double pod_days; /* trials x guard window */
    /* per variant: fleet rollbacks (quorum auto), release pods with a FAIL, FAILs withheld */
    unsigned fleet[NVAR], pod_fails[NVAR];
    uint64_t withheld[NVAR], not_worse[NVAR];
    unsigned refs[POL_N];      /* reference rollbacks (index 0 unused) */
    double *ttd[NVAR + POL_N]; /* fault rows: variants, then references 1..3 */
    unsigned detected[NVAR + POL_N], pre_fault[NVAR];
    double p50[NVAR + POL_N], p90[NVAR + POL_N];
};

/* When the fault a rollout row times starts (a release fault: the rollout). */
static double ro_fault_at(const struct rollout *ro)
{
    return RO_CONTROL_LEAD + (ro->rel_mult != 1 || ro->rel_err > 0 ? 0 : ro->shared_at);
}

static void ro_pod_init(struct pod *p, const struct rollout *ro, uint64_t seed, double ro_at,
                        double start, bool release, bool night, double median, double sigma)
{
    static const struct scenario dummy = {"rollout", SIM_FAULT, 0, 0, 0, 0, 0, 1};

    memset(p, 0, sizeof(*p));
    rng_seed(&p->rng, seed);
    p->sc = &dummy;
    p->ro = ro;
    p->ro_at = ro_at;
    p->release = release;
    p->is_night = night;
    p->ap = sim_params();
    p->median = median;
    p->sigma = sigma;
    p->base_mult = -1;
    p->up = true;
    p->started_at = release ? start : -1e9; /* a release pod starts cold */
    p->gen_t = start;
    p->fault_at = night || isnan(ro->shared_at) ? INFINITY : ro_at + ro->shared_at;
    p->next_restart = p->next_gap = p->up_at = INFINITY;
    p->rg_decided = -1;
    pod_analysis_start(p, start);
    if (release) {
        p->nvar = NVAR - 1;
        for (unsigned k = 0; k < p->nvar; k++)
            if (analysis_init(&p->var[k], &p->ap, (int64_t)(start * 1000)) < 0) {
                fprintf(stderr, "analysis_init failed\n");
                exit(1);
            }
    }
}

static void ro_pod_done(struct pod *p)
{
    analysis_done(&p->an);
    for (unsigned k = 0; k < p->nvar; k++)
        analysis_done(&p->var[k]);
}

/* The analysis of variant v of a release pod. */
static struct analysis *ro_var(struct pod *p, int v)
{
    return v == 0 ? &p->an : &p->var[v - 1];
}

/* Event times of one pod. */
struct ro_clock {
    double scrape, probe, tick;
};

static void ro_clock_init(struct pod *p, struct ro_clock *c, double start, bool aligned)
{
    double ph = SCRAPE_S * rng_u01(&p->rng);
    c->scrape = start + ph;
    c->probe = start + PROBE_S * rng_u01(&p->rng);
    c->tick = aligned ? c->scrape + 0.001 + 5.0 * (rng_u01(&p->rng) < 0.5)
                      : start + 10.0 * rng_u01(&p->rng);
}

/*
 * One rollout: RO_NCONTROL control pods from R - RO_CONTROL_LEAD, RO_NRELEASE
 * release pods from R to R + RO_GUARD_S, one app (median, sigma) for all. Every
 * interval a round reads the control pods' summaries and pools them
 * (control_pool); the release pods get the previous round's view (one
 * interval stale). A control pod's baseline is published at a random time in
 * the publish interval before R (drift: a night pod's, hours before).
 * Fills dec[] (fleet rollback time per variant and reference, -1 none) and
 * the per-variant counters of r.
 */
static void ro_trial(const struct rollout *ro, uint64_t seed, const struct sim_opts *o,
                     struct ro_result *r, double *dec)
{
    static struct pod ctl[RO_NCONTROL], rel[RO_NRELEASE], agg, night;
    struct ro_clock cc[RO_NCONTROL], rc[RO_NRELEASE];
    struct rng trng;
    const double R = RO_CONTROL_LEAD, end = R + RO_GUARD_S;
    double median, sigma, t_pub, next_round, last_fail[NVAR][RO_NRELEASE];
    struct baseline_summary pub;
    bool have_pub = false, delivered = false, have_view = false, pod_failed[NVAR][RO_NRELEASE];
    struct control_view view, next_view;
    int64_t rollout_ms = (int64_t)(R * 1000);
    uint32_t quorum = attribution_quorum(0, RO_NRELEASE, RO_NRELEASE);
    struct verdict v;

    rng_seed(&trng, seed);
    median = exp(log(0.02) + rng_u01(&trng) * (log(0.2) - log(0.02)));
    sigma = 0.4 + 0.4 * rng_u01(&trng);
    t_pub = R - RO_PUBLISH_S * rng_u01(&trng);
    next_round = R + 10.0 * rng_u01(&trng);
    for (int k = 0; k < NVAR + POL_N; k++)
        dec[k] = -1;
    memset(pod_failed, 0, sizeof(pod_failed));
    for (int k = 0; k < NVAR; k++)
        for (int i = 0; i < RO_NRELEASE; i++)
            last_fail[k][i] = -INFINITY;

    /* drift: the baseline a stable pod published at night */
    if (ro->drift) {
        struct ro_clock nc;
        ro_pod_init(&night, ro, seed * 31 + 7, R, 0, false, true, median, sigma);
        ro_clock_init(&night, &nc, 0, o->aligned);
        for (;;) {
            double t = fmin(fmin(nc.scrape, nc.probe), nc.tick);
            if (t >= DRIFT_NIGHT_RUN_S)
                break;
            if (t == nc.scrape) {
                pod_scrape(&night, t);
                nc.scrape += SCRAPE_S;
            } else if (t == nc.probe) {
                pod_probe(&night, t);
                nc.probe += PROBE_S;
            } else {
                analysis_tick(&night.an, (int64_t)(t * 1000), &v);
                nc.tick += 10.0;
            }
        }
        have_pub = analysis_baseline_summary(&night.an, "stable", &pub) == 0;
        ro_pod_done(&night);
        t_pub = INFINITY;
    }
    for (int i = 0; i < RO_NCONTROL; i++) {
        ro_pod_init(&ctl[i], ro, seed * 31 + (uint64_t)i, R, 0, false, false, median, sigma);
        ro_clock_init(&ctl[i], &cc[i], 0, o->aligned);
    }
    for (int i = 0; i < RO_NRELEASE; i++) {
        ro_pod_init(&rel[i], ro, seed * 31 + 16 + (uint64_t)i, R, R, true, false, median, sigma);
        ro_clock_init(&rel[i], &rc[i], R, o->aligned);
    }
    /* the references: one analysis run over the release pods' summed series */
    memset(&agg, 0, sizeof(agg));
    {
        double hp[NB];
        lat_probs(median, sigma, 0, hp);
        agg.ref_limit = 1.5 * lat_hist_quantile(hp, 0.5);
    }
    agg.argo[0].limit = 0;
    agg.argo[1].limit = 3;
    agg.argo[0].decided = agg.argo[1].decided = agg.fl.decided = -1;
    agg.argo_next[0] = agg.argo_next[1] = R + 30 + REF_S * rng_u01(&trng);
    agg.fl.next = R + 30 + REF_S * rng_u01(&trng);

    for (;;) {
        double t = fmin(next_round, t_pub);
        int who = -1, what = 0; /* pod index (release pods after control), event */
        t = fmin(t, fmin(fmin(agg.argo_next[0], agg.argo_next[1]), agg.fl.next));
        for (int i = 0; i < RO_NCONTROL + RO_NRELEASE; i++) {
            struct ro_clock *c = i < RO_NCONTROL ? &cc[i] : &rc[i - RO_NCONTROL];
            double e[3] = {c->scrape, c->probe, c->tick};
            for (int k = 0; k < 3; k++)
                if (e[k] < t) {
                    t = e[k];
                    who = i;
                    what = k;
                }
        }
        if (t >= end)
            break;
        if (who >= 0) {
            bool is_rel = who >= RO_NCONTROL;
            struct pod *p = is_rel ? &rel[who - RO_NCONTROL] : &ctl[who];
            struct ro_clock *c = is_rel ? &rc[who - RO_NCONTROL] : &cc[who];
            if (what == 0) {
                pod_scrape(p, t);
                c->scrape += SCRAPE_S;
                if (p == &rel[0]) {
                    /* "Prometheus": the release pods' counters summed, every 5 s */
                    struct refsample *sm = &agg.ring[agg.ring_head];
                    memset(sm, 0, sizeof(*sm));
                    sm->t = t;
                    for (int i = 0; i < RO_NRELEASE; i++) {
                        pod_generate(&rel[i], t);
                        sm->req += rel[i].req;
                        sm->err += rel[i].errs;
                        for (int b = 0; b < NB; b++)
                            sm->cum[b] += rel[i].cum[b];
                    }
                    agg.ring_head = (agg.ring_head + 1) % REFRING;
                    if (agg.ring_n < REFRING)
                        agg.ring_n++;
                }
            } else if (what == 1) {
                pod_probe(p, t);
                c->probe += PROBE_S;
            } else {
                c->tick += 10.0;
                if (!is_rel) {
                    analysis_tick(&p->an, (int64_t)(t * 1000), &v);
                    continue;
                }
                for (int k = 0; k < NVAR; k++) {
                    int i = who - RO_NCONTROL;
                    unsigned votes = 0;
                    analysis_tick(ro_var(p, k), (int64_t)(t * 1000), &v);
                    r->withheld[k] += v.control.decision == ATTRIBUTION_WITHHOLD;
                    r->not_worse[k] += v.control.decision == ATTRIBUTION_NOT_WORSE;
                    if (v.outcome != VERDICT_FAIL)
                        continue;
                    last_fail[k][i] = t;
                    if (!pod_failed[k][i]) {
                        pod_failed[k][i] = true;
                        r->pod_fails[k]++;
                    }
                    for (int j = 0; j < RO_NRELEASE; j++)
                        votes += last_fail[k][j] > t - RO_VOTE_TTL_S;
                    if (votes >= quorum && dec[k] < 0) {
                        dec[k] = t;
                        if (o->verbose && (!ro->fault || t < ro_fault_at(ro))) {
                            char js[VERDICT_JSON_MAX];
                            verdict_render_json(&v, js, sizeof(js));
                            printf("  %s, %s: false rollback at %+.0fs: %s\n", ro->name,
                                   var_name[k], t - R, js);
                        }
                    }
                }
            }
            continue;
        }
        if (t == t_pub) {
            have_pub = analysis_baseline_summary(&ctl[0].an, "stable", &pub) == 0;
            t_pub = INFINITY;
        } else if (t == next_round) {
            struct control_summary sm[RO_NCONTROL];
            unsigned n = 0;
            /* the view read one interval ago reaches the release pods now */
            for (int i = 0; i < RO_NRELEASE; i++)
                for (int k = 0; k < NVAR; k++) {
                    if (k == VAR_P)
                        continue;
                    if (have_view)
                        analysis_set_control(ro_var(&rel[i], k), &view, NULL);
                    else
                        analysis_set_control(ro_var(&rel[i], k), NULL, "no control view read yet");
                }
            for (int i = 0; i < RO_NCONTROL; i++)
                n += analysis_control_summary(&ctl[i].an, (int64_t)(t * 1000), &sm[n]) == 0;
            have_view = control_pool(sm, n, RO_NCONTROL, "stable", (int64_t)(t * 1000), rollout_ms,
                                     &next_view) == 0;
            view = next_view;
            next_round += 10.0;
        } else {
            if (t == agg.fl.next)
                ref_flagger(&agg, t, true);
            if (t == agg.argo_next[0] || t == agg.argo_next[1])
                ref_argo(&agg, t, true);
        }
        /* the published baseline reaches the release pods when they start */
        if (t >= R && have_pub) {
            for (int i = 0; i < RO_NRELEASE; i++) {
                analysis_set_stable_baseline(ro_var(&rel[i], VAR_CP), &pub);
                analysis_set_stable_baseline(ro_var(&rel[i], VAR_P), &pub);
            }
            have_pub = false;
            delivered = true;
        }
    }
    r->no_published += !delivered;
    dec[NVAR + POL_A0] = agg.argo[0].decided;
    dec[NVAR + POL_A3] = agg.argo[1].decided;
    dec[NVAR + POL_FL] = agg.fl.decided;
    for (int i = 0; i < RO_NCONTROL; i++)
        ro_pod_done(&ctl[i]);
    for (int i = 0; i < RO_NRELEASE; i++)
        ro_pod_done(&rel[i]);
}

static void run_rollout(const struct rollout *ro, unsigned trials, uint64_t seed,
                        const struct sim_opts *o, struct ro_result *r)
{
    double fault_at = ro_fault_at(ro);

    memset(r, 0, sizeof(*r));
    r->ro = ro;
    r->trials = trials;
    r->pod_days = trials * RO_GUARD_S / DAY;
    for (int k = 0; k < NVAR + POL_N; k++) {
        if (k == NVAR)
            continue; /* POL_RG: the variants stand for it */
        r->ttd[k] = calloc(trials ? trials : 1, sizeof(double));
        if (!r->ttd[k]) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
    }
    for (unsigned i = 0; i < trials; i++) {
        double dec[NVAR + POL_N];
        ro_trial(ro, seed * 7919 + i, o, r, dec);
        for (int k = 0; k < NVAR + POL_N; k++) {
            if (k == NVAR)
                continue;
            if (!ro->fault) {
                if (k < NVAR)
                    r->fleet[k] += dec[k] >= 0;
                else
                    r->refs[k - NVAR] += dec[k] >= 0;
                continue;
            }
            if (k < NVAR && dec[k] >= 0 && dec[k] < fault_at)
                r->pre_fault[k]++;
            r->ttd[k][i] = dec[k] >= fault_at ? dec[k] - fault_at : INFINITY;
            r->detected[k] += dec[k] >= fault_at;
        }
    }
    for (int k = 0; k < NVAR + POL_N; k++) {
        if (k == NVAR || !ro->fault)
            continue;
        r->p50[k] = q_of(r->ttd[k], trials, 0.5);
        r->p90[k] = q_of(r->ttd[k], trials, 0.9);
    }
}

static void print_ro_header(void)
{
    printf("%-62s", "rollout scenario | rollguard variant");
    for (int i = 0; i < POL_N; i++)
        printf(" | %-24s", pol_name[i]);
    printf("\n%-62s", "");
    for (int i = 0; i < POL_N; i++)
        printf(" | %8s %7s %7s", "FR/1kpd", "TTD50", "TTD90");
    printf("\n");
}

static void print_ro_rows(const struct ro_result *r)
{
    for (int k = 0; k < NVAR; k++) {
        char name[128];
        snprintf(name, sizeof(name), "%s | %s", r->ro->name, var_name[k]);
        printf("%-62s", name);
        for (int i = 0; i < POL_N; i++) {
            int x = i == POL_RG ? k : NVAR + i;
            char a[16], b[16], c[16];
            if (!r->ro->fault) {
                unsigned n = i == POL_RG ? r->fleet[k] : r->refs[i];
                snprintf(a, sizeof(a), "%.2f", 1000.0 * n / r->pod_days);
                snprintf(b, sizeof(b), "-");
                snprintf(c, sizeof(c), "-");
            } else {
                snprintf(a, sizeof(a), "%u/%u", r->detected[x], r->trials);
                fmt_time(b, sizeof(b), r->p50[x]);
                fmt_time(c, sizeof(c), r->p90[x]);
            }
            printf(" | %8s %7s %7s", a, b, c);
        }
        printf("\n");
        printf("%-62s   %u rollbacks in %u rollouts (%.1f pod-days); release pods with a FAIL: "
               "%u of %u; FAILs withheld %llu, not the release %llu",
               "", r->ro->fault ? r->detected[k] : r->fleet[k], r->trials, r->pod_days,
               r->pod_fails[k], r->trials * RO_NRELEASE, (unsigned long long)r->withheld[k],
               (unsigned long long)r->not_worse[k]);
        if (r->pre_fault[k])
            printf("; before the fault: %u", r->pre_fault[k]);
        printf("\n");
    }
    if (r->no_published)
        printf("%-62s   no published baseline in %u rollouts\n", "", r->no_published);
    fflush(stdout);
}

/* ---- main
 * ---------------------------------------------------------------------------------------- */

static const struct scenario scenarios[] = {
    {"healthy, 0.1% errors", SIM_HEALTHY, 0.001, 0, 0, 0, 0, 1},
    {"healthy, 1% errors", SIM_HEALTHY, 0.01, 0, 0, 0, 0, 1},
    {"healthy, 3% errors", SIM_HEALTHY, 0.03, 0, 0, 0, 0, 1},
    {"healthy 1%, restarts 6/day", SIM_HEALTHY, 0.01, 6, 0, 0, 0, 1},
    {"healthy 3%, restarts 6/day", SIM_HEALTHY, 0.03, 6, 0, 0, 0, 1},
    {"healthy 1%, scrape gaps 6/day", SIM_HEALTHY, 0.01, 0, 6, 0, 0, 1},
    {"healthy 3%, scrape gaps 6/day", SIM_HEALTHY, 0.03, 0, 6, 0, 0, 1},
    {"errors 10% @ 1 rps", SIM_FAULT, 0, 0, 0, 1, 0.10, 1},
    {"errors 10% @ 10 rps", SIM_FAULT, 0, 0, 0, 10, 0.10, 1},
    {"errors 10% @ 100 rps", SIM_FAULT, 0, 0, 0, 100, 0.10, 1},
    {"errors 20% @ 1 rps", SIM_FAULT, 0, 0, 0, 1, 0.20, 1},
    {"errors 20% @ 10 rps", SIM_FAULT, 0, 0, 0, 10, 0.20, 1},
    {"errors 20% @ 100 rps", SIM_FAULT, 0, 0, 0, 100, 0.20, 1},
    {"latency 1.5x @ 1 rps", SIM_FAULT, 0, 0, 0, 1, 0, 1.5},
    {"latency 1.5x @ 10 rps", SIM_FAULT, 0, 0, 0, 10, 0, 1.5},
    {"latency 1.5x @ 100 rps", SIM_FAULT, 0, 0, 0, 100, 0, 1.5},
    {"latency 2x @ 1 rps", SIM_FAULT, 0, 0, 0, 1, 0, 2},
    {"latency 2x @ 10 rps", SIM_FAULT, 0, 0, 0, 10, 0, 2},
    {"latency 2x @ 100 rps", SIM_FAULT, 0, 0, 0, 100, 0, 2},
    {"tolerated: errors 1%->4% @ 10 rps", SIM_FAULT, 0, 0, 0, 10, 0.04, 1, true},
    {"tolerated: errors 1%->4% @ 100 rps", SIM_FAULT, 0, 0, 0, 100, 0.04, 1, true},
    {"tolerated: latency 1.25x @ 10 rps", SIM_FAULT, 0, 0, 0, 10, 0, 1.25, true},
    {"tolerated: latency 1.25x @ 100 rps", SIM_FAULT, 0, 0, 0, 100, 0, 1.25, true},
};
#define NSCEN (sizeof(scenarios) / sizeof(scenarios[0]))

/* name, release fault, req/s, errors, shared fault at/mult/errors, release mult/errors, drift */
static const struct rollout rollouts[] = {
    {"healthy release, healthy control", false, 10, 0.01, NAN, 1, 0, 1, 0, false},
    {"shared latency 2x from 10 min before", false, 10, 0.01, -600, 2, 0, 1, 0, false},
    {"shared latency 2x from 30 s before", false, 10, 0.01, -30, 2, 0, 1, 0, false},
    {"shared errors 20% from 10 min before", false, 10, 0.01, -600, 1, 0.20, 1, 0, false},
    {"shared errors 20% from 30 s before", false, 10, 0.01, -30, 1, 0.20, 1, 0, false},
    {"time of day: night baseline, peak rollout", false, 0, 0, NAN, 1, 0, 1, 0, true},
    {"shared latency 2x from 60 s after", true, 10, 0.01, 60, 2, 0, 1, 0, false},
    {"release latency 2x", true, 10, 0.01, NAN, 1, 0, 2, 0, false},
    {"release errors 10%", true, 10, 0.01, NAN, 1, 0, 1, 0.10, false},
};
#define NRO (sizeof(rollouts) / sizeof(rollouts[0]))

/* The rows as JSON; scenario names hold no character that needs escaping. */
static int write_json(const char *path, const struct result *res, const bool *have, double days,
                      unsigned runs, uint64_t seed, bool aligned, const struct analysis_params *ap,
                      const struct ro_result *ror, const bool *ro_have)
{
    FILE *f = fopen(path, "w");

    if (!f) {
        fprintf(stderr, "bench_sim: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "{\"days\": %g, \"runs\": %u, \"seed\": %llu, \"aligned\": %s,\n", days, runs,
            (unsigned long long)seed, aligned ? "true" : "false");
    fprintf(f, " \"interval_s\": %u, \"window_s\": %u, \"policies\": [", ap->interval_ms / 1000,
            ap->window_ms / 1000);
    for (int k = 0; k < POL_N; k++)
        fprintf(f, "%s\"%s\"", k ? ", " : "", pol_name[k]);
    fprintf(f, "],\n \"scenarios\": [");
    for (unsigned i = 0, n = 0; i < NSCEN; i++) {
        const struct result *r = &res[i];
        if (!have[i])
            continue;
        fprintf(f, "%s\n  {\"name\": \"%s\", \"kind\": \"%s\", \"rate\": %g, \"tolerated\": %s",
                n++ ? "," : "", r->sc->name, r->sc->kind == SIM_HEALTHY ? "healthy" : "fault",
                r->sc->rate, r->sc->tolerance ? "true" : "false");
        if (r->sc->kind == SIM_HEALTHY) {
            fprintf(f, ", \"pod_days\": %.1f, \"rollbacks\": [", r->pod_days);
            for (int k = 0; k < POL_N; k++)
                fprintf(f, "%s%llu", k ? ", " : "", (unsigned long long)r->rollbacks[k]);
            fprintf(f, "], \"nodata\": [");
            for (int k = 0; k < POL_N; k++)
                fprintf(f, "%s%llu", k ? ", " : "", (unsigned long long)r->nodata[k]);
            fprintf(f, "]}");
            continue;
        }
        fprintf(f, ", \"runs\": %u, \"pre_fault_rollbacks\": %u, \"ttd\": [", r->runs,
                r->pre_fault);
        for (int k = 0; k < POL_N; k++) {
            fprintf(f, "%s[", k ? ", " : "");
            for (unsigned j = 0; j < r->runs; j++) {
                if (isinf(r->ttd[k][j]))
                    fprintf(f, "%snull", j ? "," : "");
                else
                    fprintf(f, "%s%.1f", j ? "," : "", r->ttd[k][j]);
            }
            fprintf(f, "]");
        }
        fprintf(f, "]}");
    }
    fprintf(f, "\n ],\n \"rollouts\": [");
    for (unsigned i = 0, n = 0; i < NRO; i++) {
        const struct ro_result *r = &ror[i];
        if (!ro_have[i])
            continue;
        fprintf(f, "%s\n  {\"name\": \"%s\", \"fault\": %s, \"trials\": %u, \"pod_days\": %.2f",
                n++ ? "," : "", r->ro->name, r->ro->fault ? "true" : "false", r->trials,
                r->pod_days);
        fprintf(f, ", \"no_published\": %u, \"variants\": [", r->no_published);
        for (int k = 0; k < NVAR; k++)
            fprintf(f, "%s\"%s\"", k ? ", " : "", var_name[k]);
        fprintf(f, "], \"release_pods_failed\": [%u, %u, %u]", r->pod_fails[0], r->pod_fails[1],
                r->pod_fails[2]);
        if (!r->ro->fault) {
            fprintf(f, ", \"rollbacks\": [%u, %u, %u], \"reference_rollbacks\": [%u, %u, %u]}",
                    r->fleet[0], r->fleet[1], r->fleet[2], r->refs[POL_A0], r->refs[POL_A3],
                    r->refs[POL_FL]);
            continue;
        }
        fprintf(f, ", \"ttd\": [");
        for (int k = 0, m = 0; k < NVAR + POL_N; k++) {
            if (k == NVAR)
                continue;
            fprintf(f, "%s[", m++ ? ", " : "");
            for (unsigned j = 0; j < r->trials; j++) {
                if (isinf(r->ttd[k][j]))
                    fprintf(f, "%snull", j ? "," : "");
                else
                    fprintf(f, "%s%.1f", j ? "," : "", r->ttd[k][j]);
            }
            fprintf(f, "]");
        }
        fprintf(f, "]}");
    }
    fprintf(f, "\n ]}\n");
    if (fclose(f) != 0) {
        fprintf(stderr, "bench_sim: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static bool check(const char *what, bool ok)
{
    printf("  [%s] %s\n", ok ? "PASS" : "FAIL", what);
    return ok;
}

static const struct result *find(const struct result *res, bool *have, const char *name)
{
    for (unsigned i = 0; i < NSCEN; i++)
        if (have[i] && strcmp(res[i].sc->name, name) == 0)
            return &res[i];
    return NULL;
}

int main(int argc, char **argv)
{
    double days = 2000;
    unsigned runs = 200;
    uint64_t seed = 1;
    const char *only = NULL, *json = NULL;
    struct sim_opts o = {.aligned = true};
    static struct result res[NSCEN];
    static struct ro_result ror[NRO];
    bool have[NSCEN] = {false}, ro_have[NRO] = {false};
    unsigned trials = 6000;
    bool do_single = true, do_rollout = true;
    bool all_ok = true, full;
    struct analysis_params ap = sim_params();
    clock_t c0 = clock();

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            days = 100;
            runs = 40;
            trials = 300;
        } else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
            days = atof(argv[++i]);
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = (unsigned)atoi(argv[++i]);
        } else if (strcmp(argv[i], "--trials") == 0 && i + 1 < argc) {
            trials = (unsigned)atoi(argv[++i]);
        } else if (strcmp(argv[i], "--rollout-only") == 0) {
            do_single = false;
        } else if (strcmp(argv[i], "--no-rollout") == 0) {
            do_rollout = false;
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--unaligned") == 0) {
            o.aligned = false;
        } else if (strcmp(argv[i], "--trace") == 0) {
            o.trace = true;
        } else if (strcmp(argv[i], "--verbose") == 0) {
            o.verbose = true;
        } else if (strcmp(argv[i], "--aligned") == 0) {
            o.aligned = true;
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else {
            fprintf(stderr,
                    "usage: %s [--quick] [--days N] [--runs N] [--trials N] [--seed N] "
                    "[--only SUBSTR] [--rollout-only | --no-rollout] [--aligned|--unaligned] "
                    "[--verbose] [--trace] [--json FILE]\n",
                    argv[0]);
            return 2;
        }
    }
    full = days >= 2000 && runs >= 200 && trials >= 6000 && !only && do_single && do_rollout;
    printf("rollguard detection simulator: %.0f pod-days per healthy scenario, %u runs per "
           "fault, seed %llu, ticks %s\n",
           days, runs, (unsigned long long)seed,
           o.aligned ? "right after a scrape" : "on an independent timer");
    printf("policy: interval %us, window %us, warmup %us, baseline %us, error max %.2f "
           "(min %u), latency p%.0f +%.0f%% (min %u), health %u, breaches %u\n",
           ap.interval_ms / 1000, ap.window_ms / 1000, ap.warmup_ms / 1000,
           ap.baseline_window_ms / 1000, ap.error_rate_max, ap.error_min_requests,
           ap.latency_quantile * 100, ap.latency_max_increase * 100, ap.latency_min_samples,
           ap.health_failures, ap.consecutive_breaches);
    printf("tests: error CUSUM h=%.1f..%.1f z=%.3f p1=%.1fx max; latency CUSUM h=%.1f z=%.3f "
           "gate %.2f; analysis memory %zu bytes\n\n",
           ANALYSIS_ERR_H_LO, ANALYSIS_ERR_H_HI, ANALYSIS_ERR_Z, ANALYSIS_ERR_P1_FACTOR,
           ANALYSIS_LAT_H, ANALYSIS_LAT_Z, ANALYSIS_LAT_GATE, analysis_memory(&ap));
    printf("FR/1kpd: false rollbacks per 1000 pod-days (healthy rows) or runs detected (fault "
           "rows); TTD: time from fault start to rollback, median and p95 ('miss': not within "
           "15 min, 30 min at 1 rps); 'tolerated' rows are changes that must NOT be rolled "
           "back (watched 30 min; fewer detected is better)\n\n");
    if (do_single)
        print_header();
    for (unsigned i = 0; i < NSCEN; i++) {
        const struct scenario *sc = &scenarios[i];
        if (!do_single || (only && !strstr(sc->name, only)))
            continue;
        if (sc->kind == SIM_HEALTHY)
            run_healthy(sc, days, seed + i, &o, &res[i]);
        else
            run_faults(sc, runs, seed + i, &o, &res[i]);
        have[i] = true;
        print_row(&res[i]);
        if (sc->kind == SIM_HEALTHY && res[i].rollbacks[POL_RG] > 0)
            printf("%-34s   rollguard false rollbacks by rule: error %llu, latency %llu, "
                   "health %llu\n",
                   "", (unsigned long long)res[i].rule[0], (unsigned long long)res[i].rule[1],
                   (unsigned long long)res[i].rule[2]);
        if (sc->kind == SIM_FAULT && res[i].pre_fault > 0)
            printf("%-34s   rollguard false rollbacks before the fault: %u\n", "",
                   res[i].pre_fault);
    }
    if (do_rollout) {
        printf("\ntwo populations: %d control pods (analyses from %.0f min before the rollout), "
               "%d release pods for the %.0f min guard window, one app; a rollback = FAIL votes "
               "of a quorum (auto: %u of %d) within %.0f s; the release pods get the control "
               "pods' pooled summaries each interval, one interval old; the published baseline "
               "is control pod 0's at a random time in the %.0f min before the rollout (time of "
               "day: a night pod's). FR/1kpd: rollouts rolled back per 1000 pod-days (pod-days = "
               "rollouts x 30 min, %u rollouts per row); fault rows: %u rollouts, TTD from the "
               "fault's start, median and p90. The references judge the release pods' summed "
               "series from 30-90 s after the rollout, latency limit 1.5x the app's p50 (the "
               "night p50 in the time-of-day row).\n\n",
               RO_NCONTROL, RO_CONTROL_LEAD / 60, RO_NRELEASE, RO_GUARD_S / 60,
               attribution_quorum(0, RO_NRELEASE, RO_NRELEASE), RO_NRELEASE, RO_VOTE_TTL_S,
               RO_PUBLISH_S / 60, trials, runs);
        print_ro_header();
        for (unsigned i = 0; i < NRO; i++) {
            if (only && !strstr(rollouts[i].name, only))
                continue;
            run_rollout(&rollouts[i], rollouts[i].fault ? runs : trials, seed + 100 + i, &o,
                        &ror[i]);
            ro_have[i] = true;
            print_ro_rows(&ror[i]);
        }
    }
    printf("\nreference rollbacks caused by missing data (no samples or NaN): ");
    for (int k = POL_A0; k < POL_N; k++) {
        uint64_t nd = 0, all = 0;
        for (unsigned i = 0; i < NSCEN; i++)
            if (have[i] && res[i].sc->kind == SIM_HEALTHY) {
                nd += res[i].nodata[k];
                all += res[i].rollbacks[k];
            }
        printf("%s %llu of %llu%s", pol_name[k], (unsigned long long)nd, (unsigned long long)all,
               k + 1 < POL_N ? ", " : "\n");
    }

    printf("\nacceptance (%s run):\n", full ? "full" : "partial/quick");
    {
        static const char *const healthy[] = {"healthy, 0.1% errors", "healthy, 1% errors",
                                              "healthy, 3% errors"};
        static const char *const disturbed[] = {
            "healthy 1%, restarts 6/day", "healthy 3%, restarts 6/day",
            "healthy 1%, scrape gaps 6/day", "healthy 3%, scrape gaps 6/day"};
        static const char *const rates[] = {"10 rps", "100 rps"};
        char what[200];

        for (unsigned i = 0; i < 3; i++) {
            const struct result *r = find(res, have, healthy[i]);
            if (!r)
                continue;
            snprintf(what, sizeof(what),
                     "%s: %.2f false rollbacks per 1000 pod-days <= 1 (%.0f pod-days)", healthy[i],
                     1000.0 * (double)r->rollbacks[POL_RG] / r->pod_days, r->pod_days);
            all_ok &= check(what, 1000.0 * (double)r->rollbacks[POL_RG] / r->pod_days <= 1.0);
        }
        for (unsigned i = 0; i < 4; i++) {
            const struct result *r = find(res, have, disturbed[i]);
            if (!r)
                continue;
            snprintf(what, sizeof(what), "%s: %llu false rollbacks (must be 0)", disturbed[i],
                     (unsigned long long)r->rollbacks[POL_RG]);
            all_ok &= check(what, r->rollbacks[POL_RG] == 0);
        }
        for (unsigned i = 0; i < 2; i++) {
            const struct result *r;
            char name[64];
            snprintf(name, sizeof(name), "errors 20%% @ %s", rates[i]);
            if ((r = find(res, have, name))) {
                snprintf(what, sizeof(what), "%s: median %.0fs <= 2 intervals (20s)", name,
                         r->p50[POL_RG]);
                all_ok &= check(what, r->p50[POL_RG] <= 20);
            }
            snprintf(name, sizeof(name), "errors 10%% @ %s", rates[i]);
            if ((r = find(res, have, name))) {
                snprintf(what, sizeof(what), "%s: median %.0fs <= 30s", name, r->p50[POL_RG]);
                all_ok &= check(what, r->p50[POL_RG] <= 30);
            }
            snprintf(name, sizeof(name), "latency 2x @ %s", rates[i]);
            if ((r = find(res, have, name))) {
                snprintf(what, sizeof(what), "%s: median %.0fs <= 60s", name, r->p50[POL_RG]);
                all_ok &= check(what, r->p50[POL_RG] <= 60);
            }
            snprintf(name, sizeof(name), "latency 1.5x @ %s", rates[i]);
            if ((r = find(res, have, name))) {
                snprintf(what, sizeof(what), "%s: detected in %u of %u runs (>= 95%%)", name,
                         r->detected[POL_RG], r->runs);
                all_ok &= check(what, r->detected[POL_RG] * 100 >= 95 * r->runs);
            }
        }
        for (unsigned i = 0; i < NSCEN; i++) {
            const struct result *r = &res[i];
            bool faster = true;
            if (!have[i] || r->sc->kind != SIM_FAULT || r->sc->rate < 10 || r->sc->tolerance)
                continue;
            for (int k = POL_A0; k < POL_N; k++)
                faster &= r->p50[POL_RG] < r->p50[k];
            snprintf(what, sizeof(what), "%s: rollguard median faster than every reference",
                     r->sc->name);
            all_ok &= check(what, faster);
        }
        for (unsigned i = 0; i < NSCEN; i++) {
            const struct result *r = &res[i];
            bool fewer = true;
            if (!have[i] || r->sc->kind != SIM_HEALTHY)
                continue;
            for (int k = POL_A0; k < POL_N; k++)
                fewer &= r->rollbacks[POL_RG] < r->rollbacks[k];
            snprintf(what, sizeof(what), "%s: fewer false rollbacks than every reference",
                     r->sc->name);
            all_ok &= check(what, fewer);
        }
        for (unsigned i = 0; i < NRO; i++) {
            const struct ro_result *r = &ror[i];
            if (!ro_have[i])
                continue;
            if (!r->ro->fault && (r->ro->drift || isnan(r->ro->shared_at))) {
                snprintf(what, sizeof(what),
                         "%s, with control: %u + %u rollbacks (control+published, control only) "
                         "in %.0f pod-days (must be 0)",
                         r->ro->name, r->fleet[VAR_CP], r->fleet[VAR_C], r->pod_days);
                all_ok &= check(what, r->fleet[VAR_CP] == 0 && r->fleet[VAR_C] == 0);
            } else if (!r->ro->fault) {
                /* a shared fault that began before the rollout: the 0 per 1000 pod-days */
                snprintf(what, sizeof(what),
                         "%s, with control: %u + %u rollbacks (control+published, control only) "
                         "in %.0f pod-days (must be 0; published only: %u)",
                         r->ro->name, r->fleet[VAR_CP], r->fleet[VAR_C], r->pod_days,
                         r->fleet[VAR_P]);
                all_ok &= check(what, r->fleet[VAR_CP] == 0 && r->fleet[VAR_C] == 0);
            } else if (!isnan(r->ro->shared_at)) {
                snprintf(what, sizeof(what),
                         "%s, with control: the release is rolled back in %u of %u (>= 95%%)",
                         r->ro->name, r->detected[VAR_CP], r->trials);
                all_ok &= check(what, r->detected[VAR_CP] * 100 >= 95 * r->trials);
            } else {
                snprintf(what, sizeof(what),
                         "%s: median with control %.1fs (only) / %.1fs (and published) <= "
                         "published only %.1fs",
                         r->ro->name, r->p50[VAR_C], r->p50[VAR_CP], r->p50[VAR_P]);
                all_ok &=
                    check(what, r->p50[VAR_C] <= r->p50[VAR_P] && r->p50[VAR_CP] <= r->p50[VAR_P]);
            }
        }
        printf("  (informational) tolerated changes rolled back within 30 min:");
        for (unsigned i = 0; i < NSCEN; i++) {
            const struct result *r = &res[i];
            if (!have[i] || !r->sc->tolerance)
                continue;
            printf(" %s: rollguard %u/%u, argo(fl=0) %u/%u;", r->sc->name + 11, r->detected[POL_RG],
                   r->runs, r->detected[POL_A0], r->runs);
        }
        printf("\n");
        printf("  (informational) at 1 rps:");
        for (unsigned i = 0; i < NSCEN; i++) {
            const struct result *r = &res[i];
            char b[16];
            if (!have[i] || r->sc->kind != SIM_FAULT || r->sc->rate >= 10 || r->sc->tolerance)
                continue;
            fmt_time(b, sizeof(b), r->p50[POL_RG]);
            printf(" %s %s (%u/%u);", r->sc->name, b, r->detected[POL_RG], r->runs);
        }
        printf("\n");
    }
    if (json && write_json(json, res, have, days, runs, seed, o.aligned, &ap, ror, ro_have) < 0)
        return 2;
    for (unsigned i = 0; i < NSCEN; i++)
        for (int k = 0; k < POL_N; k++)
            free(res[i].ttd[k]);
    for (unsigned i = 0; i < NRO; i++)
        for (int k = 0; k < NVAR + POL_N; k++)
            free(ror[i].ttd[k]);
    printf("\n%s in %.1f s CPU\n", all_ok ? "all acceptance checks hold" : "SOME CHECKS FAIL",
           (double)(clock() - c0) / CLOCKS_PER_SEC);
    if (!full) {
        /* a smoke run: too few pod-days and runs for the checks to mean much */
        printf("(not a full run: the checks above are indicative; exit status 0)\n");
        return 0;
    }
    return all_ok ? 0 : 1;
}
