/*
 * curlm — libcurl's multi interface driven by the libevent loop.
 *
 * The only module that includes <curl/curl.h>. Transfers run through
 * curl_multi_socket_action with CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION wired
 * to libevent; nothing here blocks the loop (DNS is asynchronous: see
 * curlm_global_init). Each request owns its easy handle; its completion
 * callback runs exactly once unless the request is cancelled first.
 */
#ifndef ROLLGUARD_CURLM_H
#define ROLLGUARD_CURLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct curlm;
struct curlm_req;

/* Why a transfer produced no usable response. */
enum curlm_fail {
    CURLM_FAIL_NONE = 0, /* a response arrived (any status), or connected (connect_only) */
    CURLM_ERR_CONNECT,   /* refused, unreachable, reset while connecting */
    CURLM_ERR_DNS,       /* name did not resolve */
    CURLM_ERR_TIMEOUT,   /* the timeout passed first */
    CURLM_ERR_TLS,       /* handshake or verification failed */
    CURLM_ERR_TOOBIG,    /* body exceeded max_body */
    CURLM_ERR_PROTOCOL,  /* garbage, connection closed mid-response */
    CURLM_ERR_INTERNAL,  /* could not even start: bad URL, out of memory, ... */
};

struct curlm_opts {
    const char *url;
    const char *method;         /* NULL means GET */
    const char *const *headers; /* NULL-terminated "Name: value" list, or NULL */
    const void *body;           /* request body (copied), or NULL */
    size_t body_len;
    uint32_t timeout_ms;         /* whole transfer; 0 means 30 s */
    uint32_t connect_timeout_ms; /* 0 means timeout_ms */
    size_t max_body;             /* response body cap; 0 discards the body */
    bool connect_only;           /* TCP probe: done once connected; url is then
                                    "http://host:port/" (CURLOPT_CONNECT_ONLY stops
                                    after the TCP connect, nothing is sent) */
    bool tls_verify;             /* verify peer and host name */
    const char *ca_file;         /* CA bundle for tls_verify, NULL = system */
    const char *capture_header;  /* response header to capture, e.g. "Retry-After" */
    bool truncate_ok;            /* a body over max_body is cut there (result.truncated,
                                    transfer stopped) instead of CURLM_ERR_TOOBIG */
    bool fresh_connect;          /* new connection, closed after use (no keep-alive) */
};

struct curlm_result {
    enum curlm_fail fail;
    long status;      /* HTTP status, 0 if none */
    const char *body; /* borrowed for the callback's duration; NUL-terminated */
    size_t body_len;
    const char *content_type; /* borrowed, or NULL */
    const char *header;       /* value of opts.capture_header (borrowed), or NULL */
    uint64_t total_us;        /* wall time of the transfer */
    char error[256];          /* human text for fail != CURLM_FAIL_NONE, never with secrets */
    bool truncated;           /* body cut at max_body (opts.truncate_ok) */
    struct curlm_req *req;    /* the finished request, for curlm_take_body only */
};

/*
 * Takes the response body out of a finished request during its callback:
 * the caller owns the returned NUL-terminated buffer (res->body_len bytes)
 * and frees it with free(); res->body must not be used afterwards. Returns
 * NULL when there was no body (res->body is then "").
 */
char *curlm_take_body(const struct curlm_result *res);

/*
 * Called once per request from the loop. The request is freed after it
 * returns. The callback may start and cancel other requests and may call
 * curlm_free (the rest of that dispatch is dropped, no further callbacks);
 * curlm_cancel on its own request is a no-op.
 */
typedef void curlm_done_fn(const struct curlm_result *res, void *arg);

/*
 * Process-wide libcurl set-up. Returns 0, or -ENOTSUP with a message in err
 * when libcurl lacks asynchronous DNS (it would block the loop).
 */
int curlm_global_init(char *err, size_t errlen);
void curlm_global_done(void);

/* A multi handle on base. Returns NULL on out-of-memory. */
struct curlm *curlm_new(struct event_base *base);
/* Cancels every pending request (no callbacks) and frees. NULL-safe; returns NULL. */
struct curlm *curlm_free(struct curlm *m);

/*
 * Start a transfer. On success returns 0 and, if ret is not NULL, stores a
 * handle that stays valid until the callback runs or curlm_cancel is called.
 * Returns -EINVAL/-ENOMEM when it could not start; no callback then.
 */
int curlm_start(struct curlm *m, const struct curlm_opts *o, curlm_done_fn *cb, void *arg,
                struct curlm_req **ret);

/* Stop a pending request; its callback will not run. NULL-safe. */
void curlm_cancel(struct curlm_req *req);

/* Number of transfers in flight. */
unsigned curlm_pending(const struct curlm *m);

#endif
