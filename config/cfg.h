/*
 * cfg — the configuration snapshot.
 *
 * A struct cfg is built once (defaults from the key table, then the YAML
 * file, then cross-field validation) and is read-only afterwards. Reload
 * builds a new snapshot and swaps; runtime state never lives here.
 * Snapshots are reference counted so that in-flight work can keep the one
 * it started with.
 */
#ifndef ROLLGUARD_CFG_H
#define ROLLGUARD_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_FILE_BYTES (1024 * 1024)
#define CFG_MAX_ERRORS 32

/* One problem in a config file; line and column are 1-based (0 = unknown). */
struct cfg_err {
    unsigned line, column;
    char msg[200];
};

/* Every problem found in one parse, in file order; n may stop at CFG_MAX_ERRORS. */
struct cfg_errs {
    unsigned n;
    unsigned dropped; /* problems found beyond CFG_MAX_ERRORS */
    struct cfg_err e[CFG_MAX_ERRORS];
};

enum cfg_log_level { CFG_LOG_DEBUG, CFG_LOG_INFO, CFG_LOG_WARN, CFG_LOG_ERROR };
enum cfg_log_format { CFG_LOG_JSON, CFG_LOG_TEXT };
enum cfg_probe_kind { CFG_PROBE_NONE, CFG_PROBE_HTTP, CFG_PROBE_TCP };
enum cfg_preset { CFG_PRESET_PROMETHEUS, CFG_PRESET_OTEL, CFG_PRESET_LINKERD, CFG_PRESET_ISTIO };
enum cfg_latency_unit { CFG_UNIT_AUTO, CFG_UNIT_SECONDS, CFG_UNIT_MILLISECONDS };
enum cfg_rollback_mode { CFG_ROLLBACK_OFF, CFG_ROLLBACK_DRY_RUN, CFG_ROLLBACK_ENFORCE };
enum cfg_rollback_target { CFG_TARGET_DEPLOYMENT, CFG_TARGET_ARGO_ROLLOUT };

/* app.liveness / app.readiness. kind NONE means the probe is not configured. */
struct cfg_probe {
    enum cfg_probe_kind kind;
    char *url;       /* http.url (kind HTTP) */
    char *address;   /* tcp.address, "host:port" (kind TCP) */
    bool tls_verify; /* http.tls_verify: verify an https app's certificate */
    uint32_t timeout_ms;
    uint32_t period_ms;
    uint32_t initial_delay_ms;
    uint32_t failure_threshold;
    uint32_t success_threshold;
    bool enabled; /* app.<probe>.enabled; false makes kind NONE */
};

/* app.metrics: the app's own request metrics. url "" disables scraping. */
struct cfg_metrics {
    char *url;
    enum cfg_preset preset;
    uint32_t interval_ms;
    uint32_t timeout_ms;
    uint32_t max_bytes;
    char *selector;          /* extra label matchers, e.g. direction="inbound" */
    char *requests_metric;   /* requests.metric */
    char *error_label;       /* requests.error_label */
    char *error_match;       /* requests.error_match, e.g. "5.." */
    char *latency_histogram; /* latency.histogram; "auto", or "" for no latency rule */
    enum cfg_latency_unit latency_unit;
    double latency_quantile; /* analysis.latency.quantile (copied): a summary's series */
};

/* analysis.control: the stable revision's pods read during a rollout (GET /summary). */
struct cfg_control {
    bool enabled;
    uint32_t pods;       /* asked per interval, at most */
    uint32_t timeout_ms; /* one pod's answer */
    uint32_t port;       /* their rollguard port; 0: this pod's listen port */
};

struct cfg_analysis {
    uint32_t interval_ms;
    uint32_t window_ms;
    uint32_t warmup_ms;
    uint32_t baseline_window_ms;
    double error_rate_max;
    uint32_t error_min_requests;
    double latency_quantile;
    double latency_max_increase;
    uint32_t latency_min_samples;
    uint32_t health_failures;
    uint32_t consecutive_breaches;
    struct cfg_control control;
};

/* rollback.quorum: auto, a majority of the new revision's pods (decided when it acts). */
#define CFG_QUORUM_AUTO 0

struct cfg_rollback {
    enum cfg_rollback_mode mode;
    enum cfg_rollback_target target;
    uint32_t guard_window_ms;
    uint32_t quorum; /* CFG_QUORUM_AUTO: a majority of the new revision's pods */
    uint32_t baseline_publish_interval_ms;
};

