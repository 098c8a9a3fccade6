/*
 * kube_json_baseline — the jansson adapter's reader of the baseline summary
 * another pod published on the Lease (sidecar/base/baseline_summary.h):
 * untrusted bytes into struct baseline_summary, strictly. Size, UTF-8,
 * nesting and the number tokens are checked on the bytes before jansson
 * parses them; every member is then typed and bounded. Never does I/O or
 * logs.
 */
#include "sidecar/kube/kube_json-int.h"

#include "config/utf8.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define BJ_NAME_MAX 31   /* bytes in a member name */
#define BJ_NUMBER_MAX 47 /* characters in a number */

/* err->msg and the offset, when err is not NULL; returns -EINVAL. */
#define BJ_FAIL(err, off, ...)                                                                     \
    (bj_at((err), (off)),                                                                          \
     kube_json_fail((err) ? (err)->msg : NULL, (err) ? sizeof((err)->msg) : 0, __VA_ARGS__))

static void bj_at(struct baseline_parse_err *err, size_t off)
{
    if (err)
        err->offset = off;
}

/*
 * What jansson cannot be told, checked on the bytes outside strings: one
 * object and no value nested in it (so jansson never recurses), and every
 * number short and within a double's range: jansson keeps no number's text,
 * so neither an underflow to zero nor the length could be seen afterwards.
 * *minus_zero is set when some number is written "-0", which jansson reads
 * as the integer 0.
 */
struct bj_scan_state {
    bool minus_zero;
    struct baseline_parse_err *err;
};

static int bj_scan_byte(const char *buf, size_t len, size_t *pi, int depth, void *arg)
{
    struct bj_scan_state *st = arg;
    size_t i = *pi, n = 0;
    char c = buf[i], num[BJ_NUMBER_MAX + 1];

    if ((c == '{' || c == '[') && depth > 1)
        return BJ_FAIL(st->err, i, "nested values are not allowed");
    if (c != '-' && !(c >= '0' && c <= '9'))
        return 0;
    while (i + n < len && buf[i + n] != '\0' && strchr("0123456789+-.eE", buf[i + n]))
        n++;
    if (n > BJ_NUMBER_MAX)
        return BJ_FAIL(st->err, i, "number longer than %d characters", BJ_NUMBER_MAX);
    memcpy(num, buf + i, n);
    num[n] = '\0';
    errno = 0;
    (void)strtod(num, NULL);
    if (errno == ERANGE)
        return BJ_FAIL(st->err, i, "number out of range");
    if (strcmp(num, "-0") == 0)
        st->minus_zero = true;
    *pi = i + n - 1;
    return 0;
}

static int bj_scan(const char *buf, size_t len, bool *minus_zero, struct baseline_parse_err *err)
{
    struct bj_scan_state st = {false, err};
    int r = kube_json_scan(buf, len, bj_scan_byte, &st);

    *minus_zero = st.minus_zero;
    return r;
}

/*
 * jansson stops just past the repeated name's closing quote: the name is
 * the string that ends there (a '"' after an even run of backslashes opens
 * it). "?" when it cannot be recovered.
 */
static void bj_dup_name(const char *buf, size_t end, char *out, size_t cap)
{
    json_t *k = NULL;
    size_t i = end;

    snprintf(out, cap, "?");
    if (end < 2 || buf[end - 1] != '"')
        return;
    for (i = end - 1; i-- > 0;) {
        size_t bs = 0;

        if (buf[i] != '"')
            continue;
        while (bs < i && buf[i - 1 - bs] == '\\')
            bs++;
        if (bs % 2 == 0)
            break;
    }
    if (i < end - 1)
        k = json_loadb(buf + i, end - i, JSON_DECODE_ANY, NULL);
    if (json_is_string(k))
        snprintf(out, cap, "%s", json_string_value(k));
    json_decref(k);
}

/* The member key of root; fails when it is missing. */
static int bj_get(json_t *root, const char *key, json_t **ret, struct baseline_parse_err *err)
{
    *ret = json_object_get(root, key);
    if (!*ret)
        return BJ_FAIL(err, 0, "missing key \"%s\"", key);
    return 0;
}

