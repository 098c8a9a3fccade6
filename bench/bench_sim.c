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
 * Usage: bench_sim [--quick] [--days N] [--runs N] [--seed N] [--only SUBSTR]
 *                  [--aligned | --unaligned] [--verbose] [--trace] [--json FILE]
 * The default (full) run takes about 6 CPU minutes and exits 1 when an
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

struct pod {
    struct rng rng;
    const struct scenario *sc;
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
    lambda = pod_rate(p, tm) * p->noise;
    if (tm >= p->fault_at) {
        mult = p->sc->fault_mult;
        if (p->sc->fault_err > 0)
            err = p->sc->fault_err;
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

/* The rows as JSON; scenario names hold no character that needs escaping. */
static int write_json(const char *path, const struct result *res, const bool *have, double days,
                      unsigned runs, uint64_t seed, bool aligned, const struct analysis_params *ap)
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
    bool have[NSCEN] = {false};
    bool all_ok = true, full;
    struct analysis_params ap = sim_params();
    clock_t c0 = clock();

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            days = 100;
            runs = 40;
        } else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
            days = atof(argv[++i]);
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = (unsigned)atoi(argv[++i]);
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
                    "usage: %s [--quick] [--days N] [--runs N] [--seed N] [--only SUBSTR] "
                    "[--aligned|--unaligned] [--verbose] [--trace] [--json FILE]\n",
                    argv[0]);
            return 2;
        }
    }
    full = days >= 2000 && runs >= 200 && !only;
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
    print_header();
    for (unsigned i = 0; i < NSCEN; i++) {
        const struct scenario *sc = &scenarios[i];
        if (only && !strstr(sc->name, only))
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
    if (json && write_json(json, res, have, days, runs, seed, o.aligned, &ap) < 0)
        return 2;
    for (unsigned i = 0; i < NSCEN; i++)
        for (int k = 0; k < POL_N; k++)
            free(res[i].ttd[k]);
    printf("\n%s in %.1f s CPU\n", all_ok ? "all acceptance checks hold" : "SOME CHECKS FAIL",
           (double)(clock() - c0) / CLOCKS_PER_SEC);
    if (!full) {
        /* a smoke run: too few pod-days and runs for the checks to mean much */
        printf("(not a full run: the checks above are indicative; exit status 0)\n");
        return 0;
    }
    return all_ok ? 0 : 1;
}
