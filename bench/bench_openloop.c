/*
 * bench_openloop — an open-loop, fixed-rate HTTP/1.1 GET load generator.
 *
 *   build/bench_openloop --port P [--host 127.0.0.1] [--path /health]
 *                        [--rate R] [--duration S] [--keepalive N]
 *                        [--timeout MS] [--max-inflight N]
 *
 * Request i is due at start + i/R. Its latency is measured from that due
 * time, not from when it was actually sent, so a stalled server (or a late
 * client) shows up in the tail instead of silently lowering the offered load
 * (no coordinated omission). Without --keepalive every request opens a new
 * connection and sends `Connection: close`, as the kubelet's HTTP prober
 * does; with --keepalive N, N persistent connections take the due requests in
 * order, and a request waiting for a free connection keeps its due time.
 *
 * A request fails when the connection fails, the reply is malformed, or no
 * complete reply came within --timeout of its due time. Latencies are of the
 * complete replies (any status); non-2xx replies and failures are counted.
 * Prints one JSON object on stdout. Owns only its own sockets; never links
 * anything but libc. Run without arguments it prints its usage and exits 0,
 * so that a plain `make bench` loop passes over it (bench/serve.py drives it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define OL_BUF 8192 /* reply head + body we keep; the rest is skipped */
#define OL_MAX_REQUESTS 50000000UL
#define OL_TIMER_TAG UINT32_MAX

enum ol_state { OL_FREE, OL_CONNECTING, OL_SENDING, OL_READING, OL_DRAINING, OL_IDLE };

struct ol_conn {
    int fd;
    enum ol_state state;
    bool has_req;         /* a request is outstanding on this connection */
    int status;           /* reply status once the head is parsed */
    uint64_t due_ns;      /* due time of the request on this connection */
    uint64_t deadline_ns; /* failure time (request) or give-up time (draining) */
    size_t sent;
    size_t got;  /* bytes of the reply read so far */
    size_t need; /* total reply bytes once the head is parsed, else 0 */
    char buf[OL_BUF];
};

struct ol {
    /* options */
    struct sockaddr_in addr;
    char req[512];
    size_t req_len;
    double rate;
    double duration;
    unsigned keepalive; /* 0: a connection per request */
    uint64_t timeout_ns;
    unsigned max_inflight;
    /* run */
    int ep, tfd;
    struct ol_conn *conns;
    unsigned nconns;
    unsigned *free_list;
    unsigned nfree;
    unsigned hw;       /* slots [0, hw) have been used */
    unsigned rr;       /* keep-alive: the next connection to try first */
    uint64_t inflight; /* requests sent or being sent, not yet done */
    uint64_t start_ns;
    uint64_t total;  /* requests to send */
    uint64_t next;   /* index of the next due request */
    uint64_t *queue; /* keep-alive: due times waiting for a connection */
    uint64_t qhead, qtail;
    /* results */
    uint64_t *lat;
    uint64_t nlat;
    uint64_t ok2xx, non2xx, conn_err, bad_reply, timeouts, overflow, closed_early;
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t due_of(const struct ol *o, uint64_t i)
{
    return o->start_ns + (uint64_t)((double)i * 1e9 / o->rate);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_openloop --port P [--host ADDR] [--path PATH] [--rate R]\n"
               "       [--duration S] [--keepalive N] [--timeout MS] [--max-inflight N]\n"
               "Open-loop fixed-rate HTTP GET load; latency from each request's due time.\n"
               "Prints one JSON object. Driven by bench/serve.py.\n");
}

static int ctl(struct ol *o, int op, unsigned idx, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u32 = idx};

    return epoll_ctl(o->ep, op, o->conns[idx].fd, &ev);
}