/* True when key's value was written "-0" (signs: the document read with integers as reals). */
static bool bj_minus_zero(json_t *signs, const char *key)
{
    json_t *v = signs ? json_object_get(signs, key) : NULL;

    return json_is_real(v) && json_real_value(v) == 0 && signbit(json_real_value(v));
}

/* A count: an integer written without a sign, at most INT64_MAX (jansson's integers). */
static int bj_count(json_t *root, json_t *signs, const char *key, uint64_t *ret,
                    struct baseline_parse_err *err)
{
    json_t *v;
    int r = bj_get(root, key, &v, err);

    if (r < 0)
        return r;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || bj_minus_zero(signs, key))
        return BJ_FAIL(err, 0, "%s: expected a non-negative integer", key);
    *ret = (uint64_t)json_integer_value(v);
    return 0;
}

/* A number, or null for "unknown" (NaN) when nullable. */
static int bj_double(json_t *root, json_t *signs, const char *key, bool nullable, double *ret,
                     struct baseline_parse_err *err)
{
    json_t *v;
    int r = bj_get(root, key, &v, err);

    if (r < 0)
        return r;
    if (json_is_null(v) && nullable) {
        *ret = NAN;
        return 0;
    }
    if (!json_is_number(v))
        return BJ_FAIL(err, 0, "%s: expected a number", key);
    *ret = json_number_value(v);
    if (json_is_integer(v) && bj_minus_zero(signs, key))
        *ret = -0.0;
    if (!isfinite(*ret))
        return BJ_FAIL(err, 0, "%s: number out of range", key);
    return 0;
}

static bool bj_in01(double v)
{
    return isnan(v) || (v >= 0 && v <= 1);
}

static bool bj_nonneg(double v)
{
    return isnan(v) || v >= 0;
}

static int bj_fields(json_t *root, json_t *signs, struct baseline_summary *s,
                     struct baseline_parse_err *err)
{
    static const char *const sources[] = {"none", "histogram", "probe"};
    static const enum baseline_source source_ids[] = {BASELINE_SRC_NONE, BASELINE_SRC_HISTOGRAM,
                                                      BASELINE_SRC_PROBE};
    uint64_t n;
    json_t *v;
    unsigned i;
    int r;

    if ((r = bj_count(root, signs, "v", &n, err)) < 0)
        return r;
    if (n != BASELINE_SUMMARY_VERSION)
        return BJ_FAIL(err, 0, "unsupported version %llu", (unsigned long long)n);
    if ((r = bj_get(root, "revision", &v, err)) < 0)
        return r;
    if (!json_is_string(v))
        return BJ_FAIL(err, 0, "revision must be a string");
    memcpy(s->revision, json_string_value(v), json_string_length(v) + 1);
    if ((r = bj_count(root, signs, "window_ms", &n, err)) < 0 ||
        (r = bj_count(root, signs, "requests", &s->requests, err)) < 0 ||
        (r = bj_count(root, signs, "errors", &s->errors, err)) < 0 ||
        (r = bj_count(root, signs, "latency_samples", &s->latency_samples, err)) < 0)
        return r;
    s->window_ms = (int64_t)n;
    if ((r = bj_get(root, "latency_source", &v, err)) < 0)
        return r;
    for (i = 0; json_is_string(v) && i < sizeof(sources) / sizeof(sources[0]); i++)
        if (strcmp(json_string_value(v), sources[i]) == 0)
            break;
    if (!json_is_string(v) || i == sizeof(sources) / sizeof(sources[0]))
        return BJ_FAIL(err, 0, "latency_source must be histogram|probe|none");
    s->latency_source = source_ids[i];
    if ((r = bj_double(root, signs, "error_rate", true, &s->error_rate, err)) < 0 ||
        (r = bj_double(root, signs, "p50", true, &s->p50, err)) < 0 ||
        (r = bj_double(root, signs, "p90", true, &s->p90, err)) < 0 ||
        (r = bj_double(root, signs, "p99", true, &s->p99, err)) < 0 ||
        (r = bj_double(root, signs, "q", false, &s->quantile, err)) < 0 ||
        (r = bj_double(root, signs, "q_value", true, &s->quantile_value, err)) < 0 ||
        (r = bj_double(root, signs, "threshold", true, &s->threshold, err)) < 0 ||
        (r = bj_double(root, signs, "exceed", true, &s->exceed, err)) < 0)
        return r;
    if (s->errors > s->requests)
        return BJ_FAIL(err, 0, "errors > requests");
    if (!bj_in01(s->error_rate) || !bj_in01(s->exceed))
        return BJ_FAIL(err, 0, "rate outside [0, 1]");
    if (!(s->quantile > 0 && s->quantile < 1))
        return BJ_FAIL(err, 0, "q outside (0, 1)");
    if (!bj_nonneg(s->p50) || !bj_nonneg(s->p90) || !bj_nonneg(s->p99) ||
        !bj_nonneg(s->quantile_value) || !bj_nonneg(s->threshold))
        return BJ_FAIL(err, 0, "negative latency");
    return 0;
}

