/*
 * peers — the stable revision's pods asked for their summaries (peers.h).
 * Must never: block the loop, follow a redirect, read more than
 * CONTROL_SUMMARY_READ_MAX bytes of a peer's answer, trust a peer's answer
 * before the strict reader has, or call the API outside a rollout.
 */
#include "sidecar/peers.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/curlm.h"
#include "sidecar/analysis/control.h"
#include "sidecar/base/clock.h"
#include "sidecar/base/log.h"
#include "sidecar/base/promw.h"
#include "sidecar/kube/kube_json.h"
#include "sidecar/rollback/rollback.h"

#define PEERS_WHY_MAX 224

struct peers_pod {
    struct rollback_control_pod pod;
    enum peers_result last; /* PEERS_RESULT_COUNT: not asked yet */
    char error[200];
    double latency_ms;
};

struct peers_req {
    struct peers *p;
    unsigned slot; /* index into p->pods */
    struct curlm_req *req;
};

struct peers {
    struct curlm *m;
    struct rollback *rb;
    struct cfg *cfg;
    peers_view_fn *fn;
    void *arg;

    /* the stable pods, from the orchestrator's LIST */
    bool listing;
    bool listed;
    bool relist; /* none answered, or the LIST failed: ask the API again when the budget allows */
    char stable[CONTROL_REVISION_MAX + 1];
    struct peers_pod pods[ROLLBACK_CONTROL_PODS_MAX];
    unsigned npods;
    unsigned next; /* where the next round starts in pods[] */
    char list_why[PEERS_WHY_MAX];

    /* the round in flight */
    struct peers_req reqs[16];
    unsigned asked, pending, nsum;
    struct control_summary sum[CONTROL_POOL_MAX];

    /* the last finished round */
    bool have_view;
    struct control_view view;
    char why[PEERS_WHY_MAX];
    bool logged;
    bool logged_in_use;
    char logged_why[PEERS_WHY_MAX];

    uint64_t results[PEERS_RESULT_COUNT];
    uint64_t rounds;
};

const char *peers_result_name(enum peers_result r)
{
    static const char *const names[PEERS_RESULT_COUNT] = {"ok",         "refused", "timeout",
                                                          "bad_status", "garbage", "too_big"};

    return (unsigned)r < PEERS_RESULT_COUNT ? names[r] : "unknown";
}

int peers_new(struct curlm *m, struct rollback *rb, struct cfg *cfg, peers_view_fn *fn, void *arg,
              struct peers **ret)
{
    struct peers *p = calloc(1, sizeof(*p));

    if (!p)
        return -ENOMEM;
    p->m = m;
    p->rb = rb;
    p->cfg = cfg_ref(cfg);
    p->fn = fn;
    p->arg = arg;
    snprintf(p->why, sizeof(p->why), "no round yet");
    *ret = p;
    return 0;
}

static void peers_cancel(struct peers *p)
{
    for (unsigned i = 0; i < sizeof(p->reqs) / sizeof(p->reqs[0]); i++) {
        curlm_cancel(p->reqs[i].req);
        p->reqs[i].req = NULL;
    }
    p->pending = 0;
}

struct peers *peers_free(struct peers *p)
{
    if (!p)
        return NULL;
    peers_cancel(p);
    cfg_unref(p->cfg);
    free(p);
    return NULL;
}

void peers_apply_cfg(struct peers *p, struct cfg *cfg)
{
    cfg_unref(p->cfg);
    p->cfg = cfg_ref(cfg);
}

/* The port of "host:port" (also "[v6]:port"), 0 when there is none. */
static unsigned peers_listen_port(const char *listen)
{
    const char *c = listen ? strrchr(listen, ':') : NULL;
    long v;
    char *end;

    if (!c)
        return 0;
    v = strtol(c + 1, &end, 10);
    return *end == '\0' && v > 0 && v < 65536 ? (unsigned)v : 0;
}

/* Says what changed, once per change. */
static void peers_note(struct peers *p, bool in_use)
{
    if (p->logged && p->logged_in_use == in_use && !strcmp(p->logged_why, p->why))
        return;
    if (in_use)
        log_event(LOG_LVL_INFO, "control_state", LF_S("state", "in use"),
                  LF_S("revision", p->view.revision), LF_U("answered", p->view.answered),
                  LF_U("asked", p->view.asked));
    else
        log_event(LOG_LVL_INFO, "control_state", LF_S("state", "none"), LF_S("reason", p->why));
    p->logged = true;
    p->logged_in_use = in_use;
    snprintf(p->logged_why, sizeof(p->logged_why), "%s", p->why);
}

