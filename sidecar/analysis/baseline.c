/*
 * baseline — rolling per-pod baseline and the stable-revision summary.
 *
 * Owns the coarse history ring (baseline time, skipped intervals, histogram
 * layout) and the summary's JSON form, both directions. Allocates only in
 * baseline_init; never does I/O, never reads the clock, never trusts the
 * bytes it parses (every size is bounded, every value range-checked).
 */
#include "sidecar/analysis/baseline.h"
#include "sidecar/base/jsonw.h"

#include "config/utf8.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int baseline_init(struct baseline *b, int64_t window_ms, int64_t interval_ms, int64_t now_ms)
{
    int64_t n;

    memset(b, 0, sizeof(*b));
    if (window_ms <= 0 || interval_ms <= 0)
        return -EINVAL;
    n = window_ms / interval_ms;
    if (n < 1)
        n = 1;
    if (n > BASELINE_MAX_SLOTS)
        n = BASELINE_MAX_SLOTS;
    b->slot = malloc((size_t)n * sizeof(*b->slot));
    if (!b->slot)
        return -ENOMEM;
    b->nslots = (unsigned)n;
    b->slot_ms = window_ms / n;
    for (unsigned i = 0; i < b->nslots; i++)
        window_counts_init(&b->slot[i]);
    window_counts_init(&b->total);
    baseline_reset(b, now_ms);
    return 0;
}

void baseline_done(struct baseline *b)
{
    if (!b)
        return;
    free(b->slot);
    b->slot = NULL;
    b->nslots = 0;
}

void baseline_reset(struct baseline *b, int64_t now_ms)
{
    for (unsigned i = 0; i < b->nslots; i++)
        window_counts_init(&b->slot[i]);
    window_counts_init(&b->total);
    b->cur = 0;
    b->used = 1;
    b->active_ms = 0;
    b->slot_end_ms = b->slot_ms;
    b->last_ms = now_ms;
    b->hist_n = 0;
}

static void baseline_clear_hist(struct baseline *b)
{
    for (unsigned i = 0; i < b->nslots; i++) {
        memset(b->slot[i].hist, 0, sizeof(b->slot[i].hist));
        b->slot[i].hist_total = 0;
    }
    memset(b->total.hist, 0, sizeof(b->total.hist));
    b->total.hist_total = 0;
}

/* Moves baseline time forward by dt, closing slots as they fill. */
static void baseline_elapse(struct baseline *b, int64_t dt)
{
    unsigned steps = 0;

    if (dt <= 0)
        return;
    b->active_ms += dt;
    while (b->active_ms >= b->slot_end_ms) {
        b->slot_end_ms += b->slot_ms;
        b->cur = (b->cur + 1) % b->nslots;
        if (b->used == b->nslots) {
            (void)window_counts_subtract(&b->total, &b->slot[b->cur]);
            window_counts_init(&b->slot[b->cur]);
        } else {
            b->used++;
        }
        if (++steps > b->nslots) {
            /* a jump longer than the ring: everything has aged out */
            b->slot_end_ms = b->active_ms + b->slot_ms;
            break;
        }
    }
}

int baseline_add(struct baseline *b, const struct window_counts *c, const double *le,
                 unsigned hist_n, int64_t now_ms)
{
    struct window_counts tmp;
    int ret = 0, r;

    baseline_elapse(b, now_ms - b->last_ms);
    b->last_ms = now_ms;
    if (hist_n > SAMPLE_MAX_BUCKETS)
        return -EINVAL;
    if (hist_n > 0 && (b->hist_n != hist_n || memcmp(b->le, le, hist_n * sizeof(le[0])) != 0)) {
        if (b->hist_n != 0) {
            baseline_clear_hist(b);
            ret = BASELINE_LAYOUT_CHANGED;
        }
        b->hist_n = hist_n;
        memcpy(b->le, le, hist_n * sizeof(le[0]));
    }
    tmp = b->total;
    r = window_counts_merge(&tmp, c);
    if (r < 0)
        return r;
    r = window_counts_merge(&b->slot[b->cur], c);
    if (r < 0)
        return r;
    b->total = tmp;
    return ret;
}

void baseline_skip(struct baseline *b, int64_t now_ms)
{
    b->last_ms = now_ms;
}

int64_t baseline_span_ms(const struct baseline *b)
{
    int64_t open = b->active_ms - (b->slot_end_ms - b->slot_ms);

    if (open < 0)
        open = 0;
    return (int64_t)(b->used - 1) * b->slot_ms + open;
}

