/*
 * events — the core/v1 Events rollguard creates about the owner
 * (RollbackTriggered, BadRevisionReapplied): named "<owner>.<hex ns>" like
 * client-go's recorder, fire and forget (a failure is one log line).
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

void rb_event_post(struct rollback *rb, const char *type, const char *reason, const char *message,
                   const char *evidence, const char *owner_rv)
{
    const struct rb_target_ops *tg = rb_target(rb);
    char name[KUBE_NAME_MAX + 32], ts[KUBE_TIME_MAX], path[600], *body = NULL;
    struct kube_event ev;
    /* Nanoseconds as the name's suffix; the sequence keeps two Events of one ms apart. */
    unsigned long long ns =
        (unsigned long long)rb->wall_ms * 1000000ULL + (rb->event_seq++ % 1000000ULL);

    snprintf(name, sizeof(name), "%.200s.%llx", rb->id.owner_name, ns);
    kube_time_render(rb_wall_s(rb), ts, sizeof(ts));
    memset(&ev, 0, sizeof(ev));
    ev.name = name;
    ev.namespace = rb->id.ns;
    ev.type = type;
    ev.reason = reason;
    ev.message = message;
    ev.action = "Rollback";
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
        if (kube_json_event_render(&ev, &body) < 0)
            return;
    }
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events", rb->id.ns);
    if (rb_call(rb, KUBE_CREATE, path, "application/json", body, event_on_done, rb, NULL) < 0)
        log_event(LOG_LVL_WARN, "rollback_event_failed", LF_S("error", "could not start"));
    free(body);
}
