/*
 * cfg_keys — the key table: every key's name, type, bounds, default and
 * doc in one row (so docs, validation and defaults cannot drift apart), the
 * presets' values, the probe list; finding a key by its path; parsing one
 * value's text into a snapshot field; the enum names.
 *
 * Must never know where a value came from (no positions, no error list:
 * reasons go back as text), include <yaml.h>, log, or do I/O. Reordering
 * the table changes every config hash.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg-int.h"
#include "config/promre.h"

#define CFG_STRING_MAX 1024

#define SEC 1000.0
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static const char *const type_names[] = {
    [CFG_T_STRING] = "string",   [CFG_T_DURATION] = "duration", [CFG_T_UINT] = "integer",
    [CFG_T_DOUBLE] = "number",   [CFG_T_BOOL] = "bool",         [CFG_T_ENUM] = "enum",
    [CFG_T_ADDRESS] = "address", [CFG_T_URL] = "url",           [CFG_T_PATH] = "path",
};

/* What a key of each type expects, for "expected X, got a mapping". */
static const char *const type_wants[] = {
    [CFG_T_STRING] = "a string",
    [CFG_T_DURATION] = "a duration such as 10s or 1m30s",
    [CFG_T_UINT] = "a whole number",
    [CFG_T_DOUBLE] = "a number",
    [CFG_T_BOOL] = "true or false",
    [CFG_T_ENUM] = "one name",
    [CFG_T_ADDRESS] = "an address such as 127.0.0.1:8080",
    [CFG_T_URL] = "a URL such as http://127.0.0.1:3000/",
    [CFG_T_PATH] = "an absolute path",
};

