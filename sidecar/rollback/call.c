/*
 * call — the orchestrator's requests over the env's transport. Keeps every
 * pending request on one list (so rollback_free cancels them all, fire and
 * forget Events included), sets "now" before each answer, and, for a
 * transport that does not retry by itself, applies the kube client's retry
 * policy (Retry-After, jittered backoff, no blind resend of a PATCH).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/rollback/rollback-int.h"

struct rb_call {
    struct rollback *rb;
    struct rb_call *next, **pprev;
    struct rb_call **slot;
    enum kube_verb verb;
    char *path, *ctype, *body;
    rb_resp_fn *cb;
    void *arg;
    void *handle; /* the transport's, while a request is out */
    unsigned attempt;
    bool unsure; /* an earlier attempt got no answer or a 5xx */
    void *retry; /* the env's timer for the next attempt; NULL when the transport retries */
};

static void call_free(struct rb_call *c)
{
    if (c->next)
        c->next->pprev = c->pprev;
    *c->pprev = c->next;
    if (c->slot && *c->slot == c)
        *c->slot = NULL;
    if (c->retry)
        c->rb->env.timer_free(c->rb->env.ctx, c->retry);
    free(c->path);
    free(c->ctype);
    free(c->body);
    free(c);
}

static void call_send(struct rb_call *c, bool *failed);

static void call_on_resp(const struct rb_resp *r, void *arg)
{
    struct rb_call *c = arg;
    struct rollback *rb = c->rb;
    rb_resp_fn *cb = c->cb;
    void *cbarg = c->arg;

    c->handle = NULL;
    rb_now(rb);
    if (c->retry && c->attempt < KUBE_MAX_ATTEMPTS &&
        (r->status == 0 || kube_retryable_status(r->status)) &&
        kube_resend_allowed(c->verb, r->status, true)) {
        struct kube_status st;
        char err[128];
        bool has_st =
            r->body_len && kube_json_status_parse(r->body, r->body_len, &st, err, sizeof(err)) == 0;
        int ra = kube_retry_after(r->retry_after, has_st ? &st : NULL);

        c->unsure = c->unsure || r->status == 0 || r->status >= 500;
        rb->env.timer_arm(rb->env.ctx, c->retry, kube_backoff_ms(c->attempt, ra, rb_rnd(rb)));
        return;
    }
    if (c->unsure && !r->unsure) {
        struct rb_resp u = *r;

        u.unsure = true;
        call_free(c);
        cb(&u, cbarg);
        return;
    }
    call_free(c);
    cb(r, cbarg);
}

static void call_on_retry(void *arg)
{
    struct rb_call *c = arg;
    bool failed = false;

    rb_now(c->rb);
    call_send(c, &failed);
    if (failed) {
        struct rb_resp r = {.status = 0, .body = "", .error = "could not resend the request"};
        rb_resp_fn *cb = c->cb;
        void *cbarg = c->arg;

        call_free(c);
        cb(&r, cbarg);
    }
}

static void call_send(struct rb_call *c, bool *failed)
{
    struct rb_req q = {.verb = c->verb,
                       .path = c->path,
                       .content_type = c->ctype,
                       .body = c->body,
                       .body_len = c->body ? strlen(c->body) : 0};

    c->attempt++;
    *failed = c->rb->env.send(c->rb->env.ctx, &q, call_on_resp, c, &c->handle) < 0;
}

int rb_call(struct rollback *rb, enum kube_verb verb, const char *path, const char *ctype,
            const char *body, rb_resp_fn *cb, void *arg, struct rb_call **slot)
{
    struct rb_call *c;
    bool failed = false;

    if (!rb->opened)
        return -ENOTCONN;
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->rb = rb;
    c->verb = verb;
    c->cb = cb;
    c->arg = arg;
    c->path = strdup(path);
    c->ctype = ctype ? strdup(ctype) : NULL;
    c->body = body ? strdup(body) : NULL;
    c->next = rb->calls;
    if (c->next)
        c->next->pprev = &c->next;
    c->pprev = &rb->calls;
    rb->calls = c;
    if (!c->path || (ctype && !c->ctype) || (body && !c->body)) {
        call_free(c);
        return -ENOMEM;
    }
    if (!rb->env.retries) {
        c->retry = rb->env.timer_new(rb->env.ctx, call_on_retry, c);
        if (!c->retry) {
            call_free(c);
            return -ENOMEM;
        }
    }
    call_send(c, &failed);
    if (failed) {
        call_free(c);
        return -EIO;
    }
    c->slot = slot;
    if (slot)
        *slot = c;
    return 0;
}

void rb_call_cancel(struct rb_call *c)
{
    if (!c)
        return;
    if (c->handle)
        c->rb->env.cancel(c->rb->env.ctx, c->handle);
    call_free(c);
}

void rb_calls_cancel_all(struct rollback *rb)
{
    while (rb->calls)
        rb_call_cancel(rb->calls);
}

void rb_resp_error(const struct rb_resp *r, const char *what, char *buf, size_t size)
{
    snprintf(buf, size, "%.40s: %.200s", what,
             r->error && r->error[0] ? r->error : "unexpected answer");
}
