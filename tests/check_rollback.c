/*
 * check_rollback — the rollback orchestrator's decision job, driven through
 * rollback_new_env with a fake env: a fake clock and timers the test
 * advances, random bits that are always 0 (no jitter), a fixed process
 * environment, and an in-memory API that answers with the real server's
 * status codes and bodies (tests/kube_fixtures.h; the Lease stored and
 * versioned with 409 on a stale resourceVersion). Scripted faults (409,
 * 422, 429 + Retry-After, 404, a lost answer after an applied PATCH)
 * replace one answer each. Asserts the requests sent and the Events.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "sidecar/base/buf.h"
#include "sidecar/kube/kube_json.h"
#include "sidecar/rollback/env.h"
#include "sidecar/rollback/lease.h"
#include "sidecar/rollback/rollback.h"
#include "sidecar/rollback/rollback-int.h" /* rb_withheld_event_name */
#include "tests/kube_fixtures.h"

Suite *rollback_suite(void);

#define NS "prod"
#define BAD "7c5d9f8b4"
#define POD "web-7c5d9f8b4-x2kqp"
#define DEP_PATH "/apis/apps/v1/namespaces/prod/deployments/web"
#define LEASE_PATH "/apis/coordination.k8s.io/v1/namespaces/prod/leases"
#define RO_PATH "/apis/argoproj.io/v1alpha1/namespaces/prod/rollouts/web-ro"
#define EVENTS_PATH "/api/v1/namespaces/prod/events"
#define DEP_UID "6b3c8f2e-0000-4000-8000-000000000001"
#define RO_UID "9a9a0000-0000-4000-8000-000000000008"
#define RS_PATH "/apis/apps/v1/namespaces/prod/replicasets/web-" BAD
#define OTHER_PODS                                                                                 \
    {                                                                                              \
        "web-7c5d9f8b4-h8v4m", "web-7c5d9f8b4-p6q2z", "web-7c5d9f8b4-t9w4n"                        \
    }
#define EVIDENCE "{\"outcome\":\"FAIL\",\"rule\":\"error_rate\",\"value\":0.2}"
#define MAX_REQS 256
#define MAX_TIMERS 64
#define MAX_FAULTS 8

struct req {
    enum kube_verb verb;
    char *path, *ctype, *body;
    uint64_t at_ms;
};

/* One scripted answer: replaces the next answer to verb on a path containing path. */
struct fault {
    bool used;
    enum kube_verb verb;
    const char *path;
    long status;
    const char *retry_after;
    bool apply;          /* do what the request asks first (then answer status: a lost answer) */
    const char *set_dep; /* the Deployment changes meanwhile (someone else acted) */
};

struct pending {
    bool live;
    rb_resp_fn *cb;
    void *arg;
    long status;
    char *body;
    const char *retry_after;
};

struct ftimer {
    bool alive, armed;
    uint64_t due;
    rb_timer_fn *fn;
    void *arg;
};

struct fx {
    struct cfg *cfg;
    struct rollback *rb;
    uint64_t mono;
    int64_t wall0;
    const char *envv[8][2];
    /* the API */
    char *pod, *rs, *dep, *rs_list, *ro, *lease;
    char *dep_applied; /* the Deployment after our PATCH */
    unsigned lease_rv;
    struct req reqs[MAX_REQS];
    size_t nreq;
    struct fault faults[MAX_FAULTS];
    size_t nfault;
    struct pending pend[MAX_REQS];
    size_t npend, next_pend;
    struct ftimer timers[MAX_TIMERS];
    char *pods, *pods2; /* LIST pods: the first page, the page after a continue */
    char *ev_names[16]; /* Events created, by metadata.name (409 AlreadyExists) */
    size_t nev;
    /* the done callback */
    int done;
    enum rollback_result result;
    enum guard_reason reason;
};

static struct fx F;

/* --- helpers ----------------------------------------------------------------- */