static const char *const log_level_names[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_format_names[] = {"json", "text", NULL};
static const char *const preset_names[] = {"prometheus", "otel", "linkerd", "istio", NULL};
static const char *const unit_names[] = {"auto", "seconds", "milliseconds", NULL};
static const char *const mode_names[] = {"off", "dry-run", "enforce", NULL};
static const char *const target_names[] = {"deployment", "argo-rollout", NULL};
static const char *const kind_names[] = {"none", "http", "tcp", NULL};

#define OFF(f) offsetof(struct cfg, f)
#define K_STR(p, f, fl, chk, hint, def, doc)                                                       \
    {                                                                                              \
        p, CFG_T_STRING, OFF(f), 0, 0, fl, def, NULL, chk, hint, doc                               \
    }
#define K_DUR(p, f, lo, hi, def, doc)                                                              \
    {                                                                                              \
        p, CFG_T_DURATION, OFF(f), lo, hi, 0, def, NULL, NULL, NULL, doc                           \
    }
#define K_UINT(p, f, lo, hi, def, doc)                                                             \
    {                                                                                              \
        p, CFG_T_UINT, OFF(f), lo, hi, 0, def, NULL, NULL, NULL, doc                               \
    }
/* An integer that also takes `auto` (stored as 0; lo must be at least 1). */
#define K_UINT_AUTO(p, f, lo, hi, def, doc)                                                        \
    {                                                                                              \
        p, CFG_T_UINT, OFF(f), lo, hi, CFG_K_AUTO, def, NULL, NULL, NULL, doc                      \
    }
#define K_DBL(p, f, lo, hi, fl, def, doc)                                                          \
    {                                                                                              \
        p, CFG_T_DOUBLE, OFF(f), lo, hi, fl, def, NULL, NULL, NULL, doc                            \
    }
#define K_BOOL(p, f, def, doc)                                                                     \
    {                                                                                              \
        p, CFG_T_BOOL, OFF(f), 0, 0, 0, def, NULL, NULL, NULL, doc                                 \
    }
#define K_ENUM(p, f, n, def, doc)                                                                  \
    {                                                                                              \
        p, CFG_T_ENUM, OFF(f), 0, 0, 0, def, n, NULL, NULL, doc                                    \
    }
#define K_ADDR(p, f, fl, def, doc)                                                                 \
    {                                                                                              \
        p, CFG_T_ADDRESS, OFF(f), 0, 0, fl, def, NULL, NULL, NULL, doc                             \
    }
#define K_URL(p, f, fl, def, doc)                                                                  \
    {                                                                                              \
        p, CFG_T_URL, OFF(f), 0, 0, fl, def, NULL, NULL, NULL, doc                                 \
    }
#define K_PATH(p, f, def, doc)                                                                     \
    {                                                                                              \
        p, CFG_T_PATH, OFF(f), 0, 0, 0, def, NULL, NULL, NULL, doc                                 \
    }

/*
 * One probe's keys. http.timeout and tcp.timeout share timeout_ms: a probe
 * is either http or tcp (setting both is an error), both default to 1s, so
 * the one the file may set is the one that applies.
 */
#define PROBE_KEYS(P, F, URL, PERIOD, FAILS, WHAT)                                                 \
    K_BOOL(P ".enabled", F.enabled, "true",                                                        \
           "probe the app at all; false: " WHAT " is not probed"),                                 \
        K_URL(P ".http.url", F.url, 0, URL, "HTTP probe: GET this URL; 200-399 passes"),           \
        K_DUR(P ".http.timeout", F.timeout_ms, 10, 10 * MIN, "1s",                                 \
              "HTTP probe: give up after this"),                                                   \
        K_BOOL(P ".http.tls_verify", F.tls_verify, "false",                                        \
               "HTTP probe: verify an https app's cert"),                                          \
        K_ADDR(P ".tcp.address", F.address, CFG_K_HOST, "127.0.0.1:3000",                          \
               "TCP probe (a `tcp` mapping replaces `http`): connect to this host:port"),          \
        K_DUR(P ".tcp.timeout", F.timeout_ms, 10, 10 * MIN, "1s",                                  \
              "TCP probe: give up after this"),                                                    \
        K_DUR(P ".period", F.period_ms, 100, HOUR, PERIOD, "time between probes; >= the timeout"), \
        K_DUR(P ".initial_delay", F.initial_delay_ms, 0, HOUR, "0s",                               \
              "wait this long after start before the first probe"),                                \
        K_UINT(P ".failure_threshold", F.failure_threshold, 1, 1000, FAILS,                        \
               "consecutive failures that turn " WHAT " bad"),                                     \
        K_UINT(P ".success_threshold", F.success_threshold, 1, 1000, "1",                          \
               "consecutive passes that turn " WHAT " good")

/*
 * The table. Its order is the order of the reference and of the hash, and
 * follows config/rollguard.yaml; defaults must equal that file's values (a
 * unit test parses both and compares the hashes).
 */
const struct cfg_key cfg_keys[] = {
    K_ADDR("listen", listen, 0, "0.0.0.0:8080",
           "where /health /ready /livez /metrics /status are served"),
    K_ADDR("admin_listen", admin_listen, CFG_K_EMPTY | CFG_K_LOOPBACK, "127.0.0.1:8081",
           "operator actions (manual rollback); loopback only (127.0.0.1, [::1]); \"\" disables"),
    K_ENUM("log.level", log_level, log_level_names, "info", "least severe level logged"),
    K_ENUM("log.format", log_format, log_format_names, "json",
           "one JSON object or key=value line per event"),
    K_UINT("server.max_connections", server.max_connections, 1, 65536, "1024",
           "open connections at once; at the limit the least recently active one is closed"),
    K_DUR("server.timeout", server.timeout_ms, 100, 60 * SEC, "5s",
          "a connection idle or stalled this long is closed"),
    K_UINT("server.max_header_bytes", server.max_header_bytes, 1024, 65536, "8192",
           "request line + headers"),
    K_UINT("server.backlog", server.backlog, 1, 65535, "1024", "listen(2) backlog"),
    K_DUR("server.drain", server.drain_ms, 0, 60 * SEC, "2s",
          "after SIGTERM: keep answering (/ready 503) this long, then exit"),
    PROBE_KEYS("app.liveness", liveness, "http://127.0.0.1:3000/healthz", "10s", "3", "/health"),
    PROBE_KEYS("app.readiness", readiness, "http://127.0.0.1:3000/ready", "5s", "1", "/ready"),
    K_URL("app.metrics.url", metrics.url, CFG_K_EMPTY, "http://127.0.0.1:3000/metrics",
          "the app's Prometheus metrics; \"\" disables scraping"),
    K_ENUM("app.metrics.preset", metrics.preset, preset_names, "prometheus",
           "otel: auto finds OpenTelemetry names only; linkerd/istio: the app.metrics keys you "
           "leave out take the mesh's values"),
    K_DUR("app.metrics.interval", metrics.interval_ms, SEC, 10 * MIN, "5s", "time between scrapes"),
    K_DUR("app.metrics.timeout", metrics.timeout_ms, 100, 10 * MIN, "2s",
          "give up on a scrape after this; <= interval"),
    K_UINT("app.metrics.max_bytes", metrics.max_bytes, 4096, 64 * 1024 * 1024, "10485760",
           "a larger metrics page fails the scrape"),
    K_STR("app.metrics.selector", metrics.selector, CFG_K_EMPTY, cfg_check_selector,
          "label matchers `name=\"v\"` or `name!=\"v\"`, comma separated", "",
          "extra label matchers every counted series must satisfy"),
    K_STR("app.metrics.requests.metric", metrics.requests_metric, 0, cfg_check_metric_name,
          "metric name, or `auto`", "auto",
          "counter of requests (a histogram's `_count` works too); auto: http_requests_total, "
          "else the latency histogram's _count"),
    K_STR("app.metrics.requests.error_label", metrics.error_label, 0, cfg_check_label_name,
          "label name, or `auto`", "auto",
          "label that tells an error; auto: the first present of code, status_code, status, "
          "http_status_code, http_response_status_code"),
    K_STR("app.metrics.requests.error_match", metrics.error_match, 0, promre_check,
          "regular expression, anchored as PromQL `=~`", "5..",
          "error_label values that are errors: `5..`, `5.*`, `5[0-9]{2}`, `5..|429`"),
    K_STR("app.metrics.latency.histogram", metrics.latency_histogram, CFG_K_EMPTY,
          cfg_check_metric_name, "metric name (without _bucket), `auto`, or `\"\"`", "auto",
          "latency histogram or summary; auto: the first present of the common names (README); "
          "\"\" turns the latency rule off"),
    K_ENUM("app.metrics.latency.unit", metrics.latency_unit, unit_names, "auto",
           "unit of the histogram's le bounds; auto: the page's UNIT line, else the name's "
           "suffix, else the name's convention, else seconds"),
    K_DUR("analysis.interval", analysis.interval_ms, SEC, 10 * MIN, "10s",
          "one window slot; one verdict per interval"),
    K_DUR("analysis.window", analysis.window_ms, SEC, 7 * DAY, "60s",
          "the recent span judged; a whole multiple of interval, at most 360 intervals"),
    K_DUR("analysis.warmup", analysis.warmup_ms, 0, DAY, "30s", "no verdicts before this"),
    K_DUR("analysis.baseline_window", analysis.baseline_window_ms, SEC, 7 * DAY, "1h",
          "the pod's own rolling baseline; >= window"),
    K_DBL("analysis.error_rate.max", analysis.error_rate_max, 0, 1, CFG_K_MIN_EXCL | CFG_K_MAX_EXCL,
          "0.05", "error ratio above which the error rule breaches"),
    K_UINT("analysis.error_rate.min_requests", analysis.error_min_requests, 1, 1000000000, "50",
           "fewer requests in the window: the error rule is inconclusive"),
    K_DBL("analysis.latency.quantile", analysis.latency_quantile, 0, 1,
          CFG_K_MIN_EXCL | CFG_K_MAX_EXCL, "0.5", "latency quantile compared with the baseline's"),
    K_DBL("analysis.latency.max_increase", analysis.latency_max_increase, 0, 1000, CFG_K_MIN_EXCL,
          "0.5", "relative rise over the baseline that breaches (0.5 = +50%)"),
    K_UINT("analysis.latency.min_samples", analysis.latency_min_samples, 1, 1000000000, "50",
           "fewer latency samples in the window: the latency rule is inconclusive"),
    K_UINT("analysis.health_failures", analysis.health_failures, 1, 1000, "3",
           "consecutive liveness failures that count as a breach"),
    K_UINT("analysis.consecutive_breaches", analysis.consecutive_breaches, 1, 1000, "2",
           "breached intervals in a row before the verdict is FAIL"),
    K_BOOL("analysis.control.enabled", analysis.control.enabled, "true",
           "during a rollout, judge the new revision against the stable revision's pods running "
           "beside it (their GET /summary); needs list on pods (k8s/)"),
    K_UINT("analysis.control.pods", analysis.control.pods, 1, 16, "3",
           "stable pods asked for their summary per interval, at most"),
    K_DUR("analysis.control.timeout", analysis.control.timeout_ms, 100, 10 * SEC, "1s",
          "one stable pod's answer; a slower pod is left out of that interval"),
    K_UINT("analysis.control.port", analysis.control.port, 0, 65535, "0",
           "the stable pods' rollguard port; 0: the port of listen"),
    K_ENUM("rollback.mode", rollback.mode, mode_names, "enforce",
           "off: judge only; dry-run: log and record the undo; enforce: undo"),
    K_ENUM("rollback.target", rollback.target, target_names, "deployment",
           "undo a Deployment, or abort an Argo Rollout"),
    K_DUR("rollback.guard_window", rollback.guard_window_ms, SEC, 7 * DAY, "30m",
          "act only this long after the rollout began"),
    K_UINT_AUTO("rollback.quorum", rollback.quorum, 1, 256, "auto",
                "pods of the new revision that must report FAIL (votes on the Lease); auto: a "
                "majority of the new ReplicaSet's ready pods, or of the pods that voted if more "
                "(1 of 1, 2 of 3, 3 of 5)"),
    K_DUR("rollback.baseline_publish_interval", rollback.baseline_publish_interval_ms, MIN, DAY,
          "15m", "stable pods publish their baseline on the Lease about this often per Deployment"),
    K_URL("kubernetes.api_server", kubernetes.api_server, CFG_K_EMPTY | CFG_K_HTTPS, "",
          "API server; \"\": https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"),
    K_PATH("kubernetes.service_account_dir", kubernetes.service_account_dir,
           "/var/run/secrets/kubernetes.io/serviceaccount", "token, ca.crt and namespace"),
    K_DUR("kubernetes.timeout", kubernetes.timeout_ms, 100, 5 * MIN, "10s",
          "give up on one API request after this (retries come on top)"),
    K_UINT("kubernetes.max_response_bytes", kubernetes.max_response_bytes, 65536, 256 * 1024 * 1024,
           "8388608", "a larger API response is an error"),
    K_DUR("kubernetes.lease_duration", kubernetes.lease_duration_ms, SEC, 10 * MIN, "15s",
          "leaseDurationSeconds of the rollback Lease (whole seconds)"),
};

_Static_assert(CFG_ARRAY_SIZE(cfg_keys) <= CFG_KEYS_MAX, "raise CFG_KEYS_MAX");
_Static_assert(sizeof(enum cfg_log_level) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum cfg_rollback_target) == sizeof(int), "enums are stored as int");

