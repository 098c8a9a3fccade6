/*
 * curlm — libcurl's multi interface on the libevent loop.
 *
 * Owns the CURLM handle, one struct event per socket libcurl asks us to
 * watch, one evtimer for libcurl's timeout, and every request (easy handle,
 * error buffer, bounded body, header list). Wiring follows curl's
 * docs/examples (hiperfifo.c, ghiper.c): CURLMOPT_SOCKETFUNCTION keeps the
 * socket events, CURLMOPT_TIMERFUNCTION the timer, and after every
 * curl_multi_socket_action the finished transfers are collected.
 *
 * Must never: block the loop (no curl_easy_perform, no synchronous DNS),
 * call curl_multi_socket_action from inside a libcurl callback, run a user
 * callback while libcurl is on the stack, or put headers, bodies or URLs
 * into error text. A little over 800 lines: it is libcurl's one adapter,
 * and its callbacks all share the multi handle's state.
 */
#include <curl/curl.h>

#include "probes/curlm.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#ifndef ROLLGUARD_VERSION
#define ROLLGUARD_VERSION "0.0.0"
#endif

#define CURLM_DEFAULT_TIMEOUT_MS 30000
#define CURLM_URL_MAX 8192     /* longer URLs are refused by curlm_start */
#define CURLM_CAPTURE_MAX 1024 /* bytes kept of a captured header value */
#define CURLM_METHOD_MAX 16

enum curlm_req_state {
    CURLM_REQ_ACTIVE,   /* in the multi handle, on m->active */
    CURLM_REQ_DONE,     /* finished, removed from multi, queued on m->done */
    CURLM_REQ_CALLBACK, /* its callback is running; on no list */
};

struct curlm_list {
    struct curlm_req *head, *tail;
};

struct curlm_sock {
    struct curlm *m;
    struct event *ev;
    struct curlm_sock *prev, *next;
};

struct curlm_req {
    struct curlm *m;
    CURL *easy;
    struct curlm_req *prev, *next;
    enum curlm_req_state state;
    CURLcode code;
    curlm_done_fn *cb;
    void *arg;
    struct curl_slist *headers;
    char *body; /* NUL-terminated; body_alloc includes the NUL */
    size_t body_len, body_alloc, max_body;
    char *capture; /* header name to capture, or NULL */
    size_t capture_len;
    char *captured;
    bool truncate_ok, truncated, toobig, oom;
    char errbuf[CURL_ERROR_SIZE];
};

struct curlm {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    struct curlm_list active; /* in flight */
    struct curlm_list done;   /* finished, callbacks not yet run */
    struct curlm_sock *socks;
    unsigned pending;
    unsigned dispatching; /* > 0 while completions are delivered */
    bool doomed;          /* curlm_free was called during dispatch */
};

static bool curlm_inited;

static void curlm_list_push(struct curlm_list *l, struct curlm_req *r)
{
    r->next = NULL;
    r->prev = l->tail;
    if (l->tail)
        l->tail->next = r;
    else
        l->head = r;
    l->tail = r;
}

static void curlm_list_unlink(struct curlm_list *l, struct curlm_req *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        l->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        l->tail = r->prev;
    r->prev = r->next = NULL;
}

/*
 * Checks that libcurl resolves names without blocking, then initialises it
 * once per process. err (errlen bytes, may be NULL) gets the reason on
 * failure. Returns 0, -ENOTSUP (no async DNS) or -EIO.
 */
int curlm_global_init(char *err, size_t errlen)
{
    const curl_version_info_data *v;

    if (curlm_inited)
        return 0;
    v = curl_version_info(CURLVERSION_NOW);
    if (!v || !(v->features & CURL_VERSION_ASYNCHDNS)) {
        if (err && errlen)
            snprintf(err, errlen,
                     "libcurl %s has no asynchronous DNS resolver (threaded or c-ares); "
                     "name lookups would block the event loop",
                     v && v->version ? v->version : "(unknown)");
        return -ENOTSUP;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        if (err && errlen)
            snprintf(err, errlen, "curl_global_init failed");
        return -EIO;
    }
    curlm_inited = true;
    return 0;
}

/* Undoes curlm_global_init once every curlm is freed. Safe to call twice. */
void curlm_global_done(void)
{
    if (!curlm_inited)
        return;
    curl_global_cleanup();
    curlm_inited = false;
}

/* ---- completion ---------------------------------------------------------- */

