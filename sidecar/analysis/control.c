/*
 * control — this pod's window as a concurrent control: the GET /summary
 * document (version 1) rendered from struct control_summary. Owns the
 * document's shape and the rules a summary must meet before it is
 * written, the same the reader (kube_json_control_summary_parse) enforces.
 * Never does I/O, reads the clock, logs or allocates.
 */
#include "sidecar/analysis/control.h"
#include "sidecar/base/jsonw.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *control_latency_source_name(enum control_latency_source s)
{
    switch (s) {
    case CONTROL_LAT_HISTOGRAM:
        return "histogram";
    case CONTROL_LAT_SUMMARY:
        return "summary";
    case CONTROL_LAT_PROBE:
        return "probe";
    case CONTROL_LAT_NONE:
        break;
    }
    return "none";
}

const char *control_rule_name(enum control_rule r)
{
    switch (r) {
    case CONTROL_RULE_ERROR_RATE:
        return "error_rate";
    case CONTROL_RULE_LATENCY:
        return "latency";
    case CONTROL_RULE_HEALTH:
        return "health";
    case CONTROL_RULE_NONE:
        break;
    }
    return NULL;
}

/* NaN (unknown), or finite within [lo, hi]. */
static bool control_opt_in(double v, double lo, double hi)
{
    return isnan(v) || (isfinite(v) && v >= lo && v <= hi);
}

/* The reader's rules (kube_json.c), checked before anything is written. */
static bool control_summary_ok(const struct control_summary *s)
{
    if (s->window_ms < 0 || s->degraded_for_ms < 0)
        return false;
    if (s->requests > (uint64_t)CONTROL_SUMMARY_COUNT_MAX || s->errors > s->requests ||
        s->base_requests > (uint64_t)CONTROL_SUMMARY_COUNT_MAX ||
        isnan(s->base_error_rate) != (s->base_requests == 0) ||
        s->latency_samples > (uint64_t)CONTROL_SUMMARY_COUNT_MAX)
        return false;
    if (!(s->quantile > 0 && s->quantile < 1))
        return false;
    if (!control_opt_in(s->latency_s, 0, INFINITY) ||
        !control_opt_in(s->base_latency_s, 0, INFINITY) ||
        !control_opt_in(s->base_margin_share, 0, 1) || !control_opt_in(s->slow_share, 0, 1) ||
        !control_opt_in(s->base_error_rate, 0, 1) || !control_opt_in(s->p50, 0, INFINITY) ||
        !control_opt_in(s->margin_share, 0, 1) || !control_opt_in(s->p75, 0, INFINITY) ||
        !control_opt_in(s->p90, 0, INFINITY) || !control_opt_in(s->p99, 0, INFINITY))
        return false;
    if ((unsigned)s->latency_source > CONTROL_LAT_PROBE || (unsigned)s->rule > CONTROL_RULE_HEALTH)
        return false;
    if (s->latency_source == CONTROL_LAT_NONE && (s->latency_samples || !isnan(s->latency_s)))
        return false;
    if ((s->latency_source == CONTROL_LAT_NONE || s->latency_source == CONTROL_LAT_SUMMARY) &&
        (!isnan(s->p50) || !isnan(s->p75) || !isnan(s->p90) || !isnan(s->p99) ||
         !isnan(s->margin_share)))
        return false;
    if (s->degraded != (s->rule != CONTROL_RULE_NONE) || (!s->degraded && s->degraded_for_ms))
        return false;
    return true;
}

static void control_key(struct jsonw *w, const char *key)
{
    jsonw_str(w, key);
    jsonw_raw(w, ":", 1);
}

int control_summary_render_json(const struct control_summary *s, const char *revision, char *buf,
                                size_t size)
{
    struct jsonw w;
    const char *rule = control_rule_name(s->rule);

    if (size)
        buf[0] = '\0';
    if (!revision)
        revision = "";
    if (strlen(revision) > CONTROL_REVISION_MAX || !control_summary_ok(s))
        return -EINVAL;
    jsonw_init(&w, buf, size < CONTROL_SUMMARY_JSON_MAX ? size : CONTROL_SUMMARY_JSON_MAX);
    jsonw_fmt(&w, "{\"version\":%d,", CONTROL_SUMMARY_VERSION);
    control_key(&w, "revision");
    jsonw_str(&w, revision);
    jsonw_fmt(&w, ",\"window_ms\":%lld,\"requests\":%llu,\"errors\":%llu,", (long long)s->window_ms,
              (unsigned long long)s->requests, (unsigned long long)s->errors);
    jsonw_lit(&w, "\"latency\":{\"quantile\":");
    jsonw_num(&w, s->quantile);
    jsonw_lit(&w, ",\"seconds\":");
    jsonw_num(&w, s->latency_s);
    jsonw_fmt(&w, ",\"samples\":%llu,", (unsigned long long)s->latency_samples);
    control_key(&w, "source");
    jsonw_str(&w, control_latency_source_name(s->latency_source));
    jsonw_lit(&w, ",\"p50\":");
    jsonw_num(&w, s->p50);
    jsonw_lit(&w, ",\"p75\":");
    jsonw_num(&w, s->p75);
    jsonw_lit(&w, ",\"p90\":");
    jsonw_num(&w, s->p90);
    jsonw_lit(&w, ",\"p99\":");
    jsonw_num(&w, s->p99);
    jsonw_lit(&w, ",\"margin_share\":");
    jsonw_num(&w, s->margin_share);
    jsonw_lit(&w, "},\"slow_share\":");
    jsonw_num(&w, s->slow_share);
    jsonw_lit(&w, ",\"baseline\":{\"error_rate\":");
    jsonw_num(&w, s->base_error_rate);
    jsonw_fmt(&w, ",\"requests\":%llu,\"latency_seconds\":", (unsigned long long)s->base_requests);
    jsonw_num(&w, s->base_latency_s);
    jsonw_lit(&w, ",\"margin_share\":");
    jsonw_num(&w, s->base_margin_share);
    jsonw_fmt(&w, "},\"degraded\":%s,\"degraded_for_ms\":%lld,\"rule\":",
              s->degraded ? "true" : "false", (long long)s->degraded_for_ms);
    if (rule)
        jsonw_str(&w, rule);
    else
        jsonw_lit(&w, "null");
    jsonw_lit(&w, "}");
    if (w.full) {
        if (size)
            buf[0] = '\0';
        return -ENOSPC;
    }
    return (int)w.len;
}

