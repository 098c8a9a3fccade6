/*
 * Unit tests of the config module: the embedded defaults, every error class
 * with its line:column, durations, presets, probe kinds, cross-field rules,
 * the hash, reference counting, cfg_load on odd paths, the reference table.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/cfg.h"

/* The public key names (config/rollguard.yaml), in table order. */
static const char *const all_keys[] = {
    "listen",
    "admin_listen",
    "log.level",
    "log.format",
    "server.max_connections",
    "server.timeout",
    "server.max_header_bytes",
    "server.backlog",
    "server.drain",
    "app.liveness.enabled",
    "app.liveness.http.url",
    "app.liveness.http.timeout",
    "app.liveness.http.tls_verify",
    "app.liveness.tcp.address",
    "app.liveness.tcp.timeout",
    "app.liveness.period",
    "app.liveness.initial_delay",
    "app.liveness.failure_threshold",
    "app.liveness.success_threshold",
    "app.readiness.enabled",
    "app.readiness.http.url",
    "app.readiness.http.timeout",
    "app.readiness.http.tls_verify",
    "app.readiness.tcp.address",
    "app.readiness.tcp.timeout",
    "app.readiness.period",
    "app.readiness.initial_delay",
    "app.readiness.failure_threshold",
    "app.readiness.success_threshold",
    "app.metrics.url",
    "app.metrics.preset",
    "app.metrics.interval",
    "app.metrics.timeout",
    "app.metrics.max_bytes",
    "app.metrics.selector",
    "app.metrics.requests.metric",
    "app.metrics.requests.error_label",
    "app.metrics.requests.error_match",
    "app.metrics.latency.histogram",
    "app.metrics.latency.unit",
    "analysis.interval",
    "analysis.window",
    "analysis.warmup",
    "analysis.baseline_window",
    "analysis.error_rate.max",
    "analysis.error_rate.min_requests",
    "analysis.latency.quantile",
    "analysis.latency.max_increase",
    "analysis.latency.min_samples",
    "analysis.health_failures",
    "analysis.consecutive_breaches",
    "analysis.control.enabled",
    "analysis.control.pods",
    "analysis.control.timeout",
    "analysis.control.port",
    "rollback.mode",
    "rollback.target",
    "rollback.guard_window",
    "rollback.quorum",
    "rollback.baseline_publish_interval",
    "kubernetes.api_server",
    "kubernetes.service_account_dir",
    "kubernetes.timeout",
    "kubernetes.max_response_bytes",
    "kubernetes.lease_duration",
};
#define N_KEYS (sizeof(all_keys) / sizeof(all_keys[0]))

static struct cfg_errs errs;

static int parse_n(const char *y, size_t len, struct cfg **ret)
{
    return cfg_parse(y, len, "t.yaml", ret, &errs);
}

static int parse(const char *y, struct cfg **ret)
{
    return parse_n(y, strlen(y), ret);
}

static const char *dump(void)
{
    static char buf[8192];

    cfg_errs_render(&errs, "t.yaml", buf, sizeof(buf));
    return buf;
}

/* Parse y, which must succeed. */
static struct cfg *ok(const char *y)
{
    struct cfg *c = NULL;
    int r = parse(y, &c);

    ck_assert_msg(r == 0, "parse failed (%d) for:\n%s\nerrors:\n%s", r, y, dump());
    ck_assert_ptr_nonnull(c);
    return c;
}

/* Parse y (len bytes), which must fail with exactly one error at line:col containing needle. */
static void one_err_n(const char *y, size_t len, unsigned line, unsigned col, const char *needle)
{
    struct cfg *c = NULL;
    int r = parse_n(y, len, &c);

    ck_assert_msg(r == -EINVAL, "expected -EINVAL, got %d for:\n%s", r, y);
    ck_assert_ptr_null(c);
    ck_assert_msg(errs.n == 1 && errs.dropped == 0, "expected 1 error, got %u for:\n%s\n%s", errs.n,
                  y, dump());
    ck_assert_msg(errs.e[0].line == line && errs.e[0].column == col, "expected at %u:%u, got:\n%s",
                  line, col, dump());
    ck_assert_msg(strstr(errs.e[0].msg, needle), "expected \"%s\" in:\n%s", needle, dump());
}

static void one_err(const char *y, unsigned line, unsigned col, const char *needle)
{
    one_err_n(y, strlen(y), line, col, needle);
}

/* True when some error is at line:col and contains needle. */
static bool has_err(unsigned line, unsigned col, const char *needle)
{
    for (unsigned i = 0; i < errs.n; i++)
        if (errs.e[i].line == line && errs.e[i].column == col && strstr(errs.e[i].msg, needle))
            return true;
    return false;
}

static char *default_hash(char out[17])
{
    struct cfg *c = ok("");

    memcpy(out, c->hash, 17);
    cfg_unref(c);
    return out;
}

/* ---- defaults ----------------------------------------------------------- */

START_TEST(test_defaults_embedded)
{
    struct cfg *c = NULL;

    ck_assert_int_eq(cfg_default(&c, &errs), 0);
    ck_assert_uint_eq(errs.n, 0);
    ck_assert_uint_eq(c->refs, 1);
    ck_assert_str_eq(c->source, "(embedded defaults)");
    ck_assert_str_eq(c->listen, "0.0.0.0:8080");
    ck_assert_str_eq(c->admin_listen, "127.0.0.1:8081");
    ck_assert_int_eq(c->log_level, CFG_LOG_INFO);
    ck_assert_int_eq(c->log_format, CFG_LOG_JSON);
    ck_assert_uint_eq(c->server.max_connections, 1024);
    ck_assert_uint_eq(c->server.timeout_ms, 5000);
    ck_assert_uint_eq(c->server.max_header_bytes, 8192);
    ck_assert_uint_eq(c->server.backlog, 1024);

    ck_assert_int_eq(c->liveness.kind, CFG_PROBE_HTTP);
    ck_assert(c->liveness.enabled);
    ck_assert_str_eq(c->liveness.url, "http://127.0.0.1:3000/healthz");
    ck_assert_str_eq(c->liveness.address, "");
    ck_assert(!c->liveness.tls_verify);
    ck_assert_uint_eq(c->liveness.timeout_ms, 1000);
    ck_assert_uint_eq(c->liveness.period_ms, 10000);
    ck_assert_uint_eq(c->liveness.initial_delay_ms, 0);
    ck_assert_uint_eq(c->liveness.failure_threshold, 3);
    ck_assert_uint_eq(c->liveness.success_threshold, 1);

    ck_assert_int_eq(c->readiness.kind, CFG_PROBE_HTTP);
    ck_assert_str_eq(c->readiness.url, "http://127.0.0.1:3000/ready");
    ck_assert_uint_eq(c->readiness.timeout_ms, 1000);
    ck_assert_uint_eq(c->readiness.period_ms, 5000);
    ck_assert_uint_eq(c->readiness.failure_threshold, 1);
    ck_assert_uint_eq(c->readiness.success_threshold, 1);

    ck_assert_str_eq(c->metrics.url, "http://127.0.0.1:3000/metrics");
    ck_assert_int_eq(c->metrics.preset, CFG_PRESET_PROMETHEUS);
    ck_assert_uint_eq(c->metrics.interval_ms, 5000);
    ck_assert_uint_eq(c->metrics.timeout_ms, 2000);
    ck_assert_uint_eq(c->metrics.max_bytes, 10485760);
    ck_assert_str_eq(c->metrics.selector, "");
    ck_assert_str_eq(c->metrics.requests_metric, "auto");
    ck_assert_str_eq(c->metrics.error_label, "auto");
    ck_assert_str_eq(c->metrics.error_match, "5..");
    ck_assert_str_eq(c->metrics.latency_histogram, "auto");
    ck_assert_int_eq(c->metrics.latency_unit, CFG_UNIT_AUTO);

    ck_assert_uint_eq(c->analysis.interval_ms, 10000);
    ck_assert_uint_eq(c->analysis.window_ms, 60000);
    ck_assert_uint_eq(c->analysis.warmup_ms, 30000);
    ck_assert_uint_eq(c->analysis.baseline_window_ms, 3600000);
    ck_assert_double_eq(c->analysis.error_rate_max, 0.05);
    ck_assert_uint_eq(c->analysis.error_min_requests, 50);
    ck_assert_double_eq(c->analysis.latency_quantile, 0.5);
    ck_assert_double_eq(c->analysis.latency_max_increase, 0.5);
    ck_assert_uint_eq(c->analysis.latency_min_samples, 50);
    ck_assert_uint_eq(c->analysis.health_failures, 3);
    ck_assert_uint_eq(c->analysis.consecutive_breaches, 2);

    ck_assert_int_eq(c->rollback.mode, CFG_ROLLBACK_ENFORCE);
    ck_assert_int_eq(c->rollback.target, CFG_TARGET_DEPLOYMENT);
    ck_assert_uint_eq(c->rollback.guard_window_ms, 30 * 60 * 1000);
    ck_assert_uint_eq(c->rollback.quorum, CFG_QUORUM_AUTO);

    ck_assert_str_eq(c->kubernetes.api_server, "");
    ck_assert_str_eq(c->kubernetes.service_account_dir,
                     "/var/run/secrets/kubernetes.io/serviceaccount");
    cfg_unref(c);
}
END_TEST