const struct cfg_preset_value cfg_preset_values[] = {
    {CFG_PRESET_LINKERD, "app.metrics.url", "http://127.0.0.1:4191/metrics"},
    {CFG_PRESET_LINKERD, "app.metrics.selector", "direction=\"inbound\""},
    {CFG_PRESET_LINKERD, "app.metrics.requests.metric", "response_total"},
    {CFG_PRESET_LINKERD, "app.metrics.requests.error_label", "classification"},
    {CFG_PRESET_LINKERD, "app.metrics.requests.error_match", "failure"},
    {CFG_PRESET_LINKERD, "app.metrics.latency.histogram", "response_latency_ms"},
    {CFG_PRESET_LINKERD, "app.metrics.latency.unit", "milliseconds"},
    {CFG_PRESET_ISTIO, "app.metrics.url", "http://127.0.0.1:15090/stats/prometheus"},
    {CFG_PRESET_ISTIO, "app.metrics.selector", "reporter=\"destination\""},
    {CFG_PRESET_ISTIO, "app.metrics.requests.metric", "istio_requests_total"},
    {CFG_PRESET_ISTIO, "app.metrics.requests.error_label", "response_code"},
    {CFG_PRESET_ISTIO, "app.metrics.requests.error_match", "5.."},
    {CFG_PRESET_ISTIO, "app.metrics.latency.histogram", "istio_request_duration_milliseconds"},
    {CFG_PRESET_ISTIO, "app.metrics.latency.unit", "milliseconds"},
};