static enum curlm_fail curlm_classify(const struct curlm_req *r)
{
    switch (r->code) {
    case CURLE_OK:
        return CURLM_FAIL_NONE;
    case CURLE_FILESIZE_EXCEEDED:
        return CURLM_ERR_TOOBIG; /* Content-Length above max_body: refused before the body */
    case CURLE_WRITE_ERROR:
        if (r->truncated)
            return CURLM_FAIL_NONE;
        if (r->toobig)
            return CURLM_ERR_TOOBIG;
        return CURLM_ERR_INTERNAL;
    case CURLE_COULDNT_CONNECT:
    case CURLE_INTERFACE_FAILED:
        return CURLM_ERR_CONNECT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return CURLM_ERR_DNS;
    case CURLE_OPERATION_TIMEDOUT:
        return CURLM_ERR_TIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
        return CURLM_ERR_TLS;
    case CURLE_URL_MALFORMAT:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
        return CURLM_ERR_INTERNAL;
    default:
        /*
         * GOT_NOTHING, RECV_ERROR, SEND_ERROR, PARTIAL_FILE,
         * WEIRD_SERVER_REPLY, UNSUPPORTED_PROTOCOL, HTTP2*, ... and codes
         * newer than this file: the peer misbehaved. Counting an unknown code
         * as our own fault would hide a broken app.
         */
        return CURLM_ERR_PROTOCOL;
    }
}

/* "host:port" of the transfer's URL into buf, or "" (never the path or query). */
static void curlm_hostport(CURL *easy, char *buf, size_t len)
{
    char *url = NULL, *host = NULL, *port = NULL;
    CURLU *u;

    buf[0] = '\0';
    if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || !url)
        return;
    u = curl_url();
    if (!u)
        return;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        snprintf(buf, len, "%s:%s", host, port);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

/* Short text for a failed transfer; control characters replaced. */
static void curlm_describe(struct curlm_req *r, enum curlm_fail fail, char *out, size_t len)
{
    char hp[300];
    long oserr = 0;

    if (fail == CURLM_ERR_TOOBIG) {
        snprintf(out, len, "response body larger than %zu bytes", r->max_body);
        return;
    }
    if (r->oom) {
        snprintf(out, len, "out of memory");
        return;
    }
    curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &oserr);
    if (fail == CURLM_ERR_CONNECT && oserr == ECONNREFUSED) {
        curlm_hostport(r->easy, hp, sizeof hp);
        if (hp[0]) {
            snprintf(out, len, "connect to %.200s refused", hp); /* hosts are <= 253 */
            return;
        }
    }
    snprintf(out, len, "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->code));
    for (char *c = out; *c; c++)
        if (iscntrl((unsigned char)*c))
            *c = ' ';
}

static void curlm_req_destroy(struct curlm_req *r)
{
    if (!r)
        return;
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    free(r->body);
    free(r->capture);
    free(r->captured);
    free(r);
}

/* Runs r's callback, then frees r. r is on no list. */
static void curlm_complete(struct curlm_req *r)
{
    struct curlm_result res;
    long status = 0;
    curl_off_t total = 0;
    char *ctype = NULL;

    memset(&res, 0, sizeof res);
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME_T, &total);
    curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ctype);
    res.fail = curlm_classify(r);
    res.status = status;
    res.body = r->body ? r->body : "";
    res.body_len = r->body_len;
    res.content_type = ctype;
    res.header = r->captured;
    res.total_us = total > 0 ? (uint64_t)total : 0;
    res.truncated = r->truncated && res.fail == CURLM_FAIL_NONE;
    if (res.fail != CURLM_FAIL_NONE)
        curlm_describe(r, res.fail, res.error, sizeof res.error);
    res.req = r;
    r->state = CURLM_REQ_CALLBACK;
    r->cb(&res, r->arg);
    curlm_req_destroy(r);
}

char *curlm_take_body(const struct curlm_result *res)
{
    struct curlm_req *r = res->req;
    char *body;

    if (!r || r->state != CURLM_REQ_CALLBACK)
        return NULL;
    body = r->body;
    r->body = NULL;
    r->body_len = r->body_alloc = 0;
    return body;
}

/*
 * Moves every finished transfer from the multi handle to m->done. All
 * handles are removed before any user code runs, so a callback may cancel
 * or start requests without invalidating a curl_multi_info_read message.
 */
static void curlm_collect(struct curlm *m)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(m->multi, &left))) {
        struct curlm_req *r;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        char *priv = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        r = (struct curlm_req *)priv;
        curl_multi_remove_handle(m->multi, easy);
        if (!r || r->state != CURLM_REQ_ACTIVE)
            continue;
        r->code = code;
        curlm_list_unlink(&m->active, r);
        m->pending--;
        r->state = CURLM_REQ_DONE;
        curlm_list_push(&m->done, r);
    }
}

