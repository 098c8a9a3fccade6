/*
 * admin — operator actions on admin_listen. Synchronous like every httpd
 * handler: it starts the rollback job and replies 202 with the id; it
 * never waits for the API server.
 */
#include "sidecar/admin.h"

#include <errno.h>
#include <string.h>

#include "sidecar/doctor.h"
#include "sidecar/endpoints.h"
#include "sidecar/rollback/rollback.h"

static bool eq(const char *p, size_t n, const char *lit)
{
    return strlen(lit) == n && !memcmp(p, lit, n);
}

int admin_rollback_query_parse(const char *q, size_t len, long *to_revision, int *dry_run)
{
    const char *end = q ? q + len : NULL;

    *to_revision = 0;
    *dry_run = 0;
    while (q && q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q)), *stop = amp ? amp : end;
        const char *eqs = memchr(q, '=', (size_t)(stop - q));
        size_t klen = (size_t)((eqs ? eqs : stop) - q);
        const char *v = eqs ? eqs + 1 : stop;
        size_t vlen = (size_t)(stop - v);

        if (klen == 0) {
            /* an empty item ("a=1&&b=2") */
        } else if (eq(q, klen, "to_revision")) {
            long n = 0;

            if (vlen == 0 || vlen > 9)
                return -EINVAL;
            for (size_t i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return -EINVAL;
                n = n * 10 + (v[i] - '0');
            }
            *to_revision = n;
        } else if (eq(q, klen, "dry_run")) {
            if (!eqs || eq(v, vlen, "1") || eq(v, vlen, "true"))
                *dry_run = 1;
            else if (eq(v, vlen, "0") || eq(v, vlen, "false"))
                *dry_run = 0;
            else
                return -EINVAL;
        } else {
            return -EINVAL;
        }
        q = amp ? amp + 1 : end;
    }
    return 0;
}

static void reply(struct httpd_resp *resp, int status, const char *json)
{
    resp->status = status;
    resp->content_type = ENDPOINTS_JSON_TYPE;
    buf_puts(resp->body, json);
    buf_puts(resp->body, "\n");
}

void admin_handle(const struct httpd_req *req, struct httpd_resp *resp, void *arg)
{
    struct admin_ctx *ctx = arg;
    const struct httpreq *h = req->head;
    long to_rev;
    int dry;
    int64_t id;

    if (eq(h->path, h->path_len, "/check-metrics")) {
        doctor_http(req, resp, ctx->state->cfg, ctx->scraper ? *ctx->scraper : NULL);
        return;
    }
    if (!eq(h->path, h->path_len, "/rollback")) {
        endpoints_handle(req, resp, ctx->state);
        return;
    }
    if (h->method != HTTPREQ_POST) {
        resp->allow = "POST";
        reply(resp, 405, "{\"error\":\"use POST\"}");
        return;
    }
    if (admin_rollback_query_parse(h->query, h->query_len, &to_rev, &dry) < 0) {
        reply(resp, 400, "{\"error\":\"query: to_revision=N and dry_run=0|1 only\"}");
        return;
    }
    if (!ctx->rollback) {
        reply(resp, 503, "{\"error\":\"rollback is not available\"}");
        return;
    }
    id = rollback_manual(ctx->rollback, to_rev, dry != 0);
    if (id == -ENOTCONN) {
        reply(resp, 503, "{\"error\":\"rollback disabled: not in a cluster (see /status)\"}");
    } else if (id == -EAGAIN) {
        reply(resp, 503, "{\"error\":\"the pod's identity is not known yet; try again\"}");
    } else if (id == -EBUSY) {
        reply(resp, 409, "{\"error\":\"a rollback decision is already running\"}");
    } else if (id < 0) {
        reply(resp, 400, "{\"error\":\"invalid request\"}");
    } else {
        resp->status = 202;
        resp->content_type = ENDPOINTS_JSON_TYPE;
        buf_printf(resp->body,
                   "{\"id\":%lld,\"to_revision\":%ld,\"dry_run\":%s,\"status\":\"/status\"}\n",
                   (long long)id, to_rev, dry ? "true" : "false");
    }
}
