/*
 * jsonw — JSON text into a fixed caller buffer. Pure: no allocation, no
 * I/O; never writes past size and always leaves the text NUL-terminated.
 */
#include "sidecar/jsonw.h"

#include <stdarg.h>
#include <stdio.h>
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
    if (n < 0 || (size_t) n >= sizeof(tmp)) {
        w->full = true;
        return;
    }
    jsonw_raw(w, tmp, (size_t) n);
}

/* Bytes of a valid UTF-8 sequence starting at p beyond its lead byte, or 0 when invalid. */
static unsigned utf8_tail(const unsigned char *p)
{
    unsigned char c = p[0];
    unsigned need = 0;

    if (c >= 0xc2 && c <= 0xdf)
        need = 1;
    else if (c >= 0xe0 && c <= 0xef)
        need = 2;
    else if (c >= 0xf0 && c <= 0xf4)
        need = 3;
    for (unsigned i = 1; need && i <= need; i++)
        if ((p[i] & 0xc0) != 0x80)
            need = 0;
    /* No overlong forms, no surrogates, nothing past U+10FFFF. */
    if (need == 2 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f)))
        need = 0;
    if (need == 3 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f)))
        need = 0;
    return need;
}

void jsonw_str(struct jsonw *w, const char *s)
{
    static const char *const short_esc[0x20] = {
        ['\b'] = "\\b", ['\f'] = "\\f", ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t"};
    const unsigned char *p = (const unsigned char *) s;

    jsonw_raw(w, "\"", 1);
    while (*p) {
        unsigned char c = *p;
        unsigned need;

        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char) c};
            jsonw_raw(w, e, 2);
            p++;
        } else if (c < 0x20) {
            if (short_esc[c])
                jsonw_lit(w, short_esc[c]);
            else
                jsonw_fmt(w, "\\u%04x", c);
            p++;
        } else if (c < 0x80) {
            jsonw_raw(w, (const char *) p, 1);
            p++;
        } else if ((need = utf8_tail(p)) == 0) {
            jsonw_lit(w, "\\ufffd");
            p++;
        } else {
            jsonw_raw(w, (const char *) p, need + 1);
            p += need + 1;
        }
    }
    jsonw_raw(w, "\"", 1);
}
