/*
 * publish — the stable revision's baseline on the Lease: pods whose
 * rollout has settled publish their summary on a jittered timer, about
 * ROLLBACK_PUBLISHERS of them per interval whatever the replica count; a
 * pod of a fresh revision reads it once at start (identity.c) and keeps
 * it. No I/O outside the timer.
 */
#include <stdlib.h>
#include <string.h>

#include "sidecar/base/log.h"
#include "sidecar/rollback/rollback-int.h"

static int mutate_publish(struct rollback *rb, struct lease_txn *t)
{
    int r;

    if (!rb->baseline_mine)
        return 0;
    r = lease_baseline_set(&t->lease, rb->id.hash, rb->baseline_mine, rb_wall_s(rb));
    return r < 0 ? r : 1;
}

static void publish_done(struct rollback *rb, struct lease_txn *t, int result)
{
    if (result == 0)
        rb->publications++;
    else if (result < 0)
        log_event(LOG_LVL_WARN, "baseline_publish_failed", LF_S("error", t->error));
    kube_lease_done(&t->lease);
    rb_publish_arm(rb, false);
}

void rb_publish_on_timer(struct rollback *rb)
{
    double p;

    /* About ROLLBACK_PUBLISHERS pods of the Deployment publish per interval. */
    p = ROLLBACK_PUBLISHERS / (double)(rb->id.replicas > 0 ? rb->id.replicas : 1);
    /* Only pods whose rollout has settled publish; a fresh revision is on trial. */
    if (!rb->baseline_mine || rb->pub_txn.active || rb->job.active || rb->id.reapplied ||
        guard_in_window(rb_wall_s(rb), rb->id.rs_created,
                        (int64_t)rb->cfg->rollback.guard_window_ms / 1000) ||
        rb_rnd(rb) >= p) {
        rb_publish_arm(rb, false);
        return;
    }
    rb_txn_start(rb, &rb->pub_txn, mutate_publish, publish_done);
}

void rb_publish_arm(struct rollback *rb, bool first)
{
    double iv = rb->cfg->rollback.baseline_publish_interval_ms, f;

    f = first ? 0.2 + rb_rnd(rb)
              : 1.0 - ROLLBACK_PUBLISH_JITTER + 2.0 * ROLLBACK_PUBLISH_JITTER * rb_rnd(rb);
    rb_timer_arm(&rb->pub_timer, (int64_t)(iv * f));
}

void rollback_publish_baseline(struct rollback *rb, const char *json)
{
    char *copy;

    if (!rb || !json || strlen(json) > LEASE_BASELINE_MAX || !(copy = strdup(json)))
        return;
    free(rb->baseline_mine);
    rb->baseline_mine = copy;
}

const char *rollback_stable_baseline(const struct rollback *rb, uint64_t *generation)
{
    if (generation)
        *generation = rb ? rb->stable_gen : 0;
    return rb ? rb->stable_baseline : NULL;
}
