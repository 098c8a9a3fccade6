/*
 * withheld — a FAIL verdict withheld because the stable revision degraded
 * too (the analysis decides that; rollback_on_withheld is told). Counts
 * episodes (a run of withheld verdicts; a PASS or FAIL verdict ends one),
 * logs one line per episode, and posts at most one Warning Event
 * (RollbackWithheld) per rollout per pod, under a name every pod of the
 * revision computes alike, so that between them they create one: 201
 * created, 409 AlreadyExists another pod said it already.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/base/log.h"
#include "sidecar/rollback/rollback-int.h"

#define WITHHELD_INFIX ".rollguard-withheld."
#define NAME_LEN_MAX 253

static bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A lowercase RFC 1123 subdomain: what the API requires of an Event's name. */
static bool dns_subdomain(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > NAME_LEN_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (lower_alnum(c))
            continue;
        if (c != '-' && c != '.')
            return false;
        if (i == 0 || i + 1 == n)
            return false;
        if (c == '.' && (!lower_alnum(s[i - 1]) || !lower_alnum(s[i + 1])))
            return false;
    }
    return true;
}

void rb_withheld_event_name(const char *owner, const char *hash, char *buf, size_t size)
{
    uint64_t h = 1469598103934665603ULL;
    size_t keep;
    const char *parts[] = {owner, "/", hash};

    snprintf(buf, size, "%s" WITHHELD_INFIX "%s", owner, hash);
    if (strlen(owner) + strlen(WITHHELD_INFIX) + strlen(hash) <= NAME_LEN_MAX && dns_subdomain(buf))
        return;
    for (size_t p = 0; p < 3; p++)
        for (const char *s = parts[p]; *s; s++) {
            h ^= (unsigned char)*s;
            h *= 1099511628211ULL;
        }
    keep = strlen(owner);
    if (keep > NAME_LEN_MAX - strlen(WITHHELD_INFIX) - 16)
        keep = NAME_LEN_MAX - strlen(WITHHELD_INFIX) - 16;
    while (keep > 0 && !lower_alnum(owner[keep - 1]))
        keep--;
    snprintf(buf, size, "%.*s" WITHHELD_INFIX "%016llx", (int)keep, owner, (unsigned long long)h);
    if (!dns_subdomain(buf))
        snprintf(buf, size, "rollguard-withheld.%016llx", (unsigned long long)h);
}

static const char *event_name(enum rb_withheld_event e)
{
    static const char *const n[RB_WITHHELD_EVENT_COUNT] = {"",        "off",     "pending",
                                                           "created", "already", "failed"};
    return e < RB_WITHHELD_EVENT_COUNT ? n[e] : "";
}

static void withheld_on_event(const struct rb_resp *r, void *arg)
{
    struct rollback *rb = arg;
    struct rb_withheld *w = &rb->wh;
    struct kube_status st;
    char err[200];
    bool already = false;

    if (r->status == 409)
        already = kube_json_status_parse(r->body, r->body_len, &st, err, sizeof(err)) < 0 ||
                  !strcmp(st.reason, "AlreadyExists");
    if (r->status == 201 || r->status == 200) {
        w->event = RB_WITHHELD_EVENT_CREATED;
        log_event(LOG_LVL_INFO, "rollback_withheld_event", LF_S("result", "created"),
                  LF_S("name", w->name));
    } else if (already) {
        w->event = RB_WITHHELD_EVENT_ALREADY;
        log_event(LOG_LVL_INFO, "rollback_withheld_event", LF_S("result", "already"),
                  LF_S("name", w->name),
                  LF_S("detail", "another pod of the revision posted it (409 AlreadyExists)"));
    } else {
        char msg[300];

        w->event = RB_WITHHELD_EVENT_FAILED;
        rb_resp_error(r, "creating the RollbackWithheld Event", msg, sizeof(msg));
        log_event(LOG_LVL_WARN, "rollback_withheld_event", LF_S("result", "failed"),
                  LF_S("name", w->name), LF_I("status", r->status), LF_S("error", msg));
    }
    w->events[w->event]++;
}

/* Post this rollout's one Event. Returns what /status and the log line say of it. */
static const char *withheld_post(struct rollback *rb, const char *evidence)
{
    struct rb_withheld *w = &rb->wh;
    char msg[700];
    const char *text = w->summary;

    if (!text) {
        snprintf(msg, sizeof(msg),
                 "rollguard withheld a rollback of pod-template-hash %s: the stable revision "
                 "degraded too",
                 rb->id.hash);
        text = msg;
    }
    rb_withheld_event_name(rb->id.owner_name, rb->id.hash, w->name, sizeof(w->name));
    w->posted = true;
    w->event = RB_WITHHELD_EVENT_PENDING;
    if (rb_event_create(rb, w->name, "Warning", ROLLBACK_WITHHELD_REASON, "WithholdRollback", text,
                        evidence, NULL, withheld_on_event, rb) < 0) {
        w->event = RB_WITHHELD_EVENT_FAILED;
        w->events[w->event]++;
        log_event(LOG_LVL_WARN, "rollback_withheld_event", LF_S("result", "failed"),
                  LF_S("name", w->name), LF_S("error", "could not start the request"));
        return "failed";
    }
    return "posting";
}

void rollback_on_withheld(struct rollback *rb, const char *evidence_json, const char *summary,
                          int64_t now_ms)
{
    struct rb_withheld *w;
    bool first;
    const char *event;

    if (!rb)
        return;
    w = &rb->wh;
    rb->now_ms = now_ms;
    rb->wall_ms = rb->env.wall_ms(rb->env.ctx);
    if (evidence_json && strlen(evidence_json) > RB_EVIDENCE_MAX)
        evidence_json = NULL;
    if (summary && strlen(summary) <= RB_EVIDENCE_MAX) {
        char *copy = strdup(summary);

        if (copy) {
            free(w->summary);
            w->summary = copy;
        }
    }
    first = !w->episode;
    if (first) {
        w->episode = true;
        w->episodes++;
    }
    if (!rb->enabled) {
        event = "not posted: rollback disabled";
    } else if (rb->cfg->rollback.mode == CFG_ROLLBACK_OFF) {
        event = "not posted: rollback.mode off";
        if (!w->posted)
            w->event = RB_WITHHELD_EVENT_OFF;
    } else if (!rb->id.known) {
        event = "not posted yet: identity not known";
    } else if (w->posted) {
        event = "posted before for this rollout";
    } else {
        event = withheld_post(rb, evidence_json);
    }
    if (first)
        log_event(LOG_LVL_WARN, "rollback_withheld", LF_S("hash", rb->id.hash),
                  LF_S("owner", rb->id.owner_name),
                  LF_S("mode", cfg_rollback_mode_name(rb->cfg->rollback.mode)),
                  LF_I("episodes", (int64_t)w->episodes), LF_S("event", event),
                  LF_S("summary", w->summary ? w->summary : ""));
}

void rb_withheld_end_episode(struct rollback *rb)
{
    rb->wh.episode = false;
}

void rb_withheld_done(struct rollback *rb)
{
    free(rb->wh.summary);
    rb->wh.summary = NULL;
}

const char *rb_withheld_event_state(const struct rollback *rb)
{
    return event_name(rb->wh.event);
}
