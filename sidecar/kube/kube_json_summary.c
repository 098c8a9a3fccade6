/*
 * kube_json_summary — the jansson adapter's reader of another pod's GET
 * /summary answer (sidecar/analysis/control.h): untrusted bytes into
 * struct control_summary, strictly: size, UTF-8 and nesting checked before
 * jansson parses, every field typed and bounded. Never does I/O or logs.
 */
#include "sidecar/kube/kube_json-int.h"

#include "config/utf8.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* --- a peer's window summary (GET /summary) ------------------------------------- */

/* Nesting deeper than *(int *)arg: refused before jansson recurses into it. */
static int cs_too_deep(const char *buf, size_t n, size_t *i, int depth, void *arg)
{
    (void)n;
    return (buf[*i] == '{' || buf[*i] == '[') && depth > *(const int *)arg;
}

static bool cs_depth_ok(const char *buf, size_t len, int max)
{
    return kube_json_scan(buf, len, cs_too_deep, &max) == 0;
}

/* A required member (null allowed when nullable: *ret NULL then). */
static int cs_member(json_t *obj, const char *where, const char *key, bool nullable, json_t **ret,
                     char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);

    *ret = NULL;
    if (!v)
        return kube_json_fail(err, errlen, "%s%s: missing", where, key);
    if (json_is_null(v)) {
        if (!nullable)
            return kube_json_fail(err, errlen, "%s%s: null where a value is required", where, key);
        return 0;
    }
    *ret = v;
    return 0;
}

/* A required integer in [lo, hi]. */
static int cs_int(json_t *obj, const char *where, const char *key, int64_t lo, int64_t hi,
                  int64_t *ret, char *err, size_t errlen)
{
    json_t *v;
    int r = cs_member(obj, where, key, false, &v, err, errlen);

    if (r < 0)
        return r;
    if (!json_is_integer(v))
        return kube_json_fail(err, errlen, "%s%s: expected an integer", where, key);
    if (json_integer_value(v) < lo || json_integer_value(v) > hi)
        return kube_json_fail(err, errlen, "%s%s: %lld out of range", where, key,
                              (long long)json_integer_value(v));
    *ret = json_integer_value(v);
    return 0;
}

/* A required number in [lo, hi] (open at lo when lo_open), or null (NaN) when nullable. */
static int cs_num(json_t *obj, const char *where, const char *key, bool nullable, double lo,
                  bool lo_open, double hi, bool hi_open, double *ret, char *err, size_t errlen)
{
    json_t *v;
    double x;
    int r = cs_member(obj, where, key, nullable, &v, err, errlen);

    if (r < 0)
        return r;
    if (!v) {
        *ret = NAN;
        return 0;
    }
    if (!json_is_number(v))
        return kube_json_fail(err, errlen, "%s%s: expected a number%s", where, key,
                              nullable ? " or null" : "");
    x = json_number_value(v) + 0.0; /* -0 reads as 0 */
    if (!isfinite(x) || x < lo || (lo_open && x == lo) || x > hi || (hi_open && x == hi))
        return kube_json_fail(err, errlen, "%s%s: %g out of range", where, key, x);
    *ret = x;
    return 0;
}

static int cs_obj(json_t *obj, const char *key, json_t **ret, char *err, size_t errlen)
{
    int r = cs_member(obj, "", key, false, ret, err, errlen);

    if (r == 0 && !json_is_object(*ret))
        r = kube_json_fail(err, errlen, "%s: expected an object", key);
    return r;
}

/* A required string member; *ret borrowed from v. */
static int cs_str(json_t *obj, const char *where, const char *key, bool nullable, size_t max,
                  const char **ret, char *err, size_t errlen)
{
    json_t *v;
    int r = cs_member(obj, where, key, nullable, &v, err, errlen);

    *ret = NULL;
    if (r < 0 || !v)
        return r;
    if (!json_is_string(v))
        return kube_json_fail(err, errlen, "%s%s: expected a string%s", where, key,
                              nullable ? " or null" : "");
    if (json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v))
        return kube_json_fail(err, errlen, "%s%s: longer than %zu bytes or with a NUL byte", where,
                              key, max);
    *ret = json_string_value(v);
    return 0;
}

