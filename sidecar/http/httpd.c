/*
 * httpd — HTTP/1.1 server for rollguard's endpoints on one event_base.
 *
 * Owns the listener, every connection (fd, event, input and pending
 * output) and the scratch buffer handlers render into. A connection reads
 * a request head (and, where allowed, a small body), calls the handler
 * once, writes the reply with one writev, and either closes or waits for
 * the next request. Connections sit on an activity-ordered list: at
 * max_connections the least recently active one is closed to admit the
 * new one. Never blocks; never calls a handler twice for one request.
 * httpd_serve, the step from input bytes to one answer, does no I/O, so
 * it can be driven without a socket.
 */
#include "sidecar/http/httpd.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "sidecar/base/clock.h"

#define HTTPD_IN_INITIAL 1024
#define HTTPD_ACCEPT_PAUSE_MS 100

struct conn {
    struct httpd *h;
    evutil_socket_t fd;
    struct event *ev;
    char *in;
    size_t in_len, in_alloc;
    char *out; /* unwritten remainder of a reply */
    size_t out_len, out_off;
    bool close_after;
    bool linger; /* after an error reply: drain what the client still sends, then close */
    bool writing;
    struct conn *prev, *next; /* activity order: head is the least recent */
};

struct httpd {
    struct event_base *base;
    struct evconnlistener *lev;
    struct event *resume; /* re-enables accepting after EMFILE and friends */
    struct httpd_limits lim;
    httpd_handler_fn *handler;
    void *arg;
    struct conn *head, *tail;
    unsigned pending_writes;
    int port;
    struct buf scratch;
    char date[40];
    time_t date_sec;
    struct httpd_stats stats;
};

static void conn_on_event(evutil_socket_t fd, short what, void *arg);

const char *httpd_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    }
    return "Unknown";
}

static void list_unlink(struct httpd *h, struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        h->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        h->tail = c->prev;
    c->prev = c->next = NULL;
}

static void list_append(struct httpd *h, struct conn *c)
{
    c->prev = h->tail;
    c->next = NULL;
    if (h->tail)
        h->tail->next = c;
    else
        h->head = c;
    h->tail = c;
}

static void conn_touch(struct conn *c)
{
    if (c->h->tail != c) {
        list_unlink(c->h, c);
        list_append(c->h, c);
    }
}

static void conn_free(struct conn *c)
{
    struct httpd *h = c->h;

    list_unlink(h, c);
    if (c->writing)
        h->pending_writes--;
    if (c->ev)
        event_free(c->ev);
    if (c->fd >= 0)
        evutil_closesocket(c->fd);
    free(c->in);
    free(c->out);
    free(c);
    h->stats.active--;
}

/* (Re)arms the one event for reading or writing, with the timeout. */
static int conn_arm(struct conn *c, bool write)
{
    struct timeval tv = clock_tv(c->h->lim.timeout_ms);

    if (c->writing != write) {
        c->h->pending_writes += write ? 1 : -1;
        c->writing = write;
    }
    if (!c->ev) {
        /* First wait of this connection: most probes are served before they need one. */
        c->ev = event_new(c->h->base, c->fd, (write ? EV_WRITE : EV_READ) | EV_PERSIST,
                          conn_on_event, c);
        if (!c->ev)
            return -ENOMEM;
    } else {
        event_del(c->ev);
        if (event_assign(c->ev, c->h->base, c->fd, (write ? EV_WRITE : EV_READ) | EV_PERSIST,
                         conn_on_event, c) < 0)
            return -EIO;
    }
    return event_add(c->ev, &tv) < 0 ? -EIO : 0;
}

