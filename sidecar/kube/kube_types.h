/*
 * kube_types — the Kubernetes API's objects as rollguard holds them: plain
 * structs (Deployment, ReplicaSet and its list, Pod, Lease, Argo Rollout,
 * Status, Event), struct kube_map for labels and annotations, and the
 * limits every decoder enforces. Owns freeing what the decoders allocated.
 *
 * Never parses or renders bytes (that is kube_json), never does I/O, never
 * reads the clock. The _done helpers accept NULL and half-built structs and
 * leave the struct reusable.
 */
#ifndef ROLLGUARD_KUBE_TYPES_H
#define ROLLGUARD_KUBE_TYPES_H

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
    int32_t ready_replicas; /* status.readyReplicas, 0 when absent */
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

/* --- freeing what the decoders allocated ------------------------------- */

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

/* --- struct kube_map ---------------------------------------------------- */

/* The value of key, or NULL (m may be NULL). Borrowed: valid until m changes. */
const char *kube_map_get(const struct kube_map *m, const char *key);
/* Set key to value (copies; replaces in place). Returns 0, -E2BIG past KUBE_MAP_MAX, -ENOMEM. */
int kube_map_set(struct kube_map *m, const char *key, const char *value);
/* Remove key if present. */
void kube_map_del(struct kube_map *m, const char *key);
/* Deep copy into *dst (which must be empty); on failure *dst is left empty. Returns 0 or -ENOMEM.
 */
int kube_map_copy(struct kube_map *dst, const struct kube_map *src);
/* Free every entry; m may be NULL and is left empty. */
void kube_map_done(struct kube_map *m);

#endif