const struct cfg_probe_def cfg_probes[CFG_PROBES] = {
    {"app.liveness", OFF(liveness), true},
    {"app.readiness", OFF(readiness), false},
};

const size_t cfg_keys_n = CFG_ARRAY_SIZE(cfg_keys);
const size_t cfg_preset_values_n = CFG_ARRAY_SIZE(cfg_preset_values);

const char *cfg_type_name(enum cfg_type t)
{
    return type_names[t];
}

const char *cfg_type_wants(enum cfg_type t)
{
    return type_wants[t];
}

int cfg_key_index(const char *path)
{
    for (size_t i = 0; i < cfg_keys_n; i++)
        if (strcmp(cfg_keys[i].path, path) == 0)
            return (int)i;
    return -ENOENT;
}

/* ---- values ------------------------------------------------------------ */

void cfg_key_range_text(const struct cfg_key *k, char *buf, size_t size)
{
    char lo[32], hi[32];

    if (k->type == CFG_T_DURATION) {
        cfg_duration_render((uint64_t)k->min, lo, sizeof(lo));
        cfg_duration_render((uint64_t)k->max, hi, sizeof(hi));
    } else {
        snprintf(lo, sizeof(lo), "%.15g", k->min);
        snprintf(hi, sizeof(hi), "%.15g", k->max);
    }
    if (k->flags & (CFG_K_MIN_EXCL | CFG_K_MAX_EXCL))
        snprintf(buf, size, "%s %s and %s %s", (k->flags & CFG_K_MIN_EXCL) ? ">" : ">=", lo,
                 (k->flags & CFG_K_MAX_EXCL) ? "<" : "<=", hi);
    else
        snprintf(buf, size, "%s to %s%s", lo, hi, (k->flags & CFG_K_AUTO) ? ", or `auto`" : "");
}

