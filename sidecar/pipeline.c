/*
 * pipeline — from the app to a verdict and on to the rollback orchestrator:
 * the probes' results, each scrape delta into the analysis, one verdict per
 * interval (right after the scrape that completes it, or from a timer when
 * none arrives), the verdict's log line and its hand-over to rollback, and
 * what the page is read as, logged once per change. Part of the daemon
 * (daemon-int.h); never blocks.
 */
#include "sidecar/daemon-int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/base/clock.h"
#include "sidecar/base/log.h"
#include "sidecar/kube/kube_json.h"
#include "sidecar/rollback/rollback.h"

static void daemon_on_probe(struct probe *p, const struct probe_obs *obs, bool transitioned,
                            void *arg)
{
    struct daemon_probe_ctx *ctx = arg;
    struct daemon *d = ctx->d;
    const struct probe_state *ps = probe_state_get(p);

    if (obs->result != PROBE_RES_ERROR) {
        state_probe_observe(&d->state, ctx->id, (double)obs->latency_us / 1e6);
        if (d->analysis_ok)
            analysis_observe_probe(
                &d->analysis, (double)obs->latency_us / 1e6, obs->result == PROBE_RES_PASS,
                ctx->id == STATE_LIVENESS ? (int32_t)ps->consecutive_fail : ANALYSIS_NOT_LIVENESS,
                (int64_t)clock_mono_ms());
    }
    if (transitioned) {
        log_event(ps->ok ? LOG_LVL_INFO : LOG_LVL_WARN, "probe_state", LF_S("probe", probe_name(p)),
                  LF_S("state", ps->ok ? "passing" : "failing"),
                  LF_S("result", probe_result_name(obs->result)), LF_I("status", obs->http_status),
                  LF_D("latency_ms", (double)obs->latency_us / 1000.0),
                  LF_U("consecutive_failures", ps->consecutive_fail), LF_S("error", obs->error));
    } else if (obs->result == PROBE_RES_ERROR && ps->runs[PROBE_RES_ERROR] == 1) {
        /* Our own failure to probe: said once, counted on /metrics after that. */
        log_event(LOG_LVL_ERROR, "probe_not_attempted", LF_S("probe", probe_name(p)),
                  LF_S("error", obs->error));
    }
}

static const struct cfg_probe *probe_cfg_of(const struct cfg *c, enum state_probe_id id)
{
    return id == STATE_LIVENESS ? &c->liveness : &c->readiness;
}

/* Create, reconfigure or drop each probe to match c. */
int pipeline_apply_probes(struct daemon *d, const struct cfg *c)
{
    for (int i = 0; i < STATE_PROBES; i++) {
        const struct cfg_probe *pc = probe_cfg_of(c, i);
        struct probe **slot = &d->probes[i];
        int r;

        if (pc->kind == CFG_PROBE_NONE) {
            *slot = probe_free(*slot);
            d->state.probe[i] = NULL;
            d->state.probe_cfg[i] = NULL;
            memset(&d->state.probe_hist[i], 0, sizeof(d->state.probe_hist[i]));
            continue;
        }
        if (*slot) {
            r = probe_apply(*slot, pc);
        } else {
            d->probe_ctx[i].d = d;
            d->probe_ctx[i].id = i;
            r = probe_new(d->base, d->curlm, &d->sched, state_probe_name(i), pc,
                          i == STATE_LIVENESS, daemon_on_probe, &d->probe_ctx[i], slot);
        }
        if (r < 0) {
            log_event(LOG_LVL_ERROR, "probe_setup_failed", LF_S("probe", state_probe_name(i)),
                      LF_S("error", strerror(-r)));
            return r;
        }
        d->state.probe[i] = probe_state_get(*slot);
        d->state.probe_cfg[i] = probe_cfg_get(*slot);
    }
    return 0;
}

/* --- scraping and analysis --------------------------------------------------- */

void daemon_analysis_params(const struct cfg *c, struct analysis_params *p)
{
    memset(p, 0, sizeof(*p));
    p->interval_ms = c->analysis.interval_ms;
    p->window_ms = c->analysis.window_ms;
    p->warmup_ms = c->analysis.warmup_ms;
    p->baseline_window_ms = c->analysis.baseline_window_ms;
    p->error_rate_max = c->analysis.error_rate_max;
    p->error_min_requests = c->analysis.error_min_requests;
    p->latency_quantile = c->analysis.latency_quantile;
    p->latency_max_increase = c->analysis.latency_max_increase;
    p->latency_min_samples = c->analysis.latency_min_samples;
    p->health_failures = c->analysis.health_failures;
    p->consecutive_breaches = c->analysis.consecutive_breaches;
    /* Probe latency only stands in when the app exposes no metrics at all. */
    if (!c->metrics.url[0])
        p->latency_from = ANALYSIS_LAT_PROBE;
    else if (!c->metrics.latency_histogram[0])
        p->latency_from = ANALYSIS_LAT_OFF;
    else
        p->latency_from = ANALYSIS_LAT_SCRAPE;
    snprintf(p->config_hash, sizeof(p->config_hash), "%s", c->hash);
}