static void peers_round_done(struct peers *p)
{
    struct rollback_rollout ro;
    int64_t now = (int64_t)clock_mono_ms(), wall = clock_wall_ms();
    char list[PEERS_WHY_MAX] = "";
    size_t n = 0;

    p->rounds++;
    rollback_rollout(p->rb, &ro);
    if (control_pool(p->sum, p->nsum, p->asked, p->stable, now, now - (wall - ro.start_wall_ms),
                     &p->view) == 0) {
        p->have_view = true;
        p->why[0] = '\0';
        return;
    }
    p->have_view = false;
    for (unsigned i = 0; i < p->npods && n < sizeof(list) - 1; i++) {
        if (p->pods[i].last == PEERS_RESULT_COUNT)
            continue;
        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s %s", n ? ", " : "",
                              p->pods[i].pod.ip, peers_result_name(p->pods[i].last));
    }
    snprintf(p->why, sizeof(p->why), "none of the %u stable pods asked answered (%.160s)", p->asked,
             list);
    p->relist = true; /* ask the API again for the stable pods (within its budget) */
}

static void peers_on_answer(const struct curlm_result *res, void *arg)
{
    struct peers_req *r = arg;
    struct peers *p = r->p;
    struct peers_pod *pod = &p->pods[r->slot];
    char err[200] = "", rev[CONTROL_REVISION_MAX + 1] = "";
    struct control_summary s;
    enum peers_result out = PEERS_OK;

    r->req = NULL;
    pod->latency_ms = (double)res->total_us / 1000.0;
    if (res->fail == CURLM_ERR_CONNECT || res->fail == CURLM_ERR_DNS) {
        out = PEERS_REFUSED;
        snprintf(err, sizeof(err), "refused: %.150s", res->error);
    } else if (res->fail == CURLM_ERR_TIMEOUT) {
        out = PEERS_TIMEOUT;
        snprintf(err, sizeof(err), "no answer within %ums", p->cfg->analysis.control.timeout_ms);
    } else if (res->fail == CURLM_ERR_TOOBIG) {
        out = PEERS_TOO_BIG;
        snprintf(err, sizeof(err), "answer over %d bytes", CONTROL_SUMMARY_READ_MAX);
    } else if (res->fail != CURLM_FAIL_NONE) {
        out = PEERS_GARBAGE;
        snprintf(err, sizeof(err), "%.150s", res->error);
    } else if (res->status != 200) {
        out = PEERS_BAD_STATUS;
        snprintf(err, sizeof(err), "HTTP %ld%s", res->status,
                 res->status >= 300 && res->status < 400 ? " (redirects are not followed)" : "");
    } else if (kube_json_control_summary_parse(res->body, res->body_len, &s, rev, sizeof(rev),
                                               err + 9, sizeof(err) - 9) < 0) {
        out = PEERS_GARBAGE;
        memcpy(err, "garbage: ", 9);
    } else if (strcmp(rev, p->stable)) {
        out = PEERS_GARBAGE;
        snprintf(err, sizeof(err), "a summary of revision \"%.63s\", not the stable %.63s", rev,
                 p->stable);
    } else if (p->nsum < CONTROL_POOL_MAX) {
        p->sum[p->nsum++] = s;
    }
    pod->last = out;
    snprintf(pod->error, sizeof(pod->error), "%s", out == PEERS_OK ? "" : err);
    p->results[out]++;
    if (p->pending > 0 && --p->pending == 0)
        peers_round_done(p);
}

/* Asks up to analysis.control.pods of the stable pods, starting where the last round stopped. */
static void peers_round(struct peers *p)
{
    unsigned port = p->cfg->analysis.control.port, want = p->cfg->analysis.control.pods;
    char url[128];

    if (!port)
        port = peers_listen_port(p->cfg->listen);
    if (want > p->npods)
        want = p->npods;
    if (want > sizeof(p->reqs) / sizeof(p->reqs[0]))
        want = sizeof(p->reqs) / sizeof(p->reqs[0]);
    p->asked = p->pending = p->nsum = 0;
    for (unsigned k = 0; k < want; k++) {
        unsigned slot = (p->next + k) % p->npods;
        struct peers_pod *pod = &p->pods[slot];
        struct peers_req *r = &p->reqs[k];
        bool v6 = strchr(pod->pod.ip, ':') != NULL;
        struct curlm_opts o = {
            .timeout_ms = p->cfg->analysis.control.timeout_ms,
            .max_body = CONTROL_SUMMARY_READ_MAX,
        };

        snprintf(url, sizeof(url), "http://%s%s%s:%u/summary", v6 ? "[" : "", pod->pod.ip,
                 v6 ? "]" : "", port);
        o.url = url;
        r->p = p;
        r->slot = slot;
        p->asked++;
        p->pending++;
        if (curlm_start(p->m, &o, peers_on_answer, r, &r->req) < 0) {
            p->pending--;
            pod->last = PEERS_GARBAGE;
            snprintf(pod->error, sizeof(pod->error), "could not start the request to %.80s", url);
            p->results[PEERS_GARBAGE]++;
        }
    }
    /* a pod that did not answer goes to the back of the line */
    p->next = (p->next + 1) % p->npods;
    if (p->asked > 0 && p->pending == 0)
        peers_round_done(p);
}