const struct window_counts *baseline_total(const struct baseline *b)
{
    return &b->total;
}

static double baseline_sketch_q(const struct sketch *s, double q)
{
    double v;

    return sketch_quantile(s, q, &v) == 0 ? v : NAN;
}

int baseline_summarize(const struct baseline *b, double quantile, double max_increase,
                       struct baseline_summary *ret)
{
    const struct window_counts *t = &b->total;
    struct baseline_summary s;

    if (!(quantile > 0 && quantile < 1) || !(max_increase >= 0))
        return -EINVAL;
    memset(&s, 0, sizeof(s));
    s.window_ms = baseline_span_ms(b);
    s.requests = t->requests;
    s.errors = t->errors;
    s.error_rate = t->requests ? (double)t->errors / (double)t->requests : NAN;
    s.quantile = quantile;
    s.p50 = s.p90 = s.p99 = s.quantile_value = s.threshold = s.exceed = NAN;
    if (b->hist_n > 0 && t->hist_total > 0) {
        s.latency_source = BASELINE_SRC_HISTOGRAM;
        s.latency_samples = t->hist_total;
        s.p50 = window_hist_quantile(0.5, b->le, t->hist, b->hist_n);
        s.p90 = window_hist_quantile(0.9, b->le, t->hist, b->hist_n);
        s.p99 = window_hist_quantile(0.99, b->le, t->hist, b->hist_n);
        s.quantile_value = window_hist_quantile(quantile, b->le, t->hist, b->hist_n);
        s.threshold = (1 + max_increase) * s.quantile_value;
        if (!isnan(s.threshold))
            s.exceed = window_hist_count_above(s.threshold, b->le, t->hist, b->hist_n) /
                       (double)t->hist_total;
    } else if (t->probe_latency.count > 0) {
        const struct sketch *k = &t->probe_latency;
        s.latency_source = BASELINE_SRC_PROBE;
        s.latency_samples = k->count;
        s.p50 = baseline_sketch_q(k, 0.5);
        s.p90 = baseline_sketch_q(k, 0.9);
        s.p99 = baseline_sketch_q(k, 0.99);
        s.quantile_value = baseline_sketch_q(k, quantile);
        s.threshold = (1 + max_increase) * s.quantile_value;
        s.exceed = sketch_count_above(k, s.threshold) / (double)k->count;
    }
    *ret = s;
    return 0;
}

/* The known (value, cumulative fraction) points of s, sorted by value. */
static unsigned baseline_summary_points(const struct baseline_summary *s, double *v, double *f)
{
    double pv[5] = {s->p50, s->p90, s->p99, s->quantile_value, s->threshold};
    double pf[5] = {0.5, 0.9, 0.99, s->quantile, 1 - s->exceed};
    unsigned n = 0;

    for (unsigned i = 0; i < 5; i++) {
        unsigned j;
        if (!(pv[i] > 0) || isinf(pv[i]) || !(pf[i] >= 0 && pf[i] <= 1))
            continue;
        /* insertion sort by value, then by fraction */
        for (j = n; j > 0 && (v[j - 1] > pv[i] || (v[j - 1] == pv[i] && f[j - 1] > pf[i])); j--) {
            v[j] = v[j - 1];
            f[j] = f[j - 1];
        }
        v[j] = pv[i];
        f[j] = pf[i];
        n++;
    }
    return n;
}

double baseline_summary_quantile(const struct baseline_summary *s, double q)
{
    double v[5], f[5];
    unsigned n;

    if (!(q > 0 && q < 1))
        return NAN;
    if (q == s->quantile && !isnan(s->quantile_value))
        return s->quantile_value;
    n = baseline_summary_points(s, v, f);
    for (unsigned i = 0; i < n; i++)
        if (f[i] == q)
            return v[i];
    for (unsigned i = 1; i < n; i++) {
        if (f[i - 1] < q && q < f[i]) {
            double x = (q - f[i - 1]) / (f[i] - f[i - 1]);
            return exp(log(v[i - 1]) + x * (log(v[i]) - log(v[i - 1])));
        }
    }
    return NAN;
}

