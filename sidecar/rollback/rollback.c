/*
 * rollback — the orchestrator's public entry points and wiring: builds the
 * real env (libevent timers, the sidecar/kube client, sidecar/base clock,
 * rng and file), reads the downward-API identity through the env, owns the
 * life cycle and the config swap. The work is done in job.c, identity.c,
 * publish.c, lease_txn.c, events.c, call.c, render.c, control.c,
 * withheld.c and the targets; the
 * only libevent user of this folder.
 */
#include "sidecar/rollback/rollback.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "sidecar/base/clock.h"
#include "sidecar/base/file.h"
#include "sidecar/base/log.h"
#include "sidecar/base/rng.h"
#include "sidecar/rollback/rollback-int.h"

#define RB_NAMESPACE_FILE_MAX 4096

/* --- the real env: libevent, the kube client, the process ------------------- */

struct rb_real {
    struct event_base *base;
    struct curlm *m;
    struct kube_client *kube;
    struct rng rng;
};

struct rb_real_timer {
    struct event *ev;
    rb_timer_fn *fn;
    void *arg;
};

struct rb_real_call {
    struct kube_call *call;
    rb_resp_fn *cb;
    void *arg;
};

static uint64_t real_mono_ms(void *ctx)
{
    (void)ctx;
    return clock_mono_ms();
}

static int64_t real_wall_ms(void *ctx)
{
    (void)ctx;
    return clock_wall_ms();
}

static uint64_t real_random(void *ctx)
{
    return rng_next(&((struct rb_real *)ctx)->rng);
}

static const char *real_getenv(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

static int real_read_file(void *ctx, const char *path, size_t max, char **ret, size_t *ret_len)
{
    (void)ctx;
    return file_read_small(path, max, ret, ret_len);
}

static void real_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rb_real_timer *t = arg;

    (void)fd;
    (void)what;
    t->fn(t->arg);
}

static void *real_timer_new(void *ctx, rb_timer_fn *fn, void *arg)
{
    struct rb_real *r = ctx;
    struct rb_real_timer *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->fn = fn;
    t->arg = arg;
    t->ev = evtimer_new(r->base, real_timer_cb, t);
    if (!t->ev) {
        free(t);
        return NULL;
    }
    return t;
}

static void real_timer_arm(void *ctx, void *timer, uint64_t ms)
{
    (void)ctx;
    clock_arm(((struct rb_real_timer *)timer)->ev, ms);
}

static void real_timer_free(void *ctx, void *timer)
{
    struct rb_real_timer *t = timer;

    (void)ctx;
    if (!t)
        return;
    event_free(t->ev);
    free(t);
}

static int real_open(void *ctx, const char *api_url, const struct cfg *cfg, char *err,
                     size_t errlen)
{
    struct rb_real *r = ctx;
    struct kube_client_cfg kc = {
        .api_server = api_url,
        .sa_dir = cfg->kubernetes.service_account_dir,
        .timeout_ms = cfg->kubernetes.timeout_ms,
        .max_body = cfg->kubernetes.max_response_bytes,
    };

    return kube_client_new(r->base, r->m, &kc, &r->kube, err, errlen);
}

static void real_on_done(const struct kube_resp *kr, void *arg)
{
    struct rb_real_call *c = arg;
    struct rb_resp r = {
        .status = kr->status,
        .body = kr->body ? kr->body : "",
        .body_len = kr->body ? kr->body_len : 0,
        .retry_after = NULL, /* the client honoured it already */
        .unsure = kr->unsure,
        .error = kr->error,
    };
    rb_resp_fn *cb = c->cb;
    void *cbarg = c->arg;

    free(c);
    cb(&r, cbarg);
}

static int real_send(void *ctx, const struct rb_req *q, rb_resp_fn *cb, void *arg, void **handle)
{
    struct rb_real *r = ctx;
    struct rb_real_call *c = calloc(1, sizeof(*c));
    struct kube_call_opts o = {.verb = q->verb,
                               .path = q->path,
                               .content_type = q->content_type,
                               .body = q->body,
                               .body_len = q->body_len};
    int rc;

    if (!c)
        return -ENOMEM;
    c->cb = cb;
    c->arg = arg;
    rc = kube_call(r->kube, &o, real_on_done, c, &c->call);
    if (rc < 0) {
        free(c);
        return rc;
    }
    *handle = c;
    return 0;
}

static void real_cancel(void *ctx, void *handle)
{
    struct rb_real_call *c = handle;

    (void)ctx;
    kube_call_cancel(c->call);
    free(c);
}

static const struct kube_stats *real_stats(void *ctx)
{
    struct rb_real *r = ctx;

    return r->kube ? kube_client_stats(r->kube) : NULL;
}

static void real_free(struct rb_real *r)
{
    if (!r)
        return;
    kube_client_free(r->kube);
    free(r);
}

/* --- time, randomness, timers ------------------------------------------------ */