/* The table's defaults and config/rollguard.yaml cannot drift apart. */
START_TEST(test_defaults_equal_table)
{
    struct cfg *def = NULL;
    struct cfg *c;

    ck_assert_int_eq(cfg_default(&def, &errs), 0);
    c = ok("");
    ck_assert_str_eq(def->hash, c->hash);
    cfg_unref(c);
    c = ok("# only a comment\n\n   # and another\n");
    ck_assert_str_eq(def->hash, c->hash);
    cfg_unref(c);
    c = ok("---\n");
    ck_assert_str_eq(def->hash, c->hash);
    cfg_unref(c);
    c = ok("{}\n");
    ck_assert_str_eq(def->hash, c->hash);
    cfg_unref(c);
    cfg_unref(def);
}
END_TEST

/* ---- the reference ----------------------------------------------------- */

START_TEST(test_reference_every_key)
{
    size_t need = cfg_render_reference(NULL, 0);
    char *buf = malloc(need + 1);
    unsigned rows = 0;

    ck_assert_uint_gt(need, 100);
    ck_assert_uint_eq(cfg_render_reference(buf, need + 1), need);
    ck_assert_uint_eq(strlen(buf), need);
    ck_assert(strncmp(buf, "| key | type | default | bounds / values | meaning |\n", 52) == 0);
    for (size_t i = 0; i < N_KEYS; i++) {
        char cell[96];

        snprintf(cell, sizeof(cell), "\n| `%s` | ", all_keys[i]);
        ck_assert_msg(strstr(buf, cell), "%s missing from the reference", all_keys[i]);
    }
    for (const char *p = buf; (p = strstr(p, "\n| `")); p++)
        rows++;
    ck_assert_uint_eq(rows, N_KEYS);
    /* Rows carry type, default and bounds. */
    ck_assert_ptr_nonnull(strstr(buf, "| `server.timeout` | duration | `5s` | 100ms to 1m |"));
    ck_assert_ptr_nonnull(
        strstr(buf, "| `log.level` | enum | `info` | debug, info, warn, error |"));
    ck_assert_ptr_nonnull(
        strstr(buf, "| `analysis.error_rate.max` | number | `0.05` | > 0 and < 1 |"));
    ck_assert_ptr_nonnull(strstr(buf, "| `admin_listen` | address | `127.0.0.1:8081` |"));
    /* Truncation keeps a terminated prefix and still reports the full need. */
    ck_assert_uint_eq(cfg_render_reference(buf, 10), need);
    ck_assert_uint_eq(strlen(buf), 9);
    free(buf);
}
END_TEST

/* Each key of the reference, set to its documented default on its own, parses to the defaults. */
START_TEST(test_reference_defaults_parse)
{
    size_t need = cfg_render_reference(NULL, 0);
    char *buf = malloc(need + 1), *line, *save = NULL;
    char defhash[17];
    unsigned n = 0;

    default_hash(defhash);
    cfg_render_reference(buf, need + 1);
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char path[96], val[256], yaml[512], *p, *q;
        size_t ylen = 0;
        int depth = 0;
        struct cfg *c;

        if (strncmp(line, "| `", 3) != 0)
            continue;
        p = line + 3;
        q = strchr(p, '`');
        snprintf(path, sizeof(path), "%.*s", (int)(q - p), p);
        p = strstr(q, "| `") + 3; /* type cell skipped: the default follows */
        q = strchr(p, '`');
        snprintf(val, sizeof(val), "%.*s", (int)(q - p), p);
        /* Nested block mappings, one level per dotted name. */
        for (char *s = path, *dot; (dot = strchr(s, '.')); s = dot + 1, depth++)
            ylen += (size_t)snprintf(yaml + ylen, sizeof(yaml) - ylen, "%*s%.*s:\n", 2 * depth, "",
                                     (int)(dot - s), s);
        ylen += (size_t)snprintf(yaml + ylen, sizeof(yaml) - ylen, "%*s%s: '%s'\n", 2 * depth, "",
                                 strrchr(path, '.') ? strrchr(path, '.') + 1 : path,
                                 strcmp(val, "\"\"") == 0 ? "" : val);
        c = ok(yaml);
        if (strstr(path, ".tcp."))
            ck_assert_int_eq(strstr(path, "liveness") ? c->liveness.kind : c->readiness.kind,
                             CFG_PROBE_TCP);
        else
            ck_assert_msg(strcmp(c->hash, defhash) == 0, "default of %s differs:\n%s", path, yaml);
        cfg_unref(c);
        n++;
    }
    ck_assert_uint_eq(n, N_KEYS);
    free(buf);
}
END_TEST

/* ---- hash ---------------------------------------------------------------- */

START_TEST(test_hash_stable)
{
    struct cfg *a = ok("log: {level: warn, format: text}\nserver: {timeout: 7s}\n");
    struct cfg *b = ok("# same values, other spelling\n"
                       "server:\n"
                       "  timeout: \"7s\"   # quoted\n"
                       "log:\n"
                       "  format: 'text'\n"
                       "  level: warn\n");
    struct cfg *c = ok("server: {timeout: 7000ms}\nlog: {format: text, level: warn}\n");

    ck_assert_uint_eq(strlen(a->hash), 16);
    ck_assert_uint_eq(strspn(a->hash, "0123456789abcdef"), 16);
    ck_assert_str_eq(a->hash, b->hash);
    ck_assert_str_eq(a->hash, c->hash);
    cfg_unref(a);
    cfg_unref(b);
    cfg_unref(c);
}
END_TEST

START_TEST(test_hash_sensitive)
{
    static const char *const variants[] = {
        "log: {level: debug}",
        "server: {timeout: 5001ms}",
        "analysis: {error_rate: {max: 0.050000001}}",
        "app: {metrics: {selector: 'a=\"b\"'}}",
        "app: {metrics: {url: \"\"}}",
        "app: {liveness: {enabled: false}}",
        "app: {readiness: {tcp: {}}}",
        "app: {metrics: {requests: {error_match: \"5\\t.\"}}}",
        "app: {metrics: {requests: {error_match: \"5 .\"}}}",
        "admin_listen: \"\"",
        "kubernetes: {service_account_dir: /sa}",
    };
    char seen[sizeof(variants) / sizeof(variants[0]) + 1][17];
    size_t nv = sizeof(variants) / sizeof(variants[0]);

    default_hash(seen[0]);
    for (size_t i = 0; i < nv; i++) {
        struct cfg *c = ok(variants[i]);

        memcpy(seen[i + 1], c->hash, 17);
        cfg_unref(c);
        for (size_t j = 0; j <= i; j++)
            ck_assert_msg(strcmp(seen[i + 1], seen[j]) != 0, "%s hashes like variant %zu",
                          variants[i], j);
    }
}
END_TEST

/* ---- error classes with positions ---------------------------------------- */

START_TEST(test_err_unknown_key)
{
    one_err("app:\n  livenes:\n    period: 5s\n", 2, 3,
            "unknown key \"app.livenes\" (did you mean \"app.liveness\"?)");
    one_err("log: {level: info, formt: text}\n", 1, 20,
            "unknown key \"log.formt\" (did you mean \"log.format\"?)");
    one_err("foo: 1\n", 1, 1, "unknown key \"foo\"");
    ck_assert_ptr_null(strstr(errs.e[0].msg, "did you mean"));
    one_err("app.liveness.period: 5s\n", 1, 1, "not dots");
    /* The unknown key's whole value is skipped, however nested. */
    one_err("listen: \":1\"\nfoo: {a: {b: [1, {c: d}]}, e: *x}\nlog: {level: warn}\n", 2, 1,
            "unknown key \"foo\"");
}
END_TEST

