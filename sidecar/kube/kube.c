/*
 * kube — the Kubernetes API client: requests on curlm with the bearer
 * token and the service-account CA, retries with Retry-After and jittered
 * backoff, token re-reads, counters. Owns the token bytes (wiped on
 * release) and every pending call. Never logs and never puts the token in
 * an error text; the only synchronous I/O is reading the small token file.
 */
#include "sidecar/kube/kube.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "probes/curlm.h"
#include "sidecar/base/clock.h"
#include "sidecar/base/file.h"
#include "sidecar/base/rng.h"

const int kube_codes[KUBE_CODES] = {200, 201, 400, 401, 403, 404, 409, 410,
                                    415, 422, 429, 500, 503, 504, 0,   -1};

struct kube_client {
    struct event_base *base;
    struct curlm *m;
    char *api_server;
    char *token_path;
    char *ca_path;
    uint32_t timeout_ms;
    size_t max_body;
    char *token;            /* current token, NUL-terminated, or NULL */
    uint64_t token_read_ms; /* when the file was last read */
    bool token_stale;       /* force a re-read before the next attempt */
    struct rng rng;         /* backoff jitter */
    struct kube_stats stats;
    struct kube_call *calls; /* pending, doubly linked */
};

struct kube_call {
    struct kube_client *c;
    struct kube_call *prev, *next;
    enum kube_verb verb;
    char *url;
    char *content_type;
    char *body;
    size_t body_len;
    kube_done_fn *cb;
    void *arg;
    struct curlm_req *req;
    struct event *timer;
    unsigned attempts;
    bool retried_401;
    bool unsure;
    uint64_t deadline_ms;
};

static void wipe_free(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

const char *kube_verb_name(enum kube_verb v)
{
    static const char *const names[KUBE_VERBS] = {"get", "list", "create", "update", "patch"};
    return v >= 0 && v < KUBE_VERBS ? names[v] : "other";
}

int kube_code_index(long status)
{
    if (status <= 0)
        return KUBE_CODES - 1;
    for (int i = 0; i < KUBE_CODES - 2; i++)
        if (kube_codes[i] == status)
            return i;
    return KUBE_CODES - 2;
}

/* --- pure helpers ---------------------------------------------------------- */

int kube_retry_after(const char *header, const struct kube_status *st)
{
    if (header) {
        const char *p = header;
        long v = 0;

        while (*p == ' ' || *p == '\t')
            p++;
        if (*p >= '0' && *p <= '9') {
            while (*p >= '0' && *p <= '9' && v < 1000000)
                v = v * 10 + (*p++ - '0');
            while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
                p++;
            if (!*p)
                return (int)v;
        }
        /* An HTTP-date or garbage: the server wants a wait, say one second. */
        if (*header)
            return 1;
    }
    if (st && st->retry_after_s > 0)
        return st->retry_after_s;
    return -1;
}

bool kube_retryable_status(long status)
{
    return status == 429 || (status >= 500 && status <= 599);
}

bool kube_resend_allowed(enum kube_verb verb, long status, bool sent)
{
    if (!sent)
        return true;
    if (verb == KUBE_PATCH)
        return status == 429;
    return status == 0 || kube_retryable_status(status);
}

uint32_t kube_backoff_ms(unsigned attempt, int retry_after_s, double rnd)
{
    uint64_t exp = KUBE_BACKOFF_BASE_MS, wait;

    for (unsigned i = 1; i < attempt && exp < KUBE_BACKOFF_MAX_MS; i++)
        exp *= 2;
    if (exp > KUBE_BACKOFF_MAX_MS)
        exp = KUBE_BACKOFF_MAX_MS;
    wait = exp;
    if (retry_after_s >= 0) {
        uint64_t ra = (uint64_t)(retry_after_s > KUBE_RETRY_AFTER_MAX_S ? KUBE_RETRY_AFTER_MAX_S
                                                                        : retry_after_s) *
                      1000;
        if (ra > wait)
            wait = ra;
    }
    if (rnd < 0 || rnd >= 1)
        rnd = 0;
    return (uint32_t)((double)wait * (1.0 + KUBE_JITTER * rnd));
}

int kube_query_escape(const char *s, char *buf, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~';

        if (n + (plain ? 1 : 3) >= size)
            return -E2BIG;
        if (plain) {
            buf[n++] = (char)ch;
        } else {
            buf[n++] = '%';
            buf[n++] = hex[ch >> 4];
            buf[n++] = hex[ch & 15];
        }
    }
    if (n >= size)
        return -E2BIG;
    buf[n] = '\0';
    return 0;
}

int kube_incluster_url(const char *host, const char *port, char *buf, size_t size)
{
    int n;

    if (!host || !host[0] || !port || !port[0])
        return -ENOENT;
    if (strchr(host, ':'))
        n = snprintf(buf, size, "https://[%s]:%s", host, port);
    else
        n = snprintf(buf, size, "https://%s:%s", host, port);
    return n < 0 || (size_t)n >= size ? -E2BIG : 0;
}