double baseline_summary_exceed(const struct baseline_summary *s, double t)
{
    double v[5], f[5];
    unsigned n;

    if (!(t > 0))
        return NAN;
    if (!isnan(s->threshold) && !isnan(s->exceed) && fabs(t - s->threshold) <= 1e-9 * t)
        return s->exceed;
    n = baseline_summary_points(s, v, f);
    if (n == 0 || t < v[0])
        return NAN;
    if (t >= v[n - 1])
        return 1 - f[n - 1];
    for (unsigned i = 1; i < n; i++) {
        if (t <= v[i]) {
            double x =
                v[i] > v[i - 1] ? (log(t) - log(v[i - 1])) / (log(v[i]) - log(v[i - 1])) : 1.0;
            return 1 - (f[i - 1] + x * (f[i] - f[i - 1]));
        }
    }
    return 1 - f[n - 1];
}

const char *baseline_source_name(enum baseline_source s)
{
    switch (s) {
    case BASELINE_SRC_HISTOGRAM:
        return "histogram";
    case BASELINE_SRC_PROBE:
        return "probe";
    case BASELINE_SRC_NONE:
        break;
    }
    return "none";
}

/* ---- JSON out ------------------------------------------------------------ */

int baseline_summary_render_json(const struct baseline_summary *s, char *buf, size_t size)
{
    struct jsonw w;

    jsonw_init(&w, buf, size);
    jsonw_fmt(&w, "{\"v\":%d,\"revision\":", BASELINE_SUMMARY_VERSION);
    jsonw_str(&w, s->revision);
    jsonw_fmt(&w, ",\"window_ms\":%lld,\"requests\":%llu,\"errors\":%llu,\"error_rate\":",
              (long long)s->window_ms, (unsigned long long)s->requests,
              (unsigned long long)s->errors);
    jsonw_num(&w, s->error_rate);
    jsonw_raw(&w, ",\"latency_source\":", 18);
    jsonw_str(&w, baseline_source_name(s->latency_source));
    jsonw_fmt(&w, ",\"latency_samples\":%llu,\"p50\":", (unsigned long long)s->latency_samples);
    jsonw_num(&w, s->p50);
    jsonw_raw(&w, ",\"p90\":", 7);
    jsonw_num(&w, s->p90);
    jsonw_raw(&w, ",\"p99\":", 7);
    jsonw_num(&w, s->p99);
    jsonw_raw(&w, ",\"q\":", 5);
    jsonw_num(&w, s->quantile);
    jsonw_raw(&w, ",\"q_value\":", 11);
    jsonw_num(&w, s->quantile_value);
    jsonw_raw(&w, ",\"threshold\":", 13);
    jsonw_num(&w, s->threshold);
    jsonw_raw(&w, ",\"exceed\":", 10);
    jsonw_num(&w, s->exceed);
    jsonw_raw(&w, "}", 1);
    if (w.full) {
        if (size > 0)
            buf[0] = '\0';
        return -ENOSPC;
    }
    return (int)w.len;
}

/* ---- JSON in ------------------------------------------------------------- */

enum baseline_jtype { BJ_STRING, BJ_NUMBER, BJ_NULL, BJ_BOOL };

struct baseline_jr {
    const char *p, *start, *end;
    struct baseline_parse_err *err;
};

