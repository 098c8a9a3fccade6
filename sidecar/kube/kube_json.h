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