static void conn_close(struct ol *o, unsigned idx)
{
    struct ol_conn *c = &o->conns[idx];

    if (c->fd >= 0) {
        epoll_ctl(o->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    if (c->has_req) {
        c->has_req = false;
        o->inflight--;
    }
    c->fd = -1;
    c->state = OL_FREE;
    if (!o->keepalive)
        o->free_list[o->nfree++] = idx;
}

/* Opens a non-blocking connection on slot idx. Returns 0 or -1. */
static int conn_open(struct ol *o, unsigned idx)
{
    struct ol_conn *c = &o->conns[idx];
    int one = 1;

    if (idx + 1 > o->hw)
        o->hw = idx + 1;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->state = OL_CONNECTING;
    if (connect(c->fd, (struct sockaddr *)&o->addr, sizeof(o->addr)) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        c->state = OL_FREE;
        return -1;
    }
    if (ctl(o, EPOLL_CTL_ADD, idx, EPOLLOUT) < 0) {
        close(c->fd);
        c->fd = -1;
        c->state = OL_FREE;
        return -1;
    }
    return 0;
}

static void begin_request(struct ol *o, unsigned idx, uint64_t due)
{
    struct ol_conn *c = &o->conns[idx];

    c->has_req = true;
    o->inflight++;
    c->status = 0;
    c->due_ns = due;
    c->deadline_ns = due + o->timeout_ns;
    c->sent = 0;
    c->got = 0;
    c->need = 0;
}

/* Writes what is left of the request; moves to READING when all is sent. */
static void conn_send(struct ol *o, unsigned idx)
{
    struct ol_conn *c = &o->conns[idx];

    while (c->sent < o->req_len) {
        ssize_t n = send(c->fd, o->req + c->sent, o->req_len - c->sent, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c->state = OL_SENDING;
                ctl(o, EPOLL_CTL_MOD, idx, EPOLLOUT);
                return;
            }
            o->conn_err++;
            conn_close(o, idx);
            return;
        }
        c->sent += (size_t)n;
    }
    c->state = OL_READING;
    ctl(o, EPOLL_CTL_MOD, idx, EPOLLIN | EPOLLRDHUP);
}

/* Parses the reply head in c->buf: sets c->need and *status. Returns 1 when the
 * head is complete, 0 when more bytes are needed, -1 when it is malformed. */
static int parse_head(struct ol_conn *c, int *status)
{
    const char *end = memmem(c->buf, c->got, "\r\n\r\n", 4);
    const char *p;
    size_t hlen, clen = 0;
    bool have_len = false;

    if (!end)
        return c->got >= OL_BUF ? -1 : 0;
    hlen = (size_t)(end - c->buf) + 4;
    if (c->got < 12 || memcmp(c->buf, "HTTP/1.", 7) != 0)
        return -1;
    *status = atoi(c->buf + 9);
    for (p = c->buf; p < end; p++) {
        if ((*p == '\n') && strncasecmp(p + 1, "content-length:", 15) == 0) {
            clen = strtoul(p + 16, NULL, 10);
            have_len = true;
            break;
        }
    }
    if (!have_len)
        return -1; /* both peers always send Content-Length */
    c->need = hlen + clen;
    return 1;
}

static void next_on_idle(struct ol *o, unsigned idx);

static void finish(struct ol *o, unsigned idx, int status, uint64_t t)
{
    struct ol_conn *c = &o->conns[idx];

    c->has_req = false;
    o->inflight--;
    o->lat[o->nlat++] = t - c->due_ns;
    if (status >= 200 && status < 300)
        o->ok2xx++;
    else
        o->non2xx++;
    if (o->keepalive) {
        c->state = OL_IDLE;
        ctl(o, EPOLL_CTL_MOD, idx, EPOLLIN | EPOLLRDHUP);
        next_on_idle(o, idx);
    } else {
        /* Let the server close first (it sends Connection: close), so the
         * TIME_WAIT stays on its side as it does with the kubelet. */
        c->state = OL_DRAINING;
        c->deadline_ns = t + 1000000000ULL;
    }
}

static void conn_read(struct ol *o, unsigned idx)
{
    struct ol_conn *c = &o->conns[idx];
    char skip[16384];

    for (;;) {
        char *dst = c->got < OL_BUF ? c->buf + c->got : skip;
        size_t room = c->got < OL_BUF ? OL_BUF - c->got : sizeof(skip);
        ssize_t n = recv(c->fd, dst, room, 0);

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            if (c->state == OL_DRAINING) {
                conn_close(o, idx);
            } else if (c->state == OL_IDLE) {
                /* keep-alive connection closed by the server while idle */
                o->closed_early++;
                conn_close(o, idx);
                if (conn_open(o, idx) < 0)
                    o->conn_err++;
            } else {
                o->conn_err++;
                conn_close(o, idx);
                if (o->keepalive && conn_open(o, idx) < 0)
                    o->conn_err++;
            }
            return;
        }
        if (c->state != OL_READING)
            continue; /* draining, or stray bytes on an idle connection */
        c->got += (size_t)n;
        if (!c->need) {
            int r = parse_head(c, &c->status);

            if (r < 0) {
                o->bad_reply++;
                conn_close(o, idx);
                if (o->keepalive && conn_open(o, idx) < 0)
                    o->conn_err++;
                return;
            }
            if (r == 0)
                continue;
        }
        if (c->got >= c->need) {
            finish(o, idx, c->status, now_ns());
            return;
        }
    }
}