START_TEST(test_err_wrong_type)
{
    one_err("listen: {a: 1}\n", 1, 9, "listen: expected an address");
    one_err("listen: {a: 1}\n", 1, 9, "got a mapping");
    one_err("server:\n  backlog: abc\n", 2, 12, "server.backlog: \"abc\" is not a whole number");
    one_err("server:\n  backlog: [1]\n", 2, 12, "got a sequence");
    one_err("server:\n  backlog: 010\n", 2, 12, "leading zeros");
    one_err("server:\n  backlog: 1.5\n", 2, 12, "not a whole number");
    one_err("app: [1]\n", 1, 6, "app: expected a mapping of keys, got a sequence");
    one_err("app: 5\n", 1, 6, "app: expected a mapping of keys, got a value");
    one_err("app:\nlisten: \":1\"\n", 1, 1, "app: expected a mapping of keys, got nothing");
    one_err("app: {liveness: {enabled: yes}}\n", 1, 27, "\"yes\" is not true or false");
    one_err("analysis: {latency: {max_increase: high}}\n", 1, 36, "is not a number");
    one_err("analysis: {error_rate: {max: 5%}}\n", 1, 30, "(write 0.05 for 5%)");
    one_err("- listen\n", 1, 1, "the top level must be a mapping");
    one_err("hello\n", 1, 1, "the top level must be a mapping");
    one_err("? [a]\n: b\n", 1, 3, "a key must be a plain name");
    one_err("*a\n", 1, 1, "aliases (*a) are not supported");
    one_err("app: *a\n", 1, 6, "aliases (*a) are not supported");
    one_err("app: {metrics: !!map {}}\n", 1, 16, "tags (tag:yaml.org,2002:map) are not supported");
    /* Values are quoted in messages with control characters masked and long ones cut. */
    one_err("listen: \"a\\tb\\u00e9\"\n", 1, 9,
            "listen: \"a?b\xc3\xa9\": bad character '?' in the host");
    one_err("listen: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n", 1, 9,
            "listen: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\": expected host:port");
}
END_TEST

/* rollback.quorum: auto (the default: a majority, decided when acting) or 1 to 256, which wins. */
START_TEST(test_quorum_auto_or_number)
{
    char def[17];
    struct cfg *c;
    char *ref;
    size_t need;

    default_hash(def);
    c = ok("rollback: {quorum: auto}\n");
    ck_assert_uint_eq(c->rollback.quorum, CFG_QUORUM_AUTO);
    ck_assert_str_eq(c->hash, def); /* the same config as the default */
    cfg_unref(c);
    c = ok("rollback:\n  quorum: 1\n");
    ck_assert_uint_eq(c->rollback.quorum, 1);
    ck_assert_str_ne(c->hash, def);
    cfg_unref(c);
    c = ok("rollback: {quorum: 2}\n");
    ck_assert_uint_eq(c->rollback.quorum, 2);
    cfg_unref(c);
    c = ok("rollback: {quorum: 256}\n");
    ck_assert_uint_eq(c->rollback.quorum, 256);
    cfg_unref(c);

    /* 0 is not a way to write auto; junk names both forms */
    one_err("rollback: {quorum: 0}\n", 1, 20,
            "rollback.quorum: 0 is out of range (1 to 256, or `auto`)");
    one_err("rollback: {quorum: 257}\n", 1, 20, "257 is out of range (1 to 256, or `auto`)");
    one_err("rollback: {quorum: -1}\n", 1, 20, "-1 is out of range (1 to 256, or `auto`)");
    one_err("rollback: {quorum: two}\n", 1, 20,
            "rollback.quorum: \"two\" is not a whole number or `auto`");
    one_err("rollback: {quorum: AUTO}\n", 1, 20, "\"AUTO\" is not a whole number or `auto`");
    one_err("rollback: {quorum: 2.5}\n", 1, 20, "\"2.5\" is not a whole number or `auto`");
    one_err("rollback: {quorum: majority}\n", 1, 20, "is not a whole number or `auto`");
    /* auto belongs to this key alone */
    one_err("analysis: {health_failures: auto}\n", 1, 29, "\"auto\" is not a whole number");
    ck_assert_ptr_null(strstr(errs.e[0].msg, "`auto`"));

    /* the reference says so */
    need = cfg_render_reference(NULL, 0);
    ref = malloc(need + 1);
    ck_assert_ptr_nonnull(ref);
    cfg_render_reference(ref, need + 1);
    ck_assert_ptr_nonnull(
        strstr(ref, "| `rollback.quorum` | integer | `auto` | 1 to 256, or `auto` |"));
    ck_assert_ptr_nonnull(strstr(ref, "| `server.backlog` | integer | `1024` | 1 to 65535 |"));
    free(ref);
}
END_TEST

START_TEST(test_err_range)
{
    one_err("server:\n  backlog: 70000\n", 2, 12, "70000 is out of range (1 to 65535)");
    one_err("server:\n  backlog: -1\n", 2, 12, "-1 is out of range (1 to 65535)");
    one_err("server:\n  backlog: 99999999999999999999\n", 2, 12, "out of range (1 to 65535)");
    one_err("server: {max_connections: 0}\n", 1, 27, "(1 to 65536)");
    one_err("server: {max_header_bytes: 1023}\n", 1, 28, "(1024 to 65536)");
    one_err("server: {timeout: 99ms}\n", 1, 19, "99ms is out of range (100ms to 1m)");
    one_err("server: {timeout: 61s}\n", 1, 19, "(100ms to 1m)");
    one_err("app: {metrics: {max_bytes: 4095}}\n", 1, 28, "(4096 to 67108864)");
    one_err("app: {metrics: {max_bytes: 67108865}}\n", 1, 28, "(4096 to 67108864)");
    one_err("analysis:\n  error_rate: {max: 1}\n", 2, 21,
            "1 is out of range (must be > 0 and < 1)");
    one_err("analysis:\n  error_rate: {max: 0}\n", 2, 21, "(must be > 0 and < 1)");
    one_err("analysis:\n  latency: {quantile: 1.0}\n", 2, 23, "(must be > 0 and < 1)");
    one_err("analysis:\n  latency: {max_increase: 0}\n", 2, 27, "(must be > 0 and <= 1000)");
    one_err("analysis: {interval: 999ms}\n", 1, 22, "(1s to 10m)");
    one_err("analysis: {health_failures: 0}\n", 1, 29, "(1 to 1000)");
    one_err("analysis: {consecutive_breaches: 0}\n", 1, 34, "(1 to 1000)");
    one_err("rollback: {quorum: 0}\n", 1, 20, "(1 to 256, or `auto`)");
    one_err("app: {liveness: {period: 99ms}}\n", 1, 26, "(100ms to 1h)");
    one_err("app: {liveness: {failure_threshold: 0}}\n", 1, 37, "(1 to 1000)");
    one_err("app: {readiness: {success_threshold: 0}}\n", 1, 38, "(1 to 1000)");

    struct cfg *c = ok("server: {max_connections: 65536, backlog: 65535, max_header_bytes: 65536}\n"
                       "app: {metrics: {max_bytes: 67108864}}\n"
                       "analysis: {error_rate: {max: 0.999}, latency: {max_increase: 1000}}\n");
    ck_assert_uint_eq(c->server.max_connections, 65536);
    ck_assert_uint_eq(c->metrics.max_bytes, 67108864);
    ck_assert_double_eq(c->analysis.latency_max_increase, 1000);
    cfg_unref(c);
}
END_TEST

