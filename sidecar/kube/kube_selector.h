/*
 * kube_selector — what is pure about labels: a Deployment's spec.selector
 * rendered as apimachinery's LabelSelectorAsSelector(...).String() (the
 * form the API takes in ?labelSelector= and kubectl prints), and the label
 * value grammar. kube_json decodes the selector's JSON into requirements,
 * then calls kube_selector_render.
 *
 * Never sees JSON (<jansson.h> stays in kube_json), never does I/O.
 */
#ifndef ROLLGUARD_KUBE_SELECTOR_H
#define ROLLGUARD_KUBE_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

enum kube_selector_op {
    KUBE_SELECTOR_EQUALS,         /* matchLabels: key=value */
    KUBE_SELECTOR_IN,             /* key in (v1,v2) */
    KUBE_SELECTOR_NOT_IN,         /* key notin (v1,v2) */
    KUBE_SELECTOR_EXISTS,         /* key */
    KUBE_SELECTOR_DOES_NOT_EXIST, /* !key */
};

/* One requirement; every string borrowed. */
struct kube_selector_req {
    const char *key;
    enum kube_selector_op op;
    const char *value;         /* EQUALS */
    const char *const *values; /* IN, NOT_IN: at least one */
    size_t n_values;
};

/*
 * Render n requirements (n == 0 gives "") sorted by key, each In/NotIn's
 * values sorted, joined with ',': "app=web,!canary,env notin (dev,qa)".
 * reqs is not modified. *ret (malloc'd, the caller frees) is set only on
 * success. Returns 0, -EINVAL (EQUALS without a value, IN/NOT_IN without
 * values, an unknown op), -ENOMEM.
 */
int kube_selector_render(const struct kube_selector_req *reqs, size_t n, char **ret);

/*
 * A Kubernetes label value: "" or at most 63 of [A-Za-z0-9._-],
 * alphanumeric at both ends. What a pod-template hash always is.
 */
bool kube_label_value_ok(const char *v);

#endif
