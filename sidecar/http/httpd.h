/*
 * httpd — a small HTTP/1.1 server on the libevent loop for rollguard's
 * endpoints (probes, metrics, status, admin).
 *
 * Owns the listening socket and every connection. Handlers are synchronous:
 * they render in-memory state into the response body and return; exactly
 * one response is written per request. Limits: connections (the oldest
 * connection is closed to make room for a new one, so idle or slow clients
 * cannot lock out the kubelet), head size, body size, and one timeout for
 * idle, slow-reading and slow-writing peers.
 */
#ifndef ROLLGUARD_HTTPD_H
#define ROLLGUARD_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sidecar/base/buf.h"
#include "sidecar/http/httpreq.h"

struct event_base;
struct httpd;

struct httpd_limits {
    uint32_t max_connections;
    uint32_t timeout_ms;
    uint32_t max_head_bytes;
    uint32_t max_body_bytes; /* 0: any request body is refused with 413 */
    uint32_t backlog;
    size_t max_response_bytes;
};

struct httpd_req {
    const struct httpreq *head;
    const char *body; /* NULL when none */
    size_t body_len;
};

struct httpd_resp {
    int status;
    const char *content_type; /* static string */
    const char *allow;        /* for 405: the Allow header, or NULL */
    struct buf *body;         /* the server's scratch buffer, empty on entry */
};

/* Fill resp for req. Must not keep pointers into req after returning. */
typedef void httpd_handler_fn(const struct httpd_req *req, struct httpd_resp *resp, void *arg);

struct httpd_stats {
    uint64_t accepted;
    uint64_t active;
    uint64_t evicted; /* closed to make room at max_connections */
    uint64_t timed_out;
    uint64_t rejected; /* malformed or over a limit, answered by httpd itself */
    uint64_t requests;
};

/*
 * Listen on addr ("host:port", "[v6]:port"; "0.0.0.0:0" picks a port) and
 * serve handler. Returns 0 and *ret, -EADDRINUSE and friends when binding
 * failed, -EINVAL for a bad address, -ENOMEM.
 */
int httpd_new(struct event_base *base, const char *addr, const struct httpd_limits *lim,
              httpd_handler_fn *handler, void *arg, struct httpd **ret);

/* Closes the listener and every connection at once. NULL-safe; returns NULL. */
struct httpd *httpd_free(struct httpd *h);

/* Stop accepting; connections in progress finish. */
void httpd_stop_accepting(struct httpd *h);

/* New timeout/size limits for later requests (the listener itself stays). */
void httpd_set_limits(struct httpd *h, const struct httpd_limits *lim);

/* The bound port (useful after binding port 0). */
int httpd_port(const struct httpd *h);

const struct httpd_stats *httpd_stats_get(const struct httpd *h);

/* Connections with a response still being written. */
unsigned httpd_pending_writes(const struct httpd *h);

/* One request answered from the front of a connection's input. */
struct httpd_answer {
    int status;
    const char *content_type; /* static string */
    const char *allow;        /* the Allow header, or NULL */
    const char *body;         /* the scratch buffer's bytes (never NULL) */
    size_t body_len;          /* also the Content-Length of a HEAD answer */
    bool head_only;           /* a HEAD request: send the head alone */
    bool keep_alive;
    bool rejected;   /* malformed or over a limit, answered by httpd: close after */
    size_t consumed; /* input bytes the request took (head and body); 0 if rejected */
};

/*
 * Answer the request at the front of in (len bytes) the way the server
 * does, without I/O: parse the head under lim, refuse what httpd refuses
 * (malformed heads, chunked or too large bodies), else call handler with
 * scratch (emptied first) as the body; an overflowing body becomes a 500.
 * Returns 1 with *ret filled (ret->body points into scratch), or 0 when
 * more bytes are needed.
 */
int httpd_serve(const struct httpd_limits *lim, const char *in, size_t len,
                httpd_handler_fn *handler, void *arg, struct buf *scratch,
                struct httpd_answer *ret);

/*
 * The status line and headers for a, with date as the Date value, into buf
 * (size bytes, NUL-terminated). Returns the length, or -EINVAL when it
 * does not fit.
 */
int httpd_head_render(const struct httpd_answer *a, const char *date, char *buf, size_t size);

/* The reason phrase for a status code ("OK", "Service Unavailable", ...). */
const char *httpd_reason(int status);

#endif