/* --- token ------------------------------------------------------------------ */

/* Read the token file afresh (it is a symlink the kubelet swaps). Keeps the old on failure. */
static void token_reload(struct kube_client *c)
{
    char *buf = NULL;
    size_t len = 0;

    c->token_read_ms = clock_mono_ms();
    c->token_stale = false;
    if (file_read_small(c->token_path, KUBE_TOKEN_MAX_BYTES, &buf, &len) < 0)
        goto fail;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
                   buf[len - 1] == '\t'))
        buf[--len] = '\0';
    if (!len || strpbrk(buf, "\r\n")) {
        wipe_free(buf);
        goto fail;
    }
    if (!c->token || strcmp(c->token, buf))
        c->stats.token_reloads++;
    wipe_free(c->token);
    c->token = buf;
    return;
fail:
    c->stats.token_read_errors++;
}

/* --- calls -------------------------------------------------------------------- */

static void call_unlink(struct kube_call *call)
{
    struct kube_client *c = call->c;

    if (call->prev)
        call->prev->next = call->next;
    else if (c->calls == call)
        c->calls = call->next;
    if (call->next)
        call->next->prev = call->prev;
    call->prev = call->next = NULL;
}

static void call_free(struct kube_call *call)
{
    if (!call)
        return;
    if (call->timer)
        event_free(call->timer);
    free(call->url);
    free(call->content_type);
    free(call->body);
    free(call);
}

static void call_finish(struct kube_call *call, const struct kube_resp *r)
{
    kube_done_fn *cb = call->cb;
    void *arg = call->arg;

    call_unlink(call);
    call_free(call);
    cb(r, arg);
}

static void call_fail(struct kube_call *call, const char *msg)
{
    struct kube_resp r;

    memset(&r, 0, sizeof(r));
    r.body = "";
    r.attempts = call->attempts;
    r.unsure = call->unsure;
    snprintf(r.error, sizeof(r.error), "%s", msg);
    call_finish(call, &r);
}

static void call_attempt(struct kube_call *call);

static void call_on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    call_attempt(arg);
}

/* Schedule another attempt after wait_ms; false when the budget is spent. */
static bool call_retry(struct kube_call *call, uint32_t wait_ms)
{
    if (call->attempts >= KUBE_MAX_ATTEMPTS || clock_mono_ms() + wait_ms >= call->deadline_ms)
        return false;
    if (!call->timer && !(call->timer = evtimer_new(call->c->base, call_on_timer, call)))
        return false;
    call->c->stats.retries++;
    clock_arm(call->timer, wait_ms);
    return true;
}

static void call_on_done(const struct curlm_result *res, void *arg)
{
    struct kube_call *call = arg;
    struct kube_client *c = call->c;
    struct kube_resp r;
    char perr[128];

    call->req = NULL;
    c->stats
        .requests[call->verb][kube_code_index(res->fail == CURLM_FAIL_NONE ? res->status : 0)]++;
    memset(&r, 0, sizeof(r));
    r.attempts = call->attempts;
    r.body = res->body ? res->body : "";
    r.body_len = res->body_len;
    if (res->fail != CURLM_FAIL_NONE) {
        /* A handshake cut short is as transient as a reset; a bad CA fails every try. */
        bool transient = res->fail == CURLM_ERR_CONNECT || res->fail == CURLM_ERR_TIMEOUT ||
                         res->fail == CURLM_ERR_PROTOCOL || res->fail == CURLM_ERR_DNS ||
                         res->fail == CURLM_ERR_TLS;
        bool sent = res->fail == CURLM_ERR_TIMEOUT || res->fail == CURLM_ERR_PROTOCOL;

        call->unsure = true;
        if (transient && kube_resend_allowed(call->verb, 0, sent) &&
            call_retry(call, kube_backoff_ms(call->attempts, -1, rng_unit(&c->rng))))
            return;
        call_fail(call, res->error);
        return;
    }
    r.status = res->status;
    r.unsure = call->unsure;
    if (res->status >= 400 &&
        kube_json_status_parse(res->body, res->body_len, &r.st, perr, sizeof(perr)) == 0)
        r.has_status = true;
    if (res->status == 401 && !call->retried_401) {
        /* The kubelet may have rotated the token: read it again and retry once. */
        call->retried_401 = true;
        c->token_stale = true;
        if (call_retry(call, 0))
            return;
    }
    if (kube_retryable_status(res->status)) {
        int ra = kube_retry_after(res->header, r.has_status ? &r.st : NULL);

        if (res->status >= 500)
            call->unsure = true;
        if (kube_resend_allowed(call->verb, res->status, true) &&
            call_retry(call, kube_backoff_ms(call->attempts, ra, rng_unit(&c->rng))))
            return;
    }
    if (res->status >= 400)
        snprintf(r.error, sizeof(r.error), "HTTP %ld%s%.60s%s%.150s", res->status,
                 r.has_status && r.st.reason[0] ? " " : "", r.has_status ? r.st.reason : "",
                 r.has_status && r.st.message[0] ? ": " : "", r.has_status ? r.st.message : "");
    call_finish(call, &r);
}

