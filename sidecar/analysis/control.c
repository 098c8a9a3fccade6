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
        s->latency_samples > (uint64_t)CONTROL_SUMMARY_COUNT_MAX)
        return false;
    if (!(s->quantile > 0 && s->quantile < 1))
        return false;
    if (!control_opt_in(s->latency_s, 0, INFINITY) ||
        !control_opt_in(s->base_latency_s, 0, INFINITY) || !control_opt_in(s->slow_share, 0, 1) ||
        !control_opt_in(s->base_error_rate, 0, 1))
        return false;
    if ((unsigned)s->latency_source > CONTROL_LAT_PROBE || (unsigned)s->rule > CONTROL_RULE_HEALTH)
        return false;
    if (s->latency_source == CONTROL_LAT_NONE && (s->latency_samples || !isnan(s->latency_s)))
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
    jsonw_lit(&w, "},\"slow_share\":");
    jsonw_num(&w, s->slow_share);
    jsonw_lit(&w, ",\"baseline\":{\"error_rate\":");
    jsonw_num(&w, s->base_error_rate);
    jsonw_lit(&w, ",\"latency_seconds\":");
    jsonw_num(&w, s->base_latency_s);
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