static char *replace(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    size_t n;
    char *out;

    ck_assert_msg(p != NULL, "fixture lacks %s", from);
    n = strlen(s) - strlen(from) + strlen(to) + 1;
    out = malloc(n);
    ck_assert_ptr_nonnull(out);
    snprintf(out, n, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
    return out;
}

static void replace_in(char **s, const char *from, const char *to)
{
    char *n = replace(*s, from, to);

    free(*s);
    *s = n;
}

/* The item of FIX_RS_LIST whose metadata.name is name (strings never hold braces there). */
static char *rs_item(const char *name)
{
    char key[128];
    const char *p, *q;
    int depth = 0;

    snprintf(key, sizeof(key), "{\"metadata\":{\"name\":\"%s\"", name);
    p = strstr(FIX_RS_LIST, key);
    ck_assert_ptr_nonnull(p);
    for (q = p;; q++) {
        depth += *q == '{' ? 1 : *q == '}' ? -1 : 0;
        if (depth == 0)
            break;
    }
    return strndup(p, (size_t)(q - p + 1));
}

static int64_t rfc3339(const char *s)
{
    int64_t t = 0;

    ck_assert_int_eq(kube_time_parse(s, &t), 0);
    return t;
}

static char *status_body(long code, const char *reason)
{
    char *b = NULL;

    ck_assert_int_ge(asprintf(&b,
                              "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                              "\"status\":\"Failure\",\"message\":\"%s\",\"reason\":\"%s\","
                              "\"code\":%ld}",
                              reason, reason, code),
                     0);
    return b;
}

/* --- the fake env ----------------------------------------------------------------- */

static uint64_t f_mono(void *ctx)
{
    (void)ctx;
    return F.mono;
}

static int64_t f_wall(void *ctx)
{
    (void)ctx;
    return F.wall0 * 1000 + (int64_t)F.mono;
}

static uint64_t f_random(void *ctx)
{
    (void)ctx;
    return 0;
}

static const char *f_getenv(void *ctx, const char *name)
{
    (void)ctx;
    for (size_t i = 0; i < 8 && F.envv[i][0]; i++)
        if (!strcmp(F.envv[i][0], name))
            return F.envv[i][1];
    return NULL;
}

static int f_read_file(void *ctx, const char *path, size_t max, char **ret, size_t *ret_len)
{
    (void)ctx;
    (void)path;
    (void)max;
    (void)ret;
    (void)ret_len;
    return -ENOENT;
}

static void *f_timer_new(void *ctx, rb_timer_fn *fn, void *arg)
{
    (void)ctx;
    for (size_t i = 0; i < MAX_TIMERS; i++)
        if (!F.timers[i].alive) {
            F.timers[i] = (struct ftimer){.alive = true, .fn = fn, .arg = arg};
            return &F.timers[i];
        }
    return NULL;
}

static void f_timer_arm(void *ctx, void *timer, uint64_t ms)
{
    struct ftimer *t = timer;

    (void)ctx;
    t->armed = true;
    t->due = F.mono + ms;
}

static void f_timer_free(void *ctx, void *timer)
{
    struct ftimer *t = timer;

    (void)ctx;
    t->alive = t->armed = false;
}

static int f_open(void *ctx, const char *api_url, const struct cfg *cfg, char *err, size_t errlen)
{
    (void)ctx;
    (void)api_url;
    (void)cfg;
    (void)err;
    (void)errlen;
    return 0;
}

/* Store a Lease body with the next resourceVersion; returns the stored JSON. */
static char *lease_store(const char *body)
{
    struct kube_lease l;
    char err[200], *out = NULL;

    ck_assert_int_eq(kube_json_lease_parse(body, strlen(body), &l, err, sizeof(err)), 0);
    snprintf(l.meta.resource_version, sizeof(l.meta.resource_version), "%u", ++F.lease_rv);
    ck_assert_int_eq(kube_json_lease_render(&l, &out), 0);
    kube_lease_done(&l);
    free(F.lease);
    F.lease = out;
    return strdup(out);
}

static bool lease_rv_matches(const char *body)
{
    struct kube_lease l;
    char err[200], rv[32];
    bool ok;

    ck_assert_int_eq(kube_json_lease_parse(body, strlen(body), &l, err, sizeof(err)), 0);
    snprintf(rv, sizeof(rv), "%u", F.lease_rv);
    ok = !strcmp(l.meta.resource_version, rv);
    kube_lease_done(&l);
    return ok;
}

/* The in-memory API: what the real server answers (status, body). */
static long api_answer(const struct rb_req *q, char **body)
{
    const char *p = q->path;

    *body = NULL;
    if (q->verb == KUBE_GET && !strncmp(p, "/api/v1/namespaces/prod/pods/", 29)) {
        *body = strdup(F.pod);
        return 200;
    }
    if (q->verb == KUBE_GET && strstr(p, "/replicasets/")) {
        *body = strdup(F.rs);
        return 200;
    }
    if (q->verb == KUBE_LIST && strstr(p, "/replicasets?labelSelector=")) {
        *body = strdup(F.rs_list);
        return 200;
    }
    if (q->verb == KUBE_GET && !strcmp(p, DEP_PATH)) {
        *body = strdup(F.dep);
        return 200;
    }
    if (q->verb == KUBE_PATCH && !strcmp(p, DEP_PATH "?fieldManager=rollguard")) {
        free(F.dep);
        F.dep = strdup(F.dep_applied);
        *body = strdup(F.dep);
        return 200;
    }
    if (q->verb == KUBE_GET && !strcmp(p, RO_PATH) && F.ro) {
        *body = strdup(F.ro);
        return 200;
    }
    if (q->verb == KUBE_PATCH && !strncmp(p, RO_PATH, strlen(RO_PATH)) && F.ro) {
        if (!strstr(F.ro, "\"abort\":true"))
            replace_in(&F.ro, "\"status\":{", "\"status\":{\"abort\":true,");
        *body = strdup(F.ro);
        return 200;
    }
    if (q->verb == KUBE_GET && !strcmp(p, LEASE_PATH "/web-rollguard")) {
        if (!F.lease) {
            *body = status_body(404, "NotFound");
            return 404;
        }
        *body = strdup(F.lease);
        return 200;
    }
    if (q->verb == KUBE_CREATE && !strcmp(p, LEASE_PATH)) {
        if (F.lease) {
            *body = status_body(409, "AlreadyExists");
            return 409;
        }
        *body = lease_store(q->body);
        return 201;
    }
    if (q->verb == KUBE_UPDATE && !strcmp(p, LEASE_PATH "/web-rollguard")) {
        if (!F.lease || !lease_rv_matches(q->body)) {
            *body = status_body(409, "Conflict");
            return 409;
        }
        *body = lease_store(q->body);
        return 200;
    }
    if (q->verb == KUBE_LIST && !strncmp(p, "/api/v1/namespaces/prod/pods?", 29) && F.pods) {
        *body = strdup(strstr(p, "&continue=") && F.pods2 ? F.pods2 : F.pods);
        return 200;
    }
    if (q->verb == KUBE_CREATE && !strcmp(p, EVENTS_PATH)) {
        const char *n = strstr(q->body, "\"metadata\":{\"name\":\"");
        char *name;

        ck_assert_ptr_nonnull(n);
        n += strlen("\"metadata\":{\"name\":\"");
        name = strndup(n, strcspn(n, "\""));
        for (size_t i = 0; i < F.nev; i++)
            if (!strcmp(F.ev_names[i], name)) {
                free(name);
                *body = status_body(409, "AlreadyExists");
                return 409;
            }
        ck_assert_uint_lt(F.nev, 16);
        F.ev_names[F.nev++] = name;
        *body = strdup(q->body);
        return 201;
    }
    *body = status_body(404, "NotFound");
    return 404;
}

static int f_send(void *ctx, const struct rb_req *q, rb_resp_fn *cb, void *arg, void **handle)
{
    struct pending *pd;
    struct req *r;
    long status = 0;
    char *body = NULL;
    const char *retry_after = NULL;
    bool done = false;

    (void)ctx;
    ck_assert_uint_lt(F.nreq, MAX_REQS);
    r = &F.reqs[F.nreq++];
    r->verb = q->verb;
    r->path = strdup(q->path);
    r->ctype = q->content_type ? strdup(q->content_type) : NULL;
    r->body = q->body ? strndup(q->body, q->body_len) : NULL;
    r->at_ms = F.mono;
    for (size_t i = 0; i < F.nfault && !done; i++) {
        struct fault *f = &F.faults[i];

        if (f->used || f->verb != q->verb || !strstr(q->path, f->path))
            continue;
        f->used = true;
        done = true;
        if (f->apply) {
            free(body);
            api_answer(q, &body);
            free(body);
        }
        if (f->set_dep) {
            free(F.dep);
            F.dep = strdup(f->set_dep);
        }
        status = f->status;
        body = status ? status_body(status, status == 429   ? "TooManyRequests"
                                            : status == 422 ? "Invalid"
                                            : status == 404 ? "NotFound"
                                            : status == 403 ? "Forbidden"
                                            : status >= 500 ? "InternalError"
                                                            : "Conflict")
                      : strdup("");
        retry_after = f->retry_after;
    }
    if (!done)
        status = api_answer(q, &body);
    ck_assert_uint_lt(F.npend, MAX_REQS);
    pd = &F.pend[F.npend++];
    *pd = (struct pending){.live = true,
                           .cb = cb,
                           .arg = arg,
                           .status = status,
                           .body = body,
                           .retry_after = retry_after};
    *handle = pd;
    return 0;
}

static void f_cancel(void *ctx, void *handle)
{
    struct pending *pd = handle;

    (void)ctx;
    pd->live = false;
    free(pd->body);
    pd->body = NULL;
}

static const struct rb_env fake_env = {
    .mono_ms = f_mono,
    .wall_ms = f_wall,
    .random = f_random,
    .getenv = f_getenv,
    .read_file = f_read_file,
    .timer_new = f_timer_new,
    .timer_arm = f_timer_arm,
    .timer_free = f_timer_free,
    .open = f_open,
    .send = f_send,
    .cancel = f_cancel,
    .stats = NULL,
    .retries = false,
};

/* Deliver answers in order, then fire due timers, until nothing is due before now + ms. */
static void run(uint64_t ms)
{
    uint64_t until = F.mono + ms;

    for (;;) {
        if (F.next_pend < F.npend) {
            struct pending *pd = &F.pend[F.next_pend++];
            struct rb_resp r;

            if (!pd->live)
                continue;
            pd->live = false;
            r = (struct rb_resp){.status = pd->status,
                                 .body = pd->body,
                                 .body_len = strlen(pd->body),
                                 .retry_after = pd->retry_after,
                                 .error = pd->status ? "" : "connection reset by peer"};
            pd->cb(&r, pd->arg);
            free(pd->body);
            pd->body = NULL;
            continue;
        }
        struct ftimer *next = NULL;

        for (size_t i = 0; i < MAX_TIMERS; i++)
            if (F.timers[i].alive && F.timers[i].armed && (!next || F.timers[i].due < next->due))
                next = &F.timers[i];
        if (!next || next->due > until)
            break;
        if (next->due > F.mono)
            F.mono = next->due;
        next->armed = false;
        next->fn(next->arg);
    }
    F.mono = until;
}

static void on_done(struct rollback *rb, enum rollback_result result, enum guard_reason reason,
                    void *arg)
{
    (void)rb;
    (void)arg;
    F.done++;
    F.result = result;
    F.reason = reason;
}

/* --- fixtures ------------------------------------------------------------------------- */

static void fx_setup(const char *yaml)
{
    struct cfg_errs errs;
    char *full = NULL;

    memset(&F, 0, sizeof(F));
    ck_assert_int_ge(
        asprintf(&full, "kubernetes: {api_server: \"https://api.test:6443\"}\n%s", yaml), 0);
    memset(&errs, 0, sizeof(errs));
    ck_assert_int_eq(cfg_parse(full, strlen(full), "t.yaml", &F.cfg, &errs), 0);
    free(full);
    F.mono = 1000000;
    F.wall0 = rfc3339("2026-07-24T10:00:00Z") - 1000; /* wall = wall0 + mono: 10:00:00 now */
    F.envv[0][0] = "POD_NAME";
    F.envv[0][1] = POD;
    F.envv[1][0] = "POD_NAMESPACE";
    F.envv[1][1] = NS;
    F.envv[2][0] = "POD_TEMPLATE_HASH";
    F.envv[2][1] = BAD;
    F.pod = strdup(FIX_POD);
    F.rs = rs_item("web-" BAD);
    F.dep = strdup(FIX_DEPLOYMENT);
    F.rs_list = strdup(FIX_RS_LIST);
    F.pods = strdup(FIX_POD_LIST);
    /* What the server holds after our PATCH: revision 1's template, our record. */
    F.dep_applied = replace(FIX_DEPLOYMENT, "registry.example/web:v2", "registry.example/web:v1");
    replace_in(&F.dep_applied, "\"generation\":2", "\"generation\":3");
    replace_in(&F.dep_applied, "\"kubernetes.io/change-cause\":\"image v2\"",
               "\"kubernetes.io/change-cause\":\"image v1\",\"rollguard.io/rolled-back\":\"" BAD
               "\"");
}

static void fx_start(void)
{
    ck_assert_int_eq(rollback_new_env(F.cfg, &fake_env, &F.rb), 0);
    rollback_set_done_cb(F.rb, on_done, NULL);
    run(1000); /* the identity walk and the start-of-life Lease read */
}

static void fx_teardown(void)
{
    F.rb = rollback_free(F.rb);
    for (size_t i = 0; i < F.nreq; i++) {
        free(F.reqs[i].path);
        free(F.reqs[i].ctype);
        free(F.reqs[i].body);
    }
    for (size_t i = 0; i < F.npend; i++)
        free(F.pend[i].body);
    free(F.pod);
    free(F.rs);
    free(F.dep);
    free(F.dep_applied);
    free(F.rs_list);
    free(F.ro);
    free(F.lease);
    free(F.pods);
    free(F.pods2);
    for (size_t i = 0; i < F.nev; i++)
        free(F.ev_names[i]);
    cfg_unref(F.cfg);
}

static void add_fault(struct fault f)
{
    ck_assert_uint_lt(F.nfault, MAX_FAULTS);
    F.faults[F.nfault++] = f;
}

static void fail_verdict(void)
{
    rollback_on_verdict(F.rb, ROLLBACK_VERDICT_FAIL, EVIDENCE, "error rate 20% above 5%",
                        (int64_t)F.mono);
}

/* Requests of verb whose path starts with prefix, from index `from` on. */
static size_t count(enum kube_verb verb, const char *prefix, size_t from)
{
    size_t n = 0;

    for (size_t i = from; i < F.nreq; i++)
        if (F.reqs[i].verb == verb && !strncmp(F.reqs[i].path, prefix, strlen(prefix)))
            n++;
    return n;
}

static const struct req *nth(enum kube_verb verb, const char *prefix, size_t k)
{
    for (size_t i = 0; i < F.nreq; i++)
        if (F.reqs[i].verb == verb && !strncmp(F.reqs[i].path, prefix, strlen(prefix)) && !k--)
            return &F.reqs[i];
    return NULL;
}

static size_t events(const char *reason)
{
    char key[128];
    size_t n = 0;

    snprintf(key, sizeof(key), "\"reason\":\"%s\"", reason);
    for (size_t i = 0; i < F.nreq; i++)
        if (F.reqs[i].verb == KUBE_CREATE && !strcmp(F.reqs[i].path, EVENTS_PATH) &&
            strstr(F.reqs[i].body, key))
            n++;
    return n;
}

static size_t writes(size_t from)
{
    return count(KUBE_PATCH, "/", from) + count(KUBE_UPDATE, "/", from) +
           count(KUBE_CREATE, "/", from);
}

/* A FAIL refused with reason, after `reads` more requests and no write at all. */
static void expect_skip(enum guard_reason reason, size_t from)
{
    enum guard_reason got;

    ck_assert_int_eq(rollback_last(F.rb, &got, NULL, NULL), ROLLBACK_RESULT_SKIPPED);
    ck_assert_str_eq(guard_reason_name(got), guard_reason_name(reason));
    ck_assert_uint_eq(count(KUBE_PATCH, "/", from), 0);
    ck_assert_uint_eq(events("RollbackTriggered"), 0);
}

/* --- the happy path and the patch ---------------------------------------------------- */

START_TEST(test_rolls_back_once)
{
    const struct req *patch;
    size_t n0;

    fx_setup("rollback: {mode: enforce}\n");
    fx_start();
    ck_assert(rollback_identity_known(F.rb));
    /* the walk: pod, its ReplicaSet, the Deployment, then the Lease (fresh revision) */
    ck_assert_str_eq(F.reqs[0].path, "/api/v1/namespaces/prod/pods/" POD);
    ck_assert_str_eq(F.reqs[1].path, "/apis/apps/v1/namespaces/prod/replicasets/web-" BAD);
    ck_assert_str_eq(F.reqs[2].path, DEP_PATH);
    ck_assert_str_eq(F.reqs[3].path, LEASE_PATH "/web-rollguard");
    ck_assert_uint_eq(F.nreq, 4);
    n0 = F.nreq;
    fail_verdict();
    run(5000);
    ck_assert_int_eq(F.done, 1);
    ck_assert_int_eq(F.result, ROLLBACK_RESULT_ROLLED_BACK);
    /* Lease: GET (404), POST (vote + hold); Deployment GET, RS LIST, PATCH; Event; release */
    ck_assert_uint_eq(count(KUBE_CREATE, LEASE_PATH, n0), 1);
    ck_assert_uint_eq(count(KUBE_LIST, "/apis/apps/v1/namespaces/prod/replicasets?", n0), 1);
    ck_assert_uint_eq(count(KUBE_PATCH, "/", n0), 1);
    patch = nth(KUBE_PATCH, DEP_PATH, 0);
    ck_assert_str_eq(patch->path, DEP_PATH "?fieldManager=rollguard");
    ck_assert_str_eq(patch->ctype, "application/json-patch+json");
    ck_assert_ptr_nonnull(strstr(
        patch->body, "[{\"op\":\"test\",\"path\":\"/metadata/uid\",\"value\":\"" DEP_UID "\"}"));
    ck_assert_ptr_nonnull(
        strstr(patch->body, "{\"op\":\"test\",\"path\":\"/metadata/generation\",\"value\":2}"));
    ck_assert_ptr_nonnull(strstr(patch->body, "{\"op\":\"replace\",\"path\":\"/spec/template\""));
    ck_assert_ptr_nonnull(strstr(patch->body, "registry.example/web:v1"));
    ck_assert_ptr_null(strstr(patch->body, "registry.example/web:v2"));
    ck_assert_ptr_nonnull(strstr(patch->body, "\"rollguard.io/rolled-back\":\"" BAD "\""));
    ck_assert_uint_eq(events("RollbackTriggered"), 1);
    ck_assert_ptr_nonnull(strstr(nth(KUBE_CREATE, EVENTS_PATH, 0)->body, "\"type\":\"Warning\""));
    /* the release: holder given back, the bad hash recorded, the votes dropped */
    ck_assert_uint_eq(count(KUBE_UPDATE, LEASE_PATH, n0), 1);
    ck_assert_ptr_nonnull(strstr(F.lease, "\"rollguard.io/rolled-back\":\"" BAD "\""));
    ck_assert_ptr_null(strstr(F.lease, "fail-votes"));
    ck_assert_ptr_nonnull(strstr(F.lease, "\"holderIdentity\":\"\""));

    /* later FAIL verdicts of the same hash: nothing more */
    n0 = F.nreq;
    fail_verdict();
    run(60000);
    fail_verdict();
    run(600000);
    ck_assert_uint_eq(writes(n0), 0);
    ck_assert_int_eq(F.done, 1);
    fx_teardown();
}
END_TEST

START_TEST(test_dry_run_records_the_exact_patch)
{
    const char *patch = NULL;
    char *sent;
    size_t n0;

    /* What enforce sends ... */
    fx_setup("rollback: {mode: enforce}\n");
    fx_start();
    fail_verdict();
    run(5000);
    sent = strdup(nth(KUBE_PATCH, DEP_PATH, 0)->body);
    fx_teardown();

    /* ... is exactly what dry-run records, with no write of any kind. */
    fx_setup("rollback: {mode: dry-run}\n");
    fx_start();
    n0 = F.nreq;
    fail_verdict();
    run(5000);
    ck_assert_int_eq(F.done, 1);
    ck_assert_int_eq(rollback_last(F.rb, NULL, &patch, NULL), ROLLBACK_RESULT_DRY_RUN);
    ck_assert_str_eq(patch, sent);
    ck_assert_uint_eq(writes(n0), 0);
    ck_assert_uint_eq(count(KUBE_GET, DEP_PATH, n0), 1);
    free(sent);
    fx_teardown();
}
END_TEST

/* --- every guard reason ------------------------------------------------------------------ */

START_TEST(test_mode_off)
{
    fx_setup("rollback: {mode: \"off\"}\n");
    fx_start();
    size_t n0 = F.nreq;

    fail_verdict();
    run(5000);
    ck_assert_uint_eq(F.nreq, n0); /* no request at all */
    expect_skip(GUARD_MODE_OFF, n0);
    fx_teardown();
}
END_TEST

START_TEST(test_not_in_cluster)
{
    fx_setup("rollback: {mode: enforce}\n");
    F.envv[0][0] = "NO_POD_NAME";
    fx_start();
    ck_assert(!rollback_enabled(F.rb, NULL));
    fail_verdict();
    run(5000);
    ck_assert_uint_eq(F.nreq, 0);
    expect_skip(GUARD_NOT_IN_CLUSTER, 0);
    ck_assert_int_eq(rollback_manual(F.rb, 0, false), -ENOTCONN);
    fx_teardown();
}
END_TEST

START_TEST(test_identity_unknown)
{
    fx_setup("rollback: {mode: enforce}\n");
    add_fault((struct fault){.verb = KUBE_GET, .path = "/pods/", .status = 403});
    fx_start();
    ck_assert(!rollback_identity_known(F.rb));
    ck_assert_ptr_nonnull(strstr(rollback_identity_error(F.rb), "reading the pod"));
    fail_verdict();
    run(1000);
    expect_skip(GUARD_IDENTITY_UNKNOWN, 0);
    ck_assert_int_eq(rollback_manual(F.rb, 0, false), -EAGAIN);
    fx_teardown();
}
END_TEST

START_TEST(test_outside_guard_window)
{
    fx_setup("rollback: {mode: enforce, guard_window: 30m}\n");
    F.wall0 += 3600; /* the new ReplicaSet is an hour old */
    fx_start();
    size_t n0 = F.nreq;

    ck_assert_uint_eq(count(KUBE_GET, LEASE_PATH, 0), 0); /* a settled pod skips the Lease */
    fail_verdict();
    run(5000);
    ck_assert_uint_eq(F.nreq, n0);
    expect_skip(GUARD_OUTSIDE_GUARD_WINDOW, n0);
    fx_teardown();
}
END_TEST

START_TEST(test_not_current_revision)
{
    fx_setup("rollback: {mode: enforce}\n");
    fx_start();
    /* Meanwhile the Deployment went back to revision 1's template (not through us). */
    replace_in(&F.dep, "registry.example/web:v2", "registry.example/web:v1");
    size_t n0 = F.nreq;

    fail_verdict();
    run(5000);
    ck_assert_int_eq(F.done, 1);
    expect_skip(GUARD_NOT_CURRENT_REVISION, n0);
    fx_teardown();
}
END_TEST

START_TEST(test_no_previous_revision)
{
    char *only = rs_item("web-" BAD);

    fx_setup("rollback: {mode: enforce}\n");
    free(F.rs_list);
    ck_assert_int_ge(asprintf(&F.rs_list,
                              "{\"kind\":\"ReplicaSetList\",\"apiVersion\":\"apps/v1\","
                              "\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[%s]}",
                              only),
                     0);
    free(only);
    fx_start();
    size_t n0 = F.nreq;

    fail_verdict();
    run(5000);
    expect_skip(GUARD_NO_PREVIOUS_REVISION, n0);
    /* the job held the Lease: it gives it back */
    ck_assert_ptr_nonnull(strstr(F.lease, "\"holderIdentity\":\"\""));
    fx_teardown();
}
END_TEST

START_TEST(test_paused)
{
    fx_setup("rollback: {mode: enforce}\n");
    replace_in(&F.dep, "\"spec\":{\"replicas\":3", "\"spec\":{\"paused\":true,\"replicas\":3");
    fx_start();
    size_t n0 = F.nreq;

    fail_verdict();
    run(5000);
    expect_skip(GUARD_PAUSED, n0);
    fx_teardown();
}
END_TEST

START_TEST(test_already_rolled_back)
{
    struct kube_lease l;
    char *body = NULL;

    fx_setup("rollback: {mode: enforce}\n");
    fx_start();
    /* Another pod rolled this hash back after we started: the record is on the Lease. */
    ck_assert_int_eq(lease_init(&l, "web-rollguard", NS), 0);
    ck_assert_int_eq(lease_record_add(&l, LEASE_ANN_ROLLED_BACK, BAD), 0);
    ck_assert_int_eq(kube_json_lease_render(&l, &body), 0);
    kube_lease_done(&l);
    free(lease_store(body));
    free(body);
    size_t n0 = F.nreq;

    fail_verdict();
    run(5000);
    expect_skip(GUARD_ALREADY_ROLLED_BACK, n0);
    ck_assert_uint_eq(writes(n0), 0);
    fx_teardown();
}
END_TEST

START_TEST(test_lease_held_by_another)
{
    struct kube_lease l;
    char *body = NULL;

    fx_setup("rollback: {mode: enforce}\n");
    fx_start();
    ck_assert_int_eq(lease_init(&l, "web-rollguard", NS), 0);
    lease_take(&l, "web-7c5d9f8b4-h8v4m_0badcafe", 15, f_wall(NULL) * 1000);
    ck_assert_int_eq(kube_json_lease_render(&l, &body), 0);
    kube_lease_done(&l);
    free(lease_store(body));
    free(body);
    size_t n0 = F.nreq;

    fail_verdict();
    run(5000);
    expect_skip(GUARD_LEASE_HELD, n0);
    /* it voted (one PUT), did not take the Lease, read no Deployment */
    ck_assert_uint_eq(count(KUBE_UPDATE, LEASE_PATH, n0), 1);
    ck_assert_ptr_nonnull(strstr(F.lease, "0badcafe"));
    ck_assert_uint_eq(count(KUBE_GET, DEP_PATH, n0), 0);
    fx_teardown();
}
END_TEST

/* --- quorum: the votes on the Lease ------------------------------------------------------ */

START_TEST(test_quorum_not_met_then_met)
{
    struct kube_lease l;
    char err[200];
    size_t n0;

    fx_setup("rollback: {mode: enforce, quorum: 2}\n");
    fx_start();
    n0 = F.nreq;
    fail_verdict();
    run(5000);
    expect_skip(GUARD_QUORUM_NOT_MET, n0);
    /* our vote is on the Lease, nobody holds it */
    ck_assert_uint_eq(count(KUBE_CREATE, LEASE_PATH, n0), 1);
    ck_assert_int_eq(kube_json_lease_parse(F.lease, strlen(F.lease), &l, err, sizeof(err)), 0);
    ck_assert_uint_eq(lease_votes(&l, BAD, f_wall(NULL) / 1000, ROLLBACK_VOTE_TTL_S), 1);
    ck_assert_str_eq(l.holder, "");
    /* a second pod of the revision votes */
    ck_assert_int_eq(
        lease_vote(&l, BAD, "web-7c5d9f8b4-h8v4m", f_wall(NULL) / 1000, ROLLBACK_VOTE_TTL_S), 0);
    {
        char *body = NULL;

        ck_assert_int_eq(kube_json_lease_render(&l, &body), 0);
        free(lease_store(body));
        free(body);
    }
    kube_lease_done(&l);
    /* the next try, after the retry wait, meets the quorum */
    n0 = F.nreq;
    fail_verdict(); /* too early: waits ROLLBACK_RETRY_MIN_MS */
    run(1000);
    ck_assert_uint_eq(F.nreq, n0);
    run(ROLLBACK_RETRY_MIN_MS);
    fail_verdict();
    run(5000);
    ck_assert_int_eq(F.result, ROLLBACK_RESULT_ROLLED_BACK);
    ck_assert_uint_eq(count(KUBE_PATCH, DEP_PATH, n0), 1);
    ck_assert_uint_eq(events("RollbackTriggered"), 1);
    ck_assert_ptr_nonnull(
        strstr(nth(KUBE_CREATE, EVENTS_PATH, 0)->body, "votes 2 of 2 (rollback.quorum 2)"));
    fx_teardown();
}
END_TEST

/*
 * quorum: auto (the default) is a majority of the new ReplicaSet's ready
 * pods, or of the pods that voted when more of them voted; read fresh from
 * the ReplicaSet before the votes are counted.
 */

/* The pod's ReplicaSet reports n ready replicas (the fixture says 0). */
static void set_ready(int n)
{
    char to[48];

    snprintf(to, sizeof(to), "\"readyReplicas\":%d", n);
    replace_in(&F.rs, "\"readyReplicas\":0", to);
}

/* n other pods of the bad revision voted FAIL before this one. */
static void other_votes(size_t n)
{
    static const char *const pods[] = OTHER_PODS;
    struct kube_lease l;
    char *body = NULL;

    ck_assert_uint_le(n, sizeof(pods) / sizeof(pods[0]));
    ck_assert_int_eq(lease_init(&l, "web-rollguard", NS), 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(lease_vote(&l, BAD, pods[i], f_wall(NULL) / 1000, ROLLBACK_VOTE_TTL_S), 0);
    ck_assert_int_eq(kube_json_lease_render(&l, &body), 0);
    kube_lease_done(&l);
    free(lease_store(body));
    free(body);
}

/* The "rollback" object of /status (caller frees). */
static char *status_json(void)
{
    struct buf b;
    char *s;

    buf_init(&b, 1u << 20);
    rollback_render_status(F.rb, &b);
    ck_assert(!b.failed);
    s = strdup(b.data);
    buf_done(&b);
    return s;
}

/* /status holds needle. */
static void expect_status(const char *needle)
{
    char *s = status_json();

    ck_assert_msg(strstr(s, needle) != NULL, "expected %s in /status: %s", needle, s);
    free(s);
}

/* One FAIL verdict of this pod with `ready` ready replicas and `others` earlier votes. */
static size_t auto_fail(const char *yaml, int ready, size_t others)
{
    size_t n0;

    fx_setup(yaml);
    set_ready(ready);
    fx_start();
    if (others)
        other_votes(others);
    n0 = F.nreq;
    fail_verdict();
    run(5000);
    ck_assert_int_eq(F.done, 1);
    return n0;
}

/* Rolled back once, with this count in the Event and on /status. */
static void expect_acted(size_t n0, const char *votes, const char *status)
{
    ck_assert_int_eq(F.result, ROLLBACK_RESULT_ROLLED_BACK);
    ck_assert_uint_eq(count(KUBE_PATCH, DEP_PATH, n0), 1);
    ck_assert_uint_eq(events("RollbackTriggered"), 1);
    ck_assert_msg(strstr(nth(KUBE_CREATE, EVENTS_PATH, 0)->body, votes) != NULL,
                  "expected %s in the Event: %s", votes, nth(KUBE_CREATE, EVENTS_PATH, 0)->body);
    expect_status(status);
}

START_TEST(test_quorum_auto_is_the_default)
{
    size_t n0 = auto_fail("rollback: {mode: enforce}\n", 1, 0);

    /* the ReplicaSet read fresh, before the Lease */
    ck_assert_uint_eq(count(KUBE_GET, RS_PATH, n0), 1);
    ck_assert_str_eq(F.reqs[n0].path, RS_PATH);
    /* one ready pod: its one vote is the majority */
    expect_acted(n0, "votes 1 of 1 (majority of 1 ready pod)",
                 "\"votes\":1,\"quorum\":1,\"quorum_basis\":\"majority of 1 ready pod\"");
    expect_status("\"mode\":\"enforce\",\"target\":\"deployment\",\"quorum\":\"auto\"");
    fx_teardown();
}
END_TEST

START_TEST(test_quorum_auto_three_ready_one_vote)
{
    struct kube_lease l;
    char err[200];
    size_t n0 = auto_fail("rollback: {mode: enforce, quorum: auto}\n", 3, 0);

    /* one pod worse than its two siblings is a node, not the release */
    expect_skip(GUARD_QUORUM_NOT_MET, n0);
    ck_assert_uint_eq(count(KUBE_GET, DEP_PATH, n0), 0);
    expect_status("\"reason\":\"quorum_not_met\"");
    expect_status("\"votes\":1,\"quorum\":2,\"quorum_basis\":\"majority of 3 ready pods\"");
    /* its vote is on the Lease for its siblings to count; nobody holds it */
    ck_assert_int_eq(kube_json_lease_parse(F.lease, strlen(F.lease), &l, err, sizeof(err)), 0);
    ck_assert_uint_eq(lease_votes(&l, BAD, f_wall(NULL) / 1000, ROLLBACK_VOTE_TTL_S), 1);
    ck_assert_str_eq(l.holder, "");
    kube_lease_done(&l);
    fx_teardown();
}
END_TEST

START_TEST(test_quorum_auto_three_ready_two_votes)
{
    size_t n0 = auto_fail("rollback: {mode: enforce}\n", 3, 1);

    expect_acted(n0, "votes 2 of 3 (majority of 3 ready pods)",
                 "\"votes\":2,\"quorum\":2,\"quorum_basis\":\"majority of 3 ready pods\"");
    fx_teardown();
}
END_TEST

START_TEST(test_quorum_auto_five_ready_two_votes)
{
    size_t n0 = auto_fail("rollback: {mode: enforce}\n", 5, 1);

    expect_skip(GUARD_QUORUM_NOT_MET, n0);
    expect_status("\"votes\":2,\"quorum\":3,\"quorum_basis\":\"majority of 5 ready pods\"");
    fx_teardown();
}
END_TEST

START_TEST(test_quorum_auto_voters_beyond_ready)
{
    /* none ready (the release fails its readiness probes), three voted: 2 of 3 */
    size_t n0 = auto_fail("rollback: {mode: enforce}\n", 0, 2);

    expect_acted(n0, "votes 3 of 3 (majority of 3 pods that voted; 0 ready)",
                 "\"votes\":3,\"quorum\":2,\"quorum_basis\":\"majority of 3 pods that voted; "
                 "0 ready\"");
    fx_teardown();
}
END_TEST

START_TEST(test_quorum_explicit_wins)
{
    size_t n0 = auto_fail("rollback: {mode: enforce, quorum: 1}\n", 3, 0);

    /* rollback.quorum 1: one pod acts for three, as set; no ReplicaSet read needed */
    ck_assert_uint_eq(count(KUBE_GET, RS_PATH, n0), 0);
    expect_acted(n0, "votes 1 of 1 (rollback.quorum 1)",
                 "\"votes\":1,\"quorum\":1,\"quorum_basis\":\"rollback.quorum 1\"");
    expect_status("\"target\":\"deployment\",\"quorum\":\"1\"");
    fx_teardown();
}
END_TEST

START_TEST(test_quorum_auto_unreadable_replicaset)
{
    size_t n0;

    /* Without the count there is no majority to judge: fail, vote nothing, try again later. */
    fx_setup("rollback: {mode: enforce}\n");
    fx_start();
    add_fault((struct fault){.verb = KUBE_GET, .path = "/replicasets/", .status = 403});
    n0 = F.nreq;
    fail_verdict();
    run(5000);
    ck_assert_int_eq(F.result, ROLLBACK_RESULT_FAILED);
    ck_assert_uint_eq(writes(n0), 0);
    ck_assert_uint_eq(count(KUBE_GET, LEASE_PATH, n0), 0);
    expect_status("reading the ReplicaSet");
    expect_status("\"votes\":0,\"quorum\":0,\"quorum_basis\":\"\"");
    fx_teardown();
}
END_TEST

START_TEST(test_quorum_auto_not_read_in_dry_run)
{
    size_t n0 = auto_fail("rollback: {mode: dry-run}\n", 3, 0);

    /* dry-run writes no votes, so it counts none and reads no ReplicaSet for them */
    ck_assert_int_eq(F.result, ROLLBACK_RESULT_DRY_RUN);
    ck_assert_uint_eq(count(KUBE_GET, RS_PATH, n0), 0);
    fx_teardown();
}
END_TEST

/* --- conflicts, lost answers, throttling --------------------------------------------- */

START_TEST(test_409_rereads_and_redecides)
{
    fx_setup("rollback: {mode: enforce}\n");
    add_fault((struct fault){.verb = KUBE_PATCH, .path = DEP_PATH, .status = 409});
    fx_start();
    size_t n0 = F.nreq;

    fail_verdict();
    run(5000);
    ck_assert_int_eq(F.result, ROLLBACK_RESULT_ROLLED_BACK);
    ck_assert_uint_eq(count(KUBE_GET, DEP_PATH, n0), 2); /* read again after the 409 */
    ck_assert_uint_eq(count(KUBE_LIST, "/apis/apps/v1/namespaces/prod/replicasets", n0), 2);
    ck_assert_uint_eq(count(KUBE_PATCH, DEP_PATH, n0), 2);
    ck_assert_str_eq(nth(KUBE_PATCH, DEP_PATH, 0)->body, nth(KUBE_PATCH, DEP_PATH, 1)->body);
    ck_assert_uint_eq(events("RollbackTriggered"), 1);
    fx_teardown();
}
END_TEST

START_TEST(test_422_someone_else_acted)
{
    fx_setup("rollback: {mode: enforce}\n");
    fx_start();
    /* The test op fails: the Deployment was rolled back by another sidecar meanwhile. */
    add_fault((struct fault){
        .verb = KUBE_PATCH, .path = DEP_PATH, .status = 422, .set_dep = F.dep_applied});
    size_t n0 = F.nreq;

    fail_verdict();
    run(5000);
    ck_assert_uint_eq(count(KUBE_GET, DEP_PATH, n0), 2);
    ck_assert_uint_eq(count(KUBE_PATCH, DEP_PATH, n0), 1); /* re-decided: no second PATCH */
    expect_skip(GUARD_ALREADY_ROLLED_BACK, n0 + 100);
    ck_assert_uint_eq(events("RollbackTriggered"), 0);
    fx_teardown();
}
END_TEST

START_TEST(test_lost_answer_after_applied_patch)
{
    fx_setup("rollback: {mode: enforce}\n");
    add_fault((struct fault){.verb = KUBE_PATCH, .path = DEP_PATH, .status = 0, .apply = true});
    fx_start();
    size_t n0 = F.nreq;

    fail_verdict();
    run(5000);
    ck_assert_int_eq(F.result, ROLLBACK_RESULT_ROLLED_BACK);
    ck_assert_uint_eq(count(KUBE_PATCH, DEP_PATH, n0), 1); /* never resent */
    ck_assert_uint_eq(count(KUBE_GET, DEP_PATH, n0), 2);   /* looked instead */
    ck_assert_uint_eq(events("RollbackTriggered"), 1);
    ck_assert_ptr_nonnull(strstr(F.lease, "\"rollguard.io/rolled-back\":\"" BAD "\""));
    fx_teardown();
}
END_TEST

START_TEST(test_429_retry_after)
{
    const struct req *a, *b;

    fx_setup("rollback: {mode: enforce}\n");
    add_fault(
        (struct fault){.verb = KUBE_PATCH, .path = DEP_PATH, .status = 429, .retry_after = "7"});
    fx_start();
    size_t n0 = F.nreq;

    fail_verdict();
    run(6000);
    ck_assert_uint_eq(count(KUBE_PATCH, DEP_PATH, n0), 1); /* still waiting */
    ck_assert_int_eq(F.done, 0);
    run(2000);
    ck_assert_uint_eq(count(KUBE_PATCH, DEP_PATH, n0), 2);
    a = nth(KUBE_PATCH, DEP_PATH, 0);
    b = nth(KUBE_PATCH, DEP_PATH, 1);
    ck_assert_uint_eq(b->at_ms - a->at_ms, 7000); /* exactly Retry-After (no jitter here) */
    ck_assert_str_eq(a->body, b->body);
    ck_assert_int_eq(F.result, ROLLBACK_RESULT_ROLLED_BACK);
    ck_assert_uint_eq(events("RollbackTriggered"), 1);
    fx_teardown();
}
END_TEST

/* --- Argo Rollouts ------------------------------------------------------------------------ */

static void argo_setup(void)
{
    fx_setup("rollback: {mode: enforce, target: argo-rollout}\n");
    F.envv[0][1] = "web-ro-7d9f6c5b8-x2kqp";
    F.envv[2][1] = "7d9f6c5b8";
    free(F.pod);
    F.pod =
        replace(FIX_POD, "\"name\":\"web-7c5d9f8b4-x2kqp\"", "\"name\":\"web-ro-7d9f6c5b8-x2kqp\"");
    replace_in(&F.pod, "\"name\":\"web-7c5d9f8b4\"", "\"name\":\"web-ro-7d9f6c5b8\"");
    replace_in(&F.rs, "\"name\":\"web-7c5d9f8b4\"", "\"name\":\"web-ro-7d9f6c5b8\"");
    replace_in(&F.rs, "\"pod-template-hash\":\"7c5d9f8b4\"",
               "\"rollouts-pod-template-hash\":\"7d9f6c5b8\"");
    replace_in(&F.rs, "\"kind\":\"Deployment\",\"name\":\"web\",\"uid\":\"" DEP_UID "\"",
               "\"kind\":\"Rollout\",\"name\":\"web-ro\",\"uid\":\"" RO_UID "\"");
    F.ro = strdup(FIX_ROLLOUT);
}

START_TEST(test_argo_abort_status_subresource)
{
    const struct req *p;

    argo_setup();
    fx_start();
    ck_assert(rollback_identity_known(F.rb));
    size_t n0 = F.nreq;

    fail_verdict();
    run(5000);
    ck_assert_int_eq(F.result, ROLLBACK_RESULT_ROLLED_BACK);
    ck_assert_uint_eq(count(KUBE_PATCH, "/", n0), 1);
    p = nth(KUBE_PATCH, RO_PATH, 0);
    ck_assert_str_eq(p->path, RO_PATH "/status");
    ck_assert_str_eq(p->ctype, "application/merge-patch+json");
    ck_assert_str_eq(p->body, "{\"status\":{\"abort\":true}}");
    ck_assert_uint_eq(events("RollbackTriggered"), 1);
    ck_assert_ptr_nonnull(strstr(nth(KUBE_CREATE, EVENTS_PATH, 0)->body, "\"kind\":\"Rollout\""));
    fx_teardown();
}
END_TEST

START_TEST(test_argo_abort_falls_back_on_404)
{
    argo_setup();
    add_fault((struct fault){.verb = KUBE_PATCH, .path = RO_PATH "/status", .status = 404});
    fx_start();
    size_t n0 = F.nreq;

    fail_verdict();
    run(5000);
    ck_assert_int_eq(F.result, ROLLBACK_RESULT_ROLLED_BACK);
    ck_assert_uint_eq(count(KUBE_PATCH, "/", n0), 2);
    ck_assert_str_eq(nth(KUBE_PATCH, RO_PATH, 0)->path, RO_PATH "/status");
    ck_assert_str_eq(nth(KUBE_PATCH, RO_PATH, 1)->path, RO_PATH);
    ck_assert_str_eq(nth(KUBE_PATCH, RO_PATH, 1)->body, "{\"status\":{\"abort\":true}}");
    ck_assert_uint_eq(events("RollbackTriggered"), 1);
    fx_teardown();
}
END_TEST

START_TEST(test_argo_already_aborted)
{
    argo_setup();
    replace_in(&F.ro, "\"status\":{", "\"status\":{\"abort\":true,");
    fx_start();
    size_t n0 = F.nreq;

    fail_verdict();
    run(5000);
    expect_skip(GUARD_ALREADY_ABORTED, n0);
    fx_teardown();
}
END_TEST

/* --- a re-applied bad hash ------------------------------------------------------------------ */

START_TEST(test_bad_revision_reapplied)
{
    struct kube_lease l;
    char *body = NULL;

    fx_setup("rollback: {mode: enforce}\n");
    /* rolled back before (on the Lease and on the Deployment), and current again */
    ck_assert_int_eq(lease_init(&l, "web-rollguard", NS), 0);
    ck_assert_int_eq(lease_record_add(&l, LEASE_ANN_ROLLED_BACK, BAD), 0);
    ck_assert_int_eq(kube_json_lease_render(&l, &body), 0);
    kube_lease_done(&l);
    free(lease_store(body));
    free(body);
    replace_in(&F.dep, "\"kubernetes.io/change-cause\":\"image v2\"",
               "\"kubernetes.io/change-cause\":\"image v2\",\"rollguard.io/rolled-back\":\"" BAD
               "\"");
    fx_start();
    /* one warning Event, recorded on the Lease so no other pod repeats it */
    ck_assert_uint_eq(events("BadRevisionReapplied"), 1);
    ck_assert_ptr_nonnull(strstr(F.lease, "\"rollguard.io/reapply-warned\":\"" BAD "\""));
    size_t n0 = F.nreq;

    fail_verdict();
    run(5000);
    fail_verdict();
    run(600000);
    ck_assert_uint_eq(F.nreq, n0); /* no second undo, not even a read */
    expect_skip(GUARD_ALREADY_ROLLED_BACK, n0);
    fx_teardown();

    /* A second pod of that revision starts: no second warning. */
    fx_setup("rollback: {mode: enforce}\n");
    ck_assert_int_eq(lease_init(&l, "web-rollguard", NS), 0);
    ck_assert_int_eq(lease_record_add(&l, LEASE_ANN_ROLLED_BACK, BAD), 0);
    ck_assert_int_eq(lease_record_add(&l, LEASE_ANN_WARNED, BAD), 0);
    ck_assert_int_eq(kube_json_lease_render(&l, &body), 0);
    kube_lease_done(&l);
    free(lease_store(body));
    free(body);
    fx_start();
    ck_assert_uint_eq(events("BadRevisionReapplied"), 0);
    ck_assert_uint_eq(writes(0), 0);
    fx_teardown();
}
END_TEST

/* --- the concurrent control: the stable revision's pods ------------------------------- */

#define PODS_LIST "/api/v1/namespaces/prod/pods?labelSelector=app%3Dweb&limit=500"

static struct {
    int calls;
    int err;
    char why[400];
    char hash[64];
    struct rollback_control_pod pods[ROLLBACK_CONTROL_PODS_MAX];
    unsigned n;
} C;

static void on_pods(int err, const char *why, const char *stable_hash,
                    const struct rollback_control_pod *pods, unsigned n, void *arg)
{
    ck_assert_ptr_eq(arg, &C);
    ck_assert_uint_le(n, ROLLBACK_CONTROL_PODS_MAX);
    C.calls++;
    C.err = err;
    snprintf(C.why, sizeof(C.why), "%s", why ? why : "");
    snprintf(C.hash, sizeof(C.hash), "%s", stable_hash ? stable_hash : "");
    C.n = n;
    for (unsigned i = 0; i < n; i++)
        C.pods[i] = pods[i];
}

static void control_start(const char *yaml)
{
    memset(&C, 0, sizeof(C));
    fx_setup(yaml);
    fx_start();
}

START_TEST(test_control_pods_stable_revision)
{
    struct rollback_rollout ro;
    size_t n0;

    control_start("rollback: {mode: enforce}\n");
    rollback_rollout(F.rb, &ro);
    ck_assert_msg(ro.active, "not active: %s", ro.why);
    ck_assert_str_eq(ro.hash, BAD);
    ck_assert_int_eq(ro.start_wall_ms, rfc3339("2026-07-24T09:59:00Z") * 1000);
    n0 = F.nreq;
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), 0);
    ck_assert_int_eq(C.calls, 0); /* never inside the call */
    run(1000);
    ck_assert_int_eq(C.calls, 1);
    /* one LIST of the Deployment's selector, nothing else */
    ck_assert_uint_eq(F.nreq, n0 + 1);
    ck_assert_int_eq(F.reqs[n0].verb, KUBE_LIST);
    ck_assert_str_eq(F.reqs[n0].path, PODS_LIST);
    ck_assert_int_eq(C.err, 0);
    /* 5d8f7c9b6d: 3 usable (not ready, terminating, no IP left out) beat 84c6b5f9d7's 2;
       this pod's own 7c5d9f8b4 and the pod without a hash never count */
    ck_assert_str_eq(C.hash, "5d8f7c9b6d");
    ck_assert_uint_eq(C.n, 3);
    ck_assert_str_eq(C.pods[0].name, "web-5d8f7c9b6d-a1");
    ck_assert_str_eq(C.pods[0].ip, "10.244.1.5");
    ck_assert_str_eq(C.pods[1].name, "web-5d8f7c9b6d-b2");
    ck_assert_str_eq(C.pods[2].name, "web-5d8f7c9b6d-f6");
    ck_assert_str_eq(C.pods[2].ip, "fd00::1:6");
    run(600000);
    ck_assert_int_eq(C.calls, 1); /* exactly once */
    fx_teardown();
}
END_TEST

