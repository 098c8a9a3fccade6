/*
 * jsonw — append JSON text into a caller's fixed buffer.
 *
 * Writers append; once something does not fit the writer stops and
 * remembers it (full), so a renderer checks once at the end. The buffer
 * stays NUL-terminated. Strings are escaped per RFC 8259 with invalid
 * UTF-8 replaced by U+FFFD, so any C string renders as valid JSON.
 */
#ifndef ROLLGUARD_JSONW_H
#define ROLLGUARD_JSONW_H

#include <stdbool.h>
#include <stddef.h>

struct jsonw {
    char *buf;
    size_t size, len;
    bool full;
};

/* A writer over buf (size bytes); size 0 starts full. */
void jsonw_init(struct jsonw *w, char *buf, size_t size);

/* n bytes as they are. */
void jsonw_raw(struct jsonw *w, const char *s, size_t n);
/* A NUL-terminated string as it is. */
void jsonw_lit(struct jsonw *w, const char *s);
/*
 * The tree's one JSON number format: the shorter of %.15g and %.17g that
 * reads back as exactly v; "null" for NaN and infinities. Writes into out
 * (at least JSONW_NUM_MAX bytes) and returns the length.
 */
#define JSONW_NUM_MAX 32
size_t jsonw_num_format(char *out, double v);
/* v in that format. */
void jsonw_num(struct jsonw *w, double v);
/* printf-formatted text (at most 191 bytes per call). */
void jsonw_fmt(struct jsonw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a quoted JSON string. */
void jsonw_str(struct jsonw *w, const char *s);

/*
 * The one JSON string escaper: hands emit the contents of s as they go
 * between the quotes of a JSON string (RFC 8259 escapes, DEL as \u007f
 * too; bytes that are not valid UTF-8 become \ufffd), in as few pieces as it can. Returns
 * 0, or the first nonzero value emit returned (escaping stops there).
 */
typedef int jsonw_emit_fn(void *arg, const char *p, size_t n);
int jsonw_escape(const char *s, jsonw_emit_fn *emit, void *arg);

#endif
