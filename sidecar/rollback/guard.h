/*
 * guard — may this sidecar undo the rollout now? One pure decision over
 * facts the orchestrator gathered, with a named reason for every refusal,
 * checked in a fixed order (kubectl's own order where kubectl has the
 * check: revision lookup, then paused, then "already matches").
 */
#ifndef ROLLGUARD_GUARD_H
#define ROLLGUARD_GUARD_H

#include <stdbool.h>
#include <stdint.h>

enum guard_reason {
    GUARD_OK = 0,
    GUARD_MODE_OFF,               /* rollback.mode: off */
    GUARD_NOT_IN_CLUSTER,         /* no pod identity or API server */
    GUARD_IDENTITY_UNKNOWN,       /* the ownerReference walk has not succeeded */
    GUARD_ALREADY_ROLLED_BACK,    /* this bad hash was rolled back before */
    GUARD_OUTSIDE_GUARD_WINDOW,   /* the rollout began longer ago than guard_window */
    GUARD_QUORUM_NOT_MET,         /* fewer FAIL votes than the quorum in force */
    GUARD_LEASE_HELD,             /* another sidecar holds the Lease */
    GUARD_NOT_CURRENT_REVISION,   /* this pod's hash is not the Deployment's current one */
    GUARD_REVISION_NOT_FOUND,     /* --to-revision N does not exist */
    GUARD_NO_PREVIOUS_REVISION,   /* nothing to roll back to */
    GUARD_PAUSED,                 /* spec.paused */
    GUARD_TEMPLATE_ALREADY_EQUAL, /* the target's template is already in force */
    GUARD_ALREADY_ABORTED,        /* Argo Rollout: status.abort is already true */
    GUARD_REASON_COUNT
};

struct guard_facts {
    int mode;    /* enum cfg_rollback_mode: 0 off, 1 dry-run, 2 enforce */
    bool manual; /* operator-initiated: no quorum, window or current-hash rule */
    bool in_cluster;
    bool identity_known;
    bool already_rolled_back; /* the bad hash is in the record (Deployment or Lease) */
    int64_t now_s;            /* wall clock, Unix seconds */
    int64_t rollout_start_s;  /* creation of the new ReplicaSet; 0 unknown */
    int64_t guard_window_s;
    unsigned votes; /* FAIL votes of the bad hash, this pod's included */
    unsigned quorum;
    bool quorum_checked; /* false: skip the quorum rule (dry-run writes no votes) */
    bool lease_held_by_other;
    bool deployment_read; /* false: the checks below are not evaluated yet */
    bool is_current;      /* pod hash == the current RS's hash */
    bool revision_not_found;
    bool no_history;
    bool paused;
    bool template_equal;
    bool already_aborted;
};

/* The first rule that refuses, or GUARD_OK. */
enum guard_reason guard_decide(const struct guard_facts *f);

/*
 * Inside the guard window: the rollout began (rollout_start_s, 0 unknown)
 * at most window_s before now_s. The one definition: the job, the verdict
 * entry, the identity walk and baseline publication all ask this.
 */
bool guard_in_window(int64_t now_s, int64_t rollout_start_s, int64_t window_s);

/* Stable snake_case names for metrics and logs ("quorum_not_met", ...). */
const char *guard_reason_name(enum guard_reason r);

/* A sentence for humans (CLI output, events). */
const char *guard_reason_text(enum guard_reason r);

#endif
