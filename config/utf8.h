/*
 * utf8 — the tree's one UTF-8 validator (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF). Bounded: never reads at or past end.
 * Pure libc, so config/, probes/ and sidecar/ all use it.
 */
#ifndef ROLLGUARD_UTF8_H
#define ROLLGUARD_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Bytes of the character starting at p (p < end): 1 for ASCII (NUL
 * included), 2 to 4 for a valid multi-byte sequence, 0 when the sequence is
 * invalid or cut short by end.
 */
size_t utf8_char_len(const unsigned char *p, const unsigned char *end);

/* True when the n bytes at s are all valid UTF-8 (NUL bytes allowed). */
bool utf8_valid(const char *s, size_t n);

/* Characters in n bytes of valid UTF-8 (the bytes that are not continuations). */
size_t utf8_runes(const char *s, size_t n);

/*
 * The length of the longest prefix of s (n bytes) of at most max bytes that
 * does not end inside a multi-byte character: n when n <= max.
 */
size_t utf8_cut(const char *s, size_t n, size_t max);

#endif
