/*
 * Loopback tests for sidecar/http/httpd.c: a real listener on 127.0.0.1:0,
 * the loop in the test's main thread, a blocking client in a second
 * thread. The client signals the loop through a pipe when it is done.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>

Suite *httpd_suite(void);

#include "sidecar/http/httpd.h"

struct fixture {
    struct event_base *base;
    struct httpd *h;
    int port;
    int done_pipe[2];
    struct event *done_ev, *watchdog;
    void (*client)(struct fixture *f);
    unsigned handled;
};

static void handler(const struct httpd_req *req, struct httpd_resp *resp, void *arg)
{
    struct fixture *f = arg;

    f->handled++;
    if (req->head->path_len == 6 && !memcmp(req->head->path, "/hello", 6)) {
        resp->status = 200;
        resp->content_type = "text/plain; charset=utf-8";
        buf_puts(resp->body, "hello\n");
    } else if (req->head->path_len == 4 && !memcmp(req->head->path, "/big", 4)) {
        resp->status = 200;
        for (int i = 0; i < 20000; i++)
            buf_puts(resp->body, "0123456789abcdef0123456789abcdef\n");
    } else {
        resp->status = 404;
        buf_puts(resp->body, "nope\n");
    }
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopexit(((struct fixture *)arg)->base, NULL);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    ck_abort_msg("watchdog: the test did not finish in time");
}

static void *client_main(void *arg)
{
    struct fixture *f = arg;
    char c = 1;

    f->client(f);
    if (write(f->done_pipe[1], &c, 1) != 1)
        abort();
    return NULL;
}

static int client_connect(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {.tv_sec = 3};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void send_all(int fd, const char *s)
{
    size_t len = strlen(s), off = 0;

    while (off < len) {
        ssize_t n = write(fd, s + off, len - off);
        ck_assert_int_gt((int)n, 0);
        off += (size_t)n;
    }
}

/* Reads until want bytes of reply text were seen or the peer closed; returns bytes read. */
static size_t recv_until(int fd, char *buf, size_t size, const char *want, bool *closed)
{
    size_t len = 0;

    *closed = false;
    while (len + 1 < size) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n == 0) {
            *closed = true;
            break;
        }
        if (n < 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        if (want && strstr(buf, want))
            break;
    }
    buf[len] = '\0';
    return len;
}

static void run(void (*client)(struct fixture *f), const struct httpd_limits *lim_in)
{
    struct fixture f = {0};
    struct httpd_limits lim = {
        .max_connections = 16, .timeout_ms = 2000, .max_head_bytes = 8192, .backlog = 16};
    struct timeval wd = {.tv_sec = 8};
    pthread_t t;

    if (lim_in)
        lim = *lim_in;
    f.client = client;
    f.base = event_base_new();
    ck_assert_ptr_nonnull(f.base);
    ck_assert_int_eq(httpd_new(f.base, "127.0.0.1:0", &lim, handler, &f, &f.h), 0);
    f.port = httpd_port(f.h);
    ck_assert_int_gt(f.port, 0);
    ck_assert_int_eq(pipe(f.done_pipe), 0);
    f.done_ev = event_new(f.base, f.done_pipe[0], EV_READ, on_done, &f);
    f.watchdog = evtimer_new(f.base, on_watchdog, &f);
    event_add(f.done_ev, NULL);
    evtimer_add(f.watchdog, &wd);
    ck_assert_int_eq(pthread_create(&t, NULL, client_main, &f), 0);
    event_base_dispatch(f.base);
    pthread_join(t, NULL);
    event_free(f.done_ev);
    event_free(f.watchdog);
    httpd_free(f.h);
    event_base_free(f.base);
    close(f.done_pipe[0]);
    close(f.done_pipe[1]);
}

