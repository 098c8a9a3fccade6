/*
 * verdict — how a verdict reads: the names of outcomes, rules, states and
 * sources, its JSON form (/status, logs, the Event's annotation) and its one
 * readable sentence (the Event's message). Pure rendering of struct verdict;
 * never allocates, never logs.
 */
#include "sidecar/analysis/analysis.h"
#include "sidecar/base/jsonw.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char *verdict_outcome_name(enum verdict_outcome o)
{
    switch (o) {
    case VERDICT_PASS:
        return "PASS";
    case VERDICT_FAIL:
        return "FAIL";
    case VERDICT_INCONCLUSIVE:
        break;
    }
    return "INCONCLUSIVE";
}

const char *verdict_rule_state_name(enum verdict_rule_state s)
{
    switch (s) {
    case VERDICT_RULE_INCONCLUSIVE:
        return "inconclusive";
    case VERDICT_RULE_PASS:
        return "pass";
    case VERDICT_RULE_BREACH:
        return "breach";
    case VERDICT_RULE_OFF:
        break;
    }
    return "off";
}

const char *analysis_rule_name(enum analysis_rule r)
{
    switch (r) {
    case ANALYSIS_RULE_LATENCY:
        return "latency";
    case ANALYSIS_RULE_HEALTH:
        return "health";
    case ANALYSIS_RULE_ERROR_RATE:
    case ANALYSIS_RULE_COUNT:
        break;
    }
    return "error_rate";
}

const char *analysis_source_name(enum analysis_source s)
{
    switch (s) {
    case ANALYSIS_SRC_SCRAPE:
        return "scrape";
    case ANALYSIS_SRC_PROBE:
        return "probe";
    case ANALYSIS_SRC_SUMMARY:
        return "summary";
    case ANALYSIS_SRC_NONE:
        break;
    }
    return "none";
}

static void analysis_jw_key(struct jsonw *w, const char *key)
{
    jsonw_raw(w, ",\"", 2);
    jsonw_lit(w, key);
    jsonw_raw(w, "\":", 2);
}

static void analysis_jw_num(struct jsonw *w, const char *key, double v)
{
    analysis_jw_key(w, key);
    jsonw_num(w, v);
}

static void analysis_jw_u64(struct jsonw *w, const char *key, uint64_t v)
{
    analysis_jw_key(w, key);
    jsonw_fmt(w, "%llu", (unsigned long long)v);
}

static void analysis_jw_evidence(struct jsonw *w, const struct verdict_evidence *e)
{
    jsonw_lit(w, "{\"rule\":");
    jsonw_str(w, analysis_rule_name(e->rule));
    analysis_jw_key(w, "state");
    jsonw_str(w, verdict_rule_state_name(e->state));
    analysis_jw_key(w, "source");
    jsonw_str(w, analysis_source_name(e->source));
    analysis_jw_num(w, "value", e->value);
    analysis_jw_num(w, "baseline", e->baseline);
    analysis_jw_key(w, "baseline_from");
    jsonw_str(w, analysis_baseline_from_name(e->baseline_from));
    analysis_jw_num(w, "threshold", e->threshold);
    analysis_jw_u64(w, "requests", e->requests);
    analysis_jw_u64(w, "errors", e->errors);
    if (e->rule == ANALYSIS_RULE_LATENCY) {
        analysis_jw_u64(w, "samples", e->samples);
        analysis_jw_num(w, "slow", e->slow);
    }
    analysis_jw_u64(w, "probes", e->probes);
    analysis_jw_u64(w, "probe_failures", e->probe_failures);
    if (e->rule != ANALYSIS_RULE_HEALTH) {
        analysis_jw_num(w, "run_n", e->run_n);
        analysis_jw_num(w, "run_x", e->run_x);
        analysis_jw_num(w, "p0", e->p0);
        analysis_jw_num(w, "p1", e->p1);
        analysis_jw_num(w, "cusum", e->statistic);
        analysis_jw_num(w, "cusum_bound", e->bound);
        analysis_jw_num(w, "lower_bound", e->confidence_bound);
        analysis_jw_num(w, "lower_bound_limit", e->confidence_limit);
        analysis_jw_num(w, "decision_value", e->decision_value);
        analysis_jw_num(w, "decision_n", e->decision_n);
        analysis_jw_num(w, "decision_x", e->decision_x);
    }
    jsonw_fmt(w, ",\"window_ms\":%lld", (long long)e->window_ms);
    analysis_jw_key(w, "reason");
    jsonw_str(w, e->reason);
    jsonw_raw(w, "}", 1);
}