static void daemon_take_verdict(struct daemon *d);

/* One rule's reading problem: logged once per change, counted on /metrics. */
static void daemon_note_problem(struct daemon *d, int rule, const char *why)
{
    static const char *const rules[2] = {"error_rate", "latency"};
    char *logged = d->problem_logged[rule];

    d->state.metrics_unreadable[rule] = why[0] != '\0';
    if (!strcmp(logged, why))
        return;
    if (why[0]) {
        d->state.metrics_problems[rule]++;
        log_event(LOG_LVL_WARN, "metrics_unreadable", LF_S("rule", rules[rule]),
                  LF_S("reason", why), LF_S("verdict", "INCONCLUSIVE for this rule"));
    } else {
        log_event(LOG_LVL_INFO, "metrics_readable", LF_S("rule", rules[rule]), LF_S("was", logged));
    }
    snprintf(logged, sizeof(d->problem_logged[rule]), "%s", why);
}

/* Scrape results, what the page is read as, and what it cannot tell: said once per change. */
static void daemon_note_scrape(struct daemon *d, const struct sample_delta *delta)
{
    const struct scraper_stats *st = d->scraper ? scraper_stats_get(d->scraper) : NULL;
    char reading[sizeof(d->reading_logged)];

    if (!st)
        return;
    if (!d->scrape_logged || st->last != d->scrape_result) {
        bool ok = st->last == SCRAPER_OK;

        if (d->scrape_logged || !ok)
            log_event(ok ? LOG_LVL_INFO : LOG_LVL_WARN, "scrape_state",
                      LF_S("result", scraper_result_name(st->last)), LF_S("error", st->last_error),
                      LF_S("was", d->scrape_logged ? scraper_result_name(d->scrape_result) : ""));
        d->scrape_logged = true;
        d->scrape_result = st->last;
    }
    if (!delta->valid)
        return;
    scrape_reading_describe(&st->reading, d->cfg->metrics.error_match, reading, sizeof(reading));
    if (strcmp(reading, d->reading_logged)) {
        log_event(LOG_LVL_INFO, "metrics_reading", LF_S("reading", reading));
        snprintf(d->reading_logged, sizeof(d->reading_logged), "%s", reading);
    }
    daemon_note_problem(d, 0, delta->err_problem);
    daemon_note_problem(d, 1, d->cfg->metrics.latency_histogram[0] ? delta->lat_problem : "");
}

static void daemon_on_delta(const struct sample_delta *delta, void *arg)
{
    struct daemon *d = arg;

    daemon_note_scrape(d, delta);
    if (!d->analysis_ok)
        return;
    analysis_observe_delta(&d->analysis, delta, (int64_t)clock_mono_ms());
    if (clock_mono_ms() >= d->next_tick_ms)
        daemon_take_verdict(d);
}

_Static_assert((int)VERDICT_FAIL == (int)ROLLBACK_VERDICT_FAIL &&
                   (int)VERDICT_PASS == (int)ROLLBACK_VERDICT_PASS &&
                   (int)VERDICT_INCONCLUSIVE == (int)ROLLBACK_VERDICT_INCONCLUSIVE,
               "verdict outcomes and rollback verdicts agree");

/*
 * The verdict to the rollback orchestrator (which calls the API only on
 * FAIL), this pod's baseline to it for publication, and the stable
 * revision's baseline it read from the Lease to the analysis.
 */
static void daemon_rollback_tick(struct daemon *d, const struct verdict *v)
{
    char json[BASELINE_JSON_MAX > VERDICT_JSON_MAX ? BASELINE_JSON_MAX : VERDICT_JSON_MAX];
    struct baseline_summary sum;
    const char *stable, *hash = getenv("POD_TEMPLATE_HASH");
    uint64_t gen;

    char sentence[900];
    bool withheld = v->control.decision == ATTRIBUTION_WITHHOLD;

    if (withheld) {
        if (verdict_render_json(v, json, sizeof(json)) < 0)
            snprintf(json, sizeof(json), "null");
        snprintf(sentence, sizeof(sentence),
                 "Rollback withheld: the stable revision degraded the same way since before the "
                 "rollout began. Rule %s: ",
                 analysis_rule_name(v->rule));
        verdict_render_sentence(v, sentence + strlen(sentence),
                                sizeof(sentence) - strlen(sentence));
        rollback_on_withheld(d->rollback, json, sentence, (int64_t)clock_mono_ms());
    }
    if (v->outcome == VERDICT_FAIL) {
        if (verdict_render_json(v, json, sizeof(json)) < 0)
            snprintf(json, sizeof(json), "null");
        snprintf(sentence, sizeof(sentence), "rule %s: ", analysis_rule_name(v->rule));
        verdict_render_sentence(v, sentence + strlen(sentence),
                                sizeof(sentence) - strlen(sentence));
    }
    rollback_on_verdict(d->rollback, (enum rollback_verdict)v->outcome,
                        v->outcome == VERDICT_FAIL ? json : NULL,
                        v->outcome == VERDICT_FAIL ? sentence : NULL, (int64_t)clock_mono_ms());
    if (analysis_baseline_summary(&d->analysis, hash ? hash : "", &sum) == 0 &&
        baseline_summary_render_json(&sum, json, sizeof(json)) >= 0)
        rollback_publish_baseline(d->rollback, json);
    stable = rollback_stable_baseline(d->rollback, &gen);
    if (stable && gen != d->stable_gen) {
        d->stable_gen = gen;
        if (kube_json_baseline_summary_parse(stable, strlen(stable), &sum, NULL) == 0)
            analysis_set_stable_baseline(&d->analysis, &sum);
        else
            log_event(LOG_LVL_WARN, "stable_baseline_unreadable",
                      LF_S("reason", "the Lease's baseline does not parse"));
    }
}

