/*
 * render — the "rollback" object of /status and the rollback and API
 * families of /metrics, from the orchestrator's in-memory state (no
 * request, no clock). Never shows the token.
 */
#include <stdio.h>

#include "sidecar/base/promw.h"
#include "sidecar/rollback/rollback-int.h"

static const struct kube_stats *rb_stats(const struct rollback *rb)
{
    return rb->opened && rb->env.stats ? rb->env.stats(rb->env.ctx) : NULL;
}

const char *rollback_result_name(enum rollback_result r)
{
    static const char *const n[ROLLBACK_RESULT_COUNT] = {"none", "rolled_back", "dry_run",
                                                         "skipped", "failed"};
    return r >= 0 && r < ROLLBACK_RESULT_COUNT ? n[r] : "unknown";
}

/* --- /status and /metrics ------------------------------------------------------ */

static void js(struct buf *b, const char *key, const char *v, bool comma)
{
    buf_printf(b, "%s\"%s\":\"", comma ? "," : "", key);
    buf_json_escape(b, v ? v : "");
    buf_puts(b, "\"");
}

void rollback_render_status(const struct rollback *rb, struct buf *b)
{
    char ts[KUBE_TIME_MAX] = "";

    buf_puts(b, "{");
    js(b, "mode", cfg_rollback_mode_name(rb->cfg->rollback.mode), false);
    js(b, "target", cfg_rollback_target_name(rb->cfg->rollback.target), true);
    if (rb->cfg->rollback.quorum == CFG_QUORUM_AUTO)
        js(b, "quorum", "auto", true);
    else
        buf_printf(b, ",\"quorum\":\"%u\"", rb->cfg->rollback.quorum);
    buf_printf(b, ",\"in_cluster\":%s", rb->enabled ? "true" : "false");
    js(b, "disabled_reason", rb->disabled_why, true);
    js(b, "api_server", rb->api_url, true);
    buf_printf(b, ",\"identity\":{\"known\":%s", rb->id.known ? "true" : "false");
    js(b, "pod", rb->id.pod, true);
    js(b, "namespace", rb->id.ns, true);
    js(b, "pod_template_hash", rb->id.hash, true);
    js(b, "replicaset", rb->id.rs_name, true);
    js(b, "owner_kind", rb->id.owner_kind, true);
    js(b, "owner", rb->id.owner_name, true);
    js(b, "lease", rb->id.lease_name, true);
    if (rb->id.rs_created)
        kube_time_render(rb->id.rs_created, ts, sizeof(ts));
    js(b, "rollout_start", ts, true);
    buf_printf(b, ",\"revision\":%ld,\"current_at_start\":%s,\"reapplied_bad_hash\":%s",
               rb->id.rs_revision, rb->id.current_at_start ? "true" : "false",
               rb->id.reapplied ? "true" : "false");
    js(b, "error", rb->id_error, true);
    buf_printf(b, "},\"busy\":%s,\"final_for_hash\":%s", rb->job.active ? "true" : "false",
               rb->final_for_hash ? "true" : "false");
    js(b, "final_reason", rb->final_for_hash ? guard_reason_name(rb->final_reason) : "", true);
    buf_printf(b, ",\"last\":{\"id\":%lld", (long long)rb->last_id);
    js(b, "trigger", rb->last_id ? (rb->last_manual ? "manual" : "verdict") : "", true);
    js(b, "result", rollback_result_name(rb->last_result), true);
    js(b, "reason",
       rb->last_result == ROLLBACK_RESULT_SKIPPED ? guard_reason_name(rb->last_reason) : "", true);
    ts[0] = '\0';
    if (rb->last_at)
        kube_time_render(rb->last_at, ts, sizeof(ts));
    js(b, "at", ts, true);
    buf_printf(b, ",\"from_revision\":%ld,\"to_revision\":%ld,\"fail_to_patch_ms\":%lld",
               rb->last_from, rb->last_to, (long long)rb->last_fail_to_patch_ms);
    js(b, "error", rb->last_error, true);
    /* The count behind the last decision: votes against the quorum then in force. */
    buf_printf(b, ",\"votes\":%u,\"quorum\":%u", rb->last_votes, rb->last_quorum);
    js(b, "quorum_basis", rb->last_quorum_basis, true);
    buf_puts(b, ",\"patch\":");
    buf_puts(b, rb->last_patch ? rb->last_patch : "null");
    buf_puts(b, "},\"baseline\":{");
    buf_printf(b, "\"stable_present\":%s", rb->stable_baseline ? "true" : "false");
    js(b, "stable_from_hash", rb->stable_from, true);
    buf_printf(b, ",\"publishing\":%s,\"publications\":%llu}",
               rb->id.known && !rb->id.reapplied ? "true" : "false",
               (unsigned long long)rb->publications);
    buf_printf(b, ",\"control\":{\"lists\":%u,\"lists_max\":%d,\"pending\":%s}", rb->ctl.lists,
               ROLLBACK_CONTROL_LISTS_MAX, rb->ctl.pending ? "true" : "false");
    buf_printf(b, ",\"withheld\":{\"episodes\":%llu,\"in_episode\":%s",
               (unsigned long long)rb->wh.episodes, rb->wh.episode ? "true" : "false");
    js(b, "event", rb_withheld_event_state(rb), true);
    js(b, "event_name", rb->wh.posted ? rb->wh.name : "", true);
    js(b, "last_summary", rb->wh.summary, true);
    buf_puts(b, "}");
    if (rb_stats(rb)) {
        const struct kube_stats *s = rb_stats(rb);
        uint64_t total = 0;

        for (int v = 0; v < KUBE_VERBS; v++)
            for (int c = 0; c < KUBE_CODES; c++)
                total += s->requests[v][c];
        buf_printf(b, ",\"api_requests\":%llu,\"api_retries\":%llu,\"token_reloads\":%llu",
                   (unsigned long long)total, (unsigned long long)s->retries,
                   (unsigned long long)s->token_reloads);
    }
    buf_puts(b, "}");
}

