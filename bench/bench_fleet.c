/*
 * bench_fleet — how hard 10,000 sidecars lean on the API server.
 *
 * Two parts, both from the real code's schedule: the default config
 * (cfg_default: publication interval, Lease duration, analysis interval),
 * the orchestrator's constants (rollback.h) and, for the contention of a
 * bad rollout, the real Lease rules (lease.c: votes, client-go takeover,
 * holder, records) in a discrete-event simulation with optimistic
 * concurrency (a PUT with a stale resourceVersion loses with 409).
 *
 * 1. Steady state, per pod per 5 minutes: the identity walk at each pod
 *    start (pod, ReplicaSet, owner; plus one Lease read for a pod of a fresh
 *    revision, and the LIST of pods that finds its concurrent control:
 *    CONTROL_LISTS per rollout, at most ROLLBACK_CONTROL_LISTS_MAX when the
 *    stable pods stop answering), amortised over the rollouts per day, and the baseline
 *    publication (GET + PUT of the Lease, by about ROLLBACK_PUBLISHERS pods
 *    of a Deployment per interval). No polling: verdicts that are not FAIL
 *    cost nothing.
 * 2. A bad rollout of one Deployment: every pod of the new revision turns
 *    FAIL within a couple of analysis intervals; requests per pod until all
 *    have stood down, and the number of PATCHes (must be 1).
 *
 * Prints two tables. Deterministic (fixed seed).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "sidecar/rollback/lease.h"
#include "sidecar/rollback/rollback.h"

#define START_GETS 3    /* pod, ReplicaSet, Deployment */
#define CONTROL_LISTS 1 /* LIST pods once per rollout while the stable pods answer */
#define LEADER_EXTRA 6  /* GET Deployment, LIST RS, PATCH, POST Event, GET+PUT Lease release */
#define LATENCY_MS 8
#define MAX_PODS 2000

static uint64_t rng = 88172645463325252ULL;

static double rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* --- part 1: steady state --------------------------------------------------- */

static double steady_per_pod_5min(const struct cfg *c, unsigned replicas, double rollouts_per_day,
                                  unsigned lists)
{
    double p = ROLLBACK_PUBLISHERS / (double)replicas;
    /* + the Lease read and the control's LISTs of pods */
    double per_day_start = rollouts_per_day * (START_GETS + 1 + lists);
    double pubs_per_day = 86400000.0 / c->rollback.baseline_publish_interval_ms;
    double per_day_pub = pubs_per_day * (p > 1 ? 1 : p) * 2; /* GET + PUT */

    return (per_day_start + per_day_pub) / 288.0;
}

/* --- part 2: a bad rollout, simulated ----------------------------------------- */

struct sim_pod {
    char name[32];
    int64_t next_try_ms; /* when the next FAIL verdict may start a decision */
    int64_t retry_ms;
    bool final;
    struct lease_view view;
    unsigned requests;
};

struct sim {
    struct kube_lease lease; /* the server's copy */
    uint64_t rv;
    bool exists;
    bool deployment_current; /* the bad template is still the Deployment's */
    unsigned patches;
};

/* One decision of pod p at time t (ms); returns the time it ended. */
static int64_t decide(struct sim *s, struct sim_pod *p, const struct cfg *c, int64_t t,
                      const char *hash)
{
    for (int tries = 0; tries < ROLLBACK_LEASE_TRIES; tries++) {
        struct kube_lease mine;
        uint64_t rv_seen = s->rv;
        unsigned votes;
        bool held, changed = false;

        p->requests++; /* GET the Lease */
        t += LATENCY_MS;
        if (s->exists) {
            mine = s->lease;
            memset(&mine.meta.annotations, 0, sizeof(mine.meta.annotations));
            kube_map_copy(&mine.meta.annotations, &s->lease.meta.annotations);
            mine.meta.labels.n = 0;
            mine.meta.labels.kv = NULL;
        } else {
            lease_init(&mine, "web-rollguard", "prod");
        }
        mine.record_fp = (uint64_t)mine.transitions * 1315423911u ^ (uint64_t)mine.holder[0] ^
                         (uint64_t)strlen(mine.holder);
        lease_observe(&p->view, &mine, t);
        if (lease_record_has(&mine, LEASE_ANN_ROLLED_BACK, hash) || !s->deployment_current) {
            p->final = true; /* already rolled back: stand down for good */
            kube_lease_done(&mine);
            return t;
        }
        if (!lease_has_vote(&mine, hash, p->name, t / 1000, ROLLBACK_VOTE_TTL_S)) {
            lease_vote(&mine, hash, p->name, t / 1000, ROLLBACK_VOTE_TTL_S);
            changed = true;
        }
        votes = lease_votes(&mine, hash, t / 1000, ROLLBACK_VOTE_TTL_S);
        held = lease_held_by_other(&p->view, &mine, p->name, t);
        bool lead = votes >= c->rollback.quorum && !held;
        if (lead) {
            lease_take(&mine, p->name, (int32_t)(c->kubernetes.lease_duration_ms / 1000), t * 1000);
            changed = true;
        }
        if (!changed) {
            kube_lease_done(&mine);
            break; /* quorum not met or held: nothing to write */
        }
        p->requests++; /* PUT (or POST) */
        t += LATENCY_MS;
        if (s->rv != rv_seen) {
            kube_lease_done(&mine);
            continue; /* 409: someone wrote in between */
        }
        kube_lease_done(&s->lease);
        s->lease = mine;
        s->exists = true;
        s->rv++;
        if (!lead)
            break;
        /* the leader: read, PATCH, Event, release with the record */
        p->requests += LEADER_EXTRA;
        t += LEADER_EXTRA * LATENCY_MS;
        s->patches++;
        s->deployment_current = false;
        lease_release(&s->lease, t * 1000);
        lease_record_add(&s->lease, LEASE_ANN_ROLLED_BACK, hash);
        kube_map_del(&s->lease.meta.annotations, LEASE_ANN_VOTES);
        s->rv++;
        p->final = true;
        return t;
    }
    /* non-final: wait like the orchestrator does */
    p->next_try_ms = t + p->retry_ms + (int64_t)(rnd() * (double)p->retry_ms * 0.5);
    p->retry_ms = p->retry_ms * 2 > ROLLBACK_RETRY_MAX_MS ? ROLLBACK_RETRY_MAX_MS : p->retry_ms * 2;
    return t;
}

