/*
 * promtext_lex — the exposition's numbers (Go ParseFloat's decimal syntax,
 * exactly rounded, without strtod's locale) and the public helpers that
 * work on parsed slices: unescaping, comparing, labels, names, formats.
 * Pure; never allocates.
 */
#include "probes/promtext-int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Exact powers of ten representable as doubles (Clinger's fast path). */
static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static size_t prefix_len_ci(const char *p, const char *e, const char *word)
{
    size_t n = 0;

    while (p + n < e && word[n] && (p[n] | 0x20) == word[n])
        n++;
    return n;
}

/*
 * Parse [p, e) the way Go's strconv.ParseFloat does for decimal input:
 * [+-] digits [. digits] [e [+-] digits], Inf/Infinity with optional sign, NaN
 * (any case). Hexadecimal floats are rejected. Returns 0, or -1 (malformed)
 * or -2 (out of range).
 */
int promtext_parse_float(const char *p, const char *e, double *out)
{
    const char *q = p;
    bool neg = false, digits = false, dropped = false;
    uint64_t m = 0;
    int nsig = 0;
    long exp10 = 0;

    if (q == e)
        return -1;
    if (*q == '+' || *q == '-') {
        neg = *q == '-';
        q++;
        if (q == e)
            return -1;
    }
    if ((*q | 0x20) == 'i') {
        size_t n = prefix_len_ci(q, e, "infinity");

        if ((n == 3 || n == 8) && q + n == e) {
            *out = neg ? -INFINITY : INFINITY;
            return 0;
        }
        return -1;
    }
    if ((*q | 0x20) == 'n') {
        if (q == p && prefix_len_ci(q, e, "nan") == 3 && q + 3 == e) {
            *out = NAN;
            return 0;
        }
        return -1;
    }
    while (q < e && is_digit(*q)) {
        unsigned d = (unsigned)(*q - '0');

        digits = true;
        if (nsig < 19) {
            m = m * 10 + d;
            nsig += m != 0;
        } else {
            exp10++;
            dropped |= d != 0;
        }
        q++;
    }
    if (q < e && *q == '.') {
        q++;
        while (q < e && is_digit(*q)) {
            unsigned d = (unsigned)(*q - '0');

            digits = true;
            if (nsig < 19) {
                m = m * 10 + d;
                nsig += m != 0;
                exp10--;
            } else {
                dropped |= d != 0;
            }
            q++;
        }
    }
    if (!digits)
        return -1;
    if (q < e && (*q | 0x20) == 'e') {
        bool eneg = false;
        long ev = 0;

        q++;
        if (q < e && (*q == '+' || *q == '-')) {
            eneg = *q == '-';
            q++;
        }
        if (q == e || !is_digit(*q))
            return -1;
        while (q < e && is_digit(*q)) {
            if (ev < 100000)
                ev = ev * 10 + (*q - '0');
            q++;
        }
        exp10 += eneg ? -ev : ev;
    }
    if (q != e)
        return -1;

    if (m == 0 && !dropped) {
        *out = neg ? -0.0 : 0.0;
        return 0;
    }
    if (!dropped && m <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
        /* Both operands exact: one IEEE operation rounds correctly, like strtod. */
        double d = (double)m;

        d = exp10 < 0 ? d / pow10_exact[-exp10] : d * pow10_exact[exp10];
        *out = neg ? -d : d;
        return 0;
    }
    {
        char tmp[PROMTEXT_MAX_NUMBER + 1];
        size_t n = (size_t)(e - p);
        char *endp;
        double d;

        if (n > PROMTEXT_MAX_NUMBER)
            return -1;
        memcpy(tmp, p, n);
        tmp[n] = '\0';
        errno = 0;
        d = strtod(tmp, &endp);
        if (endp != tmp + n)
            return -1;
        if (isinf(d))
            return -2;
        *out = d;
    }
    return 0;
}

/* A decimal int64 with optional sign (Go strconv.ParseInt base 10). */
int promtext_parse_int64(const char *p, const char *e, int64_t *out)
{
    const char *q = p;
    bool neg = false;
    uint64_t v = 0, lim;

    if (q < e && (*q == '+' || *q == '-')) {
        neg = *q == '-';
        q++;
    }
    if (q == e)
        return -1;
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; q < e; q++) {
        unsigned d;

        if (!is_digit(*q))
            return -1;
        d = (unsigned)(*q - '0');
        if (v > (lim - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

enum promtext_format promtext_format_from_content_type(const char *ct)
{
    static const char om[] = "application/openmetrics-text", text[] = "text/plain";
    size_t n;

    if (!ct)
        return PROMTEXT_AUTO;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    n = strcspn(ct, "; \t");
    if (n == sizeof(om) - 1 && strncasecmp(ct, om, n) == 0)
        return PROMTEXT_OPENMETRICS;
    if (n == sizeof(text) - 1 && strncasecmp(ct, text, n) == 0)
        return PROMTEXT_TEXT;
    return PROMTEXT_AUTO;
}

enum promtext_format promtext_format_detect(const char *buf, size_t len)
{
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len >= 5 && memcmp(buf + len - 5, "# EOF", 5) == 0 && (len == 5 || buf[len - 6] == '\n'))
        return PROMTEXT_OPENMETRICS;
    return PROMTEXT_TEXT;
}

size_t promtext_unescape(struct promtext_str s, char *dst)
{
    size_t o = 0;

    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];

        if (c == '\\' && i + 1 < s.len) {
            char n = s.p[i + 1];

            if (n == '\\' || n == '"' || n == 'n') {
                dst[o++] = n == 'n' ? '\n' : n;
                i++;
                continue;
            }
        }
        dst[o++] = c;
    }
    return o;
}

bool promtext_str_eq(struct promtext_str s, bool escaped, const char *plain, size_t n)
{
    size_t o = 0;

    if (!escaped)
        return s.len == n && memcmp(s.p, plain, n) == 0;
    for (size_t i = 0; i < s.len; i++, o++) {
        char c = s.p[i];

        if (c == '\\' && i + 1 < s.len &&
            (s.p[i + 1] == '\\' || s.p[i + 1] == '"' || s.p[i + 1] == 'n')) {
            c = s.p[i + 1] == 'n' ? '\n' : s.p[i + 1];
            i++;
        }
        if (o >= n || plain[o] != c)
            return false;
    }
    return o == n;
}

int promtext_number(struct promtext_str s, double *ret)
{
    double v;
    int r = promtext_parse_float(s.p, s.p + s.len, &v);

    if (r < 0)
        return r == -2 ? -ERANGE : -EINVAL;
    *ret = v;
    return 0;
}

const struct promtext_label *promtext_sample_label(const struct promtext_sample *s,
                                                   const char *name)
{
    size_t n = strlen(name);

    for (unsigned i = 0; i < s->nlabels; i++)
        if (promtext_str_eq(s->labels[i].name, s->labels[i].name_escaped, name, n))
            return &s->labels[i];
    return NULL;
}

const char *promtext_type_name(enum promtext_type t)
{
    switch (t) {
    case PROMTEXT_COUNTER:
        return "counter";
    case PROMTEXT_GAUGE:
        return "gauge";
    case PROMTEXT_HISTOGRAM:
        return "histogram";
    case PROMTEXT_SUMMARY:
        return "summary";
    case PROMTEXT_GAUGEHISTOGRAM:
        return "gaugehistogram";
    case PROMTEXT_STATESET:
        return "stateset";
    case PROMTEXT_INFO:
        return "info";
    default:
        return "untyped";
    }
}
