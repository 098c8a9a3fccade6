/*
 * kube_json — the jansson adapter: decodes API objects from untrusted bytes
 * into the plain structs of kube_types.h and renders the bodies rollguard
 * sends. The only module that includes <jansson.h>; no jansson type
 * appears in its interface. Never does I/O, reads the clock or logs.
 *
 * Decoders take (buf, len) of untrusted bytes, fill *ret only on success
 * and return -EINVAL with a message otherwise. Every input-driven size has
 * a limit (names, map entries, list items, string lengths). Templates are
 * kept as two strings: the compact JSON as served (key order preserved,
 * the pod-template-hash label removed for ReplicaSets, the way kubectl
 * sends it back) and a normalised form for equality (sorted keys, nulls and
 * empty objects/arrays dropped, the hash label dropped), which is what
 * kubectl's equalIgnoreHash compares up to quantities and times.
 *
 * Includes the types, RFC 3339 times and label selectors, so one include
 * gives the whole Kubernetes model; new code may include the narrower
 * kube_types.h, kube_time.h or kube_selector.h.
 */
#ifndef ROLLGUARD_KUBE_JSON_H
#define ROLLGUARD_KUBE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "sidecar/base/baseline_summary.h"
#include "sidecar/base/control_summary.h"
#include "sidecar/kube/kube_selector.h"
#include "sidecar/kube/kube_time.h"
#include "sidecar/kube/kube_types.h"

/* --- decoders ----------------------------------------------------------- */

/*
 * Each fills *ret (which the caller releases with the matching kube_*_done
 * of kube_types.h) only on success. Returns 0, -EINVAL (err holds why),
 * -ENOMEM.
 */

int kube_json_deployment_parse(const char *buf, size_t len, struct kube_deployment *ret, char *err,
                               size_t errlen);
int kube_json_rs_parse(const char *buf, size_t len, struct kube_rs *ret, char *err, size_t errlen);
int kube_json_rs_list_parse(const char *buf, size_t len, struct kube_rs_list *ret, char *err,
                            size_t errlen);
int kube_json_pod_parse(const char *buf, size_t len, struct kube_pod *ret, char *err,
                        size_t errlen);
int kube_json_lease_parse(const char *buf, size_t len, struct kube_lease *ret, char *err,
                          size_t errlen);
int kube_json_rollout_parse(const char *buf, size_t len, struct kube_rollout *ret, char *err,
                            size_t errlen);
/* A Status body; -EINVAL when buf is not one (the APF 429 is plain text). */
int kube_json_status_parse(const char *buf, size_t len, struct kube_status *ret, char *err,
                           size_t errlen);

/*
 * A peer's GET /summary answer (sidecar/analysis/control.h has the shape):
 * at most CONTROL_SUMMARY_READ_MAX bytes (checked before parsing), UTF-8,
 * nested at most CONTROL_SUMMARY_DEPTH_MAX deep, no duplicate keys;
 * version 1; every known field present once with its type (null only where
 * the shape allows it); counts integers in [0, INT64_MAX] with errors <=
 * requests, seconds >= 0, quantile in (0, 1), shares in [0, 1], all finite;
 * latency.source and rule from their lists; rule set exactly while
 * degraded, degraded_for_ms 0 otherwise; source none without samples or
 * seconds; revision a label value. Unknown fields are ignored. Fills *ret
 * and revision (revlen bytes; may be NULL) only on success. Returns 0 or
 * -EINVAL (err holds why).
 */
int kube_json_control_summary_parse(const char *buf, size_t len, struct control_summary *ret,
                                    char *revision, size_t revlen, char *err, size_t errlen);