static void peers_on_pods(int err, const char *why, const char *stable_hash,
                          const struct rollback_control_pod *pods, unsigned n, void *arg)
{
    struct peers *p = arg;

    p->listing = false;
    if (err < 0 || n == 0) {
        p->relist = true;
        snprintf(p->list_why, sizeof(p->list_why), "%s",
                 why && why[0] ? why : "no ready pod of another revision");
        if (p->listed && p->npods > 0)
            return; /* keep asking the pods of the last good LIST */
        p->listed = true;
        p->npods = 0;
        snprintf(p->why, sizeof(p->why), "%s", p->list_why);
        return;
    }
    p->listed = true;
    p->relist = false;
    p->next = 0;
    if (n > ROLLBACK_CONTROL_PODS_MAX)
        n = ROLLBACK_CONTROL_PODS_MAX;
    for (unsigned i = 0; i < n; i++) {
        memset(&p->pods[i], 0, sizeof(p->pods[i]));
        p->pods[i].pod = pods[i];
        p->pods[i].last = PEERS_RESULT_COUNT;
    }
    p->npods = n;
    snprintf(p->stable, sizeof(p->stable), "%s", stable_hash ? stable_hash : "");
    p->list_why[0] = '\0';
}

void peers_tick(struct peers *p, int64_t now_ms)
{
    struct rollback_rollout ro;
    int r;

    (void)now_ms;
    if (!p->cfg->analysis.control.enabled) {
        peers_cancel(p);
        p->have_view = false;
        snprintf(p->why, sizeof(p->why), "analysis.control.enabled is false");
    } else {
        rollback_rollout(p->rb, &ro);
        if (!ro.active) {
            peers_cancel(p);
            p->have_view = false;
            snprintf(p->why, sizeof(p->why), "not a new revision in a rollout: %s",
                     ro.why ? ro.why : "");
        } else if (p->pending == 0) {
            if ((!p->listed || p->relist) && !p->listing) {
                r = rollback_control_pods(p->rb, peers_on_pods, p);
                if (r == 0)
                    p->listing = true;
                else if (!p->listed)
                    snprintf(p->why, sizeof(p->why), "%s",
                             r == -EAGAIN ? "the budget of pod LISTs for this rollout is spent"
                                          : "the orchestrator cannot list pods now");
            }
            if (p->listed && p->npods > 0 && !p->listing)
                peers_round(p);
            else if (p->listing && !p->have_view)
                snprintf(p->why, sizeof(p->why), "looking for the stable revision's pods");
        }
    }
    peers_note(p, p->have_view);
    p->fn(p->have_view ? &p->view : NULL, p->why, p->arg);
}

/* ,"key":"value" (the first key without the comma when first). */
static void peers_str(struct buf *b, const char *key, const char *v)
{
    buf_printf(b, ",\"%s\":\"", key);
    buf_json_escape(b, v ? v : "");
    buf_puts(b, "\"");
}

void peers_render_status(const struct peers *p, struct buf *b)
{
    buf_printf(b, "\"control\":{\"enabled\":%s,\"in_use\":%s",
               p->cfg->analysis.control.enabled ? "true" : "false",
               p->have_view ? "true" : "false");
    peers_str(b, "reason", p->have_view ? "" : p->why);
    peers_str(b, "revision", p->stable);
    if (p->have_view)
        buf_printf(b, ",\"asked\":%u,\"answered\":%u,\"degraded\":%u", p->view.asked,
                   p->view.answered, p->view.degraded);
    buf_printf(b, ",\"rounds\":%llu,\"pods\":[", (unsigned long long)p->rounds);
    for (unsigned i = 0; i < p->npods; i++) {
        const struct peers_pod *q = &p->pods[i];

        buf_puts(b, i ? ",{\"name\":\"" : "{\"name\":\"");
        buf_json_escape(b, q->pod.name);
        buf_puts(b, "\"");
        peers_str(b, "ip", q->pod.ip);
        peers_str(b, "result",
                  q->last == PEERS_RESULT_COUNT ? "not asked" : peers_result_name(q->last));
        peers_str(b, "error", q->error);
        buf_puts(b, "}");
    }
    buf_puts(b, "]}");
}

void peers_render_metrics(const struct peers *p, struct buf *b)
{
    promw_family(b, "rollguard_control_in_use", "gauge",
                 "1 while the stable revision's pods are this pod's concurrent control");
    promw_gauge(b, "rollguard_control_in_use", NULL, p->have_view ? 1 : 0);
    promw_family(b, "rollguard_control_pods_answered", "gauge",
                 "stable pods whose summary the last round read");
    promw_gauge(b, "rollguard_control_pods_answered", NULL, p->have_view ? p->view.answered : 0);
    promw_family(b, "rollguard_control_requests_total", "counter",
                 "GET /summary asked of stable pods, by result");
    for (int i = 0; i < PEERS_RESULT_COUNT; i++) {
        char labels[48];

        snprintf(labels, sizeof(labels), "result=\"%s\"", peers_result_name(i));
        promw_gauge(b, "rollguard_control_requests_total", labels, (double)p->results[i]);
    }
}