START_TEST(test_control_pods_most_numerous_wins)
{
    /* Two of the stable pods become unready: 84c6b5f9d7's 2 now beat 5d8f7c9b6d's 1. */
    control_start("rollback: {mode: enforce}\n");
    replace_in(&F.pods, "\"web-5d8f7c9b6d-a1\"",
               "\"web-5d8f7c9b6d-a1\",\"deletionTimestamp\":"
               "\"2026-07-24T09:59:40Z\"");
    replace_in(&F.pods, "\"name\":\"web-5d8f7c9b6d-b2\"", "\"name\":\"web-5d8f7c9b6d-b2\"");
    replace_in(&F.pods, "\"10.244.2.5\",\"podIPs\"", "\"\",\"podIPs\"");
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), 0);
    run(1000);
    ck_assert_int_eq(C.err, 0);
    ck_assert_str_eq(C.hash, "84c6b5f9d7");
    ck_assert_uint_eq(C.n, 2);
    ck_assert_str_eq(C.pods[0].name, "web-84c6b5f9d7-m1");
    ck_assert_str_eq(C.pods[1].name, "web-84c6b5f9d7-m2");
    fx_teardown();
}
END_TEST

START_TEST(test_control_pods_none_and_pages)
{
    const char *page1 =
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"continue\":"
        "\"tok+1/=\"},\"items\":[" FIX_POD_ITEM("web-5d8f7c9b6d-a1", "5d8f7c9b6d", "Running",
                                                "True", FIX_IP("10.244.1.5"), "") "]}";
    const char *page2 =
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[" FIX_POD_ITEM(
            "web-5d8f7c9b6d-b2", "5d8f7c9b6d", "Running", "True", FIX_IP("10.244.2.5"), "") "]}";
    size_t n0;

    control_start("rollback: {mode: enforce}\n");
    free(F.pods);
    F.pods = strdup(page1);
    F.pods2 = strdup(page2);
    n0 = F.nreq;
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), 0);
    run(1000);
    ck_assert_uint_eq(F.nreq, n0 + 2);
    ck_assert_str_eq(F.reqs[n0 + 1].path, PODS_LIST "&continue=tok%2B1%2F%3D");
    ck_assert_int_eq(C.calls, 1);
    ck_assert_uint_eq(C.n, 2);
    ck_assert_str_eq(C.pods[1].name, "web-5d8f7c9b6d-b2");

    /* a later LIST that finds only this revision's pods: n 0, and why says so */
    free(F.pods);
    F.pods = strdup(
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[" FIX_POD_ITEM(
            "web-7c5d9f8b4-h8v4m", "7c5d9f8b4", "Running", "True", FIX_IP("10.244.2.9"), "") "]}");
    free(F.pods2);
    F.pods2 = NULL;
    run(ROLLBACK_CONTROL_RELIST_MS);
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), 0);
    run(1000);
    ck_assert_int_eq(C.calls, 2);
    ck_assert_int_eq(C.err, 0);
    ck_assert_uint_eq(C.n, 0);
    ck_assert_str_eq(C.why, "no ready pod of another revision");
    fx_teardown();
}
END_TEST