START_TEST(test_err_duration)
{
    one_err("server:\n  timeout: 10\n", 2, 12,
            "server.timeout: bad duration \"10\": a unit is required");
    one_err("server: {timeout: -1s}\n", 1, 19, "negative");
    one_err("server: {timeout: 1.5s}\n", 1, 19, "fractions are not supported");
    one_err("server: {timeout: 1d}\n", 1, 19, "unknown unit");
    one_err("server: {timeout: 30s1m}\n", 1, 19, "largest to smallest");
    one_err("rollback: {guard_window: 99999999999h}\n", 1, 26, "too long");
    /* 0s is a duration; only keys whose minimum allows it take it. */
    one_err("app: {liveness: {period: 0s}}\n", 1, 26, "0s is out of range (100ms to 1h)");
    struct cfg *c = ok("app: {liveness: {initial_delay: 0s}, readiness: {initial_delay: 1m30s}}\n"
                       "analysis: {warmup: 0ms}\n");
    ck_assert_uint_eq(c->liveness.initial_delay_ms, 0);
    ck_assert_uint_eq(c->readiness.initial_delay_ms, 90000);
    ck_assert_uint_eq(c->analysis.warmup_ms, 0);
    cfg_unref(c);
}
END_TEST

START_TEST(test_err_enum)
{
    one_err("log: {level: verbose}\n", 1, 14,
            "log.level: \"verbose\" is not one of: debug, info, warn, error");
    one_err("log: {format: JSON}\n", 1, 15, "is not one of: json, text");
    one_err("rollback:\n  mode: dry_run\n", 2, 9, "is not one of: off, dry-run, enforce");
    one_err("rollback:\n  target: rollout\n", 2, 11, "is not one of: deployment, argo-rollout");
    one_err("app: {metrics: {preset: envoy}}\n", 1, 25,
            "is not one of: prometheus, otel, linkerd, istio");
    one_err("app: {metrics: {latency: {unit: us}}}\n", 1, 33,
            "is not one of: auto, seconds, milliseconds");
}
END_TEST

START_TEST(test_err_duplicate)
{
    one_err("server:\n  timeout: 5s\n  timeout: 6s\n", 3, 3,
            "duplicate key \"server.timeout\" (first at line 2)");
    one_err("log: {level: info, level: warn}\n", 1, 20, "duplicate key \"log.level\"");
    one_err("app: {liveness: {}}\napp: {readiness: {}}\n", 2, 1, "duplicate key \"app\"");
    /* The same name in two mappings is not a duplicate. */
    struct cfg *c = ok("app:\n  liveness: {period: 7s}\n  readiness: {period: 7s}\n");
    ck_assert_uint_eq(c->liveness.period_ms, 7000);
    ck_assert_uint_eq(c->readiness.period_ms, 7000);
    cfg_unref(c);
}
END_TEST

START_TEST(test_err_yaml_features)
{
    one_err("log: &a {level: info}\n", 1, 6, "anchors (&a) are not supported");
    one_err("log: {level: info}\nserver: *a\n", 2, 9, "aliases (*a) are not supported");
    one_err("*a : 1\n", 1, 1, "aliases (*a) are not supported");
    one_err("listen: !!str \"0.0.0.0:1\"\n", 1, 9,
            "tags (tag:yaml.org,2002:str) are not supported");
    one_err("log: !custom {level: info}\n", 1, 6, "tags (!custom) are not supported");
    one_err("listen: \":1\"\n---\nlisten: \":2\"\n", 2, 1, "only one YAML document");
    one_err("log: {level: info}\n...\n---\n", 3, 1, "only one YAML document");
}
END_TEST

START_TEST(test_err_null)
{
    one_err("listen: ~\n", 1, 1, "listen: a value is required");
    one_err("listen: null\n", 1, 1, "a value is required");
    one_err("server:\n  timeout:\n", 2, 3, "server.timeout: a value is required");
    one_err("admin_listen:\n", 1, 1,
            "admin_listen: a value is required (write \"\" for an empty one)");
    one_err("app: {metrics: {selector: }}\n", 1, 17, "(write \"\" for an empty one)");
    /* Quoted, these are strings. */
    one_err("log: {level: \"null\"}\n", 1, 14, "\"null\" is not one of");
    struct cfg *c = ok("admin_listen: \"\"\napp: {metrics: {url: '', selector: \"\"}}\n");
    ck_assert_str_eq(c->admin_listen, "");
    ck_assert_str_eq(c->metrics.url, "");
    cfg_unref(c);
}
END_TEST

START_TEST(test_err_encoding)
{
    static const char bad_byte[] = "log:\n  level: \"in\xff\"\n";
    static const char truncated[] = "# h\xc3\xa9llo\nlisten: \"\xc3\xa9\xe2\x82\"\n";
    static const char surrogate[] = "listen: \"\xed\xa0\x80\"\n";
    static const char overlong[] = "\n\n  # \xc0\xaf\n";
    static const char nul[] = "listen: \":1\"\nlog: {lev\0el: info}\n";
    static const char bom_bad[] = "\xef\xbb\xbf\xff";
    static const char ctrl[] = "listen: 'a\x01'\n";

    one_err(bad_byte, 2, 13, "invalid UTF-8 (byte 0xff)");
    one_err(truncated, 2, 11, "invalid UTF-8 (byte 0xe2)");
    one_err(surrogate, 1, 10, "invalid UTF-8 (byte 0xed)");
    one_err(overlong, 3, 5, "invalid UTF-8 (byte 0xc0)");
    one_err_n(nul, sizeof(nul) - 1, 2, 10, "NUL byte");
    one_err(bom_bad, 1, 1, "invalid UTF-8");
    one_err(ctrl, 1, 11, "control characters are not allowed");
    one_err("listen: \"a\\0b\"\n", 1, 9, "listen: NUL characters are not allowed");
    /* 4-byte characters are fine; past U+10FFFF, overlong forms and 0xf5 are not. */
    one_err("# \xf0\x9f\x9a\x80\nlog: {level: \"\xf0\x9f\x9a\x80\"}\n", 2, 14, "is not one of");
    one_err("listen: \"\xf4\x90\x80\x80\"\n", 1, 10, "invalid UTF-8 (byte 0xf4)");
    one_err("listen: \"\xf0\x80\x80\x80\"\n", 1, 10, "invalid UTF-8 (byte 0xf0)");
    one_err("listen: \"\xe0\x80\x80\"\n", 1, 10, "invalid UTF-8 (byte 0xe0)");
    one_err("listen: \"\xf5\x80\x80\x80\"\n", 1, 10, "invalid UTF-8 (byte 0xf5)");
    /* NEL and LS end a line for libyaml; the byte check counts lines the same way. */
    one_err("# a\xc2\x85listen: \"x\"\n", 2, 9, "listen: \"x\": expected host:port");
    one_err("#\xe2\x80\xa8\xff\n", 2, 1, "invalid UTF-8 (byte 0xff)");
    /* A BOM and CRLF line ends are fine and do not shift positions. */
    one_err("\xef\xbb\xbflisten: \":1\"\r\nlog:\r\n  level: loud\r\n", 3, 10,
            "\"loud\" is not one of");
}
END_TEST

START_TEST(test_err_syntax)
{
    one_err("log: {level: info\n", 2, 1, "YAML syntax error: did not find expected ',' or '}'");
    one_err("log: {level: info\n", 2, 1, "(while parsing a flow mapping at 1:6)");
    one_err("listen: \"x\n", 2, 1, "found unexpected end of stream");
    /* Semantic errors before a syntax error stay; the walk stops there. */
    {
        struct cfg *c = NULL;

        ck_assert_int_eq(parse("foo: 1\nlisten: [\nbar: 2\n", &c), -EINVAL);
        ck_assert(has_err(1, 1, "unknown key \"foo\""));
        ck_assert(has_err(2, 9, "got a sequence"));
        ck_assert(has_err(4, 1, "YAML syntax error: did not find expected ',' or ']'"));
        ck_assert_uint_eq(errs.n, 3);
    }
}
END_TEST

