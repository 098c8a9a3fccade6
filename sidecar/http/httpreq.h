/*
 * httpreq — parse one HTTP/1.x request head from a buffer.
 *
 * Pure and strict: no I/O, no allocation; the result points into the
 * caller's buffer. It accepts what kubelet, Prometheus and curl send and
 * refuses the ambiguous forms request smuggling lives on (obs-fold, space
 * before the colon, conflicting Content-Length, Content-Length with
 * Transfer-Encoding, bare CR).
 */
#ifndef ROLLGUARD_HTTPREQ_H
#define ROLLGUARD_HTTPREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTPREQ_MAX_HEADERS 100

enum httpreq_method {
    HTTPREQ_OTHER = 0,
    HTTPREQ_GET,
    HTTPREQ_HEAD,
    HTTPREQ_POST,
    HTTPREQ_PUT,
    HTTPREQ_DELETE,
    HTTPREQ_PATCH,
    HTTPREQ_OPTIONS,
};

struct httpreq {
    enum httpreq_method method;
    const char *path; /* origin-form path, without the query */
    size_t path_len;
    const char *query; /* after '?', or NULL */
    size_t query_len;
    int minor;              /* HTTP/1.<minor>, 0 or 1 */
    bool keep_alive;        /* what the client asked for, per version and Connection */
    bool chunked;           /* a Transfer-Encoding header was present */
    int64_t content_length; /* -1 when absent */
    unsigned headers;       /* header field count */
    size_t head_len;        /* bytes of request line + headers + blank line */
    int error_status;       /* on failure: 400, 431, 501 or 505 */
    const char *error;      /* on failure: a short reason (static) */
};

/*
 * Parse the head at the start of buf (len bytes), allowing at most
 * max_head bytes for it. Returns 1 with *req filled when a whole head is
 * present, 0 when more bytes are needed (and len < max_head), or -EINVAL
 * with req->error_status/req->error set.
 */
int httpreq_parse(const char *buf, size_t len, size_t max_head, struct httpreq *req);

/* "GET", "HEAD", ... ; "OTHER" for anything else. */
const char *httpreq_method_name(enum httpreq_method m);

#endif