/*
 * The baseline summary another pod published on the Lease (the shape of
 * baseline_summary_render_json, sidecar/analysis/baseline.h): at most
 * BASELINE_JSON_MAX bytes (-E2BIG otherwise), UTF-8, one flat object with
 * no duplicate names (names at most 31 bytes), scalar values only (strings
 * at most BASELINE_REVISION_MAX bytes, numbers at most 47 characters and
 * within a double's range); v 1; every known member present with its type:
 * counts integers in [0, INT64_MAX] written without a sign, rates and
 * fractions in [0, 1], errors <= requests, latencies >= 0, q in (0, 1),
 * null (NaN) wherever a figure may be unknown except q. Unknown members are
 * ignored. Fills *ret only on success. Returns 0, -E2BIG, -ENOMEM or
 * -EINVAL, with where and why in *err when err is not NULL.
 */
int kube_json_baseline_summary_parse(const char *buf, size_t len, struct baseline_summary *ret,
                                     struct baseline_parse_err *err);

/* --- kube_json_pods.c: a label-selected PodList, an owner's selector ------- */

#define KUBE_POD_IP_MAX 46          /* INET6_ADDRSTRLEN */
#define KUBE_POD_LIST_DEPTH_MAX 64  /* nesting refused before jansson recurses */
#define KUBE_POD_CONDITIONS_MAX 128 /* status.conditions of one pod */

/* What the stable-control search needs of one pod of a PodList. */
struct kube_pod_brief {
    char name[KUBE_NAME_MAX];
    char hash[64];            /* the asked hash label's value (a label value), "" when absent */
    char ip[KUBE_POD_IP_MAX]; /* status.podIP (IPv4/IPv6 text checked), "" when absent */
    bool running;             /* status.phase is "Running" */
    bool ready;               /* a Ready condition "True", and no Ready condition otherwise */
    bool terminating;         /* metadata.deletionTimestamp set */
};

struct kube_pod_list {
    struct kube_pod_brief *items;
    size_t n;
    char *continue_token; /* metadata.continue, NULL when none */
};

/*
 * One page of a core/v1 PodList (kind PodList when present) from untrusted
 * bytes: at most KUBE_LIST_MAX items, nesting at most
 * KUBE_POD_LIST_DEPTH_MAX, no NUL in the strings read; every item needs
 * metadata.name; labels are strings (at most KUBE_MAP_MAX) and hash_label's
 * value a label value; status.phase a string; status.conditions an array of
 * objects with string type/status (at most KUBE_POD_CONDITIONS_MAX);
 * status.podIP an IPv4 or IPv6 address; deletionTimestamp RFC 3339. A wrong
 * type anywhere refuses the whole page. Fills *ret only on success (release
 * it with kube_pod_list_done). Returns 0, -EINVAL (err holds why), -ENOMEM.
 */
int kube_json_pod_list_parse(const char *buf, size_t len, const char *hash_label,
                             struct kube_pod_list *ret, char *err, size_t errlen);
/* Free what kube_json_pod_list_parse allocated; l may be NULL and is left empty. */
void kube_pod_list_done(struct kube_pod_list *l);

/*
 * The spec.selector of an owner as served (an argoproj.io Rollout, or
 * anything with a Deployment's selector shape) rendered as a label-selector
 * string into *ret (malloc'd): the same reading and rendering as
 * kube_deployment's selector. Returns 0, -EINVAL (err holds why), -ENOMEM.
 */
int kube_json_owner_selector_parse(const char *buf, size_t len, char **ret, char *err,
                                   size_t errlen);

/* --- encoders: malloc'd NUL-terminated compact JSON in *ret ------------- */

/*
 * The whole Lease for POST/PUT: metadata (name, namespace, resourceVersion
 * when set, labels, annotations) and spec (holderIdentity,
 * leaseDurationSeconds when > 0, acquireTime/renewTime when set,
 * leaseTransitions). Returns 0, -ENOMEM.
 */
int kube_json_lease_render(const struct kube_lease *l, char **ret);

/* A core/v1 Event body. Returns 0, -EINVAL (evidence not JSON), -ENOMEM. */
int kube_json_event_render(const struct kube_event *ev, char **ret);

#endif
