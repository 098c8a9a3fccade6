/*
 * buf — a growable byte buffer with a hard size cap.
 *
 * Renderers append into a buf; once an append would pass the cap the
 * buffer stays as it was and remembers the failure, so a caller checks
 * once at the end instead of after every append.
 */
#ifndef ROLLGUARD_BUF_H
#define ROLLGUARD_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data; /* NUL-terminated while len < cap */
    size_t len;
    size_t alloc;
    size_t max;  /* hard cap on len */
    bool failed; /* an append did not fit or ran out of memory */
};

/* An empty buffer that may grow to max bytes. Allocates nothing yet. */
void buf_init(struct buf *b, size_t max);
/* Frees the storage; the buf may be reused after buf_init. NULL-safe. */
void buf_done(struct buf *b);
/* Empties the buffer, keeping its storage and clearing the failure flag. */
void buf_reset(struct buf *b);

/* Appends; return 0, or -E2BIG/-ENOMEM (and set failed). */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as the inside of a JSON string (no quotes), escaped by jsonw_escape. */
int buf_json_escape(struct buf *b, const char *s);
/* Appends s as a Prometheus label value (escapes \\, \" and newline). */
int buf_label_escape(struct buf *b, const char *s);

#endif