void rb_now(struct rollback *rb)
{
    rb->now_ms = (int64_t)rb->env.mono_ms(rb->env.ctx);
    rb->wall_ms = rb->env.wall_ms(rb->env.ctx);
}

double rb_rnd(struct rollback *rb)
{
    return (double)(rb->env.random(rb->env.ctx) >> 11) / 9007199254740992.0;
}

static void rb_timer_fire(void *arg)
{
    struct rb_timer *t = arg;

    rb_now(t->rb);
    t->fn(t->rb);
}

static int rb_timer_init(struct rollback *rb, struct rb_timer *t, void (*fn)(struct rollback *))
{
    t->rb = rb;
    t->fn = fn;
    t->h = rb->env.timer_new(rb->env.ctx, rb_timer_fire, t);
    return t->h ? 0 : -ENOMEM;
}

static void rb_timer_done(struct rollback *rb, struct rb_timer *t)
{
    if (t->h)
        rb->env.timer_free(rb->env.ctx, t->h);
    t->h = NULL;
}

void rb_timer_arm(struct rb_timer *t, int64_t ms)
{
    t->rb->env.timer_arm(t->rb->env.ctx, t->h, ms > 0 ? (uint64_t)ms : 0);
}

const struct rb_target_ops *rb_target(const struct rollback *rb)
{
    return rb->cfg->rollback.target == CFG_TARGET_ARGO_ROLLOUT ? &rb_target_argo
                                                               : &rb_target_deploy;
}

/* --- life cycle ------------------------------------------------------------------ */

static void disable(struct rollback *rb, const char *why)
{
    rb->enabled = false;
    snprintf(rb->disabled_why, sizeof(rb->disabled_why), "%s", why);
    log_event(LOG_LVL_WARN, "rollback_disabled", LF_S("reason", why),
              LF_S("mode", cfg_rollback_mode_name(rb->cfg->rollback.mode)));
}

/* The namespace file of the service account, trimmed; "" when unreadable. */
static void read_namespace(struct rollback *rb, char *buf, size_t size)
{
    char path[600], *data = NULL;
    size_t n = 0;

    buf[0] = '\0';
    snprintf(path, sizeof(path), "%s/namespace", rb->cfg->kubernetes.service_account_dir);
    if (rb->env.read_file(rb->env.ctx, path, RB_NAMESPACE_FILE_MAX, &data, &n) < 0)
        return;
    while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == ' ' || data[n - 1] == '\r'))
        data[--n] = '\0';
    if (n < size)
        memcpy(buf, data, n + 1);
    free(data);
}

int rollback_new_env(struct cfg *cfg, const struct rb_env *env, struct rollback **ret)
{
    struct rollback *rb = calloc(1, sizeof(*rb));
    const char *pod, *ns, *hash;
    char nsbuf[KUBE_NAME_MAX], err[256];
    int r;

    if (!rb)
        return -ENOMEM;
    rb->env = *env;
    rb->cfg = cfg_ref(cfg);
    rb->retry_ms = ROLLBACK_RETRY_MIN_MS;
    if (rb_timer_init(rb, &rb->id_timer, rb_identity_on_timer) < 0 ||
        rb_timer_init(rb, &rb->pub_timer, rb_publish_on_timer) < 0 ||
        rb_timer_init(rb, &rb->job_timer, rb_job_on_wait) < 0 ||
        rb_timer_init(rb, &rb->deferred_timer, rb_job_on_deferred) < 0 ||
        rb_timer_init(rb, &rb->ctl.timer, rb_control_on_timer) < 0 ||
        !(rb->rollout_why = calloc(1, RB_ROLLOUT_WHY_MAX))) {
        rollback_free(rb);
        return -ENOMEM;
    }
    rb_now(rb);
    rb->enabled = true;
    pod = env->getenv(env->ctx, "POD_NAME");
    ns = env->getenv(env->ctx, "POD_NAMESPACE");
    hash = env->getenv(env->ctx, "POD_TEMPLATE_HASH");
    if (!ns || !ns[0]) {
        read_namespace(rb, nsbuf, sizeof(nsbuf));
        ns = nsbuf;
    }
    if (cfg->kubernetes.api_server[0]) {
        snprintf(rb->api_url, sizeof(rb->api_url), "%s", cfg->kubernetes.api_server);
    } else if (kube_incluster_url(env->getenv(env->ctx, "KUBERNETES_SERVICE_HOST"),
                                  env->getenv(env->ctx, "KUBERNETES_SERVICE_PORT"), rb->api_url,
                                  sizeof(rb->api_url)) < 0) {
        disable(rb, "not in a cluster: KUBERNETES_SERVICE_HOST/PORT unset and "
                    "kubernetes.api_server empty");
        *ret = rb;
        return 0;
    }
    if (!pod || !rb_valid_name(pod) || !rb_valid_name(ns) || !hash || !rb_valid_name(hash)) {
        disable(rb, "no pod identity: set POD_NAME, POD_NAMESPACE and POD_TEMPLATE_HASH from "
                    "the downward API");
        *ret = rb;
        return 0;
    }
    snprintf(rb->id.pod, sizeof(rb->id.pod), "%s", pod);
    snprintf(rb->id.ns, sizeof(rb->id.ns), "%s", ns);
    snprintf(rb->id.hash, sizeof(rb->id.hash), "%s", hash);
    snprintf(rb->me, sizeof(rb->me), "%.200s_%08x", pod,
             (unsigned)(env->random(env->ctx) & 0xffffffffu));
    r = env->open(env->ctx, rb->api_url, cfg, err, sizeof(err));
    if (r == -ENOMEM) {
        rollback_free(rb);
        return r;
    }
    if (r < 0) {
        disable(rb, err);
        *ret = rb;
        return 0;
    }
    rb->opened = true;
    rb_timer_arm(&rb->id_timer, 0);
    *ret = rb;
    return 0;
}

