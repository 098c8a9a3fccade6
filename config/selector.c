/*
 * selector — parser of label-matcher lists (grammar in selector.h). Pure:
 * no allocation, no I/O; every limit is in selector.h.
 */
#include "config/selector.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int sel_fail(struct selector_err *err, const char *s, const char *at, const char *fmt, ...)
{
    va_list ap;

    if (err) {
        err->column = at ? (unsigned)(at - s) + 1 : 0;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static bool sel_name_start(char c)
{
    return (unsigned char)((c | 0x20) - 'a') < 26 || c == '_';
}

static bool sel_name_char(char c)
{
    return sel_name_start(c) || (unsigned char)(c - '0') < 10;
}

static const char *sel_blanks(const char *p)
{
    while (*p == ' ')
        p++;
    return p;
}

int selector_parse(const char *s, struct selector *ret, struct selector_err *err)
{
    struct selector sel;
    const char *p = sel_blanks(s);

    sel.n = 0;
    if (strlen(s) > SELECTOR_MAX_BYTES)
        return sel_fail(err, s, NULL, "selector longer than %d bytes", SELECTOR_MAX_BYTES);
    while (*p) {
        struct selector_matcher *m;
        const char *b = p, *open;
        size_t n;

        if (sel.n == SELECTOR_MAX_MATCHERS)
            return sel_fail(err, s, p, "more than %d selector matchers", SELECTOR_MAX_MATCHERS);
        m = &sel.m[sel.n];
        if (!sel_name_start(*p))
            return sel_fail(err, s, p, "expected a label name");
        while (sel_name_char(*p))
            p++;
        n = (size_t)(p - b);
        if (n >= sizeof(m->label))
            return sel_fail(err, s, b, "label name longer than %d bytes", SELECTOR_NAME_MAX - 1);
        memcpy(m->label, b, n);
        m->label[n] = '\0';
        p = sel_blanks(p);
        if ((p[0] == '=' || p[0] == '!') && p[1] == '~')
            return sel_fail(err, s, p, "regular expression matchers (=~, !~) are not supported");
        if (p[0] == '=') {
            m->negate = false;
            p++;
        } else if (p[0] == '!' && p[1] == '=') {
            m->negate = true;
            p += 2;
        } else {
            return sel_fail(err, s, p, "expected '=' or '!=' after the label name");
        }
        p = sel_blanks(p);
        if (*p != '"')
            return sel_fail(err, s, p, "expected '\"': the value must be in double quotes");
        open = p;
        for (n = 0, p++; *p != '"'; p++) {
            if (!*p)
                return sel_fail(err, s, open,
                                "unterminated string: the quoted value is not closed");
            if (*p == '\\') {
                if (p[1] != '\\' && p[1] != '"')
                    return sel_fail(
                        err, s, p,
                        "invalid escape: only \\\\ and \\\" escapes are allowed in a value");
                p++;
            }
            if (n + 1 >= sizeof(m->value))
                return sel_fail(err, s, open, "selector value longer than %d bytes",
                                SELECTOR_VALUE_MAX - 1);
            m->value[n++] = *p;
        }
        m->value[n] = '\0';
        m->value_len = n;
        sel.n++;
        p = sel_blanks(p + 1);
        if (!*p)
            break;
        if (*p != ',')
            return sel_fail(err, s, p, "expected ',' between matchers");
        p = sel_blanks(p + 1);
        if (!*p)
            return sel_fail(err, s, p, "expected a matcher after ','");
    }
    *ret = sel;
    return 0;
}