static const char *httpd_date(struct httpd *h)
{
    time_t now = time(NULL);

    if (now != h->date_sec) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(h->date, sizeof(h->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        h->date_sec = now;
    }
    return h->date;
}

/*
 * Writes head + body now; keeps what the socket would not take. Returns 0
 * when all was written, 1 when some is pending, -errno on a dead peer.
 */
static int conn_send(struct conn *c, const char *head, size_t hlen, const char *body, size_t blen)
{
    struct iovec iov[2] = {{(void *)head, hlen}, {(void *)body, blen}};
    ssize_t n;
    size_t left;

    do
        n = writev(c->fd, iov, blen ? 2 : 1);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        n = 0;
    }
    left = hlen + blen - (size_t)n;
    if (left == 0)
        return 0;
    free(c->out);
    c->out = malloc(left);
    if (!c->out)
        return -ENOMEM;
    c->out_len = left;
    c->out_off = 0;
    if ((size_t)n < hlen) {
        memcpy(c->out, head + n, hlen - (size_t)n);
        memcpy(c->out + hlen - (size_t)n, body, blen);
    } else {
        memcpy(c->out, body + ((size_t)n - hlen), left);
    }
    return 1;
}

/* Appends without formatting: a head is rendered on every request. */
struct head_out {
    char *p;
    size_t left;
    bool full;
};

static void head_put(struct head_out *o, const char *s, size_t n)
{
    if (o->full || n >= o->left) {
        o->full = true;
        return;
    }
    memcpy(o->p, s, n);
    o->p += n;
    o->left -= n;
}

static void head_puts(struct head_out *o, const char *s)
{
    head_put(o, s, strlen(s));
}

static void head_uint(struct head_out *o, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);

    do
        tmp[--i] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    head_put(o, tmp + i, sizeof(tmp) - i);
}

