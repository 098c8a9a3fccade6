/*
 * promre — RE2-style label patterns as anchored POSIX extended regexes.
 * See promre.h for what is translated and what is refused.
 */
#include "config/promre.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bracket-expression bodies of RE2's Perl classes. */
static const char *perl_class(char c)
{
    switch (c) {
    case 'd':
    case 'D':
        return "0-9";
    case 'w':
    case 'W':
        return "A-Za-z0-9_";
    case 's':
    case 'S':
        return " \t\n\r\f\v";
    default:
        return NULL;
    }
}

static bool is_quantifier_end(char c)
{
    return c == '*' || c == '+' || c == '?' || c == '}';
}

struct out {
    char *p;
    size_t n, cap;
};

static bool put(struct out *o, const char *s)
{
    size_t k = strlen(s);

    if (o->n + k >= o->cap)
        return false;
    memcpy(o->p + o->n, s, k);
    o->n += k;
    o->p[o->n] = '\0';
    return true;
}

static bool putc_(struct out *o, char c)
{
    char s[2] = {c, '\0'};

    return put(o, s);
}

/* RE2 text into an anchored ERE. Returns 0 or -EINVAL with err. */
static int translate(const char *src, char *dst, size_t cap, char *err, size_t errlen)
{
    struct out o = {dst, 0, cap};
    bool in_class = false;
    size_t class_start = 0;
    int depth = 0;

    dst[0] = '\0';
    if (!put(&o, "^("))
        goto too_long;
    for (size_t i = 0; src[i]; i++) {
        char c = src[i];

        if (in_class) {
            if (c == ']' && i > class_start) {
                in_class = false;
                if (!putc_(&o, c))
                    goto too_long;
            } else if (c == '\\') {
                const char *cls = perl_class(src[i + 1]);
                char e = src[i + 1];

                if (cls && e >= 'a') {
                    if (!put(&o, cls))
                        goto too_long;
                } else if (e == '\\' || e == '.' || e == '-' || e == '^' || e == '[') {
                    if (!putc_(&o, e))
                        goto too_long;
                } else {
                    snprintf(err, errlen, "\\%c inside [...] is not supported", e ? e : ' ');
                    return -EINVAL;
                }
                i++;
            } else if (!putc_(&o, c)) {
                goto too_long;
            }
            continue;
        }
        switch (c) {
        case '[':
            in_class = true;
            class_start = i + 1;
            if (src[class_start] == '^')
                class_start++;
            if (!putc_(&o, c))
                goto too_long;
            break;
        case '\\': {
            char e = src[i + 1];
            const char *cls = perl_class(e);

            if (cls) {
                char b[32];

                snprintf(b, sizeof(b), "[%s%s]", e >= 'a' ? "" : "^", cls);
                if (!put(&o, b))
                    goto too_long;
            } else if (e && strchr(".[]{}()*+?|^$\\-/", e)) {
                char b[3] = {'\\', e, '\0'};

                if (!put(&o, b))
                    goto too_long;
            } else {
                snprintf(err, errlen, "\\%c is not supported (use [0-9], ., or a plain character)",
                         e ? e : ' ');
                return -EINVAL;
            }
            i++;
            break;
        }
        case '|':
            /* an empty alternative would make a missing label an error: a typo */
            if (i == 0 || src[i - 1] == '(' || src[i - 1] == '|' || src[i + 1] == '\0' ||
                src[i + 1] == '|' || src[i + 1] == ')') {
                snprintf(err, errlen, "empty alternative around '|'");
                return -EINVAL;
            }
            if (!putc_(&o, c))
                goto too_long;
            break;
        case ')':
            if (--depth < 0) {
                snprintf(err, errlen, "unexpected ')'");
                return -EINVAL;
            }
            if (!putc_(&o, c))
                goto too_long;
            break;
        case '(':
            depth++;
            if (src[i + 1] == '?') {
                if (src[i + 2] != ':') {
                    snprintf(err, errlen, "(?...) flags and named groups are not supported");
                    return -EINVAL;
                }
                i += 2;
            }
            if (!putc_(&o, '('))
                goto too_long;
            break;
        case '?':
            /* a lazy quantifier: the same set of whole-value matches */
            if (i > 0 && is_quantifier_end(src[i - 1]) && !(i > 1 && src[i - 2] == '\\'))
                break;
            if (!putc_(&o, c))
                goto too_long;
            break;
        default:
            if (!putc_(&o, c))
                goto too_long;
        }
    }
    if (in_class || depth > 0) {
        snprintf(err, errlen, in_class ? "missing ']'" : "missing ')'");
        return -EINVAL;
    }
    if (!put(&o, ")$"))
        goto too_long;
    return 0;
too_long:
    snprintf(err, errlen, "longer than %d bytes", PROMRE_MAX);
    return -EINVAL;
}

int promre_compile(const char *pattern, regex_t *ret, char *err, size_t errlen)
{
    char ere[4 * PROMRE_MAX + 8];
    int r;

    if (!pattern || !pattern[0]) {
        snprintf(err, errlen, "empty pattern");
        return -EINVAL;
    }
    if (strlen(pattern) > PROMRE_MAX) {
        snprintf(err, errlen, "longer than %d bytes", PROMRE_MAX);
        return -EINVAL;
    }
    r = translate(pattern, ere, sizeof(ere), err, errlen);
    if (r < 0)
        return r;
    r = regcomp(ret, ere, REG_EXTENDED | REG_NOSUB);
    if (r != 0) {
        char msg[128];

        regerror(r, ret, msg, sizeof(msg));
        snprintf(err, errlen, "not a regular expression: %s", msg);
        return -EINVAL;
    }
    return 0;
}

bool promre_match(const regex_t *re, const char *value, size_t n)
{
    char small[256], *copy = small;
    bool hit;

    if (memchr(value, '\0', n))
        return false; /* no label value holds a NUL */
    /* a NUL-terminated copy: regexec's contract (REG_STARTEND is a GNU extension that
     * sanitizers' interceptors do not honour) */
    if (n >= sizeof(small) && !(copy = malloc(n + 1)))
        return false;
    memcpy(copy, value, n);
    copy[n] = '\0';
    hit = regexec(re, copy, 0, NULL, 0) == 0;
    if (copy != small)
        free(copy);
    return hit;
}

int promre_check(const char *pattern, char *err, size_t errlen)
{
    regex_t re;
    int r = promre_compile(pattern, &re, err, errlen);

    if (r == 0)
        regfree(&re);
    return r;
}