/* Keep-alive: hands the oldest waiting request to the idle connection idx. */
static void next_on_idle(struct ol *o, unsigned idx)
{
    struct ol_conn *c = &o->conns[idx];

    if (c->state != OL_IDLE || o->qhead == o->qtail)
        return;
    begin_request(o, idx, o->queue[o->qhead++]);
    conn_send(o, idx);
}

static void fail_request(struct ol *o, unsigned idx)
{
    o->timeouts++;
    conn_close(o, idx);
    if (o->keepalive && conn_open(o, idx) < 0)
        o->conn_err++;
}

/* A request whose connection could not even be opened: give the slot back. */
static void slot_release(struct ol *o, unsigned idx)
{
    o->conns[idx].has_req = false;
    o->inflight--;
    o->free_list[o->nfree++] = idx;
}

/* Starts every request that is due by t. */
static void start_due(struct ol *o, uint64_t t)
{
    while (o->next < o->total && due_of(o, o->next) <= t) {
        uint64_t due = due_of(o, o->next++);

        if (o->keepalive) {
            o->queue[o->qtail++] = due;
            continue;
        }
        if (!o->nfree) {
            o->overflow++;
            continue;
        }
        {
            unsigned idx = o->free_list[--o->nfree];

            begin_request(o, idx, due);
            if (conn_open(o, idx) < 0) {
                o->conn_err++;
                slot_release(o, idx);
            }
        }
    }
    if (o->keepalive) {
        unsigned i;

        /* round robin, so that every connection is used often and none sits idle
         * long enough for the server's idle timeout to close it under a request */
        for (i = 0; i < o->nconns && o->qhead != o->qtail; i++) {
            unsigned idx = (o->rr + i) % o->nconns;

            if (o->conns[idx].state == OL_IDLE) {
                next_on_idle(o, idx);
                o->rr = (idx + 1) % o->nconns;
            }
        }
    }
}

/* Fails requests past their deadline; gives up on slow-closing connections. */
static void sweep(struct ol *o, uint64_t t)
{
    unsigned i;

    for (i = 0; i < o->hw; i++) {
        struct ol_conn *c = &o->conns[i];

        if (c->state == OL_FREE || c->state == OL_IDLE)
            continue;
        if (!c->has_req && c->state != OL_DRAINING)
            continue; /* a keep-alive connection being (re)opened */
        if (t < c->deadline_ns)
            continue;
        if (c->state == OL_DRAINING)
            conn_close(o, i);
        else
            fail_request(o, i);
    }
    if (o->keepalive) {
        /* a queued request can time out before it gets a connection */
        while (o->qhead != o->qtail && o->queue[o->qhead] + o->timeout_ns <= t) {
            o->qhead++;
            o->timeouts++;
        }
    }
}

static void on_event(struct ol *o, unsigned idx, uint32_t ev)
{
    struct ol_conn *c = &o->conns[idx];

    if (c->fd < 0)
        return;
    if (c->state == OL_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
            o->conn_err++;
            conn_close(o, idx);
            if (o->keepalive && conn_open(o, idx) < 0)
                o->conn_err++;
            return;
        }
        if (!c->has_req) {
            c->state = OL_IDLE;
            ctl(o, EPOLL_CTL_MOD, idx, EPOLLIN | EPOLLRDHUP);
            next_on_idle(o, idx);
            return;
        }
        conn_send(o, idx);
        return;
    }
    if (c->state == OL_SENDING && (ev & EPOLLOUT)) {
        conn_send(o, idx);
        return;
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        conn_read(o, idx);
}