static bool out_of_range(const struct cfg_key *k, double v)
{
    if ((k->flags & CFG_K_MIN_EXCL) ? v <= k->min : v < k->min)
        return true;
    return (k->flags & CFG_K_MAX_EXCL) ? v >= k->max : v > k->max;
}

int cfg_set_string(char **dst, const char *s)
{
    char *copy = strdup(s);

    if (!copy)
        return -ENOMEM;
    free(*dst);
    *dst = copy;
    return 0;
}

int cfg_value_set(struct cfg *c, const struct cfg_key *k, const char *s, char *err, size_t errlen)
{
    char shown[48], range[96];
    void *dst = cfg_key_field(c, k);

    cfg_show(s, strlen(s), shown, sizeof(shown));
    if (cfg_type_is_string(k->type)) {
        size_t len = strlen(s);
        int r = 0;

        if (len > CFG_STRING_MAX) {
            snprintf(err, errlen, "too long (%zu bytes; at most %d)", len, CFG_STRING_MAX);
            return -EINVAL;
        }
        if (len == 0 && !(k->flags & CFG_K_EMPTY)) {
            snprintf(err, errlen, "must not be empty");
            return -EINVAL;
        }
        if (len > 0) {
            if (k->type == CFG_T_ADDRESS) {
                r = cfg_check_hostport(s, len, k->flags & CFG_K_HOST, true, err, errlen);
                if (r == 0 && (k->flags & CFG_K_LOOPBACK))
                    r = cfg_check_loopback(s, len, err, errlen);
            } else if (k->type == CFG_T_URL)
                r = cfg_check_url(s, k->flags & CFG_K_HTTPS, err, errlen);
            else if (k->type == CFG_T_PATH && s[0] != '/') {
                snprintf(err, errlen, "must be an absolute path (starting with /)");
                r = -EINVAL;
            } else if (k->check)
                r = k->check(s, err, errlen);
        }
        if (r < 0) {
            /* Say which value, except for URLs (they may carry credentials). */
            if (k->type != CFG_T_URL) {
                char why[160];
                snprintf(why, sizeof(why), "%s", err);
                snprintf(err, errlen, "\"%s\": %.110s", shown, why);
            }
            return r;
        }
        return cfg_set_string(dst, s);
    }
    switch (k->type) {
    case CFG_T_DURATION: {
        uint64_t ms;
        char why[120];

        if (cfg_duration_parse(s, &ms, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "bad duration \"%s\": %.100s", shown, why);
            return -EINVAL;
        }
        if (out_of_range(k, (double)ms)) {
            cfg_key_range_text(k, range, sizeof(range));
            snprintf(err, errlen, "%s is out of range (%s)", shown, range);
            return -EINVAL;
        }
        *(uint32_t *)dst = (uint32_t)ms;
        return 0;
    }
    case CFG_T_UINT: {
        const char *p = s;
        bool neg = *p == '-';
        uint64_t v = 0;

        if ((k->flags & CFG_K_AUTO) && !strcmp(s, "auto")) {
            *(uint32_t *)dst = 0;
            return 0;
        }
        p += neg;
        if (!isdigit((unsigned char)*p)) {
            snprintf(err, errlen, "\"%s\" is not a whole number%s", shown,
                     (k->flags & CFG_K_AUTO) ? " or `auto`" : "");
            return -EINVAL;
        }
        if (p[0] == '0' && p[1]) {
            snprintf(err, errlen, "\"%s\": leading zeros are not allowed", shown);
            return -EINVAL;
        }
        for (; isdigit((unsigned char)*p); p++)
            if (v <= UINT32_MAX)
                v = v * 10 + (uint64_t)(*p - '0');
        if (*p) {
            snprintf(err, errlen, "\"%s\" is not a whole number%s", shown,
                     (k->flags & CFG_K_AUTO) ? " or `auto`" : "");
            return -EINVAL;
        }
        if ((neg && v > 0) || out_of_range(k, (double)v)) {
            cfg_key_range_text(k, range, sizeof(range));
            snprintf(err, errlen, "%s is out of range (%s)", shown, range);
            return -EINVAL;
        }
        *(uint32_t *)dst = (uint32_t)v;
        return 0;
    }
    case CFG_T_DOUBLE: {
        char *end = NULL;
        double v = NAN;

        if (*s && strspn(s, "0123456789+-.eE") == strlen(s))
            v = strtod(s, &end);
        if (!end || *end || !isfinite(v)) {
            size_t len = strlen(s);
            snprintf(err, errlen, "\"%s\" is not a number%s", shown,
                     len > 1 && s[len - 1] == '%' ? " (write 0.05 for 5%)" : "");
            return -EINVAL;
        }
        if (out_of_range(k, v)) {
            cfg_key_range_text(k, range, sizeof(range));
            snprintf(err, errlen, "%s is out of range (must be %s)", shown, range);
            return -EINVAL;
        }
        *(double *)dst = v;
        return 0;
    }
    case CFG_T_BOOL:
        if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
            *(bool *)dst = true;
        else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
            *(bool *)dst = false;
        else {
            snprintf(err, errlen, "\"%s\" is not true or false", shown);
            return -EINVAL;
        }
        return 0;
    case CFG_T_ENUM: {
        char list[96];
        size_t n = 0;

        for (int i = 0; k->names[i]; i++) {
            if (strcmp(s, k->names[i]) == 0) {
                *(int *)dst = i;
                return 0;
            }
        }
        list[0] = '\0';
        for (int i = 0; k->names[i] && n < sizeof(list); i++) {
            int w = snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", k->names[i]);
            if (w < 0)
                break;
            n += (size_t)w;
        }
        snprintf(err, errlen, "\"%s\" is not one of: %s", shown, list);
        return -EINVAL;
    }
    default:
        snprintf(err, errlen, "internal: unknown type");
        return -EINVAL;
    }
}