static void client_close(struct fixture *f)
{
    char buf[4096];
    bool closed;
    int fd = client_connect(f->port);

    send_all(fd, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: kube-probe/1.32\r\n"
                 "Accept: */*\r\nConnection: close\r\n\r\n");
    recv_until(fd, buf, sizeof(buf), NULL, &closed);
    ck_assert(closed);
    ck_assert_msg(!strncmp(buf, "HTTP/1.1 200 OK\r\n", 17), "%s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "Content-Length: 6\r\n"));
    ck_assert_ptr_nonnull(strstr(buf, "Connection: close\r\n"));
    ck_assert_ptr_nonnull(strstr(buf, "Content-Type: text/plain; charset=utf-8\r\n"));
    ck_assert_ptr_nonnull(strstr(buf, "\r\n\r\nhello\n"));
    close(fd);
}

START_TEST(test_connection_close)
{
    run(client_close, NULL);
}
END_TEST

static void client_keepalive(struct fixture *f)
{
    char buf[4096];
    bool closed;
    int fd = client_connect(f->port);

    send_all(fd, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    recv_until(fd, buf, sizeof(buf), "hello\n", &closed);
    ck_assert(!closed);
    ck_assert_ptr_nonnull(strstr(buf, "Connection: keep-alive\r\n"));
    /* Two pipelined requests in one write. */
    send_all(fd, "GET /nope HTTP/1.1\r\nHost: a\r\n\r\nHEAD /hello HTTP/1.1\r\nHost: a\r\n"
                 "Connection: close\r\n\r\n");
    recv_until(fd, buf, sizeof(buf), NULL, &closed);
    ck_assert(closed);
    ck_assert_msg(!strncmp(buf, "HTTP/1.1 404 Not Found\r\n", 24), "%s", buf);
    {
        const char *second = strstr(buf + 1, "HTTP/1.1 200 OK\r\n");
        ck_assert_ptr_nonnull(second);
        ck_assert_ptr_nonnull(strstr(second, "Content-Length: 6\r\n"));
        /* HEAD: the head ends the reply, no body follows. */
        ck_assert_str_eq(strstr(second, "\r\n\r\n"), "\r\n\r\n");
    }
    close(fd);
}

START_TEST(test_keepalive_pipelined_head)
{
    run(client_keepalive, NULL);
}
END_TEST

static void client_body_refused(struct fixture *f)
{
    char buf[4096];
    bool closed;
    int fd = client_connect(f->port);

    send_all(fd, "GET /hello HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
    recv_until(fd, buf, sizeof(buf), NULL, &closed);
    ck_assert(closed);
    ck_assert_msg(!strncmp(buf, "HTTP/1.1 413 ", 13), "%s", buf);
    close(fd);
    fd = client_connect(f->port);
    send_all(fd, "POST /hello HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    recv_until(fd, buf, sizeof(buf), NULL, &closed);
    ck_assert(closed);
    ck_assert_msg(!strncmp(buf, "HTTP/1.1 413 ", 13), "%s", buf);
    close(fd);
}

START_TEST(test_body_refused)
{
    run(client_body_refused, NULL);
}
END_TEST

static void client_big_head(struct fixture *f)
{
    static char req[20000];
    char buf[4096];
    bool closed;
    int fd = client_connect(f->port);
    int n = snprintf(req, sizeof(req), "GET /hello HTTP/1.1\r\nHost: a\r\nX-Big: ");

    memset(req + n, 'a', 10000);
    strcpy(req + n + 10000, "\r\n\r\n");
    send_all(fd, req);
    recv_until(fd, buf, sizeof(buf), NULL, &closed);
    ck_assert(closed);
    ck_assert_msg(!strncmp(buf, "HTTP/1.1 431 ", 13), "%s", buf);
    close(fd);
    /* The server goes on serving. */
    client_close(f);
}

START_TEST(test_big_head)
{
    run(client_big_head, NULL);
}
END_TEST

static void client_eviction(struct fixture *f)
{
    char buf[4096];
    bool closed;
    int idle[3];

    for (int i = 0; i < 3; i++) {
        idle[i] = client_connect(f->port);
        send_all(idle[i], "GET /hel"); /* a slow client that never finishes */
        usleep(20000);
    }
    /* At max_connections 2 the oldest was closed to admit the third. */
    recv_until(idle[0], buf, sizeof(buf), NULL, &closed);
    ck_assert(closed);
    client_close(f); /* and a probe still gets its answer */
    for (int i = 0; i < 3; i++)
        close(idle[i]);
}

START_TEST(test_eviction_at_max_connections)
{
    struct httpd_limits lim = {
        .max_connections = 2, .timeout_ms = 5000, .max_head_bytes = 8192, .backlog = 16};
    run(client_eviction, &lim);
}
END_TEST

static void client_idle_timeout(struct fixture *f)
{
    char buf[64];
    bool closed;
    int fd = client_connect(f->port);

    recv_until(fd, buf, sizeof(buf), NULL, &closed);
    ck_assert(closed); /* closed by the server's timeout, before the 3 s receive timeout */
    close(fd);
}

START_TEST(test_idle_timeout)
{
    struct httpd_limits lim = {
        .max_connections = 4, .timeout_ms = 200, .max_head_bytes = 8192, .backlog = 16};
    run(client_idle_timeout, &lim);
}
END_TEST

static void client_half_close(struct fixture *f)
{
    char buf[4096];
    bool closed;
    int fd = client_connect(f->port);

    send_all(fd, "GET /hello HTTP/1.0\r\n\r\n");
    shutdown(fd, SHUT_WR);
    recv_until(fd, buf, sizeof(buf), NULL, &closed);
    ck_assert(closed);
    ck_assert_msg(!strncmp(buf, "HTTP/1.1 200 OK\r\n", 17), "%s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "hello\n"));
    close(fd);
}

START_TEST(test_half_close)
{
    run(client_half_close, NULL);
}
END_TEST

static void client_big_reply(struct fixture *f)
{
    static char buf[1 << 20];
    bool closed;
    int fd = client_connect(f->port);
    size_t n;

    send_all(fd, "GET /big HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    usleep(100000); /* let the socket buffer fill so the server must queue the rest */
    n = recv_until(fd, buf, sizeof(buf), NULL, &closed);
    ck_assert(closed);
    ck_assert_ptr_nonnull(strstr(buf, "Content-Length: 660000\r\n"));
    ck_assert_uint_eq(n, (size_t)(strstr(buf, "\r\n\r\n") - buf) + 4 + 660000);
    close(fd);
}

START_TEST(test_big_reply_partial_writes)
{
    run(client_big_reply, NULL);
}
END_TEST

Suite *httpd_suite(void)
{
    Suite *s = suite_create("httpd");
    TCase *tc = tcase_create("loopback");

    tcase_set_timeout(tc, 15);
    tcase_add_test(tc, test_connection_close);
    tcase_add_test(tc, test_keepalive_pipelined_head);
    tcase_add_test(tc, test_body_refused);
    tcase_add_test(tc, test_big_head);
    tcase_add_test(tc, test_eviction_at_max_connections);
    tcase_add_test(tc, test_idle_timeout);
    tcase_add_test(tc, test_half_close);
    tcase_add_test(tc, test_big_reply_partial_writes);
    suite_add_tcase(s, tc);
    return s;
}
