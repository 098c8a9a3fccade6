/*
 * bench_promtext — parse speed of probes/promtext.c.
 *
 *   build/bench_promtext [-n ITER] [-f auto|text|om] [FILE]
 *
 * With FILE: read it and parse it ITER times (default 1, so that a whole
 * process run is comparable with `promtool check metrics < FILE`). Without
 * FILE: parse a synthetic ~4 MB exposition made in memory, 20 times.
 * Prints samples, bytes, seconds and MB/s; the sum of the finite values and
 * the label count are printed too, so the parse cannot be optimised away.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probes/promtext.h"

struct tally {
    unsigned long samples, labels;
    double sum;
};

static int on_sample(const struct promtext_sample *s, void *arg)
{
    struct tally *t = arg;

    t->samples++;
    t->labels += s->nlabels;
    if (isfinite(s->value))
        t->sum += s->value;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        size_t r;

        if (n == cap) {
            char *nb;

            cap = cap ? cap * 2 : 1 << 20;
            nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* A synthetic page: histograms and counters with a few labels each. */
static char *synth(size_t *len)
{
    size_t cap = 8u << 20, n = 0;
    char *b = malloc(cap);
    static const char *const le[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                     "0.5",   "1",    "2.5",   "5",    "10",  "+Inf"};

    if (!b)
        return NULL;
    n += (size_t)snprintf(b + n, cap - n,
                          "# HELP http_requests_total Requests.\n"
                          "# TYPE http_requests_total counter\n");
    for (int i = 0; i < 12000; i++)
        n += (size_t)snprintf(b + n, cap - n,
                              "http_requests_total{service=\"svc-%d\",handler=\"/api/v1/r%d\","
                              "method=\"GET\",code=\"%d\"} %d\n",
                              i % 10, i / 50, 200 + i % 5, i * 7);
    n += (size_t)snprintf(b + n, cap - n,
                          "# HELP http_request_duration_seconds Latency.\n"
                          "# TYPE http_request_duration_seconds histogram\n");
    for (int i = 0; i < 2400; i++) {
        for (int k = 0; k < 12; k++)
            n += (size_t)snprintf(b + n, cap - n,
                                  "http_request_duration_seconds_bucket{service=\"svc-%d\","
                                  "handler=\"/api/v1/r%d\",le=\"%s\"} %d\n",
                                  i % 10, i / 10, le[k], i + k * 3);
        n += (size_t)snprintf(b + n, cap - n,
                              "http_request_duration_seconds_sum{service=\"svc-%d\","
                              "handler=\"/api/v1/r%d\"} %d.125\n"
                              "http_request_duration_seconds_count{service=\"svc-%d\","
                              "handler=\"/api/v1/r%d\"} %d\n",
                              i % 10, i / 10, i, i % 10, i / 10, i + 33);
    }
    *len = n;
    return b;
}

int main(int argc, char **argv)
{
    enum promtext_format fmt = PROMTEXT_AUTO;
    const char *path = NULL;
    int iters = -1;
    struct tally t = {0};
    struct promtext_handler h = {on_sample, NULL, &t};
    struct promtext_err err = {0};
    double t0, dt;
    size_t len = 0;
    char *buf;
    int r = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            iters = atoi(argv[++i]);
        } else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) {
            i++;
            fmt = strcmp(argv[i], "om") == 0     ? PROMTEXT_OPENMETRICS
                  : strcmp(argv[i], "text") == 0 ? PROMTEXT_TEXT
                                                 : PROMTEXT_AUTO;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [-n ITER] [-f auto|text|om] [FILE]\n", argv[0]);
            return 2;
        } else {
            path = argv[i];
        }
    }
    buf = path ? read_file(path, &len) : synth(&len);
    if (!buf) {
        fprintf(stderr, "bench_promtext: %s: %s\n", path ? path : "(synthetic)",
                strerror(errno ? errno : ENOMEM));
        return 1;
    }
    if (iters < 1)
        iters = path ? 1 : 20;

    t0 = now_s();
    for (int i = 0; i < iters && r == 0; i++)
        r = promtext_parse(buf, len, fmt, &h, &err);
    dt = now_s() - t0;
    if (r < 0) {
        fprintf(stderr, "bench_promtext: %s:%u:%u: %s\n", path ? path : "(synthetic)", err.line,
                err.column, err.msg);
        free(buf);
        return 1;
    }
    printf("%-12s %10s %12s %8s %10s %12s  %s\n", "input", "samples", "bytes", "iters", "seconds",
           "MB/s", "checksum");
    printf("%-12s %10lu %12zu %8d %10.4f %12.1f  %.6g/%lu\n", path ? "file" : "synthetic",
           t.samples / (unsigned long)iters, len, iters, dt, (double)len * iters / dt / 1e6, t.sum,
           t.labels);
    free(buf);
    return 0;
}