void rollback_render_metrics(const struct rollback *rb, struct buf *b)
{
    static const enum rollback_result shown[] = {ROLLBACK_RESULT_ROLLED_BACK,
                                                 ROLLBACK_RESULT_DRY_RUN, ROLLBACK_RESULT_FAILED};
    const char *target = cfg_rollback_target_name(rb->cfg->rollback.target);

    promw_family(b, "rollguard_rollback_enabled", "gauge",
                 "1 when the pod identity and the API server are known (in a cluster).");
    buf_printf(b, "rollguard_rollback_enabled %d\n", rb->enabled ? 1 : 0);
    promw_family(
        b, "rollguard_rollbacks_total", "counter",
        "Rollback decisions that acted, by target and result (rolled_back, dry_run, failed).");
    for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
        buf_printf(b, "rollguard_rollbacks_total{target=\"%s\",result=\"%s\"} %llu\n", target,
                   rollback_result_name(shown[i]), (unsigned long long)rb->results[shown[i]]);
    promw_family(b, "rollguard_rollback_skipped_total", "counter",
                 "Rollback decisions a guard refused, by reason.");
    for (int g = 1; g < GUARD_REASON_COUNT; g++)
        buf_printf(b, "rollguard_rollback_skipped_total{reason=\"%s\"} %llu\n",
                   guard_reason_name(g), (unsigned long long)rb->skipped[g]);
    promw_family(b, "rollguard_kube_requests_total", "counter",
                 "Kubernetes API requests (every attempt), by verb and status code.");
    if (rb_stats(rb)) {
        const struct kube_stats *s = rb_stats(rb);

        for (int v = 0; v < KUBE_VERBS; v++)
            for (int c = 0; c < KUBE_CODES; c++) {
                if (!s->requests[v][c])
                    continue;
                if (kube_codes[c] > 0)
                    buf_printf(b, "rollguard_kube_requests_total{verb=\"%s\",code=\"%d\"} %llu\n",
                               kube_verb_name(v), kube_codes[c],
                               (unsigned long long)s->requests[v][c]);
                else
                    buf_printf(b, "rollguard_kube_requests_total{verb=\"%s\",code=\"%s\"} %llu\n",
                               kube_verb_name(v), kube_codes[c] == 0 ? "other" : "error",
                               (unsigned long long)s->requests[v][c]);
            }
        promw_family(b, "rollguard_kube_token_reloads_total", "counter",
                     "Times the service-account token file changed.");
        buf_printf(b, "rollguard_kube_token_reloads_total %llu\n",
                   (unsigned long long)s->token_reloads);
    }
    promw_family(b, "rollguard_rollbacks_withheld_total", "counter",
                 "Withheld rollback episodes: FAIL verdicts not acted on because the stable "
                 "revision degraded too (a run of them counts once).");
    buf_printf(b, "rollguard_rollbacks_withheld_total %llu\n", (unsigned long long)rb->wh.episodes);
    promw_family(b, "rollguard_withheld_events_total", "counter",
                 "RollbackWithheld Events this pod posted, by result (created, already: another "
                 "pod of the revision posted it, failed).");
    {
        static const enum rb_withheld_event wh_shown[] = {
            RB_WITHHELD_EVENT_CREATED, RB_WITHHELD_EVENT_ALREADY, RB_WITHHELD_EVENT_FAILED};
        static const char *const names[] = {"created", "already", "failed"};

        for (size_t i = 0; i < 3; i++)
            buf_printf(b, "rollguard_withheld_events_total{result=\"%s\"} %llu\n", names[i],
                       (unsigned long long)rb->wh.events[wh_shown[i]]);
    }
    promw_family(b, "rollguard_baseline_publications_total", "counter",
                 "Baseline summaries this pod published on the Lease.");
    buf_printf(b, "rollguard_baseline_publications_total %llu\n",
               (unsigned long long)rb->publications);
}
