/*
 * upstream — the fake HTTP app of the unit tests (see upstream.h).
 *
 * Owns one evhttp server, the route table and every reply it has not sent
 * yet (delayed or to be dropped). Never sleeps: delays are evtimers on the
 * caller's loop, so the code under test runs while a reply is pending.
 */
#include "upstream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#define UPSTREAM_PATH_MAX 128
#define UPSTREAM_MAX_HEADERS 32
#define UPSTREAM_BODY_MAX 4096

struct upstream_rt {
    char path[UPSTREAM_PATH_MAX];
    int status;
    size_t body_size;
    uint32_t delay_ms;
    bool close;
    char hname[64], hvalue[256];
    bool has_text;
    char text[UPSTREAM_BODY_MAX]; /* a body given verbatim, instead of body_size 'x's */
    const char *big_text;         /* a borrowed body of any size (upstream_route_big) */
    unsigned count;
};

struct upstream_pending {
    struct upstream *u;
    struct evhttp_request *req;
    struct event *ev;
    struct upstream_rt rt; /* what to do, as it was when the request came */
    struct upstream_pending *prev, *next;
};

struct upstream {
    struct event_base *base;
    struct evhttp *http;
    uint16_t port;
    struct upstream_rt routes[UPSTREAM_MAX_ROUTES];
    unsigned nroutes;
    unsigned total;
    unsigned nheaders;
    char hdr_name[UPSTREAM_MAX_HEADERS][64];
    char hdr_value[UPSTREAM_MAX_HEADERS][256];
    char method[16];
    char body[UPSTREAM_BODY_MAX + 1];
    size_t body_len;
    struct upstream_pending *pending;
};

static struct upstream_rt *upstream_find(const struct upstream *u, const char *path)
{
    for (unsigned i = 0; i < u->nroutes; i++)
        if (strcmp(u->routes[i].path, path) == 0)
            return (struct upstream_rt *)&u->routes[i];
    return NULL;
}

static struct upstream_rt *upstream_get(struct upstream *u, const char *path)
{
    struct upstream_rt *rt = upstream_find(u, path);

    if (rt)
        return rt;
    if (u->nroutes == UPSTREAM_MAX_ROUTES || strlen(path) >= UPSTREAM_PATH_MAX)
        abort(); /* a test bug */
    rt = &u->routes[u->nroutes++];
    memset(rt, 0, sizeof *rt);
    snprintf(rt->path, sizeof rt->path, "%s", path);
    rt->status = 200;
    return rt;
}

static void upstream_reply(const struct upstream_rt *rt, struct evhttp_request *req)
{
    char chunk[4096];
    struct evbuffer *b;
    size_t left = rt->body_size;

    memset(chunk, 'x', sizeof chunk);

    if (rt->close) {
        struct evhttp_connection *c = evhttp_request_get_connection(req);

        if (c)
            evhttp_connection_free(c); /* frees req as well */
        else
            evhttp_request_free(req);
        return;
    }
    b = evbuffer_new();
    if (!b)
        abort();
    if (rt->big_text)
        evbuffer_add(b, rt->big_text, strlen(rt->big_text));
    else if (rt->has_text)
        evbuffer_add(b, rt->text, strlen(rt->text));
    while (!rt->has_text && left) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;

        evbuffer_add(b, chunk, n);
        left -= n;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
    if (rt->hname[0])
        evhttp_add_header(evhttp_request_get_output_headers(req), rt->hname, rt->hvalue);
    evhttp_send_reply(req, rt->status, "Fake", b);
    evbuffer_free(b);
}

static void upstream_pending_unlink(struct upstream_pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        p->u->pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
    event_free(p->ev);
}

static void upstream_pending_cb(evutil_socket_t fd, short what, void *arg)
{
    struct upstream_pending *p = arg;

    (void)fd;
    (void)what;
    upstream_pending_unlink(p);
    upstream_reply(&p->rt, p->req);
    free(p);
}

static const char *upstream_method(struct evhttp_request *req)
{
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    default:
        return "?";
    }
}

static void upstream_request_cb(struct evhttp_request *req, void *arg)
{
    struct upstream *u = arg;
    struct evkeyvalq *hdrs = evhttp_request_get_input_headers(req);
    struct evkeyval *kv;
    const char *uri = evhttp_request_get_uri(req);
    char path[UPSTREAM_PATH_MAX];
    struct upstream_rt nf = {.status = 404};
    struct upstream_rt *rt;
    struct upstream_pending *p;
    size_t n = strcspn(uri, "?");
    ev_ssize_t got;
    struct timeval tv;

    snprintf(path, sizeof path, "%.*s", (int)n, uri);
    u->total++;
    snprintf(u->method, sizeof u->method, "%s", upstream_method(req));
    got = evbuffer_copyout(evhttp_request_get_input_buffer(req), u->body, UPSTREAM_BODY_MAX);
    u->body_len = got > 0 ? (size_t)got : 0;
    u->body[u->body_len] = '\0';
    u->nheaders = 0;
    for (kv = hdrs->tqh_first; kv; kv = kv->next.tqe_next) {
        if (u->nheaders == UPSTREAM_MAX_HEADERS)
            break;
        snprintf(u->hdr_name[u->nheaders], sizeof u->hdr_name[0], "%s", kv->key);
        snprintf(u->hdr_value[u->nheaders], sizeof u->hdr_value[0], "%s", kv->value);
        u->nheaders++;
    }
    rt = upstream_find(u, path);
    if (rt)
        rt->count++;
    else
        rt = &nf;
    if (rt->delay_ms == 0 && !rt->close) {
        upstream_reply(rt, req);
        return;
    }
    /* delayed, or dropped: never free a connection inside its own request callback */
    p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->u = u;
    p->req = req;
    p->rt = *rt;
    p->ev = evtimer_new(u->base, upstream_pending_cb, p);
    if (!p->ev)
        abort();
    p->next = u->pending;
    if (u->pending)
        u->pending->prev = p;
    u->pending = p;
    tv.tv_sec = rt->delay_ms / 1000;
    tv.tv_usec = (rt->delay_ms % 1000) * 1000;
    evtimer_add(p->ev, &tv);
}