static int cs_fields(json_t *root, struct control_summary *s, const char **revision, char *err,
                     size_t errlen)
{
    static const char *const sources[] = {"none", "histogram", "summary", "probe"};
    static const char *const rules[] = {"error_rate", "latency", "health"};
    const int64_t cmax = CONTROL_SUMMARY_COUNT_MAX;
    json_t *lat, *base, *v;
    const char *src, *rule;
    int64_t n;
    unsigned i;
    int r;

    if ((r = cs_int(root, "", "version", INT64_MIN, INT64_MAX, &n, err, errlen)) < 0)
        return r;
    if (n != CONTROL_SUMMARY_VERSION)
        return kube_json_fail(err, errlen, "version %lld: only %d is read", (long long)n,
                              CONTROL_SUMMARY_VERSION);
    if ((r = cs_str(root, "", "revision", false, CONTROL_REVISION_MAX, revision, err, errlen)) < 0)
        return r;
    if (!kube_label_value_ok(*revision))
        return kube_json_fail(err, errlen, "revision: not a label value");
    if ((r = cs_int(root, "", "window_ms", 0, cmax, &s->window_ms, err, errlen)) < 0 ||
        (r = cs_int(root, "", "requests", 0, cmax, &n, err, errlen)) < 0)
        return r;
    s->requests = (uint64_t)n;
    if ((r = cs_int(root, "", "errors", 0, cmax, &n, err, errlen)) < 0)
        return r;
    s->errors = (uint64_t)n;
    if (s->errors > s->requests)
        return kube_json_fail(err, errlen, "errors: %llu above requests %llu",
                              (unsigned long long)s->errors, (unsigned long long)s->requests);

    if ((r = cs_obj(root, "latency", &lat, err, errlen)) < 0 ||
        (r = cs_num(lat, "latency.", "quantile", false, 0, true, 1, true, &s->quantile, err,
                    errlen)) < 0 ||
        (r = cs_num(lat, "latency.", "seconds", true, 0, false, INFINITY, false, &s->latency_s, err,
                    errlen)) < 0 ||
        (r = cs_int(lat, "latency.", "samples", 0, cmax, &n, err, errlen)) < 0)
        return r;
    s->latency_samples = (uint64_t)n;
    if ((r = cs_str(lat, "latency.", "source", false, 16, &src, err, errlen)) < 0)
        return r;
    for (i = 0; i < sizeof(sources) / sizeof(sources[0]) && strcmp(src, sources[i]); i++)
        ;
    if (i == sizeof(sources) / sizeof(sources[0]))
        return kube_json_fail(err, errlen, "latency.source: not none, histogram, summary or probe");
    s->latency_source = (enum control_latency_source)i;
    if (s->latency_source == CONTROL_LAT_NONE && (s->latency_samples || !isnan(s->latency_s)))
        return kube_json_fail(err, errlen, "latency: samples or seconds with source none");
    if ((r = cs_num(lat, "latency.", "p50", true, 0, false, INFINITY, false, &s->p50, err,
                    errlen)) < 0 ||
        (r = cs_num(lat, "latency.", "p75", true, 0, false, INFINITY, false, &s->p75, err,
                    errlen)) < 0 ||
        (r = cs_num(lat, "latency.", "p90", true, 0, false, INFINITY, false, &s->p90, err,
                    errlen)) < 0 ||
        (r = cs_num(lat, "latency.", "p99", true, 0, false, INFINITY, false, &s->p99, err,
                    errlen)) < 0 ||
        (r = cs_num(lat, "latency.", "margin_share", true, 0, false, 1, false, &s->margin_share,
                    err, errlen)) < 0)
        return r;
    if ((s->latency_source == CONTROL_LAT_NONE || s->latency_source == CONTROL_LAT_SUMMARY) &&
        (!isnan(s->p50) || !isnan(s->p75) || !isnan(s->p90) || !isnan(s->p99) ||
         !isnan(s->margin_share)))
        return kube_json_fail(err, errlen, "latency: points with source %s", src);

    if ((r = cs_num(root, "", "slow_share", true, 0, false, 1, false, &s->slow_share, err,
                    errlen)) < 0 ||
        (r = cs_obj(root, "baseline", &base, err, errlen)) < 0 ||
        (r = cs_num(base, "baseline.", "error_rate", true, 0, false, 1, false, &s->base_error_rate,
                    err, errlen)) < 0 ||
        (r = cs_int(base, "baseline.", "requests", 0, cmax, &n, err, errlen)) < 0 ||
        (r = cs_num(base, "baseline.", "latency_seconds", true, 0, false, INFINITY, false,
                    &s->base_latency_s, err, errlen)) < 0 ||
        (r = cs_num(base, "baseline.", "margin_share", true, 0, false, 1, false,
                    &s->base_margin_share, err, errlen)) < 0)
        return r;
    s->base_requests = (uint64_t)n;
    if (isnan(s->base_error_rate) != (s->base_requests == 0))
        return kube_json_fail(err, errlen, "baseline: requests %s",
                              s->base_requests ? "without an error rate" : "0 with an error rate");

    if ((r = cs_member(root, "", "degraded", false, &v, err, errlen)) < 0)
        return r;
    if (!json_is_boolean(v))
        return kube_json_fail(err, errlen, "degraded: expected a boolean");
    s->degraded = json_is_true(v);
    if ((r = cs_int(root, "", "degraded_for_ms", 0, cmax, &s->degraded_for_ms, err, errlen)) < 0 ||
        (r = cs_str(root, "", "rule", true, 16, &rule, err, errlen)) < 0)
        return r;
    s->rule = CONTROL_RULE_NONE;
    if (rule) {
        for (i = 0; i < sizeof(rules) / sizeof(rules[0]) && strcmp(rule, rules[i]); i++)
            ;
        if (i == sizeof(rules) / sizeof(rules[0]))
            return kube_json_fail(err, errlen, "rule: not error_rate, latency, health or null");
        s->rule = (enum control_rule)(i + 1);
    }
    if (s->degraded != (s->rule != CONTROL_RULE_NONE))
        return kube_json_fail(err, errlen, "rule: %s",
                              s->degraded ? "null while degraded" : "set while not degraded");
    if (!s->degraded && s->degraded_for_ms)
        return kube_json_fail(err, errlen, "degraded_for_ms: nonzero while not degraded");
    return 0;
}