static void curlm_destroy(struct curlm *m)
{
    struct curlm_sock *s;

    if (m->multi)
        curl_multi_cleanup(m->multi); /* may still report sockets removed */
    while ((s = m->socks)) {
        m->socks = s->next;
        if (s->ev)
            event_free(s->ev);
        free(s);
    }
    if (m->timer)
        event_free(m->timer);
    free(m);
}

/* Lets libcurl act on fd (or its timeout), then delivers completions. */
static void curlm_drive(struct curlm *m, curl_socket_t fd, int action)
{
    struct curlm_req *r;
    int running = 0;

    m->dispatching++;
    curl_multi_socket_action(m->multi, fd, action, &running);
    curlm_collect(m);
    while (!m->doomed && (r = m->done.head)) {
        curlm_list_unlink(&m->done, r);
        curlm_complete(r);
    }
    m->dispatching--;
    if (m->doomed && m->dispatching == 0)
        curlm_destroy(m);
}

/* ---- libcurl <-> libevent ------------------------------------------------ */

static void curlm_event_cb(evutil_socket_t fd, short what, void *arg)
{
    int action =
        ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);

    curlm_drive(arg, fd, action);
}

static void curlm_timer_event_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    curlm_drive(arg, CURL_SOCKET_TIMEOUT, 0);
}

static void curlm_sock_free(struct curlm *m, struct curlm_sock *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        m->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (s->ev)
        event_free(s->ev);
    free(s);
}

/* CURLMOPT_SOCKETFUNCTION: one persistent event per socket, updated in place. */
static int curlm_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
    struct curlm *m = userp;
    struct curlm_sock *s = sockp;
    short kind;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curlm_sock_free(m, s);
            curl_multi_assign(m->multi, fd, NULL);
        }
        return 0;
    }
    kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
           ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return -1;
        s->m = m;
        s->next = m->socks;
        if (m->socks)
            m->socks->prev = s;
        m->socks = s;
        curl_multi_assign(m->multi, fd, s);
    } else {
        event_free(s->ev);
        s->ev = NULL;
    }
    s->ev = event_new(m->base, fd, kind, curlm_event_cb, m);
    if (!s->ev || event_add(s->ev, NULL) < 0) {
        curl_multi_assign(m->multi, fd, NULL);
        curlm_sock_free(m, s);
        return -1;
    }
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: -1 disarms; 0 fires on the next loop turn (never recurse). */
static int curlm_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct curlm *m = userp;
    struct timeval tv;

    (void)multi;
    if (timeout_ms < 0)
        return evtimer_del(m->timer) < 0 ? -1 : 0;
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    return evtimer_add(m->timer, &tv) < 0 ? -1 : 0;
}

/* ---- requests ------------------------------------------------------------ */

/* Appends n bytes to the body buffer (growing geometrically up to max_body). */
static bool curlm_body_append(struct curlm_req *r, const char *p, size_t n)
{
    size_t need = r->body_len + n + 1;

    if (need > r->body_alloc) {
        size_t a = r->body_alloc ? r->body_alloc : 1024;
        char *nb;

        while (a < need)
            a *= 2;
        if (a > r->max_body + 1)
            a = r->max_body + 1;
        nb = realloc(r->body, a);
        if (!nb)
            return false;
        r->body = nb;
        r->body_alloc = a;
    }
    memcpy(r->body + r->body_len, p, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return true;
}

/* CURLOPT_WRITEFUNCTION: bounded copy; returning short aborts the transfer. */
static size_t curlm_write_cb(char *p, size_t size, size_t nmemb, void *userdata)
{
    struct curlm_req *r = userdata;
    size_t n = size * nmemb, room;

    if (r->max_body == 0)
        return n;
    room = r->max_body - r->body_len;
    if (n > room) {
        if (!r->truncate_ok) {
            r->toobig = true;
            return 0;
        }
        if (room && !curlm_body_append(r, p, room)) {
            r->oom = true;
            return 0;
        }
        r->truncated = true;
        return 0; /* enough read: stop like the kubelet does */
    }
    if (n && !curlm_body_append(r, p, n)) {
        r->oom = true;
        return 0;
    }
    return n;
}

/* CURLOPT_HEADERFUNCTION: keeps the first capture_header of the final response. */
static size_t curlm_header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct curlm_req *r = userdata;
    size_t n = size * nitems, vlen;
    const char *v;

    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        /* a new status line (after 100 Continue): forget the interim headers */
        free(r->captured);
        r->captured = NULL;
        return n;
    }
    if (!r->capture || r->captured || n <= r->capture_len || buf[r->capture_len] != ':' ||
        strncasecmp(buf, r->capture, r->capture_len) != 0)
        return n;
    v = buf + r->capture_len + 1;
    vlen = n - r->capture_len - 1;
    while (vlen && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ' ||
                    v[vlen - 1] == '\t'))
        vlen--;
    if (vlen > CURLM_CAPTURE_MAX)
        vlen = CURLM_CAPTURE_MAX;
    r->captured = strndup(v, vlen);
    if (!r->captured) {
        r->oom = true;
        return 0;
    }
    return n;
}

