/*
 * events — the core/v1 Events rollguard creates about the owner
 * (RollbackTriggered, BadRevisionReapplied): named "<owner>.<hex ns>" like
 * client-go's recorder, fire and forget (a failure is one log line); and
 * the body and POST of any Event about the owner (rb_event_create: the
 * RollbackWithheld Event of withheld.c, with its deterministic name).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/base/log.h"
#include "sidecar/rollback/rollback-int.h"

static void event_on_done(const struct rb_resp *r, void *arg)
{
    (void)arg;
    if (r->status != 201 && r->status != 200)
        log_event(LOG_LVL_WARN, "rollback_event_failed", LF_S("error", r->error ? r->error : ""));
}

int rb_event_create(struct rollback *rb, const char *name, const char *type, const char *reason,
                    const char *action, const char *message, const char *evidence,
                    const char *owner_rv, rb_resp_fn *cb, void *arg)
{
    const struct rb_target_ops *tg = rb_target(rb);
    char ts[KUBE_TIME_MAX], path[600], *body = NULL;
    struct kube_event ev;
    int r;

    kube_time_render(rb_wall_s(rb), ts, sizeof(ts));
    memset(&ev, 0, sizeof(ev));
    ev.name = name;
    ev.namespace = rb->id.ns;
    ev.type = type;
    ev.reason = reason;
    ev.message = message;
    ev.action = action;
    ev.component = "rollguard";
    ev.instance = rb->id.pod;
    ev.timestamp = ts;
    ev.obj_api_version = tg->api_version;
    ev.obj_kind = tg->kind;
    ev.obj_name = rb->id.owner_name;
    ev.obj_uid = rb->id.owner_uid;
    ev.obj_resource_version = owner_rv;
    ev.evidence_json = evidence;
    if (kube_json_event_render(&ev, &body) < 0) {
        ev.evidence_json = NULL; /* not JSON: the message still carries it */
        if ((r = kube_json_event_render(&ev, &body)) < 0)
            return r;
    }
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events", rb->id.ns);
    r = rb_call(rb, KUBE_CREATE, path, "application/json", body, cb, arg, NULL);
    free(body);
    return r;
}

void rb_event_post(struct rollback *rb, const char *type, const char *reason, const char *message,
                   const char *evidence, const char *owner_rv)
{
    char name[KUBE_NAME_MAX + 32];
    /* Nanoseconds as the name's suffix; the sequence keeps two Events of one ms apart. */
    unsigned long long ns =
        (unsigned long long)rb->wall_ms * 1000000ULL + (rb->event_seq++ % 1000000ULL);

    snprintf(name, sizeof(name), "%.200s.%llx", rb->id.owner_name, ns);
    if (rb_event_create(rb, name, type, reason, "Rollback", message, evidence, owner_rv,
                        event_on_done, rb) < 0)
        log_event(LOG_LVL_WARN, "rollback_event_failed", LF_S("error", "could not start"));
}
