/*
 * fuzz_cfg — libFuzzer target for the config parser (cfg_parse: encoding
 * checks, the libyaml walk, value parsing, cross-field rules).
 *
 * On success the snapshot must satisfy every rule the validator promises
 * (the consumers rely on them without re-checking); on failure the error
 * list must be well formed. Any violation aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

static void check_probe(const struct cfg_probe *p, bool liveness)
{
    CHECK(p->url && p->address);
    CHECK(p->kind == (p->enabled ? p->kind : CFG_PROBE_NONE));
    CHECK(p->enabled == (p->kind != CFG_PROBE_NONE));
    if (p->kind == CFG_PROBE_HTTP)
        CHECK(strncasecmp(p->url, "http", 4) == 0 && p->address[0] == '\0');
    if (p->kind == CFG_PROBE_TCP)
        CHECK(p->address[0] != '\0' && p->url[0] == '\0');
    CHECK(p->period_ms >= 100);
    CHECK(p->timeout_ms >= 1 && p->timeout_ms <= p->period_ms);
    CHECK(p->failure_threshold >= 1 && p->success_threshold >= 1);
    if (liveness)
        CHECK(p->success_threshold == 1);
}

static void check_cfg(const struct cfg *c)
{
    const struct cfg_analysis *a = &c->analysis;

    CHECK(c->refs == 1);
    CHECK(strlen(c->hash) == 16 && strspn(c->hash, "0123456789abcdef") == 16);
    CHECK(c->listen && c->listen[0] && c->admin_listen);
    CHECK(strcmp(cfg_log_level_name(c->log_level), "?") != 0);
    CHECK(strcmp(cfg_log_format_name(c->log_format), "?") != 0);
    CHECK(c->server.max_connections >= 1 && c->server.max_connections <= 65536);
    CHECK(c->server.timeout_ms >= 100 && c->server.max_header_bytes >= 1024);
    CHECK(c->server.backlog >= 1 && c->server.backlog <= 65535);
    check_probe(&c->liveness, true);
    check_probe(&c->readiness, false);

    CHECK(c->metrics.url && c->metrics.selector && c->metrics.requests_metric);
    CHECK(c->metrics.error_label && c->metrics.error_match && c->metrics.latency_histogram);
    CHECK(c->metrics.requests_metric[0] && c->metrics.error_label[0]);
    CHECK(c->metrics.error_match[0] && c->metrics.latency_histogram[0]);
    CHECK(strcmp(cfg_preset_name(c->metrics.preset), "?") != 0);
    CHECK(strcmp(cfg_latency_unit_name(c->metrics.latency_unit), "?") != 0);
    CHECK(c->metrics.timeout_ms <= c->metrics.interval_ms);
    CHECK(c->metrics.max_bytes >= 4096 && c->metrics.max_bytes <= 64u * 1024 * 1024);

    CHECK(a->interval_ms >= 1000);
    CHECK(a->window_ms % a->interval_ms == 0 && a->window_ms / a->interval_ms >= 1);
    CHECK(a->window_ms / a->interval_ms <= 360);
    CHECK(a->baseline_window_ms >= a->window_ms);
    CHECK(a->error_rate_max > 0 && a->error_rate_max < 1);
    CHECK(a->latency_quantile > 0 && a->latency_quantile < 1);
    CHECK(a->latency_max_increase > 0);
    CHECK(a->error_min_requests >= 1 && a->latency_min_samples >= 1);
    CHECK(a->health_failures >= 1 && a->consecutive_breaches >= 1);

    CHECK(strcmp(cfg_rollback_mode_name(c->rollback.mode), "?") != 0);
    CHECK(strcmp(cfg_rollback_target_name(c->rollback.target), "?") != 0);
    CHECK(c->rollback.quorum <= 256); /* CFG_QUORUM_AUTO (0) or 1 to 256 */
    CHECK(c->kubernetes.api_server && c->kubernetes.service_account_dir);
    CHECK(c->kubernetes.api_server[0] == '\0' ||
          strncasecmp(c->kubernetes.api_server, "https://", 8) == 0);
    CHECK(c->kubernetes.service_account_dir[0] == '/');
}

static void check_errs(const struct cfg_errs *e, const uint8_t *data, size_t size)
{
    unsigned lines = 1;
    char out[256];

    /* An upper bound of libyaml's lines: it also breaks at NEL, LS and PS. */
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n' || data[i] == '\r' || data[i] == 0x85 || data[i] == 0xa8 ||
                 data[i] == 0xa9;
    CHECK(e->n >= 1 && e->n <= CFG_MAX_ERRORS);
    CHECK(e->dropped == 0 || e->n == CFG_MAX_ERRORS);
    for (unsigned i = 0; i < e->n; i++) {
        size_t len = strnlen(e->e[i].msg, sizeof(e->e[i].msg));

        CHECK(len > 0 && len < sizeof(e->e[i].msg));
        CHECK(e->e[i].line == 0 ? e->e[i].column == 0 : e->e[i].column >= 1);
        CHECK(e->e[i].line <= lines + 1);
        if (i > 0)
            CHECK(e->e[i - 1].line < e->e[i].line ||
                  (e->e[i - 1].line == e->e[i].line && e->e[i - 1].column <= e->e[i].column));
    }
    CHECK(cfg_errs_render(e, "fuzz.yaml", out, sizeof(out)) > 0);
    CHECK(strlen(out) < sizeof(out));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cfg_errs errs;
    struct cfg *c = NULL, *again = NULL;
    int r = cfg_parse((const char *)data, size, "fuzz.yaml", &c, &errs);

    if (r == 0) {
        check_cfg(c);
        /* The same bytes give the same snapshot. */
        CHECK(cfg_parse((const char *)data, size, "fuzz.yaml", &again, &errs) == 0);
        CHECK(strcmp(c->hash, again->hash) == 0);
        cfg_unref(again);
        CHECK(cfg_unref(c) == NULL);
    } else {
        CHECK(c == NULL);
        CHECK(r == -EINVAL || r == -ENOMEM || r == -EFBIG);
        check_errs(&errs, data, size);
    }

    /* The duration parser on the same bytes as one string. */
    if (size < 64) {
        char s[64], err[128];
        uint64_t ms = 7;

        memcpy(s, data, size);
        s[size] = '\0';
        if (cfg_duration_parse(s, &ms, err, sizeof(err)) == 0)
            CHECK(ms <= UINT32_MAX);
        else
            CHECK(ms == 7 && err[0]);
    }
    return 0;
}