struct cfg_kubernetes {
    char *api_server;
    char *service_account_dir;
    uint32_t timeout_ms;         /* one API request */
    uint32_t max_response_bytes; /* one API response */
    uint32_t lease_duration_ms;  /* coordination Lease leaseDurationSeconds */
};

/* server: limits of the probe/metrics HTTP listener. */
struct cfg_server {
    uint32_t max_connections;
    uint32_t timeout_ms; /* idle/read/write timeout per connection */
    uint32_t max_header_bytes;
    uint32_t backlog;
    uint32_t drain_ms; /* after SIGTERM: keep serving (/ready 503) this long */
};

struct cfg {
    unsigned refs;
    char *listen;       /* "host:port" */
    char *admin_listen; /* "" disables */
    enum cfg_log_level log_level;
    enum cfg_log_format log_format;
    struct cfg_server server;
    struct cfg_probe liveness;
    struct cfg_probe readiness;
    struct cfg_metrics metrics;
    struct cfg_analysis analysis;
    struct cfg_rollback rollback;
    struct cfg_kubernetes kubernetes;
    char source[256]; /* file path, or "(embedded defaults)" */
    char hash[17];    /* 16 hex digits over the effective values, not the bytes */
};

/*
 * Parse a YAML document of len bytes. name is used only in messages and
 * cfg->source. On success *ret is a new snapshot with one reference and 0 is
 * returned. On failure returns -EINVAL (or -ENOMEM, -EFBIG) and fills *errs
 * with every problem found; *ret is untouched.
 */
int cfg_parse(const char *buf, size_t len, const char *name, struct cfg **ret,
              struct cfg_errs *errs);

/*
 * Read path (a regular file of at most CFG_MAX_FILE_BYTES) and cfg_parse it
 * with name = path. I/O problems are one error with line 0 and -errno
 * (-ENOENT, -EISDIR, -EINVAL for a non-regular file, -EFBIG, ...); a file
 * with no settings (cfg_text_blank) is -EINVAL.
 */
int cfg_load(const char *path, struct cfg **ret, struct cfg_errs *errs);

/*
 * True when buf (len bytes) holds no setting at all: only blanks, comments
 * and YAML document markers ("---", "..."). Such a file would parse to
 * the defaults; cfg_load (start-up, --check-config) and a reload refuse it,
 * since an empty or cut-short file is what a torn write or a wrong mount
 * leaves behind, never an intended config ("{}" is the explicit way).
 */
bool cfg_text_blank(const char *buf, size_t len);

/* The embedded defaults (config/rollguard.yaml compiled in). */
int cfg_default(struct cfg **ret, struct cfg_errs *errs);

/* The embedded default YAML text, NUL-terminated. */
const char *cfg_default_yaml(void);

struct cfg *cfg_ref(struct cfg *c);
/* Drops one reference; frees on the last. NULL-safe; always returns NULL. */
struct cfg *cfg_unref(struct cfg *c);

/*
 * Parse a duration such as "500ms", "10s", "5m", "1h", "1m30s" into
 * milliseconds. Returns 0, or -EINVAL with a message in err (errlen bytes).
 * A unit is required ("10" and "0" are errors), units go from largest to
 * smallest, each once; no sign, no fractions; at most UINT32_MAX ms. "0s"
 * parses; keys whose minimum is above 0 reject it.
 */
int cfg_duration_parse(const char *s, uint64_t *ret_ms, char *err, size_t errlen);

/* Names for enums, for rendering ("json", "enforce", ...). */
const char *cfg_log_level_name(enum cfg_log_level l);
const char *cfg_log_format_name(enum cfg_log_format f);
const char *cfg_rollback_mode_name(enum cfg_rollback_mode m);
const char *cfg_rollback_target_name(enum cfg_rollback_target t);
const char *cfg_preset_name(enum cfg_preset p);
const char *cfg_probe_kind_name(enum cfg_probe_kind k);     /* "none", "http", "tcp" */
const char *cfg_latency_unit_name(enum cfg_latency_unit u); /* "auto", "seconds", ... */

/*
 * Write the reference table of every key (path, type, default, bounds, doc)
 * as Markdown into buf; returns the length it needed (like snprintf).
 */
size_t cfg_render_reference(char *buf, size_t size);

/*
 * Format errs as lines "FILE:LINE:COLUMN: message" ("FILE: message" when
 * the line is unknown), then "FILE: ...and N more" when some were dropped.
 * file NULL reads "(config)". Writes at most size bytes, NUL-terminated
 * when size > 0; returns the length it needed (like snprintf).
 */
int cfg_errs_render(const struct cfg_errs *errs, const char *file, char *buf, size_t size);

#endif