static void call_attempt(struct kube_call *call)
{
    struct kube_client *c = call->c;
    static const char *const methods[KUBE_VERBS] = {"GET", "GET", "POST", "PUT", "PATCH"};
    const char *headers[5];
    char *auth = NULL, ctype[160];
    struct curlm_opts o;
    int n = 0, r;

    call->attempts++;
    if (!c->token || c->token_stale || clock_mono_ms() - c->token_read_ms >= KUBE_TOKEN_MAX_AGE_MS)
        token_reload(c);
    if (!c->token) {
        call_fail(call, "no service-account token (token file missing or empty)");
        return;
    }
    if (asprintf(&auth, "Authorization: Bearer %s", c->token) < 0) {
        call_fail(call, "out of memory");
        return;
    }
    headers[n++] = auth;
    headers[n++] = "Accept: application/json";
    if (call->content_type) {
        snprintf(ctype, sizeof(ctype), "Content-Type: %s", call->content_type);
        headers[n++] = ctype;
    }
    headers[n] = NULL;
    memset(&o, 0, sizeof(o));
    o.url = call->url;
    o.method = methods[call->verb];
    o.headers = headers;
    o.body = call->body;
    o.body_len = call->body_len;
    o.timeout_ms = c->timeout_ms;
    o.max_body = c->max_body;
    o.tls_verify = true;
    o.ca_file = c->ca_path;
    o.capture_header = "Retry-After";
    r = curlm_start(c->m, &o, call_on_done, call, &call->req);
    wipe_free(auth);
    if (r < 0)
        call_fail(call, r == -ENOMEM ? "out of memory" : "could not start the request");
}

int kube_call(struct kube_client *c, const struct kube_call_opts *o, kube_done_fn *cb, void *arg,
              struct kube_call **ret)
{
    struct kube_call *call;

    if (!c || !o || !o->path || o->path[0] != '/' || !cb || o->verb < 0 || o->verb >= KUBE_VERBS)
        return -EINVAL;
    call = calloc(1, sizeof(*call));
    if (!call)
        return -ENOMEM;
    call->c = c;
    call->verb = o->verb;
    call->cb = cb;
    call->arg = arg;
    call->deadline_ms = clock_mono_ms() + KUBE_CALL_DEADLINE_MS;
    if (asprintf(&call->url, "%s%s", c->api_server, o->path) < 0) {
        call->url = NULL;
        goto nomem;
    }
    if (o->content_type && !(call->content_type = strdup(o->content_type)))
        goto nomem;
    if (o->body) {
        call->body = malloc(o->body_len + 1);
        if (!call->body)
            goto nomem;
        memcpy(call->body, o->body, o->body_len);
        call->body[o->body_len] = '\0';
        call->body_len = o->body_len;
    }
    call->next = c->calls;
    if (c->calls)
        c->calls->prev = call;
    c->calls = call;
    if (ret)
        *ret = call;
    /* From the loop, so the callback never runs inside kube_call. */
    if (!call_retry(call, 0)) {
        call_unlink(call);
        call_free(call);
        return -ENOMEM;
    }
    c->stats.retries--; /* the first attempt is not a retry */
    return 0;
nomem:
    call_free(call);
    return -ENOMEM;
}

void kube_call_cancel(struct kube_call *call)
{
    if (!call)
        return;
    curlm_cancel(call->req);
    call_unlink(call);
    call_free(call);
}

int kube_client_new(struct event_base *base, struct curlm *m, const struct kube_client_cfg *cfg,
                    struct kube_client **ret, char *err, size_t errlen)
{
    struct kube_client *c;

    if (!cfg->api_server || strncasecmp(cfg->api_server, "https://", 8)) {
        snprintf(err, errlen, "the API server must be an https:// URL");
        return -EINVAL;
    }
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->base = base;
    c->m = m;
    c->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 10000;
    c->max_body = cfg->max_body ? cfg->max_body : 4u << 20;
    c->api_server = strdup(cfg->api_server);
    if (c->api_server) {
        size_t n = strlen(c->api_server);
        while (n > 8 && c->api_server[n - 1] == '/')
            c->api_server[--n] = '\0';
    }
    if (!c->api_server || asprintf(&c->token_path, "%s/token", cfg->sa_dir) < 0 ||
        asprintf(&c->ca_path, "%s/ca.crt", cfg->sa_dir) < 0) {
        kube_client_free(c);
        return -ENOMEM;
    }
    rng_seed_random(&c->rng);
    *ret = c;
    return 0;
}

struct kube_client *kube_client_free(struct kube_client *c)
{
    if (!c)
        return NULL;
    while (c->calls)
        kube_call_cancel(c->calls);
    free(c->api_server);
    free(c->token_path);
    free(c->ca_path);
    wipe_free(c->token);
    free(c);
    return NULL;
}

const struct kube_stats *kube_client_stats(const struct kube_client *c)
{
    return &c->stats;
}