static void bad_rollout(const struct cfg *c, unsigned n, double *per_pod, unsigned *patches,
                        double *seconds)
{
    static struct sim_pod pods[MAX_PODS];
    struct sim s;
    int64_t iv = c->analysis.interval_ms, t_end = 0;
    unsigned total = 0;

    memset(&s, 0, sizeof(s));
    s.deployment_current = true;
    for (unsigned i = 0; i < n; i++) {
        memset(&pods[i], 0, sizeof(pods[i]));
        snprintf(pods[i].name, sizeof(pods[i].name), "web-bad-%05u", i);
        /* first FAIL verdict: within two analysis intervals of each other */
        pods[i].next_try_ms = 60000 + (int64_t)(rnd() * 2 * (double)iv);
        pods[i].retry_ms = ROLLBACK_RETRY_MIN_MS;
        pods[i].requests = START_GETS + 1;
    }
    /* verdicts every interval per pod; a decision starts when next_try has passed */
    for (int64_t t = 60000; t < 60000 + 3600000; t += iv) {
        bool all = true;

        for (unsigned i = 0; i < n; i++) {
            if (pods[i].final)
                continue;
            all = false;
            if (t + (int64_t)(i % (unsigned)iv) < pods[i].next_try_ms)
                continue;
            int64_t e = decide(&s, &pods[i], c, t + (int64_t)(rnd() * (double)iv), "badhash");
            if (e > t_end)
                t_end = e;
        }
        if (all)
            break;
    }
    for (unsigned i = 0; i < n; i++)
        total += pods[i].requests;
    *per_pod = (double)total / n;
    *patches = s.patches;
    *seconds = (double)(t_end - 60000) / 1000.0;
    kube_lease_done(&s.lease);
}

int main(void)
{
    struct cfg *c = NULL;
    struct cfg_errs errs;
    static const unsigned sizes[] = {1, 3, 10, 100, 1000};
    static const double rollouts[] = {1, 4};

    memset(&errs, 0, sizeof(errs));
    if (cfg_default(&c, &errs) < 0)
        return 1;
    printf("Fleet of 10000 pods, default config: baseline_publish_interval %us, "
           "lease_duration %us, analysis.interval %us, quorum %s\n\n",
           c->rollback.baseline_publish_interval_ms / 1000, c->kubernetes.lease_duration_ms / 1000,
           c->analysis.interval_ms / 1000,
           c->rollback.quorum ? "explicit" : "auto (a majority; the burst rows pin 1 and 3)");
    printf("Steady state (healthy traffic)\n");
    printf("%-10s %-12s %-14s %-22s %-16s %-22s\n", "replicas", "deployments", "rollouts/day",
           "req/pod/5min", "fleet req/s", "req/pod/5min (worst)");
    for (size_t r = 0; r < sizeof(rollouts) / sizeof(rollouts[0]); r++)
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            double v = steady_per_pod_5min(c, sizes[i], rollouts[r], CONTROL_LISTS);
            double w = steady_per_pod_5min(c, sizes[i], rollouts[r], ROLLBACK_CONTROL_LISTS_MAX);

            printf("%-10u %-12u %-14.0f %-22.4f %-16.3f %-22.4f\n", sizes[i], 10000 / sizes[i],
                   rollouts[r], v, v * 10000 / 300.0, w);
        }
    printf("\nPer pod of a new revision, per healthy rollout: %d API requests (identity %d, Lease "
           "read 1, LIST of pods %d; at most %d when the stable pods stop answering: %d), no "
           "other API request while its verdicts are not FAIL; GET /summary to %u stable pods "
           "per %us interval goes to the pods, not the API server\n",
           START_GETS + 1 + CONTROL_LISTS, START_GETS, CONTROL_LISTS, ROLLBACK_CONTROL_LISTS_MAX,
           START_GETS + 1 + ROLLBACK_CONTROL_LISTS_MAX, c->analysis.control.pods,
           c->analysis.interval_ms / 1000);
    printf("\nOne bad rollout (every pod of the new revision turns FAIL within two intervals)\n");
    printf("%-10s %-8s %-18s %-10s %-14s\n", "replicas", "quorum", "req/pod (burst)", "PATCHes",
           "burst seconds");
    for (unsigned q = 1; q <= 3; q += 2)
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            double per_pod, secs;
            unsigned patches;
            struct cfg cq = *c;

            if (sizes[i] < q)
                continue;
            cq.rollback.quorum = q;
            bad_rollout(&cq, sizes[i], &per_pod, &patches, &secs);
            printf("%-10u %-8u %-18.2f %-10u %-14.1f\n", sizes[i], q, per_pod, patches, secs);
        }
    cfg_unref(c);
    return 0;
}