START_TEST(test_control_pods_budget)
{
    control_start("rollback: {mode: enforce, guard_window: 2h}\n");
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), 0);
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), -EAGAIN); /* one pending */
    run(1000);
    ck_assert_int_eq(C.calls, 1);
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), -EAGAIN); /* within RELIST_MS */
    run(ROLLBACK_CONTROL_RELIST_MS - 1000 - 1);
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), -EAGAIN);
    run(1);
    for (int i = 1; i < ROLLBACK_CONTROL_LISTS_MAX; i++) {
        ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), 0);
        run(ROLLBACK_CONTROL_RELIST_MS);
    }
    ck_assert_int_eq(C.calls, ROLLBACK_CONTROL_LISTS_MAX);
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), -EAGAIN); /* LISTS_MAX spent */
    run(10 * ROLLBACK_CONTROL_RELIST_MS);
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), -EAGAIN);
    ck_assert_uint_eq(count(KUBE_LIST, "/api/v1/namespaces/prod/pods?", 0),
                      ROLLBACK_CONTROL_LISTS_MAX);
    fx_teardown();
}
END_TEST

START_TEST(test_control_pods_not_active)
{
    struct rollback_rollout ro;

    /* outside the guard window */
    control_start("rollback: {mode: enforce, guard_window: 30m}\n");
    F.wall0 += 3600;
    rollback_rollout(F.rb, &ro);
    ck_assert(!ro.active);
    ck_assert_str_eq(ro.why, "outside the guard window (the rollout began 61m ago)");
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), -ENOTCONN);
    fx_teardown();

    /* not the owner's current revision at start */
    memset(&C, 0, sizeof(C));
    fx_setup("rollback: {mode: enforce}\n");
    replace_in(&F.dep, "registry.example/web:v2", "registry.example/web:v1");
    fx_start();
    ck_assert(rollback_identity_known(F.rb));
    rollback_rollout(F.rb, &ro);
    ck_assert(!ro.active);
    ck_assert_str_eq(ro.why, "this pod's revision is not the owner's current one");
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), -ENOTCONN);
    fx_teardown();

    /* identity unknown, then disabled */
    memset(&C, 0, sizeof(C));
    fx_setup("rollback: {mode: enforce}\n");
    add_fault((struct fault){.verb = KUBE_GET, .path = "/pods/", .status = 403});
    fx_start();
    rollback_rollout(F.rb, &ro);
    ck_assert_str_eq(ro.why, "identity not known yet");
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), -ENOTCONN);
    fx_teardown();
    fx_setup("rollback: {mode: enforce}\n");
    F.envv[0][0] = "NO_POD_NAME";
    fx_start();
    rollback_rollout(F.rb, &ro);
    ck_assert(!ro.active);
    ck_assert_ptr_nonnull(strstr(ro.why, "rollback disabled: no pod identity"));
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), -ENOTCONN);
    ck_assert_uint_eq(F.nreq, 0);
    ck_assert_int_eq(C.calls, 0);
    fx_teardown();
}
END_TEST

