/*
 * endpoints — the request handler behind `listen` and `admin_listen`:
 * /health, /ready, /livez, /metrics, /status. Renders struct state only.
 */
#ifndef ROLLGUARD_ENDPOINTS_H
#define ROLLGUARD_ENDPOINTS_H

#include "sidecar/base/buf.h"
#include "sidecar/http/httpd.h"
#include "sidecar/state.h"

/* httpd_handler_fn over a struct state (arg). */
void endpoints_handle(const struct httpd_req *req, struct httpd_resp *resp, void *arg);

/* Prometheus text format 0.0.4 of s into b. Returns 0 or -E2BIG. */
int endpoints_render_metrics(const struct state *s, struct buf *b);

/* The /status JSON document of s into b. Returns 0 or -E2BIG. */
int endpoints_render_status(const struct state *s, struct buf *b);

#define ENDPOINTS_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define ENDPOINTS_JSON_TYPE "application/json"
#define ENDPOINTS_TEXT_TYPE "text/plain; charset=utf-8"

#endif
