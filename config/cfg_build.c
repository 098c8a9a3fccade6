/*
 * cfg_build — turning what the loader found into a snapshot: the callbacks
 * cfg_yaml.c calls for each key and section (recording what the file set
 * where), then what runs after the file: the preset's values, the probe
 * kinds, the rules across keys, each error pointing at a key the file set.
 *
 * Must never parse YAML or a value's text itself (cfg_value_set does), read
 * files, log, or keep state outside the struct cfg_build it is handed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/cfg-int.h"

/* ---- the loader's callbacks -------------------------------------------- */

bool cfg_build_errs_full(const struct cfg_build *b)
{
    return b->errs->n >= CFG_MAX_ERRORS;
}

void cfg_build_err(struct cfg_build *b, struct cfg_mark at, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cfg_errs_vadd(b->errs, at, fmt, ap);
    va_end(ap);
}

void cfg_build_nomem(struct cfg_build *b)
{
    b->nomem = true;
}

void cfg_build_scalar(struct cfg_build *b, int id, const char *text, bool null, struct cfg_mark val,
                      struct cfg_mark key)
{
    const struct cfg_key *k = &cfg_keys[id];
    char err[170];
    int r;

    b->set[id] = true;
    b->at[id] = key;
    if (null) {
        b->bad[id] = true;
        cfg_build_err(b, key, "%s: a value is required%s", k->path,
                      (k->flags & CFG_K_EMPTY) ? " (write \"\" for an empty one)" : "");
        return;
    }
    r = cfg_value_set(b->c, k, text, err, sizeof(err));
    if (r == -ENOMEM)
        cfg_build_nomem(b);
    else if (r < 0) {
        b->bad[id] = true;
        cfg_build_err(b, val, "%s: %s", k->path, err);
    }
}

void cfg_build_wrong_node(struct cfg_build *b, int id, const char *what, struct cfg_mark at)
{
    const struct cfg_key *k = &cfg_keys[id];

    b->set[id] = true;
    b->bad[id] = true;
    b->at[id] = at;
    cfg_build_err(b, at, "%s: expected %s, got a %s", k->path, cfg_type_wants(k->type), what);
}

int cfg_build_section(struct cfg_build *b, const char *path, struct cfg_mark key)
{
    for (size_t i = 0; i < CFG_PROBES; i++) {
        size_t n = strlen(cfg_probes[i].path);
        const char *sub = path + n;
        bool http, tcp;

        if (strncmp(path, cfg_probes[i].path, n) != 0)
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

/* ---- after the file: presets, probe kinds, cross-field rules ----------- */

/* Where to point at: the first of the keys the file set (line 0 if none). */
static struct cfg_mark pick(const struct cfg_build *b, int k1, int k2)
{
    if (k1 >= 0 && b->set[k1])
        return b->at[k1];
    if (k2 >= 0 && b->set[k2])
        return b->at[k2];
    return CFG_NOWHERE;
}

static bool any_bad(const struct cfg_build *b, int k1, int k2)
{
    return (k1 >= 0 && b->bad[k1]) || (k2 >= 0 && b->bad[k2]);
}

static int apply_preset(struct cfg_build *b)
{
    char err[170];

    for (size_t i = 0; i < cfg_preset_values_n; i++) {
        const struct cfg_preset_value *pv = &cfg_preset_values[i];
        int id = cfg_key_index(pv->path);
        int r;

        if (pv->preset != b->c->metrics.preset || id < 0 || b->set[id])
            continue;
        r = cfg_value_set(b->c, &cfg_keys[id], pv->value, err, sizeof(err));
        if (r == -ENOMEM)
            return r;
        if (r < 0)
            cfg_build_err(b, CFG_NOWHERE, "internal: preset value of %s: %s", pv->path, err);
    }
    return 0;
}

/* "a (x) must not exceed b (y)" for two duration keys. */
static void check_le(struct cfg_build *b, const char *small, const char *big)
{
    int ks = cfg_key_index(small), kb = cfg_key_index(big);
    uint32_t vs, vb;
    char ts[32], tb[32];

    if (ks < 0 || kb < 0 || any_bad(b, ks, kb))
        return;
    vs = *(uint32_t *)cfg_key_field(b->c, &cfg_keys[ks]);
    vb = *(uint32_t *)cfg_key_field(b->c, &cfg_keys[kb]);
    if (vs <= vb)
        return;
    cfg_duration_render(vs, ts, sizeof(ts));
    cfg_duration_render(vb, tb, sizeof(tb));
    cfg_build_err(b, pick(b, ks, kb), "%s (%s) must not exceed %s (%s)", small, ts, big, tb);
}

static int probes_finish(struct cfg_build *b)
{
    for (size_t i = 0; i < CFG_PROBES; i++) {
        struct cfg_probe *p = (struct cfg_probe *)((char *)b->c + cfg_probes[i].off);
        bool tcp = b->tcp_at[i].line != 0;
        char path[64], timeout[64], period[64];
        int r, ks;

        /* The kind the file chose; the other kind's default is dropped. */
        r = cfg_set_string(tcp ? &p->url : &p->address, "");
        if (r < 0)
            return r;
        p->kind = !p->enabled ? CFG_PROBE_NONE : tcp ? CFG_PROBE_TCP : CFG_PROBE_HTTP;

        snprintf(timeout, sizeof(timeout), "%s.%s.timeout", cfg_probes[i].path,
                 tcp ? "tcp" : "http");
        snprintf(period, sizeof(period), "%s.period", cfg_probes[i].path);
        check_le(b, timeout, period);

        snprintf(path, sizeof(path), "%s.success_threshold", cfg_probes[i].path);
        ks = cfg_key_index(path);
        if (cfg_probes[i].liveness && ks >= 0 && !b->bad[ks] && p->success_threshold != 1)
            cfg_build_err(b, pick(b, ks, -1), "%s must be 1 for liveness (as in Kubernetes)", path);
    }
    return 0;
}

static void analysis_finish(struct cfg_build *b)
{
    const struct cfg_analysis *a = &b->c->analysis;
    int ki = cfg_key_index("analysis.interval"), kw = cfg_key_index("analysis.window");
    int kb = cfg_key_index("analysis.baseline_window");
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

int cfg_build_finish(struct cfg_build *b)
{
    int r = apply_preset(b);

    if (r == 0 && !b->nomem)
        r = probes_finish(b);
    if (r == 0 && !b->nomem) {
        check_le(b, "app.metrics.timeout", "app.metrics.interval");
        analysis_finish(b);
    }
    return r;
}
