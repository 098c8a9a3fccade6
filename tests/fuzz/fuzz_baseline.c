/*
 * Fuzz target for the stable revision's baseline summary as it travels on
 * the Lease (sidecar/kube/kube_json_baseline.c: kube_json_baseline_summary_parse).
 * Another pod wrote it, so it is untrusted input. A summary that parses must
 * render (sidecar/analysis/baseline.c) and parse back to the same values.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/analysis/baseline.h"
#include "sidecar/kube/kube_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct baseline_summary s, t;
    char json[2048];

    if (kube_json_baseline_summary_parse((const char *)data, size, &s, NULL) != 0)
        return 0;
    if (baseline_summary_render_json(&s, json, sizeof(json)) < 0)
        abort();
    if (kube_json_baseline_summary_parse(json, strlen(json), &t, NULL) != 0)
        abort(); /* what we render, we must read */
    if (strcmp(s.revision, t.revision) || s.requests != t.requests || s.errors != t.errors ||
        s.window_ms != t.window_ms || s.latency_samples != t.latency_samples ||
        !same(s.quantile, t.quantile))
        abort();
    return 0;
}