START_TEST(test_control_pods_forbidden_and_5xx)
{
    struct buf b;

    control_start("rollback: {mode: enforce}\n");
    add_fault((struct fault){.verb = KUBE_LIST, .path = "/pods?", .status = 403});
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), 0);
    run(1000);
    ck_assert_int_eq(C.calls, 1);
    ck_assert_int_eq(C.err, -EACCES);
    ck_assert_str_eq(C.why, "listing pods: pods is forbidden: the ServiceAccount lacks list on "
                            "pods (k8s/ RBAC)");
    ck_assert_uint_eq(C.n, 0);
    /* a 5xx is retried by the transport's policy, then told */
    for (int i = 0; i < KUBE_MAX_ATTEMPTS; i++)
        add_fault((struct fault){.verb = KUBE_LIST, .path = "/pods?", .status = 503});
    run(ROLLBACK_CONTROL_RELIST_MS);
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), 0);
    run(120000);
    ck_assert_int_eq(C.calls, 2);
    ck_assert_int_eq(C.err, -EIO);
    ck_assert_ptr_nonnull(strstr(C.why, "listing pods: HTTP 503"));
    /* garbage */
    free(F.pods);
    F.pods = strdup("{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":\"x\"},"
                    "\"status\":{\"podIP\":\"not-an-ip\"}}]}");
    run(ROLLBACK_CONTROL_RELIST_MS);
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), 0);
    run(1000);
    ck_assert_int_eq(C.calls, 3);
    ck_assert_int_eq(C.err, -EBADMSG);
    ck_assert_ptr_nonnull(strstr(C.why, "malformed"));
    ck_assert_ptr_nonnull(strstr(C.why, "podIP"));
    buf_init(&b, 1 << 20);
    rollback_render_status(F.rb, &b);
    ck_assert_ptr_nonnull(strstr(b.data, "\"control\":{\"lists\":3,"));
    buf_done(&b);
    fx_teardown();
}
END_TEST

