/*
 * kube_selector — label selectors rendered the way apimachinery prints them,
 * and the label value grammar. Pure: strings in, a malloc'd string out;
 * never sees JSON, never does I/O.
 */
#include "sidecar/kube/kube_selector.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The hashes are joined with ',' in the rolled-back record, so nothing else must get in. */
bool kube_label_value_ok(const char *v)
{
    size_t n = strlen(v);

    if (n == 0)
        return true;
    if (n > 63 || !alnum(v[0]) || !alnum(v[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!alnum(v[i]) && v[i] != '-' && v[i] != '_' && v[i] != '.')
            return false;
    return true;
}

struct req {
    const char *key;
    char *text;
};

static int req_cmp(const void *a, const void *b)
{
    return strcmp(((const struct req *)a)->key, ((const struct req *)b)->key);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "key in (a,b)" with the values sorted; NULL on -ENOMEM. */
static char *set_text(const struct kube_selector_req *q)
{
    const char **vs = calloc(q->n_values, sizeof(*vs));
    size_t len = 0;
    char *t = NULL;

    if (!vs)
        return NULL;
    for (size_t j = 0; j < q->n_values; j++) {
        vs[j] = q->values[j];
        len += strlen(vs[j]) + 1;
    }
    qsort(vs, q->n_values, sizeof(*vs), str_cmp);
    t = malloc(strlen(q->key) + len + 16);
    if (t) {
        char *p = t + sprintf(t, "%s %s (", q->key, q->op == KUBE_SELECTOR_IN ? "in" : "notin");
        for (size_t j = 0; j < q->n_values; j++)
            p += sprintf(p, "%s%s", j ? "," : "", vs[j]);
        strcpy(p, ")");
    }
    free(vs);
    return t;
}

/* The text of one requirement in *ret. Returns 0, -EINVAL, -ENOMEM. */
static int req_text(const struct kube_selector_req *q, char **ret)
{
    switch (q->op) {
    case KUBE_SELECTOR_EQUALS:
        if (!q->value)
            return -EINVAL;
        if (asprintf(ret, "%s=%s", q->key, q->value) < 0)
            *ret = NULL;
        break;
    case KUBE_SELECTOR_IN:
    case KUBE_SELECTOR_NOT_IN:
        if (q->n_values == 0)
            return -EINVAL;
        *ret = set_text(q);
        break;
    case KUBE_SELECTOR_EXISTS:
        *ret = strdup(q->key);
        break;
    case KUBE_SELECTOR_DOES_NOT_EXIST:
        if (asprintf(ret, "!%s", q->key) < 0)
            *ret = NULL;
        break;
    default:
        return -EINVAL;
    }
    return *ret ? 0 : -ENOMEM;
}

int kube_selector_render(const struct kube_selector_req *reqs, size_t n, char **ret)
{
    struct req *texts = calloc(n ? n : 1, sizeof(*texts));
    size_t total = 1;
    char *out;
    int r = 0;

    if (!texts)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        texts[i].key = reqs[i].key;
        if ((r = req_text(&reqs[i], &texts[i].text)) < 0)
            goto out;
        total += strlen(texts[i].text) + 1;
    }
    /* apimachinery's String() sorts the requirements by key */
    qsort(texts, n, sizeof(*texts), req_cmp);
    out = malloc(total);
    if (!out) {
        r = -ENOMEM;
        goto out;
    }
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, texts[i].text);
    }
    *ret = out;
out:
    for (size_t i = 0; i < n; i++)
        free(texts[i].text);
    free(texts);
    return r;
}