/* ,"control":{...}: the concurrent control at this tick and the attribution. */
static void analysis_jw_control(struct jsonw *w, const struct verdict_control *c)
{
    analysis_jw_key(w, "control");
    jsonw_lit(w, "{\"present\":");
    jsonw_lit(w, c->present ? "true" : "false");
    if (c->present) {
        jsonw_fmt(w, ",\"asked\":%u,\"answered\":%u", c->asked, c->answered);
        analysis_jw_key(w, "degraded");
        jsonw_lit(w, c->degraded ? "true" : "false");
        if (c->degraded)
            jsonw_fmt(w, ",\"degraded_since_rollout_ms\":%lld", (long long)c->degraded_since_ms);
        analysis_jw_u64(w, "requests", c->requests);
        analysis_jw_u64(w, "errors", c->errors);
        analysis_jw_num(w, "latency", c->latency);
        analysis_jw_u64(w, "samples", c->samples);
    }
    analysis_jw_key(w, "decision");
    jsonw_str(w, attribution_decision_name(c->decision));
    analysis_jw_key(w, "reason");
    jsonw_str(w, c->reason);
    jsonw_raw(w, "}", 1);
}

int verdict_render_json(const struct verdict *v, char *buf, size_t size)
{
    struct jsonw w;
    char hash[sizeof(v->config_hash)];

    jsonw_init(&w, buf, size);
    memcpy(hash, v->config_hash, sizeof(hash));
    hash[sizeof(hash) - 1] = '\0';
    jsonw_lit(&w, "{\"outcome\":");
    jsonw_str(&w, verdict_outcome_name(v->outcome));
    analysis_jw_key(&w, "rule");
    jsonw_str(&w, analysis_rule_name(v->rule));
    analysis_jw_key(&w, "reason");
    jsonw_str(&w, v->reason);
    analysis_jw_key(&w, "breach");
    jsonw_lit(&w, v->breach ? "true" : "false");
    jsonw_fmt(&w, ",\"breaches_in_row\":%u,\"breaches_needed\":%u", v->breaches_in_row,
              v->breaches_needed);
    jsonw_fmt(&w, ",\"t_ms\":%lld,\"window_ms\":%lld", (long long)v->t_ms, (long long)v->window_ms);
    analysis_jw_key(&w, "config_hash");
    jsonw_str(&w, hash);
    jsonw_lit(&w, ",\"rules\":[");
    for (int r = 0; r < ANALYSIS_RULE_COUNT; r++) {
        if (r > 0)
            jsonw_raw(&w, ",", 1);
        analysis_jw_evidence(&w, &v->ev[r]);
    }
    jsonw_lit(&w, "]");
    analysis_jw_control(&w, &v->control);
    jsonw_lit(&w, "}");
    if (w.full) {
        if (size > 0)
            buf[0] = '\0';
        return -ENOSPC;
    }
    return (int)w.len;
}

const char *analysis_baseline_from_name(enum analysis_baseline_from f)
{
    switch (f) {
    case ANALYSIS_BASE_PUBLISHED:
        return "published";
    case ANALYSIS_BASE_OWN:
        return "own";
    case ANALYSIS_BASE_CONTROL:
        return "control";
    case ANALYSIS_BASE_NONE:
        break;
    }
    return "none";
}

static const char *analysis_baseline_words(enum analysis_baseline_from f)
{
    switch (f) {
    case ANALYSIS_BASE_PUBLISHED:
        return "published by the stable revision";
    case ANALYSIS_BASE_OWN:
        return "this pod's history";
    case ANALYSIS_BASE_CONTROL:
        return "the stable revision's pods, same minutes";
    case ANALYSIS_BASE_NONE:
        break;
    }
    return "none";
}

/* A duration in seconds as "420ms" or "1.25s". */
static void analysis_dur(double s, char *buf, size_t size)
{
    if (!isfinite(s))
        snprintf(buf, size, "n/a");
    else if (s < 1)
        snprintf(buf, size, "%.3gms", s * 1000);
    else
        snprintf(buf, size, "%.3gs", s);
}

