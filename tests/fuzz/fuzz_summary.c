/*
 * fuzz_summary — libFuzzer target for a peer's GET /summary answer
 * (sidecar/kube/kube_json.c: kube_json_control_summary_parse). Another pod
 * served it, so it is untrusted input. A summary that parses must render
 * (sidecar/analysis/control.c: control_summary_render_json) within the
 * document cap and parse back to the same struct and revision: what one
 * pod writes, another reads exactly. Any violation aborts.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/analysis/control.h"
#include "sidecar/kube/kube_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct control_summary s, t;
    char rev[CONTROL_REVISION_MAX + 1], rev2[CONTROL_REVISION_MAX + 1];
    char json[CONTROL_SUMMARY_JSON_MAX], err[256];
    int n;

    err[0] = '\0';
    if (kube_json_control_summary_parse((const char *)data, size, &s, rev, sizeof(rev), err,
                                        sizeof(err)) != 0) {
        CHECK(err[0] != '\0'); /* every refusal says why */
        return 0;
    }
    CHECK(size <= CONTROL_SUMMARY_READ_MAX);
    CHECK(memchr(rev, '\0', sizeof(rev)) != NULL);
    CHECK(s.errors <= s.requests);
    CHECK(s.quantile > 0 && s.quantile < 1);
    CHECK(isnan(s.slow_share) || (s.slow_share >= 0 && s.slow_share <= 1));
    CHECK(isnan(s.base_error_rate) || (s.base_error_rate >= 0 && s.base_error_rate <= 1));
    CHECK(isnan(s.latency_s) || (isfinite(s.latency_s) && s.latency_s >= 0));
    CHECK(isnan(s.base_latency_s) || (isfinite(s.base_latency_s) && s.base_latency_s >= 0));
    CHECK(s.degraded == (s.rule != CONTROL_RULE_NONE));

    n = control_summary_render_json(&s, rev, json, sizeof(json));
    CHECK(n > 0 && (size_t)n < CONTROL_SUMMARY_JSON_MAX && strlen(json) == (size_t)n);
    CHECK(kube_json_control_summary_parse(json, (size_t)n, &t, rev2, sizeof(rev2), err,
                                          sizeof(err)) == 0);
    CHECK(!strcmp(rev, rev2));
    CHECK(s.window_ms == t.window_ms && s.requests == t.requests && s.errors == t.errors &&
          s.latency_samples == t.latency_samples && s.latency_source == t.latency_source &&
          s.degraded == t.degraded && s.degraded_for_ms == t.degraded_for_ms && s.rule == t.rule);
    CHECK(same(s.quantile, t.quantile) && same(s.latency_s, t.latency_s) &&
          same(s.slow_share, t.slow_share) && same(s.base_error_rate, t.base_error_rate) &&
          same(s.base_latency_s, t.base_latency_s));
    return 0;
}
