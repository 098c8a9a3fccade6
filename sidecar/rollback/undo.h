/*
 * undo — what `kubectl rollout undo deployment/NAME [--to-revision=N]`
 * computes (target ReplicaSet, template without pod-template-hash, the
 * annotation set), pinned and made safe for many sidecars: the target can
 * be "the newest revision whose hash differs from the bad one", and the
 * JSON patch starts with test ops (uid, generation or resourceVersion, the
 * revision annotation). Pure: structs in, a plan and bytes out.
 */
#ifndef ROLLGUARD_UNDO_H
#define ROLLGUARD_UNDO_H

#include <stdbool.h>

#include "sidecar/base/buf.h"
#include "sidecar/kube/kube_json.h"

/* The annotation on the Deployment that records the hashes rolled back from. */
#define UNDO_RECORD_ANN "rollguard.io/rolled-back"
/* At most this many hashes are kept in the record (oldest dropped). */
#define UNDO_RECORD_MAX 16

struct undo_req {
    const char *bad_hash; /* pin the target to the newest revision whose hash differs from
                             this; NULL or "": kubectl's "second-highest revision" */
    long to_revision;     /* > 0: exactly that revision (kubectl --to-revision=N) */
    bool test_generation; /* test /metadata/generation instead of resourceVersion */
    bool record;          /* add bad_hash (or the current hash) to UNDO_RECORD_ANN */
    const char *exclude;  /* pinned target: also skip hashes in this record value (those
                             rolled back from before), so an undo never rolls forward */
};

struct undo_plan {
    const struct kube_rs *current; /* owned RS whose template equals the Deployment's, or NULL */
    const struct kube_rs *target;  /* NULL when no_history or revision_not_found */
    long current_revision;         /* -1 when no current RS */
    long target_revision;
    bool no_history;             /* kubectl: no rollout history found */
    bool revision_not_found;     /* kubectl: unable to find specified revision N */
    bool template_equal;         /* kubectl: skipped rollback (already matches) */
    unsigned owned;              /* RSs controlled by the Deployment */
    struct kube_map annotations; /* the new metadata.annotations */
};

/*
 * The revision of an RS as kubectl reads it: 0 when the annotation is
 * missing, -1 when it does not parse (such an RS is skipped).
 */
long undo_revision(const struct kube_map *annotations);

/* True if rs is controlled by the object with uid (metav1.IsControlledBy). */
bool undo_owned_by(const struct kube_rs *rs, const char *uid);

/*
 * Compute the plan for Deployment d over the RS list (all RSs matching its
 * selector; foreign ones are filtered out here). The plan borrows from d
 * and rs. Returns 0 (look at the plan's flags), or -ENOMEM. undo_plan_done
 * frees what the plan owns; NULL-safe.
 */
int undo_plan_make(const struct kube_deployment *d, const struct kube_rs_list *rs,
                   const struct undo_req *req, struct undo_plan *ret);
void undo_plan_done(struct undo_plan *p);

/*
 * The JSON patch for a plan with a target: the test ops (uid, generation or
 * resourceVersion, the revision annotation when present), then kubectl's
 * two replace ops. Appends to b; returns 0, -EINVAL (no target), -E2BIG.
 */
int undo_patch_render(const struct kube_deployment *d, const struct undo_plan *p,
                      const struct undo_req *req, struct buf *b);

/* Exactly kubectl's body (the two replace ops, no test, no record). Same returns. */
int undo_kubectl_patch_render(const struct undo_plan *p, struct buf *b);

/* Is hash in a comma-separated record value (NULL-safe)? */
bool undo_record_has(const char *record, const char *hash);

/*
 * The record value with hash appended (kept once, at most UNDO_RECORD_MAX,
 * oldest dropped) into buf (size bytes). Returns 0 or -E2BIG.
 */
int undo_record_add(const char *record, const char *hash, char *buf, size_t size);

#endif
