/*
 * bench_sketch — cost of the latency sketch and the slot window.
 *
 * Prints ns per recorded sample, microseconds per window query (p50, p95
 * and p99 of a 60-slot window) and bytes per window, next to a peer that
 * keeps raw samples and sorts them at query time (the exact answer), plus
 * the worst relative quantile error against that exact answer. Targets:
 * record <= 50 ns, query <= 100 us, window <= 256 KiB per series, error <= 1 %.
 *
 * Usage: bench_sketch [--quick] [--json]
 *
 * --json prints the same figures as one JSON object instead of the table
 * (for bench/run.py).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sidecar/analysis/analysis.h"
#include "sidecar/analysis/sketch.h"
#include "sidecar/analysis/window.h"

#define SLOTS 60

static uint64_t bs_state = 12345;

static double bs_u01(void)
{
    uint64_t z = (bs_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) * 0x1.0p-53;
}

static double bs_lognormal(void)
{
    double n = sqrt(-2 * log(bs_u01())) * cos(2 * M_PI * bs_u01());
    return 0.05 * exp(0.8 * n);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, unsigned n, double q)
{
    qsort(v, n, sizeof(*v), cmp_d);
    return v[(unsigned)floor(q * (n - 1))];
}

int main(int argc, char **argv)
{
    bool quick = false, json = false;
    unsigned nrec = 20000000, per_slot = 1000, reps = 2000;
    static struct sketch s;
    struct window w;
    double *vals, *raw, *tq_total, *tq_merge, *tq_sort, t0, sink = 0;
    unsigned nraw;
    const unsigned nvals = 1 << 20;
    const double qs[3] = {0.5, 0.95, 0.99};
    double worst = 0;
    struct analysis_params ap = {.interval_ms = 10000,
                                 .window_ms = 60000,
                                 .warmup_ms = 30000,
                                 .baseline_window_ms = 3600000,
                                 .error_rate_max = 0.05,
                                 .error_min_requests = 50,
                                 .latency_quantile = 0.5,
                                 .latency_max_increase = 0.5,
                                 .latency_min_samples = 50,
                                 .health_failures = 3,
                                 .consecutive_breaches = 2,
                                 .config_hash = "0"};

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else {
            fprintf(stderr, "usage: %s [--quick] [--json]\n", argv[0]);
            return 2;
        }
    }
    if (quick) {
        nrec = 1000000;
        per_slot = 200;
        reps = 200;
    }
    nraw = SLOTS * per_slot;
    vals = malloc(nvals * sizeof(*vals));
    raw = malloc(nraw * sizeof(*raw));
    tq_total = malloc(reps * sizeof(double));
    tq_merge = malloc(reps * sizeof(double));
    tq_sort = malloc(reps * sizeof(double));
    if (!vals || !raw || !tq_total || !tq_merge || !tq_sort)
        return 1;
    for (unsigned i = 0; i < nvals; i++)
        vals[i] = bs_lognormal();

    /* ---- record ---- */
    sketch_init(&s);
    t0 = now_ns();
    for (unsigned i = 0; i < nrec; i++)
        sketch_add(&s, vals[i & (nvals - 1)], 1);
    double ns_record = (now_ns() - t0) / nrec;
    if (window_init(&w, SLOTS, 0) < 0)
        return 1;
    t0 = now_ns();
    for (unsigned i = 0; i < nrec / 4; i++)
        window_add_probe(&w, vals[i & (nvals - 1)], true);
    double ns_window_record = (now_ns() - t0) / (nrec / 4);
    window_done(&w);
    /* the peer records by appending to an array */
    t0 = now_ns();
    for (unsigned i = 0; i < nraw; i++)
        raw[i] = vals[i & (nvals - 1)];
    double ns_raw_record = (now_ns() - t0) / nraw;

    /* ---- a full 60-slot window ---- */
    if (window_init(&w, SLOTS, 0) < 0)
        return 1;
    for (unsigned slot = 0; slot < SLOTS; slot++) {
        if (slot > 0)
            window_advance(&w, 10000 * (int64_t)slot);
        for (unsigned i = 0; i < per_slot; i++) {
            double v = vals[(slot * per_slot + i) & (nvals - 1)];
            window_add_probe(&w, v, true);
            raw[slot * per_slot + i] = v;
        }
    }
    for (unsigned r = 0; r < reps; r++) {
        struct window_counts sum;
        double v;

        /* running total: O(buckets) */
        t0 = now_ns();
        for (int k = 0; k < 3; k++) {
            sketch_quantile(&w.total.probe_latency, qs[k], &v);
            sink += v;
        }
        tq_total[r] = (now_ns() - t0) / 1e3;
        /* re-merging every slot: O(slots x buckets) */
        t0 = now_ns();
        window_counts_init(&sum);
        for (unsigned age = 0; age < SLOTS; age++)
            window_counts_merge(&sum, window_slot(&w, age));
        for (int k = 0; k < 3; k++) {
            sketch_quantile(&sum.probe_latency, qs[k], &v);
            sink += v;
        }
        tq_merge[r] = (now_ns() - t0) / 1e3;
        /* peer: copy and sort the raw samples */
        if (r < reps / 10 + 1) {
            double *copy = malloc(nraw * sizeof(double));
            t0 = now_ns();
            memcpy(copy, raw, nraw * sizeof(double));
            qsort(copy, nraw, sizeof(double), cmp_d);
            for (int k = 0; k < 3; k++)
                sink += copy[(unsigned)floor(qs[k] * (nraw - 1))];
            tq_sort[r] = (now_ns() - t0) / 1e3;
            if (r == 0) {
                for (int k = 0; k < 3; k++) {
                    double exact = copy[(unsigned)floor(qs[k] * (nraw - 1))], est;
                    sketch_quantile(&w.total.probe_latency, qs[k], &est);
                    worst = fmax(worst, fabs(est - exact) / exact);
                }
            }
            free(copy);
        }
    }
    /* window advance (evict + clear one slot) */
    t0 = now_ns();
    for (unsigned r = 0; r < reps; r++) {
        window_advance(&w, 600000 + (int64_t)r);
        window_add_probe(&w, vals[r], true);
    }
    double us_advance = (now_ns() - t0) / reps / 1e3;

    if (json) {
        unsigned ns = reps / 10 + 1;
        printf("{\"samples_per_window\": %u, \"query_reps\": %u, \"sort_reps\": %u,\n", nraw, reps,
               ns);
        printf(" \"record_ns\": %.3f, \"raw_record_ns\": %.3f, \"window_record_ns\": %.3f,\n",
               ns_record, ns_raw_record, ns_window_record);
        printf(" \"query_us\": {\"p50\": %.4f, \"p95\": %.4f, \"p99\": %.4f},\n",
               pct(tq_total, reps, 0.5), pct(tq_total, reps, 0.95), pct(tq_total, reps, 0.99));
        printf(" \"merge_query_us\": {\"p50\": %.4f, \"p95\": %.4f, \"p99\": %.4f},\n",
               pct(tq_merge, reps, 0.5), pct(tq_merge, reps, 0.95), pct(tq_merge, reps, 0.99));
        printf(" \"sort_query_us\": {\"p50\": %.4f, \"p95\": %.4f, \"p99\": %.4f},\n",
               pct(tq_sort, ns, 0.5), pct(tq_sort, ns, 0.95), pct(tq_sort, ns, 0.99));
        printf(" \"advance_us\": %.4f, \"worst_rel_error\": %.6f,\n", us_advance, worst);
        printf(" \"memory_bytes\": {\"sketch\": %zu, \"window_60\": %zu, \"raw_60\": %zu, "
               "\"window_6\": %zu, \"window_max\": %zu, \"window_max_slots\": %u, "
               "\"analysis_default\": %zu}}\n",
               sketch_memory(), window_memory(SLOTS), (size_t)nraw * sizeof(double),
               window_memory(6), window_memory(WINDOW_MAX_SLOTS), (unsigned)WINDOW_MAX_SLOTS,
               analysis_memory(&ap));
        goto out;
    }
    printf("sketch: gamma %.2f (relative accuracy %.2f %%), %u bins, %zu bytes per sketch\n",
           SKETCH_GAMMA, 100 * SKETCH_REL_ACCURACY, SKETCH_SLOTS, sketch_memory());
    printf("%-44s | %-16s | %-16s\n", "", "rollguard", "peer: raw+sort");
    printf("%-44s | %13.1f ns | %13.1f ns\n", "record one sample (sketch_add)", ns_record,
           ns_raw_record);
    printf("%-44s | %13.1f ns | %16s\n", "record one probe into the window", ns_window_record, "-");
    {
        unsigned ns = reps / 10 + 1;
        double a50 = pct(tq_total, reps, 0.5), a95 = pct(tq_total, reps, 0.95),
               a99 = pct(tq_total, reps, 0.99);
        double m50 = pct(tq_merge, reps, 0.5), m95 = pct(tq_merge, reps, 0.95),
               m99 = pct(tq_merge, reps, 0.99);
        double s50 = pct(tq_sort, ns, 0.5), s95 = pct(tq_sort, ns, 0.95),
               s99 = pct(tq_sort, ns, 0.99);
        printf("%-44s | %13.2f us | %13.1f us\n", "query p50+p95+p99, 60 slots: median", a50, s50);
        printf("%-44s | %13.2f us | %13.1f us\n", "                               p95", a95, s95);
        printf("%-44s | %13.2f us | %13.1f us\n", "                               p99", a99, s99);
        printf("%-44s | %13.2f us | %16s\n", "same query re-merging 60 slots: median", m50, "-");
        printf("%-44s | %13.2f us | %16s\n", "                               p99", m99, "-");
        (void)m95;
    }
    printf("%-44s | %13.2f us | %16s\n", "advance the window (evict, clear a slot)", us_advance,
           "-");
    printf("%-44s | %13.3f %% | %16s\n", "worst quantile error vs exact (p50/95/99)", 100 * worst,
           "0 (exact)");
    printf("%-44s | %10zu bytes | %10zu bytes\n", "memory, 60 x 10 s window (probe sketches)",
           window_memory(SLOTS), (size_t)nraw * sizeof(double));
    printf("%-44s | %10zu bytes | %16s\n", "memory, default 6-slot window", window_memory(6), "-");
    printf("%-44s | %10zu bytes | %16s\n", "memory, largest 360-slot window",
           window_memory(WINDOW_MAX_SLOTS), "-");
    printf("%-44s | %10zu bytes | %16s\n", "memory, analysis with default config",
           analysis_memory(&ap), "-");
    printf("(peer memory grows with traffic: %u samples here; the window does not)\n", nraw);
out:
    window_done(&w);
    free(vals);
    free(raw);
    free(tq_total);
    free(tq_merge);
    free(tq_sort);
    return sink == 42 ? 1 : 0;
}
