/*
 * utf8 — validation, counting and cutting of UTF-8 text. Pure: no allocation,
 * no I/O; every read is bounded by the caller's end.
 */
#include "config/utf8.h"

size_t utf8_char_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t need;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* past U+10FFFF */
    } else {
        return 0;
    }
    if ((size_t)(end - p) <= need)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i <= need; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return need + 1;
}

bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;

    while (p < end) {
        size_t k = utf8_char_len(p, end);

        if (k == 0)
            return false;
        p += k;
    }
    return true;
}

size_t utf8_runes(const char *s, size_t n)
{
    size_t r = 0;

    for (size_t i = 0; i < n; i++)
        r += ((unsigned char)s[i] & 0xc0) != 0x80;
    return r;
}

size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}