int httpd_head_render(const struct httpd_answer *a, const char *date, char *buf, size_t size)
{
    struct head_out o = {buf, size, size == 0};

    if (a->status < 100 || a->status > 999)
        return -EINVAL;
    head_put(&o, "HTTP/1.1 ", 9);
    head_uint(&o, (uint64_t)a->status);
    head_put(&o, " ", 1);
    head_puts(&o, httpd_reason(a->status));
    head_put(&o, "\r\nContent-Type: ", 16);
    head_puts(&o, a->content_type);
    head_put(&o, "\r\nContent-Length: ", 18);
    head_uint(&o, (uint64_t)a->body_len);
    head_put(&o, "\r\nDate: ", 8);
    head_puts(&o, date);
    head_puts(&o, "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n");
    if (a->allow) {
        head_put(&o, "Allow: ", 7);
        head_puts(&o, a->allow);
        head_put(&o, "\r\n", 2);
    }
    head_puts(&o, a->keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
    if (o.full)
        return -EINVAL;
    *o.p = '\0';
    return (int)(size - o.left);
}

/* Formats and sends one reply. Returns as conn_send. */
static int conn_reply(struct conn *c, const struct httpd_answer *a)
{
    char head[512];
    int n = httpd_head_render(a, httpd_date(c->h), head, sizeof(head));

    if (n < 0)
        return -EINVAL;
    c->close_after = !a->keep_alive;
    return conn_send(c, head, (size_t)n, a->body, a->head_only ? 0 : a->body_len);
}

/* A reply from httpd itself (parse errors, limits); always closes. */
static int serve_error(struct buf *scratch, int status, const char *why, struct httpd_answer *ret)
{
    buf_reset(scratch);
    buf_printf(scratch, "%d %s: %s\n", status, httpd_reason(status), why);
    memset(ret, 0, sizeof(*ret));
    ret->status = status;
    ret->content_type = "text/plain; charset=utf-8";
    ret->body = scratch->data ? scratch->data : "";
    ret->body_len = scratch->len;
    ret->rejected = true;
    return 1;
}

int httpd_serve(const struct httpd_limits *lim, const char *in, size_t len,
                httpd_handler_fn *handler, void *arg, struct buf *scratch, struct httpd_answer *ret)
{
    struct httpreq head;
    struct httpd_req req;
    struct httpd_resp resp;
    size_t total;
    int r;

    r = httpreq_parse(in, len, lim->max_head_bytes, &head);
    if (r == 0)
        return 0;
    if (r < 0)
        return serve_error(scratch, head.error_status, head.error, ret);
    if (head.chunked)
        return serve_error(scratch, lim->max_body_bytes ? 411 : 413,
                           "request bodies are not accepted in chunked form", ret);
    if (head.content_length > (int64_t)lim->max_body_bytes)
        return serve_error(scratch, 413, "request body not accepted here or too large", ret);
    total = head.head_len + (size_t)(head.content_length > 0 ? head.content_length : 0);
    if (len < total)
        return 0; /* the body is still arriving */

    req.head = &head;
    req.body = head.content_length > 0 ? in + head.head_len : NULL;
    req.body_len = head.content_length > 0 ? (size_t)head.content_length : 0;
    buf_reset(scratch);
    resp.status = 500;
    resp.content_type = "text/plain; charset=utf-8";
    resp.allow = NULL;
    resp.body = scratch;
    handler(&req, &resp, arg);
    if (scratch->failed) {
        buf_reset(scratch);
        buf_puts(scratch, "response too large\n");
        resp.status = 500;
        resp.content_type = "text/plain; charset=utf-8";
        resp.allow = NULL;
    }
    memset(ret, 0, sizeof(*ret));
    ret->status = resp.status;
    ret->content_type = resp.content_type;
    ret->allow = resp.allow;
    ret->body = scratch->data ? scratch->data : "";
    ret->body_len = scratch->len;
    ret->head_only = head.method == HTTPREQ_HEAD;
    ret->keep_alive = head.keep_alive;
    ret->consumed = total;
    return 1;
}

/*
 * Serves every complete request in the input buffer. Returns 0 to keep the
 * connection, 1 when a reply is pending (stop reading), -1 to close now.
 */
static int conn_process(struct conn *c)
{
    struct httpd *h = c->h;

    while (c->in_len > 0) {
        struct httpd_answer a;
        int r = httpd_serve(&h->lim, c->in, c->in_len, h->handler, h->arg, &h->scratch, &a);

        if (r == 0)
            return 0;
        if (a.rejected) {
            h->stats.rejected++;
            c->linger = true;
            r = conn_reply(c, &a);
            return r == 1 ? 1 : -1;
        }
        h->stats.requests++;
        r = conn_reply(c, &a);
        /* Drop the served request; later pipelined bytes move to the front. */
        memmove(c->in, c->in + a.consumed, c->in_len - a.consumed);
        c->in_len -= a.consumed;
        if (r < 0)
            return -1;
        if (r == 1)
            return 1;
        if (c->close_after)
            return -1;
    }
    return 0;
}

static int conn_grow(struct conn *c)
{
    size_t cap = (size_t)c->h->lim.max_head_bytes + c->h->lim.max_body_bytes;
    size_t alloc;
    char *p;

    if (c->in_alloc >= cap)
        return 0;
    alloc = c->in_alloc ? c->in_alloc * 2 : HTTPD_IN_INITIAL;
    if (alloc > cap)
        alloc = cap;
    p = realloc(c->in, alloc);
    if (!p)
        return -ENOMEM;
    c->in = p;
    c->in_alloc = alloc;
    return 0;
}

/*
 * Closing right after an error reply while the client is still sending
 * makes the kernel send RST, and the client may lose the reply. So: stop
 * writing, read and discard until the client closes or the timeout.
 */
static bool conn_start_linger(struct conn *c)
{
    shutdown(c->fd, SHUT_WR);
    c->in_len = 0;
    if (conn_arm(c, false) < 0) {
        conn_free(c);
        return false;
    }
    return true;
}

static void conn_drain_linger(struct conn *c)
{
    char sink[4096];
    ssize_t n;

    while ((n = read(c->fd, sink, sizeof(sink))) > 0)
        ;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        conn_free(c);
}

/* Reads and serves what arrived. Returns whether c still exists. */
static bool conn_on_read(struct conn *c)
{
    bool eof = false;
    int r;

    for (;;) {
        ssize_t n;

        if (c->in_len == c->in_alloc && conn_grow(c) < 0)
            goto close;
        if (c->in_len == c->in_alloc)
            break; /* full at the cap: conn_process answers 431 or 413 */
        n = read(c->fd, c->in + c->in_len, c->in_alloc - c->in_len);
        if (n > 0) {
            c->in_len += (size_t)n;
            if (c->in_len < c->in_alloc)
                break;
            continue;
        }
        if (n == 0) {
            eof = true; /* answer what came before the FIN, then close */
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        goto close;
    }
    conn_touch(c);
    r = conn_process(c);
    if (r < 0 && c->linger && !eof && c->close_after)
        return conn_start_linger(c);
    if (r < 0)
        goto close;
    if (r == 1) {
        if (eof)
            c->close_after = true;
        if (conn_arm(c, true) < 0)
            goto close;
        return true;
    }
    if (eof)
        goto close;
    return true;
close:
    conn_free(c);
    return false;
}

static void conn_on_write(struct conn *c)
{
    ssize_t n;
    int r;

    do
        n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        conn_free(c);
        return;
    }
    conn_touch(c);
    c->out_off += (size_t)n;
    if (c->out_off < c->out_len)
        return;
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    if (c->close_after) {
        if (c->linger)
            (void)conn_start_linger(c);
        else
            conn_free(c);
        return;
    }
    /* Serve pipelined requests that arrived meanwhile, then read again. */
    r = conn_process(c);
    if (r < 0) {
        conn_free(c);
        return;
    }
    if (conn_arm(c, r == 1) < 0)
        conn_free(c);
}

static void conn_on_event(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    (void)fd;
    if (what & EV_TIMEOUT) {
        c->h->stats.timed_out++;
        conn_free(c);
        return;
    }
    if ((what & EV_READ) && c->linger)
        conn_drain_linger(c);
    else if (what & EV_READ)
        conn_on_read(c);
    else if (what & EV_WRITE)
        conn_on_write(c);
}

static void httpd_on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                            int salen, void *arg)
{
    struct httpd *h = arg;
    struct conn *c;

    (void)lev;
    (void)sa;
    (void)salen;
    h->stats.accepted++;
    if (h->stats.active >= h->lim.max_connections && h->head) {
        h->stats.evicted++;
        conn_free(h->head);
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        evutil_closesocket(fd);
        return;
    }
    c->h = h;
    c->fd = fd;
    h->stats.active++;
    list_append(h, c);
    if (conn_grow(c) < 0) {
        conn_free(c);
        return;
    }
    /*
     * The request usually arrives with the connection: serve it before the
     * first epoll_ctl, so a probe that closes costs accept, read, writev and
     * close. Only a connection that stays is registered with the loop.
     */
    if (conn_on_read(c) && !(c->ev && event_pending(c->ev, EV_READ | EV_WRITE, NULL)) &&
        conn_arm(c, false) < 0)
        conn_free(c);
}

