/*
 * guard — the rollback safety rules as one ordered decision. Pure: the
 * caller gathers the facts (and passes the time); no I/O, no logging.
 */
#include "sidecar/rollback/guard.h"

static const char *const names[GUARD_REASON_COUNT] = {
    [GUARD_OK] = "ok",
    [GUARD_MODE_OFF] = "mode_off",
    [GUARD_NOT_IN_CLUSTER] = "not_in_cluster",
    [GUARD_IDENTITY_UNKNOWN] = "identity_unknown",
    [GUARD_ALREADY_ROLLED_BACK] = "already_rolled_back",
    [GUARD_OUTSIDE_GUARD_WINDOW] = "outside_guard_window",
    [GUARD_QUORUM_NOT_MET] = "quorum_not_met",
    [GUARD_LEASE_HELD] = "lease_held",
    [GUARD_NOT_CURRENT_REVISION] = "not_current_revision",
    [GUARD_REVISION_NOT_FOUND] = "revision_not_found",
    [GUARD_NO_PREVIOUS_REVISION] = "no_previous_revision",
    [GUARD_PAUSED] = "paused",
    [GUARD_TEMPLATE_ALREADY_EQUAL] = "template_already_equal",
    [GUARD_ALREADY_ABORTED] = "already_aborted",
};

static const char *const texts[GUARD_REASON_COUNT] = {
    [GUARD_OK] = "allowed",
    [GUARD_MODE_OFF] = "rollback.mode is off",
    [GUARD_NOT_IN_CLUSTER] = "not running in a cluster (POD_NAME, POD_NAMESPACE, "
                             "POD_TEMPLATE_HASH or the API server address missing)",
    [GUARD_IDENTITY_UNKNOWN] = "the pod's owning Deployment is not known yet",
    [GUARD_ALREADY_ROLLED_BACK] = "this pod-template-hash was rolled back before; not again",
    [GUARD_OUTSIDE_GUARD_WINDOW] = "the rollout began longer ago than rollback.guard_window",
    [GUARD_QUORUM_NOT_MET] = "fewer pods of the new revision report FAIL than the quorum "
                             "(rollback.quorum, or with auto a majority of its ready pods)",
    [GUARD_LEASE_HELD] = "another sidecar holds the rollback Lease",
    [GUARD_NOT_CURRENT_REVISION] = "this pod's revision is not the Deployment's current one",
    [GUARD_REVISION_NOT_FOUND] = "unable to find the specified revision in history",
    [GUARD_NO_PREVIOUS_REVISION] = "no rollout history found",
    [GUARD_PAUSED] = "you cannot rollback a paused deployment; resume it first",
    [GUARD_TEMPLATE_ALREADY_EQUAL] = "skipped rollback (current template already matches the "
                                     "target revision)",
    [GUARD_ALREADY_ABORTED] = "the Rollout is already aborted",
};

bool guard_in_window(int64_t now_s, int64_t rollout_start_s, int64_t window_s)
{
    return rollout_start_s > 0 && now_s - rollout_start_s <= window_s;
}

enum guard_reason guard_decide(const struct guard_facts *f)
{
    if (f->mode == 0)
        return GUARD_MODE_OFF;
    if (!f->in_cluster)
        return GUARD_NOT_IN_CLUSTER;
    if (!f->identity_known)
        return GUARD_IDENTITY_UNKNOWN;
    if (f->already_rolled_back && !f->manual)
        return GUARD_ALREADY_ROLLED_BACK;
    if (!f->manual) {
        if (!guard_in_window(f->now_s, f->rollout_start_s, f->guard_window_s))
            return GUARD_OUTSIDE_GUARD_WINDOW;
        if (f->quorum_checked && f->votes < f->quorum)
            return GUARD_QUORUM_NOT_MET;
    }
    if (f->lease_held_by_other)
        return GUARD_LEASE_HELD;
    if (!f->deployment_read)
        return GUARD_OK;
    if (!f->manual && !f->is_current)
        return GUARD_NOT_CURRENT_REVISION;
    if (f->revision_not_found)
        return GUARD_REVISION_NOT_FOUND;
    if (f->no_history)
        return GUARD_NO_PREVIOUS_REVISION;
    if (f->paused)
        return GUARD_PAUSED;
    if (f->template_equal)
        return GUARD_TEMPLATE_ALREADY_EQUAL;
    if (f->already_aborted)
        return GUARD_ALREADY_ABORTED;
    return GUARD_OK;
}

const char *guard_reason_name(enum guard_reason r)
{
    return r >= 0 && r < GUARD_REASON_COUNT ? names[r] : "unknown";
}

const char *guard_reason_text(enum guard_reason r)
{
    return r >= 0 && r < GUARD_REASON_COUNT ? texts[r] : "unknown";
}