/* What the control said, for the sentence: "" without one. */
static int analysis_control_words(const struct verdict_control *c, enum analysis_rule rule,
                                  char *buf, size_t size)
{
    char lat[24];
    double since = (double)c->degraded_since_ms / 1000;

    if (!c->present || rule == ANALYSIS_RULE_HEALTH)
        return snprintf(buf, size, "%s", "");
    analysis_dur(c->latency, lat, sizeof(lat));
    if (c->decision == ATTRIBUTION_BLAME_SHARED || c->decision == ATTRIBUTION_WITHHOLD)
        return snprintf(buf, size,
                        "; the stable revision degraded too (%u of %u pods answering), since "
                        "%.0fs %s the rollout began: error rate %.1f%% of %llu requests, "
                        "latency %s",
                        c->answered, c->asked, fabs(since), since < 0 ? "before" : "after",
                        c->requests ? 100.0 * (double)c->errors / (double)c->requests : 0.0,
                        (unsigned long long)c->requests, lat);
    return snprintf(buf, size,
                    "; the stable revision's %u pods over the same minutes: error rate %.1f%% of "
                    "%llu requests, latency %s",
                    c->answered,
                    c->requests ? 100.0 * (double)c->errors / (double)c->requests : 0.0,
                    (unsigned long long)c->requests, lat);
}

int verdict_render_sentence(const struct verdict *v, char *buf, size_t size)
{
    const struct verdict_evidence *e = &v->ev[v->rule];
    char win[48], t[24], b[24], val[24], dec[160] = "";
    int n = 0;

    snprintf(win, sizeof(win), "%llds", (long long)(e->window_ms / 1000));
    switch (v->rule) {
    case ANALYSIS_RULE_ERROR_RATE:
        if (isfinite(e->decision_value))
            snprintf(dec, sizeof(dec), "%.1f%% (%.0f of %.0f requests in the span that decided; ",
                     100 * e->decision_value, e->decision_x, e->decision_n);
        else
            snprintf(dec, sizeof(dec), "(");
        n = snprintf(buf, size,
                     "error rate %swindow %.1f%% of %llu requests over %s) above the %g%% limit; "
                     "baseline %s",
                     dec, isfinite(e->value) ? 100 * e->value : 0.0,
                     (unsigned long long)e->requests, win, 100 * e->threshold,
                     isfinite(e->baseline) ? "" : "none");
        if (n >= 0 && (size_t)n < size && isfinite(e->baseline))
            n += snprintf(buf + n, size - (size_t)n, "%.2f%% (%s)", 100 * e->baseline,
                          analysis_baseline_words(e->baseline_from));
        break;
    case ANALYSIS_RULE_LATENCY:
        analysis_dur(e->value, val, sizeof(val));
        analysis_dur(e->threshold, t, sizeof(t));
        analysis_dur(e->baseline, b, sizeof(b));
        /*
         * The slow share decided; the window's quantile is context and can
         * still sit under T while the recent span is slow: lead with the share.
         */
        if (e->source != ANALYSIS_SRC_SUMMARY && isfinite(e->decision_value))
            snprintf(dec, sizeof(dec),
                     "%.0f%% of %.0f requests slower than %s in the span that decided "
                     "(limit %.0f%%); window ",
                     100 * e->decision_value, e->decision_n, t,
                     isfinite(e->confidence_limit) ? 100 * e->confidence_limit : 0.0);
        n = snprintf(buf, size, "latency %s%s at the configured quantile over %s (%llu %s)%s; ",
                     dec, val, win, (unsigned long long)e->samples,
                     e->source == ANALYSIS_SRC_PROBE ? "probes" : "requests",
                     dec[0] ? "" : " above T");
        if (n >= 0 && (size_t)n < size)
            n += snprintf(buf + n, size - (size_t)n, "T %s = %.3g x baseline %s (%s)", t,
                          isfinite(e->baseline) && e->baseline > 0 ? e->threshold / e->baseline
                                                                   : 0.0,
                          b, analysis_baseline_words(e->baseline_from));
        break;
    default:
        n = snprintf(buf, size, "%.0f consecutive liveness failures (limit %.0f)", e->value,
                     e->threshold);
        break;
    }
    if (n >= 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, "; in breach %u interval%s in a row (%u needed)",
                      v->breaches_in_row, v->breaches_in_row == 1 ? "" : "s", v->breaches_needed);
    if (n >= 0 && (size_t)n < size)
        n += analysis_control_words(&v->control, v->rule, buf + n, size - (size_t)n);
    return n;
}
