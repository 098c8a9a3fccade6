/*
 * lease_txn — the Lease read-modify-write engine: GET the Lease (404: a new
 * one), let the caller's mutate change it, PUT it back (POST when new), and
 * on a 409 read again and redo the change, up to ROLLBACK_LEASE_TRIES. The
 * rules for what a change may be live in lease.c; this file only moves
 * bytes. Records every observation for client-go's observedTime.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/rollback/rollback-int.h"

static void txn_get(struct rollback *rb, struct lease_txn *t);

static void txn_end(struct rollback *rb, struct lease_txn *t, int result)
{
    t->active = false;
    t->call = NULL;
    t->done(rb, t, result);
}

static void txn_on_write(const struct rb_resp *r, void *arg)
{
    struct lease_txn *t = arg;
    struct rollback *rb = t->rb;
    struct kube_lease fresh;
    char err[200];

    t->call = NULL;
    if (r->status == 200 || r->status == 201) {
        if (kube_json_lease_parse(r->body, r->body_len, &fresh, err, sizeof(err)) == 0) {
            kube_lease_done(&t->lease);
            t->lease = fresh;
            t->exists = true;
            lease_observe(&rb->view, &t->lease, rb->now_ms);
        }
        txn_end(rb, t, 0);
        return;
    }
    if (r->status == 409 && ++t->tries < ROLLBACK_LEASE_TRIES) {
        txn_get(rb, t); /* lost a race: read again and redo the change */
        return;
    }
    rb_resp_error(r, "writing the Lease", t->error, sizeof(t->error));
    txn_end(rb, t, r->status == 409 ? -EBUSY : -EIO);
}

static void lease_path(const struct rollback *rb, bool named, char *path, size_t size)
{
    if (named)
        snprintf(path, size, "/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s", rb->id.ns,
                 rb->id.lease_name);
    else
        snprintf(path, size, "/apis/coordination.k8s.io/v1/namespaces/%s/leases", rb->id.ns);
}

static void txn_on_get(const struct rb_resp *r, void *arg)
{
    struct lease_txn *t = arg;
    struct rollback *rb = t->rb;
    char err[200], path[600], *body = NULL;
    int m;

    t->call = NULL;
    kube_lease_done(&t->lease);
    memset(&t->lease, 0, sizeof(t->lease));
    if (r->status == 200) {
        if (kube_json_lease_parse(r->body, r->body_len, &t->lease, err, sizeof(err)) < 0) {
            snprintf(t->error, sizeof(t->error), "reading the Lease: %s", err);
            txn_end(rb, t, -EIO);
            return;
        }
        t->exists = true;
        lease_observe(&rb->view, &t->lease, rb->now_ms);
    } else if (r->status == 404) {
        t->exists = false;
        if (lease_init(&t->lease, rb->id.lease_name, rb->id.ns) < 0) {
            snprintf(t->error, sizeof(t->error), "out of memory");
            txn_end(rb, t, -ENOMEM);
            return;
        }
    } else {
        rb_resp_error(r, "reading the Lease", t->error, sizeof(t->error));
        txn_end(rb, t, -EIO);
        return;
    }
    m = t->mutate(rb, t);
    if (m <= 0) {
        txn_end(rb, t, m < 0 ? m : 1);
        return;
    }
    if (kube_json_lease_render(&t->lease, &body) < 0) {
        snprintf(t->error, sizeof(t->error), "out of memory");
        txn_end(rb, t, -ENOMEM);
        return;
    }
    lease_path(rb, t->exists, path, sizeof(path));
    if (rb_call(rb, t->exists ? KUBE_UPDATE : KUBE_CREATE, path, "application/json", body,
                txn_on_write, t, &t->call) < 0) {
        snprintf(t->error, sizeof(t->error), "could not start the Lease write");
        free(body);
        txn_end(rb, t, -EIO);
        return;
    }
    free(body);
}

static void txn_get(struct rollback *rb, struct lease_txn *t)
{
    char path[600];

    lease_path(rb, true, path, sizeof(path));
    if (rb_call(rb, KUBE_GET, path, NULL, NULL, txn_on_get, t, &t->call) < 0) {
        snprintf(t->error, sizeof(t->error), "could not start the Lease read");
        txn_end(rb, t, -EIO);
    }
}

void rb_txn_start(struct rollback *rb, struct lease_txn *t, txn_mutate_fn *mutate,
                  txn_done_fn *done)
{
    t->rb = rb;
    t->active = true;
    t->tries = 0;
    t->error[0] = '\0';
    t->mutate = mutate;
    t->done = done;
    txn_get(rb, t);
}

void rb_txn_cancel(struct lease_txn *t)
{
    rb_call_cancel(t->call);
    t->call = NULL;
    t->active = false;
    kube_lease_done(&t->lease);
}