/* ---- lookup, for the loader -------------------------------------------- */

int cfg_key_lookup(const char *path, bool *is_section)
{
    size_t n = strlen(path);

    if (n == 0)
        return -ENOENT;
    for (size_t i = 0; i < cfg_keys_n; i++) {
        if (strcmp(cfg_keys[i].path, path) == 0) {
            *is_section = false;
            return (int)i;
        }
        if (strncmp(cfg_keys[i].path, path, n) == 0 && cfg_keys[i].path[n] == '.') {
            *is_section = true;
            return (int)i;
        }
    }
    return -ENOENT;
}

/* Levenshtein distance, or limit + 1 when it is more than limit. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb, size_t limit)
{
    size_t row[CFG_PATH_MAX + 1];

    if (la > CFG_PATH_MAX || lb > CFG_PATH_MAX || (la > lb ? la - lb : lb - la) > limit)
        return limit + 1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0], best;

        row[0] = i;
        best = row[0];
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t v = diag + (a[i - 1] != b[j - 1]);

            if (up + 1 < v)
                v = up + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            row[j] = v;
            diag = up;
            if (v < best)
                best = v;
        }
        if (best > limit)
            return limit + 1;
    }
    return row[lb];
}

bool cfg_key_suggest(const char *path, char *out, size_t size)
{
    const char *last = strrchr(path, '.');
    size_t plen = strlen(path), best_len = 0, limit, best;
    const char *best_s = NULL;

    /* At most 2 edits, and fewer for short names: "a" is not a typo of "app". */
    limit = strlen(last ? last + 1 : path) / 3;
    if (limit > 2)
        limit = 2;
    best = limit + 1;

    /* Candidates: every key and every section (each prefix of a key). */
    for (size_t i = 0; i < cfg_keys_n; i++) {
        const char *k = cfg_keys[i].path;

        for (const char *end = k;; end++) {
            if (*end == '.' || *end == '\0') {
                size_t d = edit_distance(path, plen, k, (size_t)(end - k), limit);

                if (d < best) {
                    best = d;
                    best_s = k;
                    best_len = (size_t)(end - k);
                }
            }
            if (*end == '\0')
                break;
        }
    }
    if (!best_s || best == 0)
        return false;
    snprintf(out, size, "%.*s", (int)best_len, best_s);
    return true;
}