/* Nesting stops at 32 levels (libyaml slows down with depth), known keys or not. */
START_TEST(test_err_depth)
{
    struct cfg *c = NULL;
    char y[256];

    snprintf(y, sizeof(y), "foo: %.40s\n", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
    ck_assert_int_eq(parse(y, &c), -EINVAL);
    ck_assert_uint_eq(errs.n, 2);
    ck_assert(has_err(1, 1, "unknown key \"foo\""));
    ck_assert(has_err(1, 37, "nested deeper than 32 levels")); /* the 32nd [ opens level 33 */

    ck_assert_int_eq(parse("app: {liveness: {http: {url: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]"
                           "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}}\n",
                           &c),
                     -EINVAL);
    ck_assert_uint_eq(errs.n, 2);
    ck_assert(has_err(1, 30, "app.liveness.http.url: expected a URL"));
    ck_assert(has_err(1, 58, "nested deeper than 32 levels"));

    /* 32 levels are fine (skipped under an unknown key: one error). */
    snprintf(y, sizeof(y), "foo: %.31s%.31s\n", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    one_err(y, 1, 1, "unknown key \"foo\"");
}
END_TEST

START_TEST(test_err_collect_all)
{
    struct cfg *c = NULL;
    char big[4096];
    size_t n = 0;
    char out[8192];
    int len;

    ck_assert_int_eq(parse("log:\n  level: loud\n  format: yaml\nserver:\n  backlog: 0\n"
                           "app: {liveness: {period: 5}}\n",
                           &c),
                     -EINVAL);
    ck_assert_uint_eq(errs.n, 4);
    ck_assert(has_err(2, 10, "log.level"));
    ck_assert(has_err(3, 11, "log.format"));
    ck_assert(has_err(5, 12, "server.backlog"));
    ck_assert(has_err(6, 26, "app.liveness.period"));
    for (unsigned i = 1; i < errs.n; i++)
        ck_assert_uint_ge(errs.e[i].line, errs.e[i - 1].line);

    /* Cross-field errors are found after the walk, but listed in file order. */
    ck_assert_int_eq(parse("analysis:\n  window: 45s\nfoo: 1\n", &c), -EINVAL);
    ck_assert_uint_eq(errs.n, 2);
    ck_assert(strstr(errs.e[0].msg, "analysis.window") && errs.e[0].line == 2);
    ck_assert(strstr(errs.e[1].msg, "unknown key \"foo\"") && errs.e[1].line == 3);

    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "k%d: 1\n", i);
    ck_assert_int_eq(parse(big, &c), -EINVAL);
    ck_assert_uint_eq(errs.n, CFG_MAX_ERRORS);
    ck_assert_uint_eq(errs.dropped, 40 - CFG_MAX_ERRORS);
    ck_assert_uint_eq(errs.e[CFG_MAX_ERRORS - 1].line, CFG_MAX_ERRORS);
    len = cfg_errs_render(&errs, "big.yaml", out, sizeof(out));
    ck_assert_int_eq(len, (int)strlen(out));
    ck_assert_ptr_nonnull(strstr(out, "big.yaml:1:1: unknown key \"k0\"\n"));
    ck_assert_ptr_nonnull(strstr(out, "\nbig.yaml: ...and 8 more\n"));
}
END_TEST

START_TEST(test_text_blank)
{
    static const char *const blank[] = {
        "",
        "\n",
        "  \t\r\n\n",
        "# only a comment\n",
        "  # indented comment",
        "---\n",
        "---\n# c\n...\n",
        "--- # a marker with a comment\n",
        "\n\n   \n# x",
    };
    static const char *const text[] = {
        "listen: \"127.0.0.1:1\"\n",
        "# c\napp: {}\n",
        "---\nlog: {level: info}\n",
        "x",
        "----\n",
        "--- a\n",
        "...x\n",
        "\x01\x02",
        "{}",
        "[]\n",
    };

    for (size_t i = 0; i < sizeof(blank) / sizeof(blank[0]); i++)
        ck_assert_msg(cfg_text_blank(blank[i], strlen(blank[i])), "blank[%zu] not blank", i);
    for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
        ck_assert_msg(!cfg_text_blank(text[i], strlen(text[i])), "text[%zu] blank", i);
    /* Only len bytes count: a setting past len is not seen, a NUL inside is text. */
    ck_assert(cfg_text_blank("# c\nlisten: x\n", 4));
    ck_assert(!cfg_text_blank("\0\n", 2));
    ck_assert(cfg_text_blank(NULL, 0));
}
END_TEST

START_TEST(test_err_size)
{
    size_t len = CFG_MAX_FILE_BYTES + 1;
    char *buf = malloc(len);
    struct cfg *c = NULL;

    memset(buf, '#', len);
    ck_assert_int_eq(parse_n(buf, len, &c), -EFBIG);
    ck_assert_ptr_null(c);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_uint_eq(errs.e[0].line, 0);
    ck_assert_ptr_nonnull(strstr(errs.e[0].msg, "the limit is 1048576 bytes"));
    /* Exactly at the limit is fine: a comment of 1 MiB. */
    buf[len - 2] = '\n';
    ck_assert_int_eq(parse_n(buf, len - 1, &c), 0);
    cfg_unref(c);
    free(buf);
}
END_TEST

/* ---- durations ------------------------------------------------------------ */

START_TEST(test_duration_parse)
{
    static const struct {
        const char *s;
        uint64_t ms;
    } good[] = {
        {"500ms", 500},
        {"10s", 10000},
        {"5m", 300000},
        {"1h", 3600000},
        {"1m30s", 90000},
        {"1h1m1s1ms", 3661001},
        {"0s", 0},
        {"0ms", 0},
        {"2h0m", 7200000},
        {"4294967295ms", 4294967295u},
        {"1193h2m47s295ms", 4294967295u},
    };
    static const struct {
        const char *s, *why;
    } bad[] = {
        {"", "empty"},
        {"10", "a unit is required after 10"},
        {"0", "a unit is required"},
        {"-1s", "negative"},
        {"1.5s", "fractions"},
        {"1d", "unknown unit"},
        {"10S", "unknown unit"},
        {"1 s", "unknown unit"},
        {" 1s", "expected a number"},
        {"s", "expected a number"},
        {"30s1m", "largest to smallest"},
        {"1s1s", "largest to smallest"},
        {"1ms1s", "largest to smallest"},
        {"4294967296ms", "too long"},
        {"1193h2m47s296ms", "too long"},
        {"99999999999999999999999h", "too long"},
        {"1m30", "a unit is required after 30"},
    };
    char err[160];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint64_t ms = 12345;

        ck_assert_msg(cfg_duration_parse(good[i].s, &ms, err, sizeof(err)) == 0, "%s: %s",
                      good[i].s, err);
        ck_assert_msg(ms == good[i].ms, "%s: %llu", good[i].s, (unsigned long long)ms);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t ms = 12345;

        err[0] = '\0';
        ck_assert_int_eq(cfg_duration_parse(bad[i].s, &ms, err, sizeof(err)), -EINVAL);
        ck_assert_msg(strstr(err, bad[i].why), "\"%s\": got \"%s\"", bad[i].s, err);
        ck_assert_uint_eq(ms, 12345); /* untouched on failure */
    }
}
END_TEST

/* ---- mappings, presets, probes ---------------------------------------------- */

START_TEST(test_flow_and_block)
{
    struct cfg *a = ok("app:\n"
                       "  liveness:\n"
                       "    http:\n"
                       "      url: http://10.0.0.1:9000/live\n"
                       "      timeout: 2s\n"
                       "    period: 3s\n"
                       "analysis:\n"
                       "  error_rate:\n"
                       "    max: 0.1\n");
    struct cfg *b = ok("{app: {liveness: {http: {url: \"http://10.0.0.1:9000/live\", timeout: 2s},"
                       " period: 3s}}, analysis: {error_rate: {max: 0.1}}}");
    struct cfg *c = ok("app:\n  liveness: {http: {url: 'http://10.0.0.1:9000/live',\n"
                       "                       timeout: 2s},\n    period: 3s}\n"
                       "analysis: {error_rate:\n    {max: .1}}\n");

    ck_assert_str_eq(a->liveness.url, "http://10.0.0.1:9000/live");
    ck_assert_uint_eq(a->liveness.timeout_ms, 2000);
    ck_assert_uint_eq(a->liveness.period_ms, 3000);
    ck_assert_double_eq(a->analysis.error_rate_max, 0.1);
    ck_assert_str_eq(a->hash, b->hash);
    ck_assert_str_eq(a->hash, c->hash);
    cfg_unref(a);
    cfg_unref(b);
    cfg_unref(c);
}
END_TEST