/* http or https URL with a host, at most CURLM_URL_MAX bytes. */
static int curlm_url_check(const char *url)
{
    CURLU *u;
    char *scheme = NULL, *host = NULL;
    int rc = -EINVAL;

    if (!url || strlen(url) > CURLM_URL_MAX)
        return -EINVAL;
    u = curl_url();
    if (!u)
        return -ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] &&
        (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0))
        rc = 0;
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

static bool curlm_method_ok(const char *m)
{
    size_t n = strlen(m);

    if (n == 0 || n > CURLM_METHOD_MAX)
        return false;
    for (; *m; m++)
        if (!isupper((unsigned char)*m))
            return false;
    return true;
}

static bool curlm_header_ok(const char *h)
{
    const char *colon = strchr(h, ':');

    if (!colon || colon == h || strpbrk(h, "\r\n"))
        return false;
    return true;
}

static int curlm_code_errno(CURLcode c)
{
    return c == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
}

/* Sets every option of r's easy handle from o. */
static int curlm_req_setup(struct curlm_req *r, const struct curlm_opts *o)
{
    CURL *e = r->easy;
    uint32_t timeout = o->timeout_ms ? o->timeout_ms : CURLM_DEFAULT_TIMEOUT_MS;
    uint32_t ctimeout = o->connect_timeout_ms ? o->connect_timeout_ms : timeout;
    const char *method = o->method;
    bool with_body = o->body != NULL;
    CURLcode c = CURLE_OK;

#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        if ((c = curl_easy_setopt(e, opt, val)) != CURLE_OK)                                       \
            return curlm_code_errno(c);                                                            \
    } while (0)

    SETOPT(CURLOPT_URL, o->url);
    SETOPT(CURLOPT_PRIVATE, (void *)r);
    SETOPT(CURLOPT_ERRORBUFFER, r->errbuf);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SETOPT(CURLOPT_NOPROXY, "*");
    SETOPT(CURLOPT_USERAGENT, "rollguard/" ROLLGUARD_VERSION);
    SETOPT(CURLOPT_TIMEOUT_MS, (long)timeout);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)ctimeout);
    SETOPT(CURLOPT_SSL_VERIFYPEER, o->tls_verify ? 1L : 0L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, o->tls_verify ? 2L : 0L);
    if (o->ca_file) {
        /* Only this bundle: not the build's default CA folder as well. */
        SETOPT(CURLOPT_CAINFO, o->ca_file);
        SETOPT(CURLOPT_CAPATH, (char *)NULL);
    }
    if (o->max_body && !o->truncate_ok)
        SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body);
    SETOPT(CURLOPT_WRITEFUNCTION, curlm_write_cb);
    SETOPT(CURLOPT_WRITEDATA, (void *)r);
    SETOPT(CURLOPT_HEADERFUNCTION, curlm_header_cb);
    SETOPT(CURLOPT_HEADERDATA, (void *)r);
    if (o->fresh_connect) {
        SETOPT(CURLOPT_FRESH_CONNECT, 1L);
        SETOPT(CURLOPT_FORBID_REUSE, 1L);
    }
    if (o->connect_only)
        SETOPT(CURLOPT_CONNECT_ONLY, 1L);

    if (!method)
        method = with_body ? "POST" : "GET";
    if (strcmp(method, "HEAD") == 0) {
        SETOPT(CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        if (strcmp(method, "POST") != 0)
            SETOPT(CURLOPT_CUSTOMREQUEST, method);
        if (with_body || !strcmp(method, "POST") || !strcmp(method, "PUT") ||
            !strcmp(method, "PATCH")) {
            /* size first: COPYPOSTFIELDS copies exactly that many bytes */
            SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(with_body ? o->body_len : 0));
            SETOPT(CURLOPT_COPYPOSTFIELDS, with_body ? (const char *)o->body : "");
            with_body = true;
        }
    }
    if (o->headers) {
        for (const char *const *h = o->headers; *h; h++) {
            struct curl_slist *l = curl_slist_append(r->headers, *h);

            if (!l)
                return -ENOMEM;
            r->headers = l;
        }
    }
    if (with_body) {
        /* no 100-continue round trip: bodies here are small */
        struct curl_slist *l = curl_slist_append(r->headers, "Expect:");

        if (!l)
            return -ENOMEM;
        r->headers = l;
    }
    if (r->headers)
        SETOPT(CURLOPT_HTTPHEADER, r->headers);