START_TEST(test_control_pods_argo)
{
    const char *argo_pods =
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":["
        "{\"metadata\":{\"name\":\"web-ro-5c8b7d6f9-a\",\"labels\":{\"app\":\"web-ro\","
        "\"rollouts-pod-template-hash\":\"5c8b7d6f9\"}},\"status\":{\"phase\":\"Running\","
        "\"podIP\":\"10.244.7.1\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}},"
        "{\"metadata\":{\"name\":\"web-ro-7d9f6c5b8-b\",\"labels\":{\"app\":\"web-ro\","
        "\"rollouts-pod-template-hash\":\"7d9f6c5b8\"}},\"status\":{\"phase\":\"Running\","
        "\"podIP\":\"10.244.7.2\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}]}";
    size_t n0;

    memset(&C, 0, sizeof(C));
    argo_setup();
    free(F.pods);
    F.pods = strdup(argo_pods);
    fx_start();
    n0 = F.nreq;
    ck_assert_int_eq(rollback_control_pods(F.rb, on_pods, &C), 0);
    run(1000);
    /* the Rollout's selector, read during identity (no extra request), and Argo's label */
    ck_assert_str_eq(F.reqs[n0].path,
                     "/api/v1/namespaces/prod/pods?labelSelector=app%3Dweb-ro&limit=500");
    ck_assert_str_eq(C.hash, "5c8b7d6f9");
    ck_assert_uint_eq(C.n, 1);
    ck_assert_str_eq(C.pods[0].ip, "10.244.7.1");
    fx_teardown();
}
END_TEST

