/*
 * buf — growable byte buffer with a cap. Owns only its storage; never
 * grows past max, so every renderer has a bound on what input can make it
 * allocate.
 */
#include "sidecar/base/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/base/jsonw.h"

void buf_init(struct buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

void buf_done(struct buf *b)
{
    if (!b)
        return;
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->data)
        b->data[0] = '\0';
}

/* Makes room for len more bytes plus a NUL. */
static int buf_reserve(struct buf *b, size_t len)
{
    size_t need, alloc;
    char *p;

    if (len > b->max - b->len) {
        b->failed = true;
        return -E2BIG;
    }
    need = b->len + len + 1;
    if (need <= b->alloc)
        return 0;
    alloc = b->alloc ? b->alloc : 256;
    while (alloc < need)
        alloc *= 2;
    if (alloc > b->max + 1)
        alloc = b->max + 1;
    p = realloc(b->data, alloc);
    if (!p) {
        b->failed = true;
        return -ENOMEM;
    }
    b->data = p;
    b->alloc = alloc;
    return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
    int r = buf_reserve(b, len);

    if (r < 0)
        return r;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, r;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return -EINVAL;
    }
    r = buf_reserve(b, (size_t)n);
    if (r < 0)
        return r;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

static int buf_emit(void *arg, const char *p, size_t n)
{
    return buf_append(arg, p, n) < 0 ? -E2BIG : 0;
}

int buf_json_escape(struct buf *b, const char *s)
{
    return jsonw_escape(s, buf_emit, b);
}

int buf_label_escape(struct buf *b, const char *s)
{
    const char *run = s;

    for (; *s; s++) {
        const char *esc;

        if (*s == '\\')
            esc = "\\\\";
        else if (*s == '"')
            esc = "\\\"";
        else if (*s == '\n')
            esc = "\\n";
        else
            continue;
        if (buf_append(b, run, (size_t)(s - run)) < 0 || buf_append(b, esc, 2) < 0)
            return -E2BIG;
        run = s + 1;
    }
    return buf_append(b, run, (size_t)(s - run));
}