int kube_json_control_summary_parse(const char *buf, size_t len, struct control_summary *ret,
                                    char *revision, size_t revlen, char *err, size_t errlen)
{
    struct control_summary s;
    const char *rev = NULL;
    json_error_t je;
    json_t *root;
    int r;

    if (!buf)
        return kube_json_fail(err, errlen, "no body");
    if (len > CONTROL_SUMMARY_READ_MAX)
        return kube_json_fail(err, errlen, "%zu bytes, more than %d", len,
                              CONTROL_SUMMARY_READ_MAX);
    if (memchr(buf, '\0', len))
        return kube_json_fail(err, errlen, "a NUL byte"); /* jansson would skip some */
    if (!utf8_valid(buf, len))
        return kube_json_fail(err, errlen, "not UTF-8");
    if (!cs_depth_ok(buf, len, CONTROL_SUMMARY_DEPTH_MAX))
        return kube_json_fail(err, errlen, "nested deeper than %d", CONTROL_SUMMARY_DEPTH_MAX);
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return kube_json_fail(err, errlen, "invalid JSON at line %d column %d: %s", je.line,
                              je.column, je.text);
    memset(&s, 0, sizeof(s));
    if (!json_is_object(root))
        r = kube_json_fail(err, errlen, "expected a JSON object");
    else
        r = cs_fields(root, &s, &rev, err, errlen);
    if (r == 0 && revision && strlen(rev) >= revlen)
        r = kube_json_fail(err, errlen, "revision: longer than the caller's %zu bytes", revlen);
    if (r == 0) {
        if (revision)
            memcpy(revision, rev, strlen(rev) + 1);
        *ret = s;
    }
    json_decref(root);
    return r;
}
