/*
 * kube_json-int.h — what the jansson adapter's files (kube_json.c,
 * kube_json_summary.c, kube_json_baseline.c, kube_json_pods.c) share. Not for other modules:
 * they see kube_json.h.
 */
#ifndef ROLLGUARD_KUBE_JSON_INT_H
#define ROLLGUARD_KUBE_JSON_INT_H

#include <stddef.h>

#include <jansson.h>

#include "sidecar/kube/kube_json.h"

/* vsnprintf into err (when not NULL) and return -EINVAL. */
int kube_json_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Walks the n bytes at buf outside JSON strings, calling fn for each such
 * byte with its index in *i (fn may advance *i past a token it consumed) and
 * the nesting depth counting an opening bracket at *i. Stops at fn's first
 * nonzero return and returns it; 0 after the last byte. Lets a reader refuse
 * a document before jansson recurses into it or drops a number's text.
 */
typedef int kube_json_scan_fn(const char *buf, size_t n, size_t *i, int depth, void *arg);
int kube_json_scan(const char *buf, size_t n, kube_json_scan_fn *fn, void *arg);

/*
 * An owner's spec.selector object (matchLabels, then matchExpressions) as a
 * selector string (kube_selector_render) into *ret (caller frees): the
 * undo's ReplicaSet LIST and the control's LIST of pods. 0, -EINVAL (err
 * says why) or -ENOMEM.
 */
int kube_json_selector_string(json_t *sel, char **ret, char *err, size_t errlen);

/*
 * The root object of buf: "no body" for NULL, nesting deeper than max_depth
 * refused before jansson recurses into it (0: not checked), not JSON or not
 * an object refused (err says why). NULL then; the caller decrefs.
 */
json_t *kube_json_load(const char *buf, size_t len, int max_depth, char *err, size_t errlen);

/* A list's "items": *ret NULL when absent or null; an array of at most KUBE_LIST_MAX. */
int kube_json_list_items(json_t *root, json_t **ret, char *err, size_t errlen);

/* A list's metadata.continue (strdup'd into *ret; NULL when absent or ""); -ENOMEM. */
int kube_json_list_continue(json_t *root, char **ret, char *err, size_t errlen);

#endif