/* ---- enum names -------------------------------------------------------- */

static const char *name_of(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n - 1 ? names[v] : "?";
}

const char *cfg_log_level_name(enum cfg_log_level l)
{
    return name_of(log_level_names, CFG_ARRAY_SIZE(log_level_names), (int)l);
}

const char *cfg_log_format_name(enum cfg_log_format f)
{
    return name_of(log_format_names, CFG_ARRAY_SIZE(log_format_names), (int)f);
}

const char *cfg_rollback_mode_name(enum cfg_rollback_mode m)
{
    return name_of(mode_names, CFG_ARRAY_SIZE(mode_names), (int)m);
}

const char *cfg_rollback_target_name(enum cfg_rollback_target t)
{
    return name_of(target_names, CFG_ARRAY_SIZE(target_names), (int)t);
}

const char *cfg_preset_name(enum cfg_preset p)
{
    return name_of(preset_names, CFG_ARRAY_SIZE(preset_names), (int)p);
}

const char *cfg_probe_kind_name(enum cfg_probe_kind k)
{
    return name_of(kind_names, CFG_ARRAY_SIZE(kind_names), (int)k);
}

const char *cfg_latency_unit_name(enum cfg_latency_unit u)
{
    return name_of(unit_names, CFG_ARRAY_SIZE(unit_names), (int)u);
}