/* --- withheld rollbacks ------------------------------------------------------------------ */

#define WITHHELD_NAME "web.rollguard-withheld." BAD
#define WITHHELD_SUMMARY "error rate 20% above 5%, but the stable revision is at 18% too"

static void withheld(void)
{
    rollback_on_withheld(F.rb, EVIDENCE, WITHHELD_SUMMARY, (int64_t)F.mono);
}

static bool metric(const char *line)
{
    struct buf b;
    bool found;

    buf_init(&b, 1 << 20);
    rollback_render_metrics(F.rb, &b);
    found = strstr(b.data, line) != NULL;
    buf_done(&b);
    return found;
}

static bool status_has(const char *s)
{
    struct buf b;
    bool found;

    buf_init(&b, 1 << 20);
    rollback_render_status(F.rb, &b);
    found = strstr(b.data, s) != NULL;
    buf_done(&b);
    return found;
}

START_TEST(test_withheld_event_once_per_rollout)
{
    const struct req *ev;
    size_t n0;

    fx_setup("rollback: {mode: enforce}\n");
    fx_start();
    n0 = F.nreq;
    withheld();
    run(1000);
    ck_assert_uint_eq(F.nreq, n0 + 1); /* the Event, and nothing else: no Lease, no PATCH */
    ck_assert_uint_eq(events(ROLLBACK_WITHHELD_REASON), 1);
    ev = nth(KUBE_CREATE, EVENTS_PATH, 0);
    ck_assert_ptr_nonnull(strstr(ev->body, "\"metadata\":{\"name\":\"" WITHHELD_NAME "\""));
    ck_assert_ptr_nonnull(strstr(ev->body, "\"type\":\"Warning\""));
    ck_assert_ptr_nonnull(strstr(ev->body, "\"message\":\"" WITHHELD_SUMMARY "\""));
    ck_assert_ptr_nonnull(strstr(ev->body, "\"rollguard.io/evidence\":"));
    ck_assert_ptr_nonnull(strstr(ev->body, "\"kind\":\"Deployment\",\"namespace\":\"prod\","
                                           "\"name\":\"web\",\"uid\":\"" DEP_UID "\""));
    ck_assert(metric("rollguard_rollbacks_withheld_total 1\n"));
    ck_assert(metric("rollguard_withheld_events_total{result=\"created\"} 1\n"));
    ck_assert(metric("# TYPE rollguard_withheld_events_total counter\n"));
    ck_assert(metric("# HELP rollguard_rollbacks_withheld_total "));
    ck_assert(status_has("\"withheld\":{\"episodes\":1,\"in_episode\":true,\"event\":\"created\","
                         "\"event_name\":\"" WITHHELD_NAME "\",\"last_summary\":\"" WITHHELD_SUMMARY
                         "\"}"));
    /* the same episode goes on: counted once, no second POST */
    withheld();
    run(60000);
    withheld();
    ck_assert(metric("rollguard_rollbacks_withheld_total 1\n"));
    /* an INCONCLUSIVE verdict does not end it; a PASS does; the next episode never posts again */
    rollback_on_verdict(F.rb, ROLLBACK_VERDICT_INCONCLUSIVE, NULL, NULL, (int64_t)F.mono);
    withheld();
    ck_assert(metric("rollguard_rollbacks_withheld_total 1\n"));
    rollback_on_verdict(F.rb, ROLLBACK_VERDICT_PASS, NULL, NULL, (int64_t)F.mono);
    ck_assert(status_has("\"in_episode\":false"));
    withheld();
    run(1000);
    ck_assert(metric("rollguard_rollbacks_withheld_total 2\n"));
    ck_assert_uint_eq(events(ROLLBACK_WITHHELD_REASON), 1);
    ck_assert_uint_eq(F.nreq, n0 + 1);
    /* a FAIL verdict that is not withheld ends an episode too */
    fail_verdict();
    run(5000);
    withheld();
    ck_assert(metric("rollguard_rollbacks_withheld_total 3\n"));
    fx_teardown();
}
END_TEST

