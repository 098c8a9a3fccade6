/*
 * cfg — the key table and everything derived from it: defaults, value
 * parsing and bounds, presets, cross-field validation, the config hash,
 * the Markdown reference; the snapshot's lifetime; loading a file.
 *
 * Owns the one table of keys. A key's name, type, bounds, default and doc
 * live in one row, so docs, validation and defaults cannot drift apart.
 * Must never include <yaml.h> (cfg_yaml.c is the YAML adapter), log, or
 * keep state between calls. The only I/O is reading the file in cfg_load.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/cfg-int.h"
#include "config/promre.h"

/* Longest string value a key accepts (urls, paths, selectors). */
#define CFG_STRING_MAX 1024

#define SEC 1000.0
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

enum cfg_type {
    T_STRING,
    T_DURATION, /* uint32_t milliseconds */
    T_UINT,     /* uint32_t */
    T_DOUBLE,
    T_BOOL,
    T_ENUM,    /* an enum field; names[] index = value */
    T_ADDRESS, /* "host:port" */
    T_URL,     /* http:// or https:// with a host */
    T_PATH,    /* absolute file system path */
};

static const char *const type_names[] = {
    [T_STRING] = "string",   [T_DURATION] = "duration", [T_UINT] = "integer",
    [T_DOUBLE] = "number",   [T_BOOL] = "bool",         [T_ENUM] = "enum",
    [T_ADDRESS] = "address", [T_URL] = "url",           [T_PATH] = "path",
};

/* What a key of each type expects, for "expected X, got a mapping". */
static const char *const type_wants[] = {
    [T_STRING] = "a string",
    [T_DURATION] = "a duration such as 10s or 1m30s",
    [T_UINT] = "a whole number",
    [T_DOUBLE] = "a number",
    [T_BOOL] = "true or false",
    [T_ENUM] = "one name",
    [T_ADDRESS] = "an address such as 127.0.0.1:8080",
    [T_URL] = "a URL such as http://127.0.0.1:3000/",
    [T_PATH] = "an absolute path",
};

#define K_EMPTY 0x01    /* "" is accepted (string types) */
#define K_MIN_EXCL 0x02 /* min itself is out of range (doubles) */
#define K_MAX_EXCL 0x04 /* max itself is out of range (doubles) */
#define K_HOST 0x08     /* address: the host part may not be empty */
#define K_HTTPS 0x10    /* url: https:// only */
#define K_LOOPBACK 0x20 /* address: 127.0.0.0/8 or [::1] only */

struct cfg_key {
    const char *path; /* dotted, exactly as written in the file */
    enum cfg_type type;
    size_t off;               /* into struct cfg */
    double min, max;          /* T_UINT, T_DURATION (ms), T_DOUBLE */
    unsigned flags;           /* K_* */
    const char *def;          /* the default as the value's text ("" for empty) */
    const char *const *names; /* T_ENUM: NULL-terminated, index = value */
    int (*check)(const char *s, char *err, size_t errlen); /* strings: extra syntax */
    const char *hint; /* strings: what is accepted, for the reference */
    const char *doc;
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
        p, T_STRING, OFF(f), 0, 0, fl, def, NULL, chk, hint, doc                                   \
    }
#define K_DUR(p, f, lo, hi, def, doc)                                                              \
    {                                                                                              \
        p, T_DURATION, OFF(f), lo, hi, 0, def, NULL, NULL, NULL, doc                               \
    }
#define K_UINT(p, f, lo, hi, def, doc)                                                             \
    {                                                                                              \
        p, T_UINT, OFF(f), lo, hi, 0, def, NULL, NULL, NULL, doc                                   \
    }
#define K_DBL(p, f, lo, hi, fl, def, doc)                                                          \
    {                                                                                              \
        p, T_DOUBLE, OFF(f), lo, hi, fl, def, NULL, NULL, NULL, doc                                \
    }
#define K_BOOL(p, f, def, doc)                                                                     \
    {                                                                                              \
        p, T_BOOL, OFF(f), 0, 0, 0, def, NULL, NULL, NULL, doc                                     \
    }
#define K_ENUM(p, f, n, def, doc)                                                                  \
    {                                                                                              \
        p, T_ENUM, OFF(f), 0, 0, 0, def, n, NULL, NULL, doc                                        \
    }
#define K_ADDR(p, f, fl, def, doc)                                                                 \
    {                                                                                              \
        p, T_ADDRESS, OFF(f), 0, 0, fl, def, NULL, NULL, NULL, doc                                 \
    }
#define K_URL(p, f, fl, def, doc)                                                                  \
    {                                                                                              \
        p, T_URL, OFF(f), 0, 0, fl, def, NULL, NULL, NULL, doc                                     \
    }