/* ---- pooling the control's pods ------------------------------------------------------ */

static int control_cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return (a > b) - (a < b);
}

/* The median of the n known values in v (sorted in place); NaN when none. */
static double control_median(double *v, unsigned n)
{
    unsigned k = 0;

    for (unsigned i = 0; i < n; i++)
        if (!isnan(v[i]))
            v[k++] = v[i];
    if (k == 0)
        return NAN;
    qsort(v, k, sizeof(v[0]), control_cmp);
    return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

int control_pool(const struct control_summary *s, unsigned n, unsigned asked, const char *revision,
                 int64_t taken_ms, int64_t rollout_start_ms, struct control_view *ret)
{
    double lat[CONTROL_POOL_MAX], msh[CONTROL_POOL_MAX], p50[CONTROL_POOL_MAX],
        p75[CONTROL_POOL_MAX], p90[CONTROL_POOL_MAX], p99[CONTROL_POOL_MAX], blat[CONTROL_POOL_MAX],
        bms[CONTROL_POOL_MAX], dfor[CONTROL_POOL_MAX];
    unsigned rules[CONTROL_RULE_HEALTH + 1] = {0}, nlat = 0, ndeg = 0;
    struct control_summary *c = &ret->pooled;
    uint64_t sum;
    double bw = 0;

    memset(ret, 0, sizeof(*ret));
    ret->asked = asked;
    if (n > CONTROL_POOL_MAX)
        n = CONTROL_POOL_MAX;
    if (n == 0)
        return -ENODATA;
    ret->answered = n;
    ret->taken_ms = taken_ms;
    ret->rollout_start_ms = rollout_start_ms;
    snprintf(ret->revision, sizeof(ret->revision), "%s", revision ? revision : "");
    c->quantile = s[0].quantile;
    c->latency_source = s[0].latency_source;
    c->slow_share = NAN;
    for (unsigned i = 0; i < n; i++) {
        sum = c->requests + s[i].requests;
        c->requests = sum < c->requests ? UINT64_MAX : sum;
        sum = c->errors + s[i].errors;
        c->errors = sum < c->errors ? UINT64_MAX : sum;
        if (c->window_ms < s[i].window_ms)
            c->window_ms = s[i].window_ms;
        if (s[i].base_requests > 0 && !isnan(s[i].base_error_rate)) {
            bw += s[i].base_error_rate * (double)s[i].base_requests;
            sum = c->base_requests + s[i].base_requests;
            c->base_requests = sum < c->base_requests ? UINT64_MAX : sum;
        }
        blat[i] = s[i].base_latency_s;
        bms[i] = s[i].base_margin_share;
        lat[nlat] = msh[nlat] = p50[nlat] = p75[nlat] = p90[nlat] = p99[nlat] = NAN;
        if (s[i].latency_source == c->latency_source && s[i].quantile == c->quantile &&
            c->latency_source != CONTROL_LAT_NONE) {
            lat[nlat] = s[i].latency_s;
            msh[nlat] = s[i].margin_share;
            p50[nlat] = s[i].p50;
            p75[nlat] = s[i].p75;
            p90[nlat] = s[i].p90;
            p99[nlat] = s[i].p99;
            nlat++;
            sum = c->latency_samples + s[i].latency_samples;
            c->latency_samples = sum < c->latency_samples ? UINT64_MAX : sum;
        }
        if (s[i].degraded) {
            dfor[ndeg++] = (double)s[i].degraded_for_ms;
            if ((unsigned)s[i].rule <= CONTROL_RULE_HEALTH)
                rules[s[i].rule]++;
        }
    }
    if (c->errors > c->requests)
        c->errors = c->requests;
    c->latency_s = control_median(lat, nlat);
    c->margin_share = control_median(msh, nlat);
    c->p50 = control_median(p50, nlat);
    c->p75 = control_median(p75, nlat);
    c->p90 = control_median(p90, nlat);
    c->p99 = control_median(p99, nlat);
    c->base_error_rate = c->base_requests > 0 ? fmin(bw / (double)c->base_requests, 1) : NAN;
    c->base_latency_s = control_median(blat, n);
    c->base_margin_share = control_median(bms, n);
    ret->degraded = ndeg;
    if (2 * ndeg >= n) {
        unsigned best = CONTROL_RULE_ERROR_RATE;

        for (unsigned r = CONTROL_RULE_ERROR_RATE; r <= CONTROL_RULE_HEALTH; r++)
            if (rules[r] > rules[best])
                best = r;
        c->degraded = true;
        c->rule = (enum control_rule)best;
        c->degraded_for_ms = (int64_t)control_median(dfor, ndeg);
    }
    return 0;
}