static void httpd_on_resume(evutil_socket_t fd, short what, void *arg)
{
    struct httpd *h = arg;

    (void)fd;
    (void)what;
    if (h->lev)
        evconnlistener_enable(h->lev);
}

/* accept() failed (EMFILE, ENFILE, ENOBUFS): pause instead of spinning. */
static void httpd_on_accept_error(struct evconnlistener *lev, void *arg)
{
    struct httpd *h = arg;

    evconnlistener_disable(lev);
    /* Make room: under descriptor pressure the least recent connection goes. */
    if (h->head) {
        h->stats.evicted++;
        conn_free(h->head);
    }
    clock_arm(h->resume, HTTPD_ACCEPT_PAUSE_MS);
}

/* "host:port", "[v6]:port", ":port" or "localhost:port" to a socket address. */
static int parse_addr(const char *addr, struct sockaddr_storage *ss, int *sslen)
{
    char host[128];
    const char *colon = strrchr(addr, ':');
    char *end;
    long port;
    size_t hlen;

    if (!colon)
        return -EINVAL;
    port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end || port < 0 || port > 65535)
        return -EINVAL;
    hlen = (size_t)(colon - addr);
    if (hlen >= 2 && addr[0] == '[' && addr[hlen - 1] == ']') {
        addr++;
        hlen -= 2;
    }
    if (hlen >= sizeof(host))
        return -EINVAL;
    memcpy(host, addr, hlen);
    host[hlen] = '\0';
    if (hlen == 0)
        strcpy(host, "0.0.0.0");
    else if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    memset(ss, 0, sizeof(*ss));
    if (strchr(host, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
            return -EINVAL;
        *sslen = (int)sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
            return -EINVAL;
        *sslen = (int)sizeof(*s4);
    }
    return 0;
}

