/*
 * rollback env — every effect the rollback orchestrator has, handed in:
 * the two clocks, the random source, the process environment, small-file
 * reads, timers and the API transport. rollback_new builds the real one
 * (libevent timers, the sidecar/kube client, sidecar/base clock, rng and
 * file); a unit test builds its own (a fake clock, an in-memory API) and
 * passes it to rollback_new_env.
 *
 * Contract: answers and timer callbacks arrive from the loop, never inside
 * the call that started them; a cancelled request or a freed timer never
 * calls back. The env outlives the orchestrator it was given to.
 */
#ifndef ROLLGUARD_ROLLBACK_ENV_H
#define ROLLGUARD_ROLLBACK_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sidecar/kube/kube.h"

struct cfg;

/* One API request; strings borrowed for the duration of send. */
struct rb_req {
    enum kube_verb verb;
    const char *path;         /* "/apis/...?query", escaped */
    const char *content_type; /* NULL without a body */
    const char *body;         /* NULL for none */
    size_t body_len;
};

/* One answer; everything borrowed for the callback. */
struct rb_resp {
    long status;      /* 0: no answer arrived (transport error) */
    const char *body; /* "" when none */
    size_t body_len;
    const char *retry_after; /* the Retry-After header, NULL when absent */
    bool unsure;             /* an earlier attempt may have been applied */
    const char *error;       /* transport error or summary, "" when none; never the token */
};

typedef void rb_resp_fn(const struct rb_resp *r, void *arg);
typedef void rb_timer_fn(void *arg);

struct rb_env {
    void *ctx; /* passed to every function below */

    uint64_t (*mono_ms)(void *ctx); /* CLOCK_MONOTONIC milliseconds */
    int64_t (*wall_ms)(void *ctx);  /* Unix milliseconds */
    uint64_t (*random)(void *ctx);  /* 64 random bits (jitter, the holder id) */
    const char *(*getenv)(void *ctx, const char *name);
    /* file_read_small's contract: 0 and a malloc'd NUL-terminated *ret, or -errno. */
    int (*read_file)(void *ctx, const char *path, size_t max, char **ret, size_t *ret_len);

    /* Timers: one-shot, re-arming moves them. */
    void *(*timer_new)(void *ctx, rb_timer_fn *fn, void *arg);
    void (*timer_arm)(void *ctx, void *timer, uint64_t ms);
    void (*timer_free)(void *ctx, void *timer);

    /*
     * The transport. open: once, before the first request, for the API
     * server URL and cfg's kubernetes section; returns 0, -ENOMEM, or
     * another -errno with a message in err (rollback is then disabled).
     * send: 0 and *handle, or -errno (no callback then). cancel: no
     * callback afterwards. stats: NULL when it keeps none.
     */
    int (*open)(void *ctx, const char *api_url, const struct cfg *cfg, char *err, size_t errlen);
    int (*send)(void *ctx, const struct rb_req *req, rb_resp_fn *cb, void *arg, void **handle);
    void (*cancel)(void *ctx, void *handle);
    const struct kube_stats *(*stats)(void *ctx);
    /*
     * true: the transport itself honours Retry-After on 429/5xx and backs
     * off (the kube client does). false: the orchestrator applies the same
     * policy (kube_retry_after, kube_resend_allowed, kube_backoff_ms).
     */
    bool retries;
};

#endif