#define K_PATH(p, f, def, doc)                                                                     \
    {                                                                                              \
        p, T_PATH, OFF(f), 0, 0, 0, def, NULL, NULL, NULL, doc                                     \
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
        K_ADDR(P ".tcp.address", F.address, K_HOST, "127.0.0.1:3000",                              \
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
static const struct cfg_key keys[] = {
    K_ADDR("listen", listen, 0, "0.0.0.0:8080",
           "where /health /ready /livez /metrics /status are served"),
    K_ADDR("admin_listen", admin_listen, K_EMPTY | K_LOOPBACK, "127.0.0.1:8081",
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
    K_URL("app.metrics.url", metrics.url, K_EMPTY, "http://127.0.0.1:3000/metrics",
          "the app's Prometheus metrics; \"\" disables scraping"),
    K_ENUM("app.metrics.preset", metrics.preset, preset_names, "prometheus",
           "otel: auto finds OpenTelemetry names only; linkerd/istio: the app.metrics keys you "
           "leave out take the mesh's values"),
    K_DUR("app.metrics.interval", metrics.interval_ms, SEC, 10 * MIN, "5s", "time between scrapes"),
    K_DUR("app.metrics.timeout", metrics.timeout_ms, 100, 10 * MIN, "2s",
          "give up on a scrape after this; <= interval"),
    K_UINT("app.metrics.max_bytes", metrics.max_bytes, 4096, 64 * 1024 * 1024, "10485760",
           "a larger metrics page fails the scrape"),
    K_STR("app.metrics.selector", metrics.selector, K_EMPTY, cfg_check_selector,
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
    K_STR("app.metrics.latency.histogram", metrics.latency_histogram, K_EMPTY,
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
    K_DBL("analysis.error_rate.max", analysis.error_rate_max, 0, 1, K_MIN_EXCL | K_MAX_EXCL, "0.05",
          "error ratio above which the error rule breaches"),
    K_UINT("analysis.error_rate.min_requests", analysis.error_min_requests, 1, 1000000000, "50",
           "fewer requests in the window: the error rule is inconclusive"),
    K_DBL("analysis.latency.quantile", analysis.latency_quantile, 0, 1, K_MIN_EXCL | K_MAX_EXCL,
          "0.5", "latency quantile compared with the baseline's"),
    K_DBL("analysis.latency.max_increase", analysis.latency_max_increase, 0, 1000, K_MIN_EXCL,
          "0.5", "relative rise over the baseline that breaches (0.5 = +50%)"),
    K_UINT("analysis.latency.min_samples", analysis.latency_min_samples, 1, 1000000000, "50",
           "fewer latency samples in the window: the latency rule is inconclusive"),
    K_UINT("analysis.health_failures", analysis.health_failures, 1, 1000, "3",
           "consecutive liveness failures that count as a breach"),
    K_UINT("analysis.consecutive_breaches", analysis.consecutive_breaches, 1, 1000, "2",
           "breached intervals in a row before the verdict is FAIL"),
    K_ENUM("rollback.mode", rollback.mode, mode_names, "enforce",
           "off: judge only; dry-run: log and record the undo; enforce: undo"),
    K_ENUM("rollback.target", rollback.target, target_names, "deployment",
           "undo a Deployment, or abort an Argo Rollout"),
    K_DUR("rollback.guard_window", rollback.guard_window_ms, SEC, 7 * DAY, "30m",
          "act only this long after the rollout began"),
    K_UINT("rollback.quorum", rollback.quorum, 1, 256, "1",
           "pods of the new revision that must report FAIL (votes on the Lease)"),
    K_DUR("rollback.baseline_publish_interval", rollback.baseline_publish_interval_ms, MIN, DAY,
          "15m", "stable pods publish their baseline on the Lease about this often per Deployment"),
    K_URL("kubernetes.api_server", kubernetes.api_server, K_EMPTY | K_HTTPS, "",
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

_Static_assert(CFG_ARRAY_SIZE(keys) <= CFG_KEYS_MAX, "raise CFG_KEYS_MAX");
_Static_assert(sizeof(enum cfg_log_level) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum cfg_rollback_target) == sizeof(int), "enums are stored as int");

/* What a preset changes: the keys of app.metrics a file leaves out. */
struct preset_value {
    enum cfg_preset preset;
    const char *path;
    const char *value;
};

static const struct preset_value preset_values[] = {
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

/* The two probes, for kind selection and their cross-field rules. */
static const struct {
    const char *path;
    size_t off;
    bool liveness;
} probes[] = {
    {"app.liveness", OFF(liveness), true},
    {"app.readiness", OFF(readiness), false},
};

struct cfg_build {
    struct cfg *c;
    struct cfg_errs *errs;
    bool nomem;
    bool set[CFG_KEYS_MAX];                /* the file gave a value */
    bool bad[CFG_KEYS_MAX];                /* ... and it was rejected */
    struct cfg_mark at[CFG_KEYS_MAX];      /* where the file set it (the key) */
    struct cfg_mark http_at[2], tcp_at[2]; /* probe sections the file opened */
};

/* ---- small helpers ---------------------------------------------------- */

static void *field(const struct cfg *c, const struct cfg_key *k)
{
    return (char *)c + k->off;
}

static bool is_string_type(enum cfg_type t)
{
    return t == T_STRING || t == T_ADDRESS || t == T_URL || t == T_PATH;
}

static int key_index(const char *path)
{
    for (size_t i = 0; i < CFG_ARRAY_SIZE(keys); i++)
        if (strcmp(keys[i].path, path) == 0)
            return (int)i;
    return -ENOENT;
}

static void vadd_err(struct cfg_errs *errs, struct cfg_mark at, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void vadd_err(struct cfg_errs *errs, struct cfg_mark at, const char *fmt, va_list ap)
{
    struct cfg_err *e;

    if (errs->n >= CFG_MAX_ERRORS) {
        errs->dropped++;
        return;
    }
    e = &errs->e[errs->n++];
    e->line = at.line;
    e->column = at.line ? at.column : 0;
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

static void add_err(struct cfg_errs *errs, struct cfg_mark at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_err(struct cfg_errs *errs, struct cfg_mark at, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vadd_err(errs, at, fmt, ap);
    va_end(ap);
}

static const struct cfg_mark nowhere = {0, 0};

/* ---- values ------------------------------------------------------------ */

static void range_text(const struct cfg_key *k, char *buf, size_t size)
{
    char lo[32], hi[32];

    if (k->type == T_DURATION) {
        cfg_duration_render((uint64_t)k->min, lo, sizeof(lo));
        cfg_duration_render((uint64_t)k->max, hi, sizeof(hi));
    } else {
        snprintf(lo, sizeof(lo), "%.15g", k->min);
        snprintf(hi, sizeof(hi), "%.15g", k->max);
    }
    if (k->flags & (K_MIN_EXCL | K_MAX_EXCL))
        snprintf(buf, size, "%s %s and %s %s", (k->flags & K_MIN_EXCL) ? ">" : ">=", lo,
                 (k->flags & K_MAX_EXCL) ? "<" : "<=", hi);
    else
        snprintf(buf, size, "%s to %s", lo, hi);
}

static bool out_of_range(const struct cfg_key *k, double v)
{
    if ((k->flags & K_MIN_EXCL) ? v <= k->min : v < k->min)
        return true;
    return (k->flags & K_MAX_EXCL) ? v >= k->max : v > k->max;
}

static int set_string(char **dst, const char *s)
{
    char *copy = strdup(s);

    if (!copy)
        return -ENOMEM;
    free(*dst);
    *dst = copy;
    return 0;
}

/*
 * Parse s (NUL-terminated) as key k's type, check it, store it into c.
 * Returns 0, -ENOMEM, or -EINVAL with the reason in err (without the key).
 */
static int value_set(struct cfg *c, const struct cfg_key *k, const char *s, char *err,
                     size_t errlen)
{
    char shown[48], range[96];
    void *dst = field(c, k);

    cfg_show(s, strlen(s), shown, sizeof(shown));
    if (is_string_type(k->type)) {
        size_t len = strlen(s);
        int r = 0;

        if (len > CFG_STRING_MAX) {
            snprintf(err, errlen, "too long (%zu bytes; at most %d)", len, CFG_STRING_MAX);
            return -EINVAL;
        }
        if (len == 0 && !(k->flags & K_EMPTY)) {
            snprintf(err, errlen, "must not be empty");
            return -EINVAL;
        }
        if (len > 0) {
            if (k->type == T_ADDRESS) {
                r = cfg_check_hostport(s, len, k->flags & K_HOST, true, err, errlen);
                if (r == 0 && (k->flags & K_LOOPBACK))
                    r = cfg_check_loopback(s, len, err, errlen);
            } else if (k->type == T_URL)
                r = cfg_check_url(s, k->flags & K_HTTPS, err, errlen);
            else if (k->type == T_PATH && s[0] != '/') {
                snprintf(err, errlen, "must be an absolute path (starting with /)");
                r = -EINVAL;
            } else if (k->check)
                r = k->check(s, err, errlen);
        }
        if (r < 0) {
            /* Say which value, except for URLs (they may carry credentials). */
            if (k->type != T_URL) {
                char why[160];
                snprintf(why, sizeof(why), "%s", err);
                snprintf(err, errlen, "\"%s\": %.110s", shown, why);
            }
            return r;
        }
        return set_string(dst, s);
    }
    switch (k->type) {
    case T_DURATION: {
        uint64_t ms;
        char why[120];

        if (cfg_duration_parse(s, &ms, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "bad duration \"%s\": %.100s", shown, why);
            return -EINVAL;
        }
        if (out_of_range(k, (double)ms)) {
            range_text(k, range, sizeof(range));
            snprintf(err, errlen, "%s is out of range (%s)", shown, range);
            return -EINVAL;
        }
        *(uint32_t *)dst = (uint32_t)ms;
        return 0;
    }
    case T_UINT: {
        const char *p = s;
        bool neg = *p == '-';
        uint64_t v = 0;

        p += neg;
        if (!isdigit((unsigned char)*p)) {
            snprintf(err, errlen, "\"%s\" is not a whole number", shown);
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
            snprintf(err, errlen, "\"%s\" is not a whole number", shown);
            return -EINVAL;
        }
        if ((neg && v > 0) || out_of_range(k, (double)v)) {
            range_text(k, range, sizeof(range));
            snprintf(err, errlen, "%s is out of range (%s)", shown, range);
            return -EINVAL;
        }
        *(uint32_t *)dst = (uint32_t)v;
        return 0;
    }
    case T_DOUBLE: {
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
            range_text(k, range, sizeof(range));
            snprintf(err, errlen, "%s is out of range (must be %s)", shown, range);
            return -EINVAL;
        }
        *(double *)dst = v;
        return 0;
    }
    case T_BOOL:
        if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
            *(bool *)dst = true;
        else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
            *(bool *)dst = false;
        else {
            snprintf(err, errlen, "\"%s\" is not true or false", shown);
            return -EINVAL;
        }
        return 0;
    case T_ENUM: {
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

/* ---- the table, for the loader ---------------------------------------- */

int cfg_key_lookup(const char *path, bool *is_section)
{
    size_t n = strlen(path);

    if (n == 0)
        return -ENOENT;
    for (size_t i = 0; i < CFG_ARRAY_SIZE(keys); i++) {
        if (strcmp(keys[i].path, path) == 0) {
            *is_section = false;
            return (int)i;
        }
        if (strncmp(keys[i].path, path, n) == 0 && keys[i].path[n] == '.') {
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
    for (size_t i = 0; i < CFG_ARRAY_SIZE(keys); i++) {
        const char *k = keys[i].path;

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

bool cfg_build_errs_full(const struct cfg_build *b)
{
    return b->errs->n >= CFG_MAX_ERRORS;
}

void cfg_build_err(struct cfg_build *b, struct cfg_mark at, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vadd_err(b->errs, at, fmt, ap);
    va_end(ap);
}

void cfg_build_nomem(struct cfg_build *b)
{
    b->nomem = true;
}

void cfg_build_scalar(struct cfg_build *b, int id, const char *text, bool null, struct cfg_mark val,
                      struct cfg_mark key)
{
    const struct cfg_key *k = &keys[id];
    char err[170];
    int r;

    b->set[id] = true;
    b->at[id] = key;
    if (null) {
        b->bad[id] = true;
        cfg_build_err(b, key, "%s: a value is required%s", k->path,
                      (k->flags & K_EMPTY) ? " (write \"\" for an empty one)" : "");
        return;
    }
    r = value_set(b->c, k, text, err, sizeof(err));
    if (r == -ENOMEM)
        cfg_build_nomem(b);
    else if (r < 0) {
        b->bad[id] = true;
        cfg_build_err(b, val, "%s: %s", k->path, err);
    }
}

void cfg_build_wrong_node(struct cfg_build *b, int id, const char *what, struct cfg_mark at)
{
    const struct cfg_key *k = &keys[id];

    b->set[id] = true;
    b->bad[id] = true;
    b->at[id] = at;
    cfg_build_err(b, at, "%s: expected %s, got a %s", k->path, type_wants[k->type], what);
}

int cfg_build_section(struct cfg_build *b, const char *path, struct cfg_mark key)
{
    for (size_t i = 0; i < CFG_ARRAY_SIZE(probes); i++) {
        size_t n = strlen(probes[i].path);
        const char *sub = path + n;
        bool http, tcp;

        if (strncmp(path, probes[i].path, n) != 0)
            continue;
        http = strcmp(sub, ".http") == 0;
        tcp = strcmp(sub, ".tcp") == 0;
        if (!http && !tcp)
            continue;
        if ((http && b->tcp_at[i].line) || (tcp && b->http_at[i].line)) {
            cfg_build_err(b, key, "%s: a probe is either http or tcp, and %s was set at line %u",
                          path, http ? "tcp" : "http",
                          http ? b->tcp_at[i].line : b->http_at[i].line);
            return -EINVAL;
        }
        if (http)
            b->http_at[i] = key;
        else
            b->tcp_at[i] = key;
    }
    return 0;
}

/* ---- snapshot ---------------------------------------------------------- */

struct cfg *cfg_ref(struct cfg *c)
{
    if (c)
        c->refs++;
    return c;
}

struct cfg *cfg_unref(struct cfg *c)
{
    if (!c || --c->refs > 0)
        return NULL;
    for (size_t i = 0; i < CFG_ARRAY_SIZE(keys); i++)
        if (is_string_type(keys[i].type))
            free(*(char **)field(c, &keys[i]));
    free(c);
    return NULL;
}

/* A snapshot holding the table defaults, or an error in errs. */
static int defaults_new(struct cfg **ret, struct cfg_errs *errs)
{
    struct cfg *c = calloc(1, sizeof(*c));
    char err[170];
    int r = 0;

    if (!c) {
        add_err(errs, nowhere, "out of memory");
        return -ENOMEM;
    }
    c->refs = 1;
    for (size_t i = 0; i < CFG_ARRAY_SIZE(keys); i++) {
        r = value_set(c, &keys[i], keys[i].def, err, sizeof(err));
        if (r < 0) {
            if (r == -ENOMEM)
                add_err(errs, nowhere, "out of memory");
            else
                add_err(errs, nowhere, "internal: default of %s: %s", keys[i].path, err);
            goto fail;
        }
    }
    *ret = c;
    return 0;
fail:
    cfg_unref(c);
    return r;
}

/* ---- after the file: presets, probe kinds, cross-field rules ----------- */

/* Where to point at: the first of the keys the file set (line 0 if none). */
static struct cfg_mark pick(const struct cfg_build *b, int k1, int k2)
{
    if (k1 >= 0 && b->set[k1])
        return b->at[k1];
    if (k2 >= 0 && b->set[k2])
        return b->at[k2];
    return nowhere;
}

static bool any_bad(const struct cfg_build *b, int k1, int k2)
{
    return (k1 >= 0 && b->bad[k1]) || (k2 >= 0 && b->bad[k2]);
}

static int apply_preset(struct cfg_build *b)
{
    char err[170];

    for (size_t i = 0; i < CFG_ARRAY_SIZE(preset_values); i++) {
        const struct preset_value *pv = &preset_values[i];
        int id = key_index(pv->path);
        int r;

        if (pv->preset != b->c->metrics.preset || id < 0 || b->set[id])
            continue;
        r = value_set(b->c, &keys[id], pv->value, err, sizeof(err));
        if (r == -ENOMEM)
            return r;
        if (r < 0)
            cfg_build_err(b, nowhere, "internal: preset value of %s: %s", pv->path, err);
    }
    return 0;
}

/* "a (x) must not exceed b (y)" for two duration keys. */
static void check_le(struct cfg_build *b, const char *small, const char *big)
{
    int ks = key_index(small), kb = key_index(big);
    uint32_t vs, vb;
    char ts[32], tb[32];

    if (ks < 0 || kb < 0 || any_bad(b, ks, kb))
        return;
    vs = *(uint32_t *)field(b->c, &keys[ks]);
    vb = *(uint32_t *)field(b->c, &keys[kb]);
    if (vs <= vb)
        return;
    cfg_duration_render(vs, ts, sizeof(ts));
    cfg_duration_render(vb, tb, sizeof(tb));
    cfg_build_err(b, pick(b, ks, kb), "%s (%s) must not exceed %s (%s)", small, ts, big, tb);
}

static int probes_finish(struct cfg_build *b)
{
    for (size_t i = 0; i < CFG_ARRAY_SIZE(probes); i++) {
        struct cfg_probe *p = (struct cfg_probe *)((char *)b->c + probes[i].off);
        bool tcp = b->tcp_at[i].line != 0;
        char path[64], timeout[64], period[64];
        int r, ks;

        /* The kind the file chose; the other kind's default is dropped. */
        r = set_string(tcp ? &p->url : &p->address, "");
        if (r < 0)
            return r;
        p->kind = !p->enabled ? CFG_PROBE_NONE : tcp ? CFG_PROBE_TCP : CFG_PROBE_HTTP;

        snprintf(timeout, sizeof(timeout), "%s.%s.timeout", probes[i].path, tcp ? "tcp" : "http");
        snprintf(period, sizeof(period), "%s.period", probes[i].path);
        check_le(b, timeout, period);

        snprintf(path, sizeof(path), "%s.success_threshold", probes[i].path);
        ks = key_index(path);
        if (probes[i].liveness && ks >= 0 && !b->bad[ks] && p->success_threshold != 1)
            cfg_build_err(b, pick(b, ks, -1), "%s must be 1 for liveness (as in Kubernetes)", path);
    }
    return 0;
}

static void analysis_finish(struct cfg_build *b)
{
    const struct cfg_analysis *a = &b->c->analysis;
    int ki = key_index("analysis.interval"), kw = key_index("analysis.window");
    int kb = key_index("analysis.baseline_window");
    char ti[32], tw[32];

    if (!any_bad(b, ki, kw)) {
        cfg_duration_render(a->interval_ms, ti, sizeof(ti));
        cfg_duration_render(a->window_ms, tw, sizeof(tw));
        if (a->window_ms % a->interval_ms != 0)
            cfg_build_err(b, pick(b, kw, ki),
                          "analysis.window (%s) must be a whole multiple of analysis.interval (%s)",
                          tw, ti);
        else if (a->window_ms / a->interval_ms > 360)
            cfg_build_err(b, pick(b, kw, ki),
                          "analysis.window (%s) is %u intervals of %s; at most 360 are allowed", tw,
                          a->window_ms / a->interval_ms, ti);
    }
    if (!any_bad(b, kb, kw) && a->baseline_window_ms < a->window_ms) {
        char tb[32];

        cfg_duration_render(a->baseline_window_ms, tb, sizeof(tb));
        cfg_duration_render(a->window_ms, tw, sizeof(tw));
        cfg_build_err(b, pick(b, kb, kw),
                      "analysis.baseline_window (%s) must be at least "
                      "analysis.window (%s)",
                      tb, tw);
    }
}

/* ---- canonical rendering and the hash ---------------------------------- */

/* An output that counts what it needed, fills a buffer and/or feeds a hash. */
struct out {
    char *buf;
    size_t size, len;
    bool hashing;
    uint64_t fnv;
};

static void out_write(struct out *o, const char *s, size_t n)
{
    if (o->hashing) {
        for (size_t i = 0; i < n; i++) {
            o->fnv ^= (unsigned char)s[i];
            o->fnv *= 0x100000001b3ULL;
        }
    }
    if (o->buf && o->len < o->size) {
        size_t room = o->size - o->len - 1;
        memcpy(o->buf + o->len, s, n < room ? n : room);
        o->buf[o->len + (n < room ? n : room)] = '\0';
    }
    o->len += n;
}

static void out_puts(struct out *o, const char *s)
{
    out_write(o, s, strlen(s));
}

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        out_write(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A string in double quotes, with ", \ and control characters escaped. */
static void out_quoted(struct out *o, const char *s)
{
    out_puts(o, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            out_printf(o, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            out_printf(o, "\\x%02x", c);
        else
            out_write(o, s, 1);
    }
    out_puts(o, "\"");
}

static void out_value(struct out *o, const struct cfg *c, const struct cfg_key *k)
{
    const void *v = field(c, k);
    char tmp[32];

    switch (k->type) {
    case T_STRING:
    case T_ADDRESS:
    case T_URL:
    case T_PATH:
        out_quoted(o, *(char *const *)v);
        break;
    case T_DURATION:
        cfg_duration_render(*(const uint32_t *)v, tmp, sizeof(tmp));
        out_puts(o, tmp);
        break;
    case T_UINT:
        out_printf(o, "%" PRIu32, *(const uint32_t *)v);
        break;
    case T_DOUBLE:
        out_printf(o, "%.17g", *(const double *)v);
        break;
    case T_BOOL:
        out_puts(o, *(const bool *)v ? "true" : "false");
        break;
    case T_ENUM:
        out_puts(o, k->names[*(const int *)v]);
        break;
    }
}

/* key=value lines of every effective value, in table order, into the hash. */
static void hash_render(struct cfg *c)
{
    struct out o = {.hashing = true, .fnv = 0xcbf29ce484222325ULL};

    for (size_t i = 0; i < CFG_ARRAY_SIZE(keys); i++) {
        out_puts(&o, keys[i].path);
        out_puts(&o, "=");
        out_value(&o, c, &keys[i]);
        out_puts(&o, "\n");
    }
    for (size_t i = 0; i < CFG_ARRAY_SIZE(probes); i++) {
        const struct cfg_probe *p = (const struct cfg_probe *)((const char *)c + probes[i].off);
        out_printf(&o, "%s.kind=%s\n", probes[i].path, cfg_probe_kind_name(p->kind));
    }
    snprintf(c->hash, sizeof(c->hash), "%016" PRIx64, o.fnv);
}

/* ---- parse ------------------------------------------------------------- */

static void errs_sort(struct cfg_errs *errs)
{
    /* Insertion sort, stable: the walk's errors are in order already. */
    for (unsigned i = 1; i < errs->n; i++) {
        struct cfg_err e = errs->e[i];
        unsigned j = i;

        while (j > 0 && (errs->e[j - 1].line > e.line ||
                         (errs->e[j - 1].line == e.line && errs->e[j - 1].column > e.column))) {
            errs->e[j] = errs->e[j - 1];
            j--;
        }
        errs->e[j] = e;
    }
}

int cfg_parse(const char *buf, size_t len, const char *name, struct cfg **ret,
              struct cfg_errs *errs)
{
    struct cfg_errs scratch;
    struct cfg_build b = {0};
    int r;

    if (!errs)
        errs = &scratch;
    errs->n = 0;
    errs->dropped = 0;
    b.errs = errs;
    if (!ret || (!buf && len)) {
        add_err(errs, nowhere, "internal: bad arguments");
        return -EINVAL;
    }
    if (len > CFG_MAX_FILE_BYTES) {
        add_err(errs, nowhere, "the file is %zu bytes; the limit is %d bytes", len,
                CFG_MAX_FILE_BYTES);
        return -EFBIG;
    }
    r = defaults_new(&b.c, errs);
    if (r < 0)
        return r;
    r = cfg_yaml_read(&b, buf ? buf : "", len);
    if (r == 0 && !b.nomem)
        r = apply_preset(&b);
    if (r == 0 && !b.nomem)
        r = probes_finish(&b);
    if (r == 0 && !b.nomem) {
        check_le(&b, "app.metrics.timeout", "app.metrics.interval");
        analysis_finish(&b);
    }
    if (b.nomem || r == -ENOMEM) {
        add_err(errs, nowhere, "out of memory");
        r = -ENOMEM;
    } else if (r == 0 && (errs->n > 0 || errs->dropped > 0))
        r = -EINVAL;
    errs_sort(errs);
    if (r < 0) {
        cfg_unref(b.c);
        return r;
    }
    snprintf(b.c->source, sizeof(b.c->source), "%s", name ? name : "(config)");
    b.c->metrics.latency_quantile = b.c->analysis.latency_quantile;
    hash_render(b.c);
    *ret = b.c;
    return 0;
}

/* A line with nothing but a document marker ("---" or "..."), maybe a comment after it. */
static bool marker_line(const char *p, size_t n)
{
    size_t i = 3;

    if (n < 3 || (memcmp(p, "---", 3) && memcmp(p, "...", 3)))
        return false;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
        i++;
    return i == n || (i > 3 && p[i] == '#');
}

bool cfg_text_blank(const char *buf, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t end = i, j = i;

        while (end < len && buf[end] != '\n')
            end++;
        while (j < end && (buf[j] == ' ' || buf[j] == '\t' || buf[j] == '\r'))
            j++;
        if (j < end && buf[j] != '#' && !marker_line(buf + j, end - j))
            return false;
        i = end + 1;
    }
    return true;
}

int cfg_default(struct cfg **ret, struct cfg_errs *errs)
{
    const char *y = cfg_default_yaml();

    return cfg_parse(y, strlen(y), "(embedded defaults)", ret, errs);
}

int cfg_load(const char *path, struct cfg **ret, struct cfg_errs *errs)
{
    struct cfg_errs scratch;
    struct stat st;
    char *buf = NULL;
    size_t len = 0, cap;
    int fd = -1, r;

    if (!errs)
        errs = &scratch;
    errs->n = 0;
    errs->dropped = 0;
    if (!path || !ret) {
        add_err(errs, nowhere, "internal: bad arguments");
        return -EINVAL;
    }
    /* O_NONBLOCK: a FIFO must not block the open; it is refused below. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        r = -errno;
        add_err(errs, nowhere, "cannot open: %s", strerror(-r));
        goto fail;
    }
    if (fstat(fd, &st) < 0) {
        r = -errno;
        add_err(errs, nowhere, "cannot stat: %s", strerror(-r));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        r = -EISDIR;
        add_err(errs, nowhere, "is a directory; expected a YAML file");
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        r = -EINVAL;
        add_err(errs, nowhere, "not a regular file");
        goto fail;
    }
    if (st.st_size > CFG_MAX_FILE_BYTES) {
        r = -EFBIG;
        add_err(errs, nowhere, "the file is %lld bytes; the limit is %d bytes",
                (long long)st.st_size, CFG_MAX_FILE_BYTES);
        goto fail;
    }
    /* The size may change while we read; read to EOF, never past the limit. */
    cap = (size_t)st.st_size + 1;
    buf = malloc(cap);
    if (!buf) {
        r = -ENOMEM;
        add_err(errs, nowhere, "out of memory");
        goto fail;
    }
    for (;;) {
        ssize_t n;

        if (len == cap) {
            char *bigger;

            if (cap > CFG_MAX_FILE_BYTES) {
                r = -EFBIG;
                add_err(errs, nowhere, "the file is over the limit of %d bytes",
                        CFG_MAX_FILE_BYTES);
                goto fail;
            }
            cap = cap * 2 > CFG_MAX_FILE_BYTES + 1 ? CFG_MAX_FILE_BYTES + 1 : cap * 2;
            bigger = realloc(buf, cap);
            if (!bigger) {
                r = -ENOMEM;
                add_err(errs, nowhere, "out of memory");
                goto fail;
            }
            buf = bigger;
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            add_err(errs, nowhere, "cannot read: %s", strerror(-r));
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    fd = -1;
    if (cfg_text_blank(buf, len)) {
        /* An empty or comment-only file is a torn write or a wrong mount, not a config. */
        r = -EINVAL;
        add_err(errs, nowhere,
                "the file has no settings (empty or only comments); "
                "write {} to run on the defaults");
        goto fail;
    }
    r = cfg_parse(buf, len, path, ret, errs);
    free(buf);
    return r;
fail:
    if (fd >= 0)
        close(fd);
    free(buf);
    return r;
}

/* ---- names, reference, error text -------------------------------------- */

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

/* Markdown cell text: '|' would end the cell. */
static void out_cell(struct out *o, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            out_puts(o, "\\|");
        else
            out_write(o, s, 1);
    }
}

size_t cfg_render_reference(char *buf, size_t size)
{
    struct out o = {.buf = buf, .size = size};

    if (buf && size)
        buf[0] = '\0';
    out_puts(&o, "| key | type | default | bounds / values | meaning |\n");
    out_puts(&o, "|---|---|---|---|---|\n");
    for (size_t i = 0; i < CFG_ARRAY_SIZE(keys); i++) {
        const struct cfg_key *k = &keys[i];
        char range[96];

        out_printf(&o, "| `%s` | %s | `", k->path, type_names[k->type]);
        out_cell(&o, *k->def ? k->def : "\"\"");
        out_puts(&o, "` | ");
        switch (k->type) {
        case T_DURATION:
        case T_UINT:
        case T_DOUBLE:
            range_text(k, range, sizeof(range));
            out_puts(&o, range);
            break;
        case T_BOOL:
            out_puts(&o, "true, false");
            break;
        case T_ENUM:
            for (int j = 0; k->names[j]; j++)
                out_printf(&o, "%s%s", j ? ", " : "", k->names[j]);
            break;
        case T_ADDRESS:
            out_puts(&o, (k->flags & K_HOST)
                             ? "host:port, IPv6 as [::1]:port"
                             : "host:port (no host: all interfaces), IPv6 as [::1]:port");
            break;
        case T_URL:
            out_puts(&o, (k->flags & K_HTTPS) ? "https:// URL" : "http:// or https:// URL");
            break;
        case T_PATH:
            out_puts(&o, "absolute path");
            break;
        case T_STRING:
            out_cell(&o, k->hint ? k->hint : "text");
            break;
        }
        if (is_string_type(k->type) && (k->flags & K_EMPTY))
            out_puts(&o, ", or `\"\"`");
        out_puts(&o, " | ");
        out_cell(&o, k->doc);
        out_puts(&o, " |\n");
    }
    return o.len;
}

int cfg_errs_render(const struct cfg_errs *errs, const char *file, char *buf, size_t size)
{
    struct out o = {.buf = buf, .size = size};

    if (buf && size)
        buf[0] = '\0';
    if (!errs)
        return 0;
    if (!file)
        file = "(config)";
    for (unsigned i = 0; i < errs->n && i < CFG_MAX_ERRORS; i++) {
        const struct cfg_err *e = &errs->e[i];

        out_puts(&o, file);
        if (e->line)
            out_printf(&o, ":%u:%u", e->line, e->column);
        out_puts(&o, ": ");
        out_write(&o, e->msg, strnlen(e->msg, sizeof(e->msg)));
        out_puts(&o, "\n");
    }
    if (errs->dropped) {
        out_puts(&o, file);
        out_printf(&o, ": ...and %u more\n", errs->dropped);
    }
    return o.len > INT32_MAX ? INT32_MAX : (int)o.len;
}