START_TEST(test_preset_linkerd)
{
    struct cfg *c = ok("app: {metrics: {preset: linkerd}}\n");

    ck_assert_int_eq(c->metrics.preset, CFG_PRESET_LINKERD);
    ck_assert_str_eq(c->metrics.url, "http://127.0.0.1:4191/metrics");
    ck_assert_str_eq(c->metrics.selector, "direction=\"inbound\"");
    ck_assert_str_eq(c->metrics.requests_metric, "response_total");
    ck_assert_str_eq(c->metrics.error_label, "classification");
    ck_assert_str_eq(c->metrics.error_match, "failure");
    ck_assert_str_eq(c->metrics.latency_histogram, "response_latency_ms");
    ck_assert_int_eq(c->metrics.latency_unit, CFG_UNIT_MILLISECONDS);
    ck_assert_uint_eq(c->metrics.interval_ms, 5000); /* not part of the preset */
    cfg_unref(c);

    /* What the file sets wins over the preset, even when it is "". */
    c = ok("app:\n  metrics:\n    preset: linkerd\n    selector: \"\"\n"
           "    url: http://127.0.0.1:9999/m\n    latency: {unit: seconds}\n");
    ck_assert_str_eq(c->metrics.selector, "");
    ck_assert_str_eq(c->metrics.url, "http://127.0.0.1:9999/m");
    ck_assert_int_eq(c->metrics.latency_unit, CFG_UNIT_SECONDS);
    ck_assert_str_eq(c->metrics.requests_metric, "response_total");
    ck_assert_str_eq(c->metrics.latency_histogram, "response_latency_ms");
    cfg_unref(c);
}
END_TEST

START_TEST(test_preset_istio)
{
    struct cfg *c = ok("app: {metrics: {requests: {error_match: \"50.\"}, preset: istio}}\n");
    char defhash[17];

    ck_assert_int_eq(c->metrics.preset, CFG_PRESET_ISTIO);
    ck_assert_str_eq(c->metrics.url, "http://127.0.0.1:15090/stats/prometheus");
    ck_assert_str_eq(c->metrics.selector, "reporter=\"destination\"");
    ck_assert_str_eq(c->metrics.requests_metric, "istio_requests_total");
    ck_assert_str_eq(c->metrics.error_label, "response_code");
    ck_assert_str_eq(c->metrics.error_match, "50."); /* set by the file */
    ck_assert_str_eq(c->metrics.latency_histogram, "istio_request_duration_milliseconds");
    ck_assert_int_eq(c->metrics.latency_unit, CFG_UNIT_MILLISECONDS);
    cfg_unref(c);

    c = ok("app: {metrics: {preset: prometheus}}\n");
    ck_assert_str_eq(c->hash, default_hash(defhash));
    cfg_unref(c);
}
END_TEST

START_TEST(test_probe_kinds)
{
    struct cfg *c =
        ok("app:\n  readiness:\n    tcp: {address: \"10.1.2.3:5432\", timeout: 300ms}\n");

    ck_assert_int_eq(c->readiness.kind, CFG_PROBE_TCP);
    ck_assert_str_eq(c->readiness.address, "10.1.2.3:5432");
    ck_assert_str_eq(c->readiness.url, ""); /* the http default is dropped */
    ck_assert_uint_eq(c->readiness.timeout_ms, 300);
    ck_assert_int_eq(c->liveness.kind, CFG_PROBE_HTTP);
    cfg_unref(c);

    c = ok("app: {liveness: {tcp: {}}}\n");
    ck_assert_int_eq(c->liveness.kind, CFG_PROBE_TCP);
    ck_assert_str_eq(c->liveness.address, "127.0.0.1:3000");
    ck_assert_uint_eq(c->liveness.timeout_ms, 1000);
    cfg_unref(c);

    c = ok("app: {liveness: {http: {timeout: 3s, tls_verify: true}},"
           " readiness: {enabled: false}}\n");
    ck_assert_int_eq(c->liveness.kind, CFG_PROBE_HTTP);
    ck_assert_uint_eq(c->liveness.timeout_ms, 3000);
    ck_assert(c->liveness.tls_verify);
    ck_assert_int_eq(c->readiness.kind, CFG_PROBE_NONE);
    ck_assert(!c->readiness.enabled);
    cfg_unref(c);

    c = ok("app: {liveness: {enabled: false, tcp: {address: \"[::1]:81\"}}}\n");
    ck_assert_int_eq(c->liveness.kind, CFG_PROBE_NONE);
    cfg_unref(c);

    one_err("app:\n  liveness:\n    http: {url: \"http://a:1/\"}\n    tcp: {address: \"a:1\"}\n", 4,
            5, "app.liveness.tcp: a probe is either http or tcp, and http was set at line 3");
    one_err("app:\n  readiness:\n    tcp: {}\n    period: 5s\n    http: {}\n", 5, 5,
            "app.readiness.http: a probe is either http or tcp, and tcp was set at line 3");
}
END_TEST

START_TEST(test_probe_rules)
{
    one_err("app:\n  liveness:\n    http: {timeout: 20s}\n", 3, 12,
            "app.liveness.http.timeout (20s) must not exceed app.liveness.period (10s)");
    one_err("app:\n  readiness:\n    period: 500ms\n", 3, 5,
            "app.readiness.http.timeout (1s) must not exceed app.readiness.period (500ms)");
    one_err("app:\n  readiness:\n    period: 2s\n    tcp:\n      timeout: 3s\n", 5, 7,
            "app.readiness.tcp.timeout (3s) must not exceed app.readiness.period (2s)");
    one_err("app: {liveness: {success_threshold: 2}}\n", 1, 18,
            "app.liveness.success_threshold must be 1 for liveness");
    struct cfg *c =
        ok("app: {readiness: {success_threshold: 3, period: 1s, http: {timeout: 1s}}}\n");
    ck_assert_uint_eq(c->readiness.success_threshold, 3);
    cfg_unref(c);
    /* A rejected value does not drag in a second, derived error. */
    one_err("app: {liveness: {period: soon}}\n", 1, 26, "bad duration");
}
END_TEST

START_TEST(test_analysis_rules)
{
    one_err("analysis:\n  window: 45s\n", 2, 3,
            "analysis.window (45s) must be a whole multiple of analysis.interval (10s)");
    one_err("analysis:\n  interval: 7s\n", 2, 3, "must be a whole multiple");
    one_err("analysis: {interval: 1s, window: 361s}\n", 1, 26, "at most 360 are allowed");
    one_err("analysis: {baseline_window: 30s}\n", 1, 12,
            "analysis.baseline_window (30s) must be at least analysis.window (1m)");
    one_err("app:\n  metrics:\n    timeout: 6s\n", 3, 5,
            "app.metrics.timeout (6s) must not exceed app.metrics.interval (5s)");
    struct cfg *c = ok("analysis: {interval: 1s, window: 6m, baseline_window: 6m}\n");
    ck_assert_uint_eq(c->analysis.window_ms, 360000);
    cfg_unref(c);
}
END_TEST

/* POST /rollback has no authentication: admin_listen must stay on loopback. */
START_TEST(test_admin_listen_loopback_only)
{
    static const char *const good[] = {"127.0.0.1:8081", "127.9.8.7:1", "[::1]:8081"};
    static const char *const bad[] = {
        "0.0.0.0:8081",   ":8081",        "10.0.0.5:8081", "[::]:8081",  "[::ffff:127.0.0.1]:1",
        "localhost:8081", "128.0.0.1:80", "127.0.0.1.5:1", "[::2]:8081", "1270.0.0.1:1",
    };
    char y[128];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct cfg *c;

        snprintf(y, sizeof(y), "admin_listen: \"%s\"\n", good[i]);
        c = ok(y);
        ck_assert_str_eq(c->admin_listen, good[i]);
        cfg_unref(c);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(y, sizeof(y), "admin_listen: \"%s\"\n", bad[i]);
        one_err(y, 1, 15, "must be a loopback address");
    }
    /* listen itself may be any address; "" still disables the admin endpoint */
    struct cfg *c = ok("listen: \"0.0.0.0:8080\"\nadmin_listen: \"\"\n");
    ck_assert_str_eq(c->admin_listen, "");
    cfg_unref(c);
}
END_TEST