__attribute__((format(printf, 2, 3))) static int baseline_jr_fail(struct baseline_jr *r,
                                                                  const char *fmt, ...)
{
    va_list ap;

    if (r->err) {
        r->err->offset = (size_t)(r->p - r->start);
        va_start(ap, fmt);
        vsnprintf(r->err->msg, sizeof(r->err->msg), fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static void baseline_jr_ws(struct baseline_jr *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int baseline_jr_hex4(struct baseline_jr *r, unsigned *ret)
{
    unsigned v = 0;

    if (r->end - r->p < 4)
        return baseline_jr_fail(r, "short \\u escape");
    for (int i = 0; i < 4; i++) {
        char c = *r->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return baseline_jr_fail(r, "bad \\u escape");
    }
    *ret = v;
    return 0;
}

/* A string at r->p (on the quote) decoded into out (cap bytes incl. NUL). */
static int baseline_jr_string(struct baseline_jr *r, char *out, size_t cap)
{
    size_t n = 0;

    r->p++;
    for (;;) {
        unsigned char c;
        char enc[4];
        size_t k = 0;

        if (r->p >= r->end)
            return baseline_jr_fail(r, "unterminated string");
        c = (unsigned char)*r->p;
        if (c == '"') {
            r->p++;
            break;
        }
        if (c < 0x20)
            return baseline_jr_fail(r, "control character in string");
        if (c >= 0x80) {
            k = utf8_char_len((const unsigned char *)r->p, (const unsigned char *)r->end);
            if (k == 0)
                return baseline_jr_fail(r, "invalid UTF-8 in string");
            memcpy(enc, r->p, k);
            r->p += k;
        } else if (c != '\\') {
            enc[k++] = (char)c;
            r->p++;
        } else {
            unsigned cp;
            r->p++;
            if (r->p >= r->end)
                return baseline_jr_fail(r, "unterminated escape");
            c = (unsigned char)*r->p++;
            switch (c) {
            case '"':
            case '\\':
            case '/':
                enc[k++] = (char)c;
                break;
            case 'b':
                enc[k++] = '\b';
                break;
            case 'f':
                enc[k++] = '\f';
                break;
            case 'n':
                enc[k++] = '\n';
                break;
            case 'r':
                enc[k++] = '\r';
                break;
            case 't':
                enc[k++] = '\t';
                break;
            case 'u':
                if (baseline_jr_hex4(r, &cp) < 0)
                    return -EINVAL;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    unsigned lo;
                    if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u')
                        return baseline_jr_fail(r, "lone surrogate");
                    r->p += 2;
                    if (baseline_jr_hex4(r, &lo) < 0)
                        return -EINVAL;
                    if (lo < 0xdc00 || lo > 0xdfff)
                        return baseline_jr_fail(r, "bad surrogate pair");
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                    return baseline_jr_fail(r, "lone surrogate");
                }
                if (cp == 0)
                    return baseline_jr_fail(r, "NUL in string");
                if (cp < 0x80) {
                    enc[k++] = (char)cp;
                } else if (cp < 0x800) {
                    enc[k++] = (char)(0xc0 | (cp >> 6));
                    enc[k++] = (char)(0x80 | (cp & 0x3f));
                } else if (cp < 0x10000) {
                    enc[k++] = (char)(0xe0 | (cp >> 12));
                    enc[k++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                    enc[k++] = (char)(0x80 | (cp & 0x3f));
                } else {
                    enc[k++] = (char)(0xf0 | (cp >> 18));
                    enc[k++] = (char)(0x80 | ((cp >> 12) & 0x3f));
                    enc[k++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                    enc[k++] = (char)(0x80 | (cp & 0x3f));
                }
                break;
            default:
                return baseline_jr_fail(r, "bad escape \\%c", c);
            }
        }
        if (n + k >= cap)
            return baseline_jr_fail(r, "string longer than %zu bytes", cap - 1);
        memcpy(out + n, enc, k);
        n += k;
    }
    out[n] = '\0';
    return 0;
}

/* A JSON number at r->p, checked against the RFC 8259 grammar; copied into out. */
static int baseline_jr_number(struct baseline_jr *r, char *out, size_t cap, bool *integer)
{
    const char *s = r->p;

    *integer = true;
    if (r->p < r->end && *r->p == '-')
        r->p++;
    if (r->p >= r->end)
        return baseline_jr_fail(r, "bad number");
    if (*r->p == '0') {
        r->p++;
    } else if (*r->p >= '1' && *r->p <= '9') {
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    } else {
        return baseline_jr_fail(r, "bad number");
    }
    if (r->p < r->end && *r->p == '.') {
        *integer = false;
        r->p++;
        if (r->p >= r->end || !(*r->p >= '0' && *r->p <= '9'))
            return baseline_jr_fail(r, "bad fraction");
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        *integer = false;
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (r->p >= r->end || !(*r->p >= '0' && *r->p <= '9'))
            return baseline_jr_fail(r, "bad exponent");
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    }
    if ((size_t)(r->p - s) >= cap)
        return baseline_jr_fail(r, "number too long");
    memcpy(out, s, (size_t)(r->p - s));
    out[r->p - s] = '\0';
    return 0;
}

static int baseline_jr_literal(struct baseline_jr *r, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(r->end - r->p) < n || memcmp(r->p, lit, n) != 0)
        return baseline_jr_fail(r, "unexpected character");
    r->p += n;
    return 0;
}

enum baseline_key {
    BK_V,
    BK_REVISION,
    BK_WINDOW_MS,
    BK_REQUESTS,
    BK_ERRORS,
    BK_ERROR_RATE,
    BK_LATENCY_SOURCE,
    BK_LATENCY_SAMPLES,
    BK_P50,
    BK_P90,
    BK_P99,
    BK_Q,
    BK_Q_VALUE,
    BK_THRESHOLD,
    BK_EXCEED,
    BK_COUNT
};

static const char *const baseline_keys[BK_COUNT] = {
    "v",
    "revision",
    "window_ms",
    "requests",
    "errors",
    "error_rate",
    "latency_source",
    "latency_samples",
    "p50",
    "p90",
    "p99",
    "q",
    "q_value",
    "threshold",
    "exceed",
};

static int baseline_key_find(const char *k)
{
    for (int i = 0; i < BK_COUNT; i++)
        if (strcmp(k, baseline_keys[i]) == 0)
            return i;
    return -1;
}

/* A double field: a number, or null for "unknown" (NaN) when nullable. */
static int baseline_jr_double(struct baseline_jr *r, enum baseline_jtype t, const char *num,
                              bool nullable, double *ret)
{
    char *endp;

    if (t == BJ_NULL && nullable) {
        *ret = NAN;
        return 0;
    }
    if (t != BJ_NUMBER)
        return baseline_jr_fail(r, "expected a number");
    errno = 0;
    *ret = strtod(num, &endp);
    if (*endp != '\0' || errno == ERANGE || !isfinite(*ret))
        return baseline_jr_fail(r, "number out of range");
    return 0;
}

static int baseline_jr_u64(struct baseline_jr *r, enum baseline_jtype t, const char *num,
                           bool integer, uint64_t *ret)
{
    char *endp;
    unsigned long long v;

    if (t != BJ_NUMBER || !integer || num[0] == '-')
        return baseline_jr_fail(r, "expected a non-negative integer");
    errno = 0;
    v = strtoull(num, &endp, 10);
    if (*endp != '\0' || errno == ERANGE)
        return baseline_jr_fail(r, "integer out of range");
    *ret = v;
    return 0;
}

static bool baseline_in01(double v)
{
    return isnan(v) || (v >= 0 && v <= 1);
}

static bool baseline_nonneg(double v)
{
    return isnan(v) || v >= 0;
}

int baseline_summary_parse_json(const char *buf, size_t len, struct baseline_summary *ret,
                                struct baseline_parse_err *err)
{
    struct baseline_jr r = {buf, buf, buf + len, err};
    struct baseline_summary s;
    bool seen[BK_COUNT] = {false};
    char key[32], sval[BASELINE_REVISION_MAX + 1], num[48];
    uint64_t version = 0;
    int rc;

    if (err) {
        err->offset = 0;
        err->msg[0] = '\0';
    }
    if (len > BASELINE_JSON_MAX) {
        if (err)
            snprintf(err->msg, sizeof(err->msg), "longer than %d bytes", BASELINE_JSON_MAX);
        return -E2BIG;
    }
    memset(&s, 0, sizeof(s));
    baseline_jr_ws(&r);
    if (r.p >= r.end || *r.p != '{')
        return baseline_jr_fail(&r, "expected '{'");
    r.p++;
    baseline_jr_ws(&r);
    if (r.p < r.end && *r.p == '}') {
        r.p++;
    } else {
        for (;;) {
            enum baseline_jtype t;
            bool integer = false;
            int k;

            baseline_jr_ws(&r);
            if (r.p >= r.end || *r.p != '"')
                return baseline_jr_fail(&r, "expected a key");
            rc = baseline_jr_string(&r, key, sizeof(key));
            if (rc < 0)
                return rc;
            k = baseline_key_find(key);
            if (k >= 0 && seen[k])
                return baseline_jr_fail(&r, "duplicate key \"%s\"", key);
            baseline_jr_ws(&r);
            if (r.p >= r.end || *r.p != ':')
                return baseline_jr_fail(&r, "expected ':'");
            r.p++;
            baseline_jr_ws(&r);
            if (r.p >= r.end)
                return baseline_jr_fail(&r, "expected a value");
            sval[0] = '\0';
            num[0] = '\0';
            if (*r.p == '"') {
                t = BJ_STRING;
                rc = baseline_jr_string(&r, sval, sizeof(sval));
            } else if (*r.p == '-' || (*r.p >= '0' && *r.p <= '9')) {
                t = BJ_NUMBER;
                rc = baseline_jr_number(&r, num, sizeof(num), &integer);
            } else if (*r.p == 'n') {
                t = BJ_NULL;
                rc = baseline_jr_literal(&r, "null");
            } else if (*r.p == 't') {
                t = BJ_BOOL;
                rc = baseline_jr_literal(&r, "true");
            } else if (*r.p == 'f') {
                t = BJ_BOOL;
                rc = baseline_jr_literal(&r, "false");
            } else if (*r.p == '{' || *r.p == '[') {
                return baseline_jr_fail(&r, "nested values are not allowed");
            } else {
                return baseline_jr_fail(&r, "unexpected character");
            }
            if (rc < 0)
                return rc;
            if (k >= 0)
                seen[k] = true;
            switch (k) {
            case BK_V:
                rc = baseline_jr_u64(&r, t, num, integer, &version);
                if (rc == 0 && version != BASELINE_SUMMARY_VERSION)
                    rc = baseline_jr_fail(&r, "unsupported version %llu",
                                          (unsigned long long)version);
                break;
            case BK_REVISION:
                if (t != BJ_STRING)
                    rc = baseline_jr_fail(&r, "revision must be a string");
                else
                    memcpy(s.revision, sval, sizeof(s.revision));
                break;
            case BK_WINDOW_MS: {
                uint64_t v = 0;
                rc = baseline_jr_u64(&r, t, num, integer, &v);
                if (rc == 0 && v > INT64_MAX)
                    rc = baseline_jr_fail(&r, "window_ms out of range");
                s.window_ms = (int64_t)v;
                break;
            }
            case BK_REQUESTS:
                rc = baseline_jr_u64(&r, t, num, integer, &s.requests);
                break;
            case BK_ERRORS:
                rc = baseline_jr_u64(&r, t, num, integer, &s.errors);
                break;
            case BK_LATENCY_SAMPLES:
                rc = baseline_jr_u64(&r, t, num, integer, &s.latency_samples);
                break;
            case BK_LATENCY_SOURCE:
                if (t == BJ_STRING && strcmp(sval, "histogram") == 0)
                    s.latency_source = BASELINE_SRC_HISTOGRAM;
                else if (t == BJ_STRING && strcmp(sval, "probe") == 0)
                    s.latency_source = BASELINE_SRC_PROBE;
                else if (t == BJ_STRING && strcmp(sval, "none") == 0)
                    s.latency_source = BASELINE_SRC_NONE;
                else
                    rc = baseline_jr_fail(&r, "latency_source must be histogram|probe|none");
                break;
            case BK_ERROR_RATE:
                rc = baseline_jr_double(&r, t, num, true, &s.error_rate);
                break;
            case BK_P50:
                rc = baseline_jr_double(&r, t, num, true, &s.p50);
                break;
            case BK_P90:
                rc = baseline_jr_double(&r, t, num, true, &s.p90);
                break;
            case BK_P99:
                rc = baseline_jr_double(&r, t, num, true, &s.p99);
                break;
            case BK_Q:
                rc = baseline_jr_double(&r, t, num, false, &s.quantile);
                break;
            case BK_Q_VALUE:
                rc = baseline_jr_double(&r, t, num, true, &s.quantile_value);
                break;
            case BK_THRESHOLD:
                rc = baseline_jr_double(&r, t, num, true, &s.threshold);
                break;
            case BK_EXCEED:
                rc = baseline_jr_double(&r, t, num, true, &s.exceed);
                break;
            default:
                break; /* an unknown key with a scalar value: ignored */
            }
            if (rc < 0)
                return rc;
            baseline_jr_ws(&r);
            if (r.p < r.end && *r.p == ',') {
                r.p++;
                continue;
            }
            if (r.p < r.end && *r.p == '}') {
                r.p++;
                break;
            }
            return baseline_jr_fail(&r, "expected ',' or '}'");
        }
    }
    baseline_jr_ws(&r);
    if (r.p != r.end)
        return baseline_jr_fail(&r, "trailing bytes after the object");
    for (int k = 0; k < BK_COUNT; k++)
        if (!seen[k])
            return baseline_jr_fail(&r, "missing key \"%s\"", baseline_keys[k]);
    if (s.errors > s.requests)
        return baseline_jr_fail(&r, "errors > requests");
    if (!baseline_in01(s.error_rate) || !baseline_in01(s.exceed))
        return baseline_jr_fail(&r, "rate outside [0, 1]");
    if (!(s.quantile > 0 && s.quantile < 1))
        return baseline_jr_fail(&r, "q outside (0, 1)");
    if (!baseline_nonneg(s.p50) || !baseline_nonneg(s.p90) || !baseline_nonneg(s.p99) ||
        !baseline_nonneg(s.quantile_value) || !baseline_nonneg(s.threshold))
        return baseline_jr_fail(&r, "negative latency");
    *ret = s;
    return 0;
}