int upstream_new(struct event_base *base, struct upstream **ret)
{
    struct upstream *u = calloc(1, sizeof *u);
    struct evhttp_bound_socket *bs;
    struct sockaddr_in sin;
    socklen_t slen = sizeof sin;

    if (!u)
        return -ENOMEM;
    u->base = base;
    u->http = evhttp_new(base);
    if (!u->http)
        goto fail;
    evhttp_set_allowed_methods(u->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD | EVHTTP_REQ_DELETE);
    evhttp_set_gencb(u->http, upstream_request_cb, u);
    bs = evhttp_bind_socket_with_handle(u->http, "127.0.0.1", 0);
    if (!bs)
        goto fail;
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &slen) < 0)
        goto fail;
    u->port = ntohs(sin.sin_port);
    *ret = u;
    return 0;
fail:
    upstream_free(u);
    return -EIO;
}

struct upstream *upstream_free(struct upstream *u)
{
    struct upstream_pending *p;

    if (!u)
        return NULL;
    while ((p = u->pending)) {
        struct evhttp_connection *c = evhttp_request_get_connection(p->req);

        upstream_pending_unlink(p);
        if (c)
            evhttp_connection_free(c);
        else
            evhttp_request_free(p->req);
        free(p);
    }
    if (u->http)
        evhttp_free(u->http);
    free(u);
    return NULL;
}

uint16_t upstream_port(const struct upstream *u)
{
    return u->port;
}

char *upstream_url(const struct upstream *u, const char *path, char *buf, size_t len)
{
    snprintf(buf, len, "http://127.0.0.1:%u%s", (unsigned)u->port, path);
    return buf;
}

void upstream_route(struct upstream *u, const char *path, int status, size_t body_size,
                    uint32_t delay_ms)
{
    struct upstream_rt *rt = upstream_get(u, path);

    rt->status = status;
    rt->body_size = body_size;
    rt->delay_ms = delay_ms;
    rt->close = false;
    rt->has_text = false;
    rt->big_text = NULL;
    rt->hname[0] = rt->hvalue[0] = '\0';
}

void upstream_route_big(struct upstream *u, const char *path, int status, const char *text)
{
    upstream_route(u, path, status, 0, 0);
    upstream_get(u, path)->big_text = text;
    upstream_get(u, path)->has_text = true;
}

void upstream_route_text(struct upstream *u, const char *path, int status, const char *text)
{
    struct upstream_rt *rt;

    upstream_route(u, path, status, 0, 0);
    rt = upstream_get(u, path);
    if (strlen(text) >= sizeof(rt->text))
        abort(); /* a test bug */
    strcpy(rt->text, text);
    rt->has_text = true;
}

void upstream_route_close(struct upstream *u, const char *path)
{
    upstream_get(u, path)->close = true;
}

void upstream_route_header(struct upstream *u, const char *path, const char *name,
                           const char *value)
{
    struct upstream_rt *rt = upstream_get(u, path);

    snprintf(rt->hname, sizeof rt->hname, "%s", name);
    snprintf(rt->hvalue, sizeof rt->hvalue, "%s", value);
}

unsigned upstream_count(const struct upstream *u, const char *path)
{
    const struct upstream_rt *rt = upstream_find(u, path);

    return rt ? rt->count : 0;
}

unsigned upstream_total(const struct upstream *u)
{
    return u->total;
}

const char *upstream_last_header(const struct upstream *u, const char *name)
{
    for (unsigned i = 0; i < u->nheaders; i++)
        if (strcasecmp(u->hdr_name[i], name) == 0)
            return u->hdr_value[i];
    return NULL;
}

const char *upstream_last_method(const struct upstream *u)
{
    return u->method;
}

const char *upstream_last_body(const struct upstream *u, size_t *len)
{
    if (len)
        *len = u->body_len;
    return u->body;
}

int upstream_closed_port(uint16_t *ret)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t slen = sizeof sin;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int rc = 0;

    if (fd < 0)
        return -errno;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &slen) < 0)
        rc = -errno;
    close(fd);
    if (rc == 0)
        *ret = ntohs(sin.sin_port);
    return rc;
}

static void upstream_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    *(bool *)arg = true;
}

bool upstream_loop_until(struct event_base *base, upstream_pred_fn *pred, void *arg,
                         unsigned timeout_ms)
{
    bool fired = false, ok;
    struct event *wd = evtimer_new(base, upstream_watchdog_cb, &fired);
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};

    if (!wd)
        abort();
    evtimer_add(wd, &tv);
    while (!(pred && pred(arg)) && !fired)
        event_base_loop(base, EVLOOP_ONCE);
    ok = pred ? pred(arg) : true;
    event_free(wd);
    return ok;
}