START_TEST(test_addresses)
{
    struct cfg *c = ok("listen: \":8080\"\nadmin_listen: \"[::1]:9000\"\n"
                       "app: {readiness: {tcp: {address: \"db-1.svc.local:5432\"}}}\n");
    ck_assert_str_eq(c->listen, ":8080");
    ck_assert_str_eq(c->admin_listen, "[::1]:9000");
    ck_assert_str_eq(c->readiness.address, "db-1.svc.local:5432");
    cfg_unref(c);

    one_err("listen: \"::1:8080\"\n", 1, 9, "needs brackets");
    one_err("listen: \"[]:80\"\n", 1, 9, "empty IPv6 address");
    one_err("listen: \"[::g]:80\"\n", 1, 9, "bad IPv6 address");
    one_err("listen: \"[::1]80\"\n", 1, 9, "expected :port after ]");
    one_err("listen: \"[::1\"\n", 1, 9, "missing ]");
    one_err("listen: \"[::1]\"\n", 1, 9, "expected host:port");
    one_err("listen: localhost\n", 1, 9, "expected host:port");
    one_err("listen: \"h:0\"\n", 1, 9, "between 1 and 65535");
    one_err("listen: \"h:65536\"\n", 1, 9, "between 1 and 65535");
    one_err("listen: \"h:\"\n", 1, 9, "the port is missing");
    one_err("listen: \"h:http\"\n", 1, 9, "the port must be a number");
    one_err("listen: \"h st:80\"\n", 1, 9, "bad character ' '");
    one_err("listen: \"\"\n", 1, 9, "listen: must not be empty");
    one_err("app: {liveness: {tcp: {address: \":3000\"}}}\n", 1, 33, "a host is required");
}
END_TEST

START_TEST(test_urls)
{
    struct cfg *c = ok("app: {liveness: {http: {url: \"https://[::1]:3000/x?y#z\"}},"
                       " metrics: {url: \"HTTP://app\"}}\n"
                       "kubernetes: {api_server: \"https://10.0.0.1:443\"}\n");
    ck_assert_str_eq(c->liveness.url, "https://[::1]:3000/x?y#z");
    ck_assert_str_eq(c->kubernetes.api_server, "https://10.0.0.1:443");
    cfg_unref(c);

    one_err("app: {liveness: {http: {url: ftp://x}}}\n", 1, 30,
            "must start with http:// or https://");
    one_err("app: {liveness: {http: {url: \"\"}}}\n", 1, 30, "must not be empty");
    one_err("app: {liveness: {http: {url: \"http://\"}}}\n", 1, 30, "has no host");
    one_err("app: {liveness: {http: {url: \"http://:80/\"}}}\n", 1, 30, "a host is required");
    one_err("app: {liveness: {http: {url: \"http://a b/\"}}}\n", 1, 30, "spaces");
    one_err("app: {liveness: {http: {url: \"http://h:99999/\"}}}\n", 1, 30, "between 1 and 65535");
    one_err("app: {metrics: {url: \"http://u:secret@h/\"}}\n", 1, 22, "credentials");
    ck_assert_ptr_null(strstr(errs.e[0].msg, "secret"));
    one_err("kubernetes: {api_server: \"http://10.0.0.1\"}\n", 1, 26, "must be an https:// URL");
    one_err("kubernetes: {service_account_dir: run/sa}\n", 1, 35, "must be an absolute path");
}
END_TEST

START_TEST(test_strings)
{
    struct cfg *c = ok("app:\n  metrics:\n"
                       "    selector: 'direction=\"inbound\", code != \"404\",x=\"a\\\\b\\\"c\"'\n"
                       "    requests: {metric: \"ns:req_total\", error_label: status_class,"
                       " error_match: \"5xx\"}\n"
                       "    latency: {histogram: lat_ms}\n");
    ck_assert_str_eq(c->metrics.selector,
                     "direction=\"inbound\", code != \"404\",x=\"a\\\\b\\\"c\"");
    ck_assert_str_eq(c->metrics.requests_metric, "ns:req_total");
    ck_assert_str_eq(c->metrics.error_label, "status_class");
    cfg_unref(c);
    c = ok("app: {metrics: {selector: '   '}}\n"); /* spaces only: no matchers */
    ck_assert_str_eq(c->metrics.selector, "   ");
    cfg_unref(c);

    one_err("app: {metrics: {selector: 'a=b'}}\n", 1, 27, "in double quotes (at character 3)");
    one_err("app: {metrics: {selector: 'a=\"b'}}\n", 1, 27, "not closed");
    one_err("app: {metrics: {selector: 'a=\"b\",'}}\n", 1, 27, "expected a matcher after ','");
    one_err("app: {metrics: {selector: '1a=\"b\"'}}\n", 1, 27, "expected a label name");
    one_err("app: {metrics: {selector: 'a=~\"b\"'}}\n", 1, 27, "regular expression");
    one_err("app: {metrics: {selector: 'a=\"\\n\"'}}\n", 1, 27, "only \\\\ and \\\" escapes");
    one_err("app: {metrics: {selector: 'a=\"b\" c=\"d\"'}}\n", 1, 27, "expected ',' between");
    one_err("app: {metrics: {selector: 'a'}}\n", 1, 27,
            "expected '=' or '!=' after the label name");
    one_err("app: {metrics: {requests: {metric: \"a-b\"}}}\n", 1, 36,
            "not a metric name: only letters, digits, _ and : (at character 2)");
    one_err("app: {metrics: {requests: {error_label: \"1a\"}}}\n", 1, 41,
            "not a label name: must start with a letter or _");
    one_err("app: {metrics: {requests: {metric: 2xx}}}\n", 1, 36, "not a metric name");
    one_err("app: {metrics: {requests: {error_label: \"a:b\"}}}\n", 1, 41, "not a label name");
    one_err("app: {metrics: {requests: {error_match: \"\"}}}\n", 1, 41, "must not be empty");
    /* latency.histogram "" turns the latency rule off; a bad error_match is refused */
    c = ok("app: {metrics: {latency: {histogram: \"\"}}}\n");
    ck_assert_str_eq(c->metrics.latency_histogram, "");
    cfg_unref(c);
    one_err("app: {metrics: {requests: {error_match: \"5[0-9\"}}}\n", 1, 41, "missing ']'");
    one_err("app: {metrics: {requests: {error_match: \"(?i)5..\"}}}\n", 1, 41, "not supported");

    {
        char y[1200];
        snprintf(y, sizeof(y), "app: {metrics: {requests: {error_match: \"%01025d\"}}}\n", 0);
        one_err(y, 1, 41, "too long (1025 bytes; at most 1024)");
    }
}
END_TEST

START_TEST(test_bools)
{
    struct cfg *c =
        ok("app: {liveness: {http: {tls_verify: True}}, readiness: {enabled: FALSE}}\n");
    ck_assert(c->liveness.tls_verify);
    ck_assert(!c->readiness.enabled);
    cfg_unref(c);
    one_err("app: {liveness: {enabled: on}}\n", 1, 27, "is not true or false");
    one_err("app: {liveness: {enabled: 1}}\n", 1, 27, "is not true or false");
}
END_TEST

/* ---- names, refs, load, errs render ------------------------------------ */

START_TEST(test_names)
{
    ck_assert_str_eq(cfg_log_level_name(CFG_LOG_DEBUG), "debug");
    ck_assert_str_eq(cfg_log_level_name(CFG_LOG_ERROR), "error");
    ck_assert_str_eq(cfg_log_format_name(CFG_LOG_TEXT), "text");
    ck_assert_str_eq(cfg_rollback_mode_name(CFG_ROLLBACK_DRY_RUN), "dry-run");
    ck_assert_str_eq(cfg_rollback_target_name(CFG_TARGET_ARGO_ROLLOUT), "argo-rollout");
    ck_assert_str_eq(cfg_preset_name(CFG_PRESET_ISTIO), "istio");
    ck_assert_str_eq(cfg_probe_kind_name(CFG_PROBE_TCP), "tcp");
    ck_assert_str_eq(cfg_latency_unit_name(CFG_UNIT_MILLISECONDS), "milliseconds");
    ck_assert_str_eq(cfg_log_level_name((enum cfg_log_level)4), "?");
    ck_assert_str_eq(cfg_preset_name((enum cfg_preset) - 1), "?");
}
END_TEST

