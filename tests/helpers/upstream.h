/*
 * upstream — a fake HTTP app for tests, on the test's own event loop.
 *
 * An evhttp server on 127.0.0.1 with a kernel-chosen port. Each path can be
 * told what to answer (status, body size, an extra header, a delay before
 * the reply, or closing the connection without a reply); unknown paths get
 * 404. It counts requests per path and keeps the last request's headers.
 * Also holds the loop helper tests use to wait with a watchdog.
 */
#ifndef ROLLGUARD_TEST_UPSTREAM_H
#define ROLLGUARD_TEST_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct upstream;

#define UPSTREAM_MAX_ROUTES 16

/* Listens on 127.0.0.1:0 on base. Returns 0 and *ret, or -errno. */
int upstream_new(struct event_base *base, struct upstream **ret);
/* Drops pending delayed replies and open connections. NULL-safe; returns NULL. */
struct upstream *upstream_free(struct upstream *u);

uint16_t upstream_port(const struct upstream *u);
/* "http://127.0.0.1:PORT" + path into buf; returns buf. */
char *upstream_url(const struct upstream *u, const char *path, char *buf, size_t len);

/*
 * Answer path (exact match, query ignored) with status and body_size bytes
 * of 'x' after delay_ms (0: at once). Replaces earlier settings of the path
 * except its request count. At most UPSTREAM_MAX_ROUTES paths.
 */
void upstream_route(struct upstream *u, const char *path, int status, size_t body_size,
                    uint32_t delay_ms);
/* Answer path with status and exactly text as the body (under 4 KiB). */
void upstream_route_text(struct upstream *u, const char *path, int status, const char *text);
/* Like upstream_route_text for a body of any size; text is borrowed and must outlive u. */
void upstream_route_big(struct upstream *u, const char *path, int status, const char *text);
/* Close the connection without a reply (after the path's delay). */
void upstream_route_close(struct upstream *u, const char *path);
/* Add one response header to path's replies. */
void upstream_route_header(struct upstream *u, const char *path, const char *name,
                           const char *value);

/* Requests received for path (0 if unknown) and in total. */
unsigned upstream_count(const struct upstream *u, const char *path);
unsigned upstream_total(const struct upstream *u);
/* A header of the most recent request (any path), or NULL. */
const char *upstream_last_header(const struct upstream *u, const char *name);

/* Method ("GET", ...) and body (first 4 KiB, NUL-terminated) of the most recent request. */
const char *upstream_last_method(const struct upstream *u);
const char *upstream_last_body(const struct upstream *u, size_t *len);

/* A loopback TCP port nobody listens on (bound, then closed). Returns 0 or -errno. */
int upstream_closed_port(uint16_t *ret);

typedef bool upstream_pred_fn(void *arg);

/*
 * Runs base until pred(arg) is true or timeout_ms pass (the watchdog).
 * Returns true when pred became true; pred NULL just runs for timeout_ms and
 * returns true.
 */
bool upstream_loop_until(struct event_base *base, upstream_pred_fn *pred, void *arg,
                         unsigned timeout_ms);

#endif
