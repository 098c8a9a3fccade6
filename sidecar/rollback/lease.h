/*
 * lease — the coordination Lease of one Deployment, as data: client-go
 * leader-election rules (tools/leaderelection: observedTime taken locally
 * when the record changes, takeover only after leaseDurationSeconds of an
 * unchanged record, leaseTransitions + 1 on a new holder, release = empty
 * holder with duration 1) and what rollguard keeps in the Lease's
 * annotations. Pure: the caller does the GET/PUT and passes the clocks.
 *
 * Annotations (all values plain text):
 *   rollguard.io/fail-votes        "<hash>;<pod>=<unix>,<pod>=<unix>"  FAIL votes of one
 *                                  revision; a vote for another hash replaces the set
 *   rollguard.io/rolled-back       "<hash>,<hash>"  hashes rolled back from (undo.h format)
 *   rollguard.io/reapply-warned    "<hash>,..."     re-applied bad hashes already warned of
 *   rollguard.io/baseline          the stable revision's baseline summary (opaque JSON)
 *   rollguard.io/baseline-from     "<hash>@<unix>"  who published it, when
 * A pod of a new revision reads the baseline once at start: for it the
 * summary is frozen, whatever stable pods publish later.
 */
#ifndef ROLLGUARD_LEASE_H
#define ROLLGUARD_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "sidecar/kube/kube_json.h"
#include "sidecar/rollback/undo.h"

#define LEASE_ANN_VOTES "rollguard.io/fail-votes"
/* the same record on the Lease as on the Deployment (one definition: undo.h) */
#define LEASE_ANN_ROLLED_BACK UNDO_RECORD_ANN
#define LEASE_ANN_WARNED "rollguard.io/reapply-warned"
#define LEASE_ANN_BASELINE "rollguard.io/baseline"
#define LEASE_ANN_BASELINE_FROM "rollguard.io/baseline-from"
#define LEASE_NAME_SUFFIX "-rollguard"
#define LEASE_MAX_VOTERS 256     /* votes kept per hash; quorum above this cannot be met */
#define LEASE_BASELINE_MAX 16384 /* bytes of a published baseline */

/* What this process saw of the Lease (client-go's observedRecord/observedTime). */
struct lease_view {
    bool seen;
    uint64_t record_fp;
    int64_t observed_ms; /* monotonic time the record last changed */
};

/* A fresh Lease object named name in ns, labelled as rollguard's (no spec). */
int lease_init(struct kube_lease *l, const char *name, const char *ns);

/* Record an observation of l at monotonic now_ms. */
void lease_observe(struct lease_view *v, const struct kube_lease *l, int64_t now_ms);

/*
 * Held by someone else and still valid by local observation: holder is not
 * "" and not me, and observed_ms + duration > now_ms.
 */
bool lease_held_by_other(const struct lease_view *v, const struct kube_lease *l, const char *me,
                         int64_t now_ms);

/* Make me the holder (acquire or renew) at wall time now_us. */
void lease_take(struct kube_lease *l, const char *me, int32_t duration_s, int64_t now_us);

/* Release: holder "", duration 1, times now_us, transitions kept. */
void lease_release(struct kube_lease *l, int64_t now_us);

/* Valid votes (younger than ttl_s at now_s) for hash. */
unsigned lease_votes(const struct kube_lease *l, const char *hash, int64_t now_s, int64_t ttl_s);

/* Has pod a valid vote for hash? */
bool lease_has_vote(const struct kube_lease *l, const char *hash, const char *pod, int64_t now_s,
                    int64_t ttl_s);

/*
 * Add (or refresh) pod's vote for hash at now_s, dropping expired votes and
 * votes for other hashes. Returns 0, -EINVAL (names with ';' '=' ','),
 * -E2BIG (LEASE_MAX_VOTERS reached), -ENOMEM.
 */
int lease_vote(struct kube_lease *l, const char *hash, const char *pod, int64_t now_s,
               int64_t ttl_s);

/* Add hash to a record annotation (rolled-back, reapply-warned). Returns 0, -E2BIG, -ENOMEM. */
int lease_record_add(struct kube_lease *l, const char *key, const char *hash);
bool lease_record_has(const struct kube_lease *l, const char *key, const char *hash);

/* Publish a baseline from revision hash at now_s. Returns 0, -E2BIG (json too long), -ENOMEM. */
int lease_baseline_set(struct kube_lease *l, const char *hash, const char *json, int64_t now_s);

/*
 * The published baseline: *json (borrowed), *from_hash (copied into a
 * buffer of KUBE_NAME_MAX), *at_s. Returns 0 or -ENOENT.
 */
int lease_baseline_get(const struct kube_lease *l, const char **json, char *from_hash,
                       int64_t *at_s);

#endif
