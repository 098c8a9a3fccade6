/*
 * kube_json — the Kubernetes JSON layer: decodes API objects into plain
 * structs and renders the bodies rollguard sends. The only module that
 * includes <jansson.h>.
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
 * Also holds struct kube_map (string to string, for labels/annotations),
 * the RFC 3339 helpers and label-selector rendering, all pure.
 */
#ifndef ROLLGUARD_KUBE_JSON_H
#define ROLLGUARD_KUBE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KUBE_NAME_MAX 254 /* DNS subdomain (253) + NUL */
#define KUBE_UID_MAX 64
#define KUBE_RV_MAX 32
#define KUBE_KIND_MAX 64
#define KUBE_MAP_MAX 512            /* labels or annotations on one object */
#define KUBE_LIST_MAX 2000          /* items in one list page */
#define KUBE_VALUE_MAX (512 * 1024) /* one label/annotation value */
#define KUBE_TIME_MAX 40
#define KUBE_HASH_LABEL "pod-template-hash"
#define KUBE_ROLLOUT_HASH_LABEL "rollouts-pod-template-hash"
#define KUBE_REVISION_ANN "deployment.kubernetes.io/revision"

struct kube_kv {
    char *key;
    char *value;
};

/* Labels or annotations: insertion order, keys unique. */
struct kube_map {
    struct kube_kv *kv;
    size_t n;
};

struct kube_owner {
    char api_version[KUBE_KIND_MAX];
    char kind[KUBE_KIND_MAX];
    char name[KUBE_NAME_MAX];
    char uid[KUBE_UID_MAX];
};

struct kube_meta {
    char name[KUBE_NAME_MAX];
    char namespace[KUBE_NAME_MAX];
    char uid[KUBE_UID_MAX];
    char resource_version[KUBE_RV_MAX];
    int64_t generation; /* 0 when absent */
    bool has_generation;
    int64_t created; /* creationTimestamp, Unix seconds; 0 when absent */
    struct kube_map labels;
    struct kube_map annotations;
    bool has_controller; /* an ownerReference with controller: true */
    struct kube_owner controller;
};

struct kube_deployment {
    struct kube_meta meta;
    bool paused;
    int32_t replicas;               /* spec.replicas, 1 when absent */
    int32_t revision_history_limit; /* 10 when absent */
    char *selector;                 /* spec.selector as a label-selector string */
    char *template_json;            /* spec.template, compact, as served */
    char *template_norm;            /* normalised for equality */
};

struct kube_rs {
    struct kube_meta meta;
    char hash[KUBE_NAME_MAX]; /* labels[pod-template-hash] (a label value), "" when absent */
    char *template_json;      /* spec.template without the hash label */
    char *template_norm;
};

struct kube_rs_list {
    struct kube_rs *items;
    size_t n;
    char *continue_token; /* metadata.continue, NULL when none */
};

struct kube_pod {
    struct kube_meta meta;
};

/* coordination.k8s.io/v1 Lease. */
struct kube_lease {
    struct kube_meta meta;
    char holder[KUBE_NAME_MAX];       /* "" when nobody holds it */
    int32_t duration_s;               /* 0 when absent */
    char acquire_time[KUBE_TIME_MAX]; /* MicroTime text, "" when absent */
    char renew_time[KUBE_TIME_MAX];
    int32_t transitions;
    uint64_t record_fp; /* fingerprint of the spec, for client-go's observedRecord */
};

/* argoproj.io/v1alpha1 Rollout: what the abort decision needs. */
struct kube_rollout {
    struct kube_meta meta;
    bool paused;
    bool aborted;                     /* status.abort */
    char current_hash[KUBE_NAME_MAX]; /* status.currentPodHash */
    char stable_hash[KUBE_NAME_MAX];  /* status.stableRS */
};

/* A meta/v1 Status (error body). */
struct kube_status {
    int code;
    char reason[64];
    char message[512];
    int retry_after_s; /* details.retryAfterSeconds, 0 when absent */
};

/* An Event to create (core/v1), all strings borrowed. */
struct kube_event {
    const char *name; /* "<object>.<hex nanoseconds>" */
    const char *namespace;
    const char *type; /* "Warning" or "Normal" */
    const char *reason;
    const char *message; /* cut to 1024 bytes on a character boundary */
    const char *action;
    const char *component; /* source.component and reportingComponent */
    const char *instance;  /* source.host and reportingInstance */
    const char *timestamp; /* RFC 3339 seconds */
    const char *obj_api_version, *obj_kind, *obj_name, *obj_uid, *obj_resource_version;
    const char *evidence_json; /* annotation rollguard.io/evidence (valid JSON), or NULL */
};

/* --- decoders ----------------------------------------------------------- */

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

/* Free what the decoders allocated; the struct may be reused. NULL-safe. */
void kube_meta_done(struct kube_meta *m);
void kube_deployment_done(struct kube_deployment *d);
void kube_rs_done(struct kube_rs *r);
void kube_rs_list_done(struct kube_rs_list *l);
void kube_pod_done(struct kube_pod *p);
void kube_lease_done(struct kube_lease *l);
void kube_rollout_done(struct kube_rollout *r);

/*
 * Move the items of src to the end of dst (pagination); src is left empty.
 * Returns 0, -E2BIG past KUBE_LIST_MAX * 8 items, -ENOMEM.
 */
int kube_rs_list_append(struct kube_rs_list *dst, struct kube_rs_list *src);

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

/* --- struct kube_map ---------------------------------------------------- */

/* The value of key, or NULL. */
const char *kube_map_get(const struct kube_map *m, const char *key);
/* Set key to value (copies; replaces in place). Returns 0, -E2BIG past KUBE_MAP_MAX, -ENOMEM. */
int kube_map_set(struct kube_map *m, const char *key, const char *value);
/* Remove key if present. */
void kube_map_del(struct kube_map *m, const char *key);
/* Deep copy into *dst (which must be empty). Returns 0 or -ENOMEM. */
int kube_map_copy(struct kube_map *dst, const struct kube_map *src);
void kube_map_done(struct kube_map *m);

/* --- times -------------------------------------------------------------- */

/* RFC 3339 ("2026-07-24T09:59:00Z", fractions and offsets allowed) to Unix seconds. */
int kube_time_parse(const char *s, int64_t *ret);
/* Unix seconds to "2026-07-24T09:59:00Z" (size >= 21). */
void kube_time_render(int64_t t, char *buf, size_t size);
/* Unix microseconds to MicroTime "2026-07-24T09:59:00.000000Z" (size >= 28). */
void kube_time_render_micro(int64_t us, char *buf, size_t size);

#endif