static void arm_timer(struct ol *o, uint64_t at)
{
    struct itimerspec its = {0};

    its.it_value.tv_sec = (time_t)(at / 1000000000ULL);
    its.it_value.tv_nsec = (long)(at % 1000000000ULL);
    if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
        its.it_value.tv_nsec = 1;
    timerfd_settime(o->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static double pct_ms(const struct ol *o, double q)
{
    uint64_t k;

    if (!o->nlat)
        return -1;
    k = (uint64_t)(q * (double)o->nlat);
    if (k >= o->nlat)
        k = o->nlat - 1;
    return (double)o->lat[k] / 1e6;
}

static int run(struct ol *o)
{
    struct epoll_event evs[256];
    uint64_t last_sweep = 0, end_ns;
    unsigned i;

    o->ep = epoll_create1(EPOLL_CLOEXEC);
    o->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (o->ep < 0 || o->tfd < 0)
        return -1;
    {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = OL_TIMER_TAG};

        if (epoll_ctl(o->ep, EPOLL_CTL_ADD, o->tfd, &ev) < 0)
            return -1;
    }
    o->nconns = o->keepalive ? o->keepalive : o->max_inflight;
    o->conns = calloc(o->nconns, sizeof(*o->conns));
    o->free_list = calloc(o->nconns, sizeof(*o->free_list));
    o->lat = calloc(o->total ? o->total : 1, sizeof(*o->lat));
    o->queue = o->keepalive ? calloc(o->total ? o->total : 1, sizeof(*o->queue)) : NULL;
    if (!o->conns || !o->free_list || !o->lat || (o->keepalive && !o->queue))
        return -1;
    for (i = 0; i < o->nconns; i++) {
        o->conns[i].fd = -1;
        o->free_list[o->nfree++] = o->nconns - 1 - i;
    }
    if (o->keepalive) {
        o->nfree = 0;
        for (i = 0; i < o->nconns; i++) {
            if (conn_open(o, i) < 0)
                return -1;
        }
        /* wait until all are connected, up to 2 s */
        {
            uint64_t until = now_ns() + 2000000000ULL;
            unsigned idle = 0;

            while (idle < o->nconns && now_ns() < until) {
                int n = epoll_wait(o->ep, evs, 256, 10), k;

                for (k = 0; k < n; k++)
                    if (evs[k].data.u32 != OL_TIMER_TAG)
                        on_event(o, evs[k].data.u32, evs[k].events);
                for (idle = 0, i = 0; i < o->nconns; i++)
                    idle += o->conns[i].state == OL_IDLE;
            }
        }
    }
    o->start_ns = now_ns() + 1000000; /* first request 1 ms from now */
    end_ns = due_of(o, o->total) + o->timeout_ns + 1000000000ULL;
    for (;;) {
        uint64_t t = now_ns();
        int n, k;

        start_due(o, t);
        if (t - last_sweep >= 2000000ULL || o->next >= o->total) {
            sweep(o, t);
            last_sweep = t;
        }
        if (o->next >= o->total && !o->inflight && o->qhead == o->qtail)
            break;
        if (t > end_ns)
            break;
        if (o->next < o->total) {
            uint64_t at = due_of(o, o->next);

            arm_timer(o, at < t + 2000000ULL ? at : t + 2000000ULL);
        } else {
            arm_timer(o, t + 2000000ULL);
        }
        n = epoll_wait(o->ep, evs, 256, 100);
        for (k = 0; k < n; k++) {
            if (evs[k].data.u32 == OL_TIMER_TAG) {
                uint64_t exp;

                if (read(o->tfd, &exp, sizeof(exp)) < 0) {
                    /* nothing: the timer only wakes the loop */
                }
                continue;
            }
            on_event(o, evs[k].data.u32, evs[k].events);
        }
    }
    for (i = 0; i < o->nconns; i++)
        if (o->conns[i].fd >= 0)
            close(o->conns[i].fd);
    return 0;
}

int main(int argc, char **argv)
{
    struct ol o = {0};
    const char *host = "127.0.0.1", *path = "/health";
    int port = 0, i;
    double timeout_ms = 5000;

    o.rate = 1000;
    o.duration = 10;
    o.max_inflight = 16384;
    if (argc < 2) {
        usage(stdout);
        return 0;
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            usage(stderr);
            return 2;
        }
        i++;
        if (!strcmp(a, "--port"))
            port = atoi(v);
        else if (!strcmp(a, "--host"))
            host = v;
        else if (!strcmp(a, "--path"))
            path = v;
        else if (!strcmp(a, "--rate"))
            o.rate = atof(v);
        else if (!strcmp(a, "--duration"))
            o.duration = atof(v);
        else if (!strcmp(a, "--keepalive"))
            o.keepalive = (unsigned)atoi(v);
        else if (!strcmp(a, "--timeout"))
            timeout_ms = atof(v);
        else if (!strcmp(a, "--max-inflight"))
            o.max_inflight = (unsigned)atoi(v);
        else {
            usage(stderr);
            return 2;
        }
    }
    if (port <= 0 || port > 65535 || o.rate <= 0 || o.duration <= 0 || timeout_ms <= 0 ||
        o.max_inflight < 1 || o.max_inflight > 1000000 || o.keepalive > 100000 ||
        strlen(path) > 256 || strlen(host) > 64 || path[0] != '/') {
        fprintf(stderr, "bench_openloop: bad arguments\n");
        return 2;
    }
    if (o.rate * o.duration > (double)OL_MAX_REQUESTS) {
        fprintf(stderr, "bench_openloop: rate x duration above %lu requests\n", OL_MAX_REQUESTS);
        return 2;
    }
    o.addr.sin_family = AF_INET;
    o.addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &o.addr.sin_addr) != 1) {
        fprintf(stderr, "bench_openloop: --host must be an IPv4 address\n");
        return 2;
    }
    o.req_len = (size_t)snprintf(o.req, sizeof(o.req),
                                 "GET %s HTTP/1.1\r\nHost: %s:%d\r\n"
                                 "User-Agent: kube-probe/1.29\r\nAccept: */*\r\n%s\r\n",
                                 path, host, port, o.keepalive ? "" : "Connection: close\r\n");
    o.timeout_ns = (uint64_t)(timeout_ms * 1e6);
    o.total = (uint64_t)(o.rate * o.duration);
    if (run(&o) < 0) {
        perror("bench_openloop");
        return 1;
    }
    qsort(o.lat, o.nlat, sizeof(*o.lat), cmp_u64);
    printf("{\"mode\":\"%s\",\"connections\":%u,\"rate\":%g,\"duration_s\":%g,"
           "\"timeout_ms\":%g,\"sent\":%llu,\"replies\":%llu,\"ok_2xx\":%llu,"
           "\"non_2xx\":%llu,\"conn_errors\":%llu,\"bad_replies\":%llu,"
           "\"timeouts\":%llu,\"client_overflow\":%llu,\"keepalive_closed\":%llu,"
           "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,"
           "\"max_ms\":%.3f}\n",
           o.keepalive ? "keepalive" : "close", o.keepalive, o.rate, o.duration, timeout_ms,
           (unsigned long long)o.next, (unsigned long long)o.nlat, (unsigned long long)o.ok2xx,
           (unsigned long long)o.non2xx, (unsigned long long)o.conn_err,
           (unsigned long long)o.bad_reply, (unsigned long long)o.timeouts,
           (unsigned long long)o.overflow, (unsigned long long)o.closed_early, pct_ms(&o, 0.50),
           pct_ms(&o, 0.90), pct_ms(&o, 0.99), pct_ms(&o, 0.999),
           o.nlat ? (double)o.lat[o.nlat - 1] / 1e6 : -1.0);
    free(o.conns);
    free(o.free_list);
    free(o.lat);
    free(o.queue);
    return 0;
}