#undef SETOPT
    return 0;
}

/*
 * Validates o (http/https URL with a host; method of capital letters;
 * headers "Name: value" without CR/LF), then adds the transfer to m. cb runs
 * once from the loop unless the request is cancelled. Returns 0 (and *ret
 * if ret), -EINVAL or -ENOMEM; no callback on failure.
 */
int curlm_start(struct curlm *m, const struct curlm_opts *o, curlm_done_fn *cb, void *arg,
                struct curlm_req **ret)
{
    struct curlm_req *r = NULL;
    int rc;

    if (!m || m->doomed || !o || !cb || !o->url)
        return -EINVAL;
    if (o->method && !curlm_method_ok(o->method))
        return -EINVAL;
    if (o->headers)
        for (const char *const *h = o->headers; *h; h++)
            if (!curlm_header_ok(*h))
                return -EINVAL;
    rc = curlm_url_check(o->url);
    if (rc < 0)
        return rc;

    r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->m = m;
    r->cb = cb;
    r->arg = arg;
    r->max_body = o->max_body;
    r->truncate_ok = o->truncate_ok;
    if (o->capture_header && o->capture_header[0]) {
        r->capture = strdup(o->capture_header);
        if (!r->capture) {
            rc = -ENOMEM;
            goto fail;
        }
        r->capture_len = strlen(r->capture);
    }
    r->easy = curl_easy_init();
    if (!r->easy) {
        rc = -ENOMEM;
        goto fail;
    }
    rc = curlm_req_setup(r, o);
    if (rc < 0)
        goto fail;
    if (curl_multi_add_handle(m->multi, r->easy) != CURLM_OK) {
        rc = -ENOMEM;
        goto fail;
    }
    r->state = CURLM_REQ_ACTIVE;
    curlm_list_push(&m->active, r);
    m->pending++;
    if (ret)
        *ret = r;
    return 0;
fail:
    curlm_req_destroy(r);
    return rc;
}

/*
 * Drops req without a callback. From inside req's own callback it does
 * nothing (the request is freed when the callback returns). NULL-safe.
 */
void curlm_cancel(struct curlm_req *req)
{
    struct curlm *m;

    if (!req || req->state == CURLM_REQ_CALLBACK)
        return;
    m = req->m;
    if (req->state == CURLM_REQ_ACTIVE) {
        curlm_list_unlink(&m->active, req);
        m->pending--;
        curl_multi_remove_handle(m->multi, req->easy);
    } else {
        curlm_list_unlink(&m->done, req);
    }
    curlm_req_destroy(req);
}

/* Number of transfers added and not yet finished or cancelled. */
unsigned curlm_pending(const struct curlm *m)
{
    return m ? m->pending : 0;
}

/* A multi handle driven by base. curlm_global_init must have succeeded. */
struct curlm *curlm_new(struct event_base *base)
{
    struct curlm *m;

    if (!base)
        return NULL;
    m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->base = base;
    m->timer = evtimer_new(base, curlm_timer_event_cb, m);
    m->multi = curl_multi_init();
    if (!m->timer || !m->multi)
        goto fail;
    if (curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, curlm_socket_cb) != CURLM_OK ||
        curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m) != CURLM_OK ||
        curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, curlm_timer_cb) != CURLM_OK ||
        curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m) != CURLM_OK)
        goto fail;
    return m;
fail:
    curlm_destroy(m);
    return NULL;
}

/*
 * Cancels every request (no callbacks) and frees m. Allowed from inside a
 * completion callback: the rest of that dispatch is dropped and m is freed
 * when the callback returns. NULL-safe; returns NULL.
 */
struct curlm *curlm_free(struct curlm *m)
{
    if (!m)
        return NULL;
    while (m->active.head)
        curlm_cancel(m->active.head);
    while (m->done.head)
        curlm_cancel(m->done.head);
    if (m->dispatching)
        m->doomed = true;
    else
        curlm_destroy(m);
    return NULL;
}