/*
 * Verdicts are taken right after the scrape that completes an interval, so
 * a tick judges the freshest data; the timer, armed one scrape interval
 * past the boundary, takes the tick when no scrape arrives (scraping off,
 * or the app's metrics page hanging).
 */
void pipeline_arm_tick(struct daemon *d)
{
    uint64_t now = clock_mono_ms();
    uint64_t grace = d->cfg->metrics.url[0] ? d->cfg->metrics.interval_ms : 0;
    uint64_t at = d->next_tick_ms + grace;

    clock_arm(d->tick, at > now ? at - now : 0);
}

void pipeline_on_control(const struct control_view *v, const char *why, void *arg)
{
    struct daemon *d = arg;

    if (d->analysis_ok)
        analysis_set_control(&d->analysis, v, why);
}

static void daemon_take_verdict(struct daemon *d)
{
    struct verdict v;
    bool changed;
    uint64_t now = clock_mono_ms();

    /* the last round's view of the stable pods for this tick; the next round starts */
    if (d->peers)
        peers_tick(d->peers, (int64_t)now);
    d->next_tick_ms += d->cfg->analysis.interval_ms;
    if (d->next_tick_ms <= now)
        d->next_tick_ms = now + d->cfg->analysis.interval_ms;
    analysis_tick(&d->analysis, (int64_t)now, &v);
    changed = !d->state.verdict || v.outcome != d->verdict.outcome || v.rule != d->verdict.rule ||
              v.breach != d->verdict.breach;
    d->verdict = v;
    d->state.verdict = &d->verdict;
    d->state.verdicts[v.outcome]++;
    if (changed) {
        char json[VERDICT_JSON_MAX];

        if (verdict_render_json(&v, json, sizeof(json)) < 0)
            snprintf(json, sizeof(json), "null");
        log_event(v.outcome == VERDICT_FAIL ? LOG_LVL_WARN : LOG_LVL_INFO, "verdict",
                  LF_S("outcome", verdict_outcome_name(v.outcome)),
                  LF_S("rule", analysis_rule_name(v.rule)), LF_S("reason", v.reason),
                  LF_RAW("evidence", json));
    }
    daemon_rollback_tick(d, &v);
    pipeline_arm_tick(d);
}

void pipeline_on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    daemon_take_verdict(arg);
}

/* Start, reconfigure or drop the scraper to match c. */
int pipeline_apply_scraper(struct daemon *d, const struct cfg *c)
{
    char err[200] = "";
    int r = 0;

    if (!c->metrics.url[0]) {
        d->scraper = scraper_free(d->scraper);
        d->state.scrape = NULL;
        return 0;
    }
    if (d->scraper)
        r = scraper_apply(d->scraper, &c->metrics, err, sizeof(err));
    else
        r = scraper_new(d->base, d->curlm, &d->sched, &c->metrics, daemon_on_delta, d, &d->scraper,
                        err, sizeof(err));
    if (r < 0) {
        log_event(LOG_LVL_ERROR, "scraper_setup_failed",
                  LF_S("error", err[0] ? err : strerror(-r)));
        return r;
    }
    d->state.scrape = scraper_stats_get(d->scraper);
    return 0;
}

int pipeline_apply_analysis(struct daemon *d, const struct cfg *c)
{
    struct analysis_params p;
    int r;

    daemon_analysis_params(c, &p);
    if (!d->analysis_ok) {
        r = analysis_init(&d->analysis, &p, (int64_t)clock_mono_ms());
        if (r < 0)
            return r;
        d->analysis_ok = true;
        d->next_tick_ms = clock_mono_ms() + c->analysis.interval_ms;
        pipeline_arm_tick(d);
        return 0;
    }
    r = analysis_set_params(&d->analysis, &p, (int64_t)clock_mono_ms());
    if (r == 0 && c->analysis.interval_ms != d->cfg->analysis.interval_ms) {
        d->next_tick_ms = clock_mono_ms() + c->analysis.interval_ms;
        evtimer_del(d->tick); /* re-armed with the new config once it is in force */
        d->rearm_tick = true;
    }
    return r;
}