/* Every member, known or not: a short name and a scalar value, strings short too. */
static int bj_members(json_t *root, struct baseline_parse_err *err)
{
    const char *key;
    json_t *v;

    json_object_foreach(root, key, v)
    {
        if (strlen(key) > BJ_NAME_MAX)
            return BJ_FAIL(err, 0, "key longer than %d bytes", BJ_NAME_MAX);
        if (json_is_object(v) || json_is_array(v))
            return BJ_FAIL(err, 0, "nested values are not allowed");
        if (json_is_string(v) && json_string_length(v) > BASELINE_REVISION_MAX)
            return BJ_FAIL(err, 0, "%.32s: string longer than %d bytes", key,
                           BASELINE_REVISION_MAX);
    }
    return 0;
}

int kube_json_baseline_summary_parse(const char *buf, size_t len, struct baseline_summary *ret,
                                     struct baseline_parse_err *err)
{
    struct baseline_summary s;
    json_t *root = NULL, *signs = NULL;
    bool minus_zero;
    json_error_t je;
    int r;

    if (err) {
        err->offset = 0;
        err->msg[0] = '\0';
    }
    if (len > BASELINE_JSON_MAX) {
        BJ_FAIL(err, 0, "longer than %d bytes", BASELINE_JSON_MAX);
        return -E2BIG;
    }
    if (!buf)
        return BJ_FAIL(err, 0, "expected '{'");
    for (size_t i = 0, k; i < len; i += k) {
        k = utf8_char_len((const unsigned char *)buf + i, (const unsigned char *)buf + len);
        if (k == 0)
            return BJ_FAIL(err, i, "invalid UTF-8 in string");
        if (buf[i] == '\0') /* jansson would skip some NUL bytes */
            return BJ_FAIL(err, i, "NUL byte");
    }
    if ((r = bj_scan(buf, len, &minus_zero, err)) < 0)
        return r;
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        size_t at = je.position > 0 && (size_t)je.position <= len ? (size_t)je.position : 0;
        char name[40];

        switch (json_error_code(&je)) {
        case json_error_out_of_memory:
            BJ_FAIL(err, at, "out of memory");
            return -ENOMEM;
        case json_error_end_of_input_expected:
            return BJ_FAIL(err, at, "trailing bytes after the object");
        case json_error_duplicate_key:
            bj_dup_name(buf, at, name, sizeof(name));
            return BJ_FAIL(err, at, "duplicate key \"%s\"", name);
        default:
            return BJ_FAIL(err, at, "%s", je.text);
        }
    }
    if (!json_is_object(root)) {
        r = BJ_FAIL(err, 0, "expected '{'");
        goto done;
    }
    if ((r = bj_members(root, err)) < 0)
        goto done;
    if (minus_zero) {
        signs = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &je);
        if (!signs) {
            r = json_error_code(&je) == json_error_out_of_memory ? -ENOMEM
                                                                 : BJ_FAIL(err, 0, "%s", je.text);
            goto done;
        }
    }
    memset(&s, 0, sizeof(s));
    r = bj_fields(root, signs, &s, err);
    if (r == 0)
        *ret = s;
done:
    json_decref(signs);
    json_decref(root);
    return r;
}