int rollback_new(struct event_base *base, struct curlm *m, struct cfg *cfg, struct rollback **ret)
{
    struct rb_real *real = calloc(1, sizeof(*real));
    uint64_t seed = 0;
    struct rb_env env = {
        .ctx = real,
        .mono_ms = real_mono_ms,
        .wall_ms = real_wall_ms,
        .random = real_random,
        .getenv = real_getenv,
        .read_file = real_read_file,
        .timer_new = real_timer_new,
        .timer_arm = real_timer_arm,
        .timer_free = real_timer_free,
        .open = real_open,
        .send = real_send,
        .cancel = real_cancel,
        .stats = real_stats,
        .retries = true,
    };
    int r;

    if (!real)
        return -ENOMEM;
    real->base = base;
    real->m = m;
    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    rng_seed(&real->rng, seed);
    r = rollback_new_env(cfg, &env, ret);
    if (r < 0) {
        real_free(real);
        return r;
    }
    (*ret)->own_env = real;
    return 0;
}

struct rollback *rollback_free(struct rollback *rb)
{
    if (!rb)
        return NULL;
    rb_txn_cancel(&rb->start_txn);
    rb_txn_cancel(&rb->job_txn);
    rb_txn_cancel(&rb->pub_txn);
    rb_calls_cancel_all(rb); /* the job's, the identity's, fire-and-forget Events */
    rb_job_clear(&rb->job);
    buf_done(&rb->job.patch);
    free(rb->job.evidence);
    free(rb->job.summary);
    rb_timer_done(rb, &rb->id_timer);
    rb_timer_done(rb, &rb->pub_timer);
    rb_timer_done(rb, &rb->job_timer);
    rb_timer_done(rb, &rb->deferred_timer);
    rb_timer_done(rb, &rb->ctl.timer);
    rb_control_done(rb);
    rb_withheld_done(rb);
    free(rb->rollout_why);
    free(rb->id.selector);
    real_free(rb->own_env);
    kube_pod_done(&rb->pod);
    kube_rs_done(&rb->own_rs);
    free(rb->evidence);
    free(rb->summary);
    free(rb->baseline_mine);
    free(rb->stable_baseline);
    free(rb->last_patch);
    cfg_unref(rb->cfg);
    free(rb);
    return NULL;
}

void rollback_apply_cfg(struct rollback *rb, struct cfg *cfg)
{
    struct cfg *old;

    if (!rb)
        return;
    old = rb->cfg;
    rb->cfg = cfg_ref(cfg);
    if (old->rollback.mode != cfg->rollback.mode || old->rollback.target != cfg->rollback.target) {
        /* A dry-run's record or an "off" refusal does not bind the new mode. */
        rb->final_for_hash = false;
        rb->episode_counted = false;
        rb->next_try_ms = 0;
        rb->retry_ms = ROLLBACK_RETRY_MIN_MS;
    }
    cfg_unref(old);
}

void rollback_set_done_cb(struct rollback *rb, rollback_done_fn *fn, void *arg)
{
    rb->done_cb = fn;
    rb->done_arg = arg;
}

bool rollback_enabled(const struct rollback *rb, const char **why)
{
    if (why)
        *why = rb->enabled ? "" : rb->disabled_why;
    return rb->enabled;
}

bool rollback_identity_known(const struct rollback *rb)
{
    return rb->id.known;
}

const char *rollback_identity_error(const struct rollback *rb)
{
    return rb->id_error;
}

void rollback_owner(const struct rollback *rb, const char **kind, const char **name)
{
    *kind = rb->id.known ? rb->id.owner_kind : "";
    *name = rb->id.known ? rb->id.owner_name : "";
}

bool rollback_busy(const struct rollback *rb)
{
    return rb->job.active;
}

enum rollback_result rollback_last(const struct rollback *rb, enum guard_reason *reason,
                                   const char **patch, const char **error)
{
    if (reason)
        *reason = rb->last_reason;
    if (patch)
        *patch = rb->last_patch ? rb->last_patch : "";
    if (error)
        *error = rb->last_error;
    return rb->last_result;
}