START_TEST(test_refcount)
{
    struct cfg *c = ok("log: {level: debug}\n");

    ck_assert_uint_eq(c->refs, 1);
    ck_assert_ptr_eq(cfg_ref(c), c);
    ck_assert_uint_eq(c->refs, 2);
    ck_assert_ptr_null(cfg_unref(c));
    ck_assert_uint_eq(c->refs, 1);
    ck_assert_int_eq(c->log_level, CFG_LOG_DEBUG); /* still alive */
    ck_assert_ptr_null(cfg_unref(c));              /* freed: valgrind watches */
    ck_assert_ptr_null(cfg_ref(NULL));
    ck_assert_ptr_null(cfg_unref(NULL));
}
END_TEST

static char tmpdir[64];

static void tmp_setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_cfg.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *de;

    while (d && (de = readdir(d))) {
        char path[384];

        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", tmpdir, de->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(tmpdir);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_load)
{
    char path[128], out[1024];
    struct cfg *c = NULL;
    static const char good[] = "log: {level: warn}\n";
    static const char bad[] = "log:\n  level: loud\n";

    snprintf(path, sizeof(path), "%s/rollguard.yaml", tmpdir);
    write_file(path, good, sizeof(good) - 1);
    ck_assert_int_eq(cfg_load(path, &c, &errs), 0);
    ck_assert_str_eq(c->source, path);
    ck_assert_int_eq(c->log_level, CFG_LOG_WARN);
    cfg_unref(c);
    c = NULL;

    write_file(path, bad, sizeof(bad) - 1);
    ck_assert_int_eq(cfg_load(path, &c, &errs), -EINVAL);
    ck_assert_ptr_null(c);
    cfg_errs_render(&errs, path, out, sizeof(out));
    ck_assert_ptr_nonnull(strstr(out, ":2:10: log.level: \"loud\" is not one of"));

    /* No settings at all: refused; "{}" is the way to ask for the defaults. */
    write_file(path, "# only a comment\n---\n", 21);
    ck_assert_int_eq(cfg_load(path, &c, &errs), -EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(strstr(errs.e[0].msg, "no settings"));
    write_file(path, "", 0);
    ck_assert_int_eq(cfg_load(path, &c, &errs), -EINVAL);
    write_file(path, "{}\n", 3);
    ck_assert_int_eq(cfg_load(path, &c, &errs), 0);
    cfg_unref(c);
    c = NULL;

    ck_assert_int_eq(cfg_load(tmpdir, &c, &errs), -EISDIR);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_uint_eq(errs.e[0].line, 0);
    ck_assert_str_eq(errs.e[0].msg, "is a directory; expected a YAML file");

    snprintf(path, sizeof(path), "%s/missing.yaml", tmpdir);
    ck_assert_int_eq(cfg_load(path, &c, &errs), -ENOENT);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.e[0].msg, "cannot open: No such file or directory");

    snprintf(path, sizeof(path), "%s/fifo", tmpdir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    ck_assert_int_eq(cfg_load(path, &c, &errs), -EINVAL); /* refused without blocking */
    ck_assert_str_eq(errs.e[0].msg, "not a regular file");
    ck_assert_ptr_null(c);
}
END_TEST

/* A file whose size stat does not know (procfs says 0) is still read whole. */
START_TEST(test_load_unknown_size)
{
    struct cfg *c = NULL;

    /* "Name:\tcheck_rollguard" and so on: one unknown key per line, 20+ lines. */
    ck_assert_int_eq(cfg_load("/proc/self/status", &c, &errs), -EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(errs.e[0].msg, "unknown key \"Name\"");
    ck_assert_uint_ge(errs.n + errs.dropped, 20);
    ck_assert_uint_ge(errs.e[errs.n - 1].line, 20);
}
END_TEST

START_TEST(test_parse_args)
{
    struct cfg *c = NULL;

    ck_assert_int_eq(cfg_parse(NULL, 0, NULL, &c, NULL), 0); /* no bytes: the defaults */
    ck_assert_str_eq(c->source, "(config)");
    cfg_unref(c);
    c = NULL;
    ck_assert_int_eq(cfg_parse("foo: 1", 6, "x", &c, NULL), -EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(cfg_parse("", 0, "x", NULL, &errs), -EINVAL);
    ck_assert_int_eq(cfg_parse(NULL, 3, "x", &c, &errs), -EINVAL);
    ck_assert_str_eq(errs.e[0].msg, "internal: bad arguments");
    ck_assert_int_eq(cfg_load("/nonexistent/x", &c, NULL), -ENOENT);
}
END_TEST

START_TEST(test_load_oversize)
{
    char path[128];
    struct cfg *c = NULL;
    size_t len = CFG_MAX_FILE_BYTES + 1;
    char *buf = malloc(len);

    memset(buf, '#', len);
    snprintf(path, sizeof(path), "%s/big.yaml", tmpdir);
    write_file(path, buf, len);
    ck_assert_int_eq(cfg_load(path, &c, &errs), -EFBIG);
    ck_assert_ptr_null(c);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_uint_eq(errs.e[0].line, 0);
    ck_assert_str_eq(errs.e[0].msg, "the file is 1048577 bytes; the limit is 1048576 bytes");
    free(buf);
}
END_TEST

START_TEST(test_errs_render)
{
    struct cfg_errs e = {0};
    char out[256];
    int n;

    e.n = 2;
    e.e[0].line = 2;
    e.e[0].column = 3;
    snprintf(e.e[0].msg, sizeof(e.e[0].msg), "first");
    snprintf(e.e[1].msg, sizeof(e.e[1].msg), "cannot open: nope");
    n = cfg_errs_render(&e, "c.yaml", out, sizeof(out));
    ck_assert_str_eq(out, "c.yaml:2:3: first\nc.yaml: cannot open: nope\n");
    ck_assert_int_eq(n, (int)strlen(out));

    e.dropped = 5;
    n = cfg_errs_render(&e, NULL, out, sizeof(out));
    ck_assert_str_eq(out,
                     "(config):2:3: first\n(config): cannot open: nope\n(config): ...and 5 more\n");
    ck_assert_int_eq(cfg_errs_render(&e, NULL, out, 8), n);
    ck_assert_str_eq(out, "(config");
    ck_assert_int_eq(cfg_errs_render(&e, NULL, NULL, 0), n);
}
END_TEST

Suite *cfg_suite(void);

Suite *cfg_suite(void)
{
    Suite *s = suite_create("cfg");
    TCase *tc = tcase_create("parse");
    TCase *io = tcase_create("load");

    tcase_add_test(tc, test_defaults_embedded);
    tcase_add_test(tc, test_defaults_equal_table);
    tcase_add_test(tc, test_reference_every_key);
    tcase_add_test(tc, test_reference_defaults_parse);
    tcase_add_test(tc, test_hash_stable);
    tcase_add_test(tc, test_hash_sensitive);
    tcase_add_test(tc, test_err_unknown_key);
    tcase_add_test(tc, test_err_wrong_type);
    tcase_add_test(tc, test_err_range);
    tcase_add_test(tc, test_quorum_auto_or_number);
    tcase_add_test(tc, test_err_duration);
    tcase_add_test(tc, test_err_enum);
    tcase_add_test(tc, test_err_duplicate);
    tcase_add_test(tc, test_err_yaml_features);
    tcase_add_test(tc, test_err_null);
    tcase_add_test(tc, test_err_encoding);
    tcase_add_test(tc, test_err_syntax);
    tcase_add_test(tc, test_err_depth);
    tcase_add_test(tc, test_err_collect_all);
    tcase_add_test(tc, test_err_size);
    tcase_add_test(tc, test_text_blank);
    tcase_add_test(tc, test_duration_parse);
    tcase_add_test(tc, test_flow_and_block);
    tcase_add_test(tc, test_preset_linkerd);
    tcase_add_test(tc, test_preset_istio);
    tcase_add_test(tc, test_probe_kinds);
    tcase_add_test(tc, test_probe_rules);
    tcase_add_test(tc, test_analysis_rules);
    tcase_add_test(tc, test_addresses);
    tcase_add_test(tc, test_admin_listen_loopback_only);
    tcase_add_test(tc, test_urls);
    tcase_add_test(tc, test_strings);
    tcase_add_test(tc, test_bools);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_refcount);
    tcase_add_test(tc, test_errs_render);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(io, tmp_setup, tmp_teardown);
    tcase_add_test(io, test_load);
    tcase_add_test(io, test_load_oversize);
    tcase_add_test(io, test_load_unknown_size);
    tcase_add_test(tc, test_parse_args);
    suite_add_tcase(s, io);
    return s;
}
