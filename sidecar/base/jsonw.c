/*
 * jsonw — JSON text into a fixed caller buffer. Pure: no allocation, no
 * I/O; never writes past size and always leaves the text NUL-terminated.
 */
#include "sidecar/base/jsonw.h"

#include "config/utf8.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonw_init(struct jsonw *w, char *buf, size_t size)
{
    w->buf = buf;
    w->size = size;
    w->len = 0;
    w->full = size == 0;
    if (size)
        buf[0] = '\0';
}

void jsonw_raw(struct jsonw *w, const char *s, size_t n)
{
    if (w->full || w->len + n >= w->size) {
        w->full = true;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

void jsonw_lit(struct jsonw *w, const char *s)
{
    jsonw_raw(w, s, strlen(s));
}

void jsonw_fmt(struct jsonw *w, const char *fmt, ...)
{
    char tmp[192];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        w->full = true;
        return;
    }
    jsonw_raw(w, tmp, (size_t)n);
}

size_t jsonw_num_format(char *out, double v)
{
    int n;

    if (!isfinite(v)) {
        memcpy(out, "null", 5);
        return 4;
    }
    n = snprintf(out, JSONW_NUM_MAX, "%.15g", v);
    if (strtod(out, NULL) != v)
        n = snprintf(out, JSONW_NUM_MAX, "%.17g", v);
    return n > 0 ? (size_t)n : 0;
}

void jsonw_num(struct jsonw *w, double v)
{
    char tmp[JSONW_NUM_MAX];

    jsonw_raw(w, tmp, jsonw_num_format(tmp, v));
}

int jsonw_escape(const char *s, jsonw_emit_fn *emit, void *arg)
{
    static const char *const short_esc[0x20] = {
        ['\b'] = "\\b", ['\f'] = "\\f", ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t"};
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *run = p, *end = p + strlen(s);
    int r;

    while (*p) {
        unsigned char c = *p;
        char esc[7] = "\\u00";
        const char *out = esc;
        size_t n = 2, need;

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            p++;
            continue;
        }
        if (c >= 0x80 && (need = utf8_char_len(p, end)) != 0) {
            p += need; /* valid UTF-8 passes as it is */
            continue;
        }
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
        } else if (c < 0x20 && short_esc[c]) {
            out = short_esc[c];
        } else if (c < 0x20 || c == 0x7f) {
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        } else {
            out = "\\ufffd"; /* not UTF-8 */
            n = 6;
        }
        if (p > run && (r = emit(arg, (const char *)run, (size_t)(p - run))) != 0)
            return r;
        if ((r = emit(arg, out, n)) != 0)
            return r;
        run = ++p;
    }
    return p > run ? emit(arg, (const char *)run, (size_t)(p - run)) : 0;
}

static int jsonw_emit(void *arg, const char *p, size_t n)
{
    jsonw_raw(arg, p, n);
    return 0;
}

void jsonw_str(struct jsonw *w, const char *s)
{
    jsonw_raw(w, "\"", 1);
    jsonw_escape(s, jsonw_emit, w);
    jsonw_raw(w, "\"", 1);
}