void httpd_set_limits(struct httpd *h, const struct httpd_limits *lim)
{
    h->lim = *lim;
    if (h->lim.max_connections == 0)
        h->lim.max_connections = 1;
    if (h->lim.max_head_bytes < 256)
        h->lim.max_head_bytes = 256;
    if (h->lim.timeout_ms == 0)
        h->lim.timeout_ms = 5000;
    h->scratch.max = lim->max_response_bytes ? lim->max_response_bytes : 1 << 20;
}

int httpd_new(struct event_base *base, const char *addr, const struct httpd_limits *lim,
              httpd_handler_fn *handler, void *arg, struct httpd **ret)
{
    struct sockaddr_storage ss;
    int sslen, r;
    struct httpd *h;

    r = parse_addr(addr, &ss, &sslen);
    if (r < 0)
        return r;
    h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->base = base;
    h->handler = handler;
    h->arg = arg;
    buf_init(&h->scratch, 1 << 20);
    httpd_set_limits(h, lim);
    h->resume = evtimer_new(base, httpd_on_resume, h);
    if (!h->resume) {
        r = -ENOMEM;
        goto fail;
    }
    h->lev = evconnlistener_new_bind(
        base, httpd_on_accept, h, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
        (int)(lim->backlog ? lim->backlog : 128), (struct sockaddr *)&ss, sslen);
    if (!h->lev) {
        r = errno ? -errno : -EADDRNOTAVAIL;
        goto fail;
    }
    evconnlistener_set_error_cb(h->lev, httpd_on_accept_error);
    {
        struct sockaddr_storage bound;
        socklen_t blen = sizeof(bound);
        evutil_socket_t fd = evconnlistener_get_fd(h->lev);

        if (getsockname(fd, (struct sockaddr *)&bound, &blen) == 0) {
            if (bound.ss_family == AF_INET)
                h->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
            else if (bound.ss_family == AF_INET6)
                h->port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
        }
    }
    *ret = h;
    return 0;
fail:
    httpd_free(h);
    return r;
}

void httpd_stop_accepting(struct httpd *h)
{
    if (h && h->lev) {
        evconnlistener_free(h->lev);
        h->lev = NULL;
    }
}

struct httpd *httpd_free(struct httpd *h)
{
    if (!h)
        return NULL;
    httpd_stop_accepting(h);
    while (h->head)
        conn_free(h->head);
    if (h->resume)
        event_free(h->resume);
    buf_done(&h->scratch);
    free(h);
    return NULL;
}

int httpd_port(const struct httpd *h)
{
    return h->port;
}

const struct httpd_stats *httpd_stats_get(const struct httpd *h)
{
    return &h->stats;
}

unsigned httpd_pending_writes(const struct httpd *h)
{
    return h->pending_writes;
}
