/*
 * kube_json-int.h — what the jansson adapter's files (kube_json.c,
 * kube_json_summary.c, kube_json_baseline.c) share. Not for other modules:
 * they see kube_json.h.
 */
#ifndef ROLLGUARD_KUBE_JSON_INT_H
#define ROLLGUARD_KUBE_JSON_INT_H

#include <stddef.h>

#include "sidecar/kube/kube_json.h"

/* vsnprintf into err (when not NULL) and return -EINVAL. */
int kube_json_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