START_TEST(test_withheld_already_posted_by_another_pod)
{
    fx_setup(
        "rollback: {mode: dry-run}\n"); /* dry-run still posts: an Event is no workload write */
    F.ev_names[F.nev++] = strdup(WITHHELD_NAME); /* another pod of the revision said it */
    fx_start();
    withheld();
    run(1000);
    ck_assert_uint_eq(count(KUBE_CREATE, EVENTS_PATH, 0), 1);
    ck_assert(metric("rollguard_withheld_events_total{result=\"already\"} 1\n"));
    ck_assert(metric("rollguard_withheld_events_total{result=\"created\"} 0\n"));
    ck_assert(metric("rollguard_withheld_events_total{result=\"failed\"} 0\n"));
    ck_assert(status_has("\"event\":\"already\""));
    fx_teardown();

    /* a refused POST is counted as failed, and not retried within the rollout */
    fx_setup("rollback: {mode: enforce}\n");
    add_fault((struct fault){.verb = KUBE_CREATE, .path = "/events", .status = 403});
    fx_start();
    withheld();
    run(1000);
    rollback_on_verdict(F.rb, ROLLBACK_VERDICT_PASS, NULL, NULL, (int64_t)F.mono);
    withheld();
    run(1000);
    ck_assert(metric("rollguard_withheld_events_total{result=\"failed\"} 1\n"));
    ck_assert_uint_eq(count(KUBE_CREATE, EVENTS_PATH, 0), 1);
    fx_teardown();
}
END_TEST

START_TEST(test_withheld_mode_off_counts_without_event)
{
    size_t n0;

    fx_setup("rollback: {mode: \"off\"}\n");
    fx_start();
    n0 = F.nreq;
    withheld();
    run(5000);
    ck_assert_uint_eq(F.nreq, n0);
    ck_assert(metric("rollguard_rollbacks_withheld_total 1\n"));
    ck_assert(status_has("\"event\":\"off\""));
    fx_teardown();
}
END_TEST

START_TEST(test_withheld_event_name)
{
    /* too long, or not a DNS subdomain: the owner cut, a digest for the hash; deterministic */
    char owner[254], a[KUBE_NAME_MAX], b[KUBE_NAME_MAX], c[KUBE_NAME_MAX];

    rb_withheld_event_name("web", BAD, a, sizeof(a));
    ck_assert_str_eq(a, WITHHELD_NAME);
    memset(owner, 'w', 250);
    owner[250] = '\0';
    owner[216] = '-'; /* the cut lands after a '-': dropped, a label ends alphanumeric */
    rb_withheld_event_name(owner, BAD, a, sizeof(a));
    rb_withheld_event_name(owner, BAD, b, sizeof(b));
    rb_withheld_event_name(owner, "7c5d9f8b5", c, sizeof(c));
    ck_assert_str_eq(a, b);
    ck_assert_str_ne(a, c);
    ck_assert_uint_le(strlen(a), 253);
    ck_assert_uint_eq(strlen(a), 216 + strlen(".rollguard-withheld.") + 16);
    ck_assert_int_eq(strncmp(a, owner, 216), 0);
    ck_assert_ptr_nonnull(strstr(a, "w.rollguard-withheld."));
    rb_withheld_event_name("web", "Bad_Hash", a, sizeof(a));
    ck_assert_int_eq(strncmp(a, "web.rollguard-withheld.", 23), 0);
    ck_assert_uint_eq(strlen(a), 23 + 16);
    ck_assert_uint_eq(strspn(a + 23, "0123456789abcdef"), 16);
}
END_TEST

/* --- manual ---------------------------------------------------------------------------- */

START_TEST(test_manual_skips_quorum_and_window)
{
    fx_setup("rollback: {mode: enforce, quorum: 3}\n");
    F.wall0 += 86400; /* long outside the guard window */
    fx_start();
    size_t n0 = F.nreq;
    int64_t id = rollback_manual(F.rb, 0, false);

    ck_assert_int_gt(id, 0);
    ck_assert_int_eq(rollback_manual(F.rb, 0, false), -EBUSY);
    run(5000);
    ck_assert_int_eq(F.result, ROLLBACK_RESULT_ROLLED_BACK);
    ck_assert_uint_eq(count(KUBE_PATCH, DEP_PATH, n0), 1);
    ck_assert_ptr_nonnull(strstr(nth(KUBE_CREATE, EVENTS_PATH, 0)->body, "on manual request"));
    fx_teardown();
}
END_TEST

Suite *rollback_suite(void)
{
    Suite *s = suite_create("rollback");
    TCase *tc = tcase_create("job");

    tcase_add_test(tc, test_rolls_back_once);
    tcase_add_test(tc, test_dry_run_records_the_exact_patch);
    tcase_add_test(tc, test_mode_off);
    tcase_add_test(tc, test_not_in_cluster);
    tcase_add_test(tc, test_identity_unknown);
    tcase_add_test(tc, test_outside_guard_window);
    tcase_add_test(tc, test_not_current_revision);
    tcase_add_test(tc, test_no_previous_revision);
    tcase_add_test(tc, test_paused);
    tcase_add_test(tc, test_already_rolled_back);
    tcase_add_test(tc, test_lease_held_by_another);
    tcase_add_test(tc, test_quorum_not_met_then_met);
    tcase_add_test(tc, test_quorum_auto_is_the_default);
    tcase_add_test(tc, test_quorum_auto_three_ready_one_vote);
    tcase_add_test(tc, test_quorum_auto_three_ready_two_votes);
    tcase_add_test(tc, test_quorum_auto_five_ready_two_votes);
    tcase_add_test(tc, test_quorum_auto_voters_beyond_ready);
    tcase_add_test(tc, test_quorum_explicit_wins);
    tcase_add_test(tc, test_quorum_auto_unreadable_replicaset);
    tcase_add_test(tc, test_quorum_auto_not_read_in_dry_run);
    tcase_add_test(tc, test_409_rereads_and_redecides);
    tcase_add_test(tc, test_422_someone_else_acted);
    tcase_add_test(tc, test_lost_answer_after_applied_patch);
    tcase_add_test(tc, test_429_retry_after);
    tcase_add_test(tc, test_argo_abort_status_subresource);
    tcase_add_test(tc, test_argo_abort_falls_back_on_404);
    tcase_add_test(tc, test_argo_already_aborted);
    tcase_add_test(tc, test_bad_revision_reapplied);
    tcase_add_test(tc, test_manual_skips_quorum_and_window);
    tcase_add_test(tc, test_control_pods_stable_revision);
    tcase_add_test(tc, test_control_pods_most_numerous_wins);
    tcase_add_test(tc, test_control_pods_none_and_pages);
    tcase_add_test(tc, test_control_pods_budget);
    tcase_add_test(tc, test_control_pods_not_active);
    tcase_add_test(tc, test_control_pods_forbidden_and_5xx);
    tcase_add_test(tc, test_control_pods_argo);
    tcase_add_test(tc, test_withheld_event_once_per_rollout);
    tcase_add_test(tc, test_withheld_already_posted_by_another_pod);
    tcase_add_test(tc, test_withheld_mode_off_counts_without_event);
    tcase_add_test(tc, test_withheld_event_name);
    suite_add_tcase(s, tc);
    return s;
}
