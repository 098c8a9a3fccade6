/*
 * kube — a careful Kubernetes API client on the curlm bridge (never blocks
 * the loop). Bearer token from the service-account directory, re-read at
 * least every KUBE_TOKEN_MAX_AGE_MS and after a 401 (then one retry); TLS
 * always verified against the service-account CA; per-request timeouts and
 * response caps; 429 and 5xx retried after Retry-After (header, or the
 * Status' details.retryAfterSeconds) or an exponential backoff, both
 * jittered and bounded; transport failures retried the same way. The token
 * never appears in an error, a log line or a stat.
 */
#ifndef ROLLGUARD_KUBE_H
#define ROLLGUARD_KUBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sidecar/kube/kube_json.h"

struct event_base;
struct curlm;
struct kube_client;
struct kube_call;

#define KUBE_TOKEN_MAX_AGE_MS 50000 /* client-go re-reads about every 50 s */
#define KUBE_TOKEN_MAX_BYTES 65536
#define KUBE_MAX_ATTEMPTS 5         /* per call, the first included */
#define KUBE_CALL_DEADLINE_MS 60000 /* per call, waits included */
#define KUBE_BACKOFF_BASE_MS 500
#define KUBE_BACKOFF_MAX_MS 8000
#define KUBE_RETRY_AFTER_MAX_S 30 /* a longer Retry-After is cut to this */
#define KUBE_JITTER 0.2           /* waits are stretched by up to this fraction */

enum kube_verb { KUBE_GET, KUBE_LIST, KUBE_CREATE, KUBE_UPDATE, KUBE_PATCH, KUBE_VERBS };

/* Status codes counted one by one; the rest count as "other", no answer as "error". */
#define KUBE_CODES 16
extern const int kube_codes[KUBE_CODES]; /* ..., 0 = other, -1 = error */

struct kube_stats {
    uint64_t requests[KUBE_VERBS][KUBE_CODES]; /* every attempt, by verb and code */
    uint64_t retries;
    uint64_t token_reloads;
    uint64_t token_read_errors;
};

struct kube_client_cfg {
    const char *api_server; /* "https://host:port" (no path) */
    const char *sa_dir;     /* token and ca.crt */
    uint32_t timeout_ms;    /* per attempt */
    size_t max_body;        /* response cap */
};

struct kube_call_opts {
    enum kube_verb verb;
    const char *path;         /* "/apis/...?query", already escaped */
    const char *content_type; /* for bodies; NULL without */
    const char *body;         /* copied */
    size_t body_len;
};

struct kube_resp {
    long status;      /* HTTP status of the last attempt; 0 when none arrived */
    const char *body; /* borrowed for the callback */
    size_t body_len;
    bool has_status; /* st holds a decoded Status body */
    struct kube_status st;
    unsigned attempts;
    bool unsure;     /* an earlier attempt got no answer or a 5xx: a write may
                        have been applied although this answer says otherwise */
    char error[256]; /* transport failure or summary, never the token */
};

/* Runs once per call from the loop (unless cancelled). Must not free the client. */
typedef void kube_done_fn(const struct kube_resp *r, void *arg);

/*
 * A client for cfg (strings copied). Returns 0 and *ret, -EINVAL (bad
 * cfg, message in err), -ENOMEM. The token is read lazily.
 */
int kube_client_new(struct event_base *base, struct curlm *m, const struct kube_client_cfg *cfg,
                    struct kube_client **ret, char *err, size_t errlen);

/* Cancels every call (no callbacks) and frees. NULL-safe; returns NULL. */
struct kube_client *kube_client_free(struct kube_client *c);

/*
 * Start a call. Returns 0 (and *ret if ret: valid until the callback runs
 * or kube_call_cancel), -EINVAL, -ENOMEM; no callback on failure.
 */
int kube_call(struct kube_client *c, const struct kube_call_opts *o, kube_done_fn *cb, void *arg,
              struct kube_call **ret);

/* Cancel a pending call; no callback. NULL-safe. */
void kube_call_cancel(struct kube_call *call);

const struct kube_stats *kube_client_stats(const struct kube_client *c);
const char *kube_verb_name(enum kube_verb v);
/* The index into kube_codes for status (0 = no answer). */
int kube_code_index(long status);

/* --- pure helpers ------------------------------------------------------ */

/*
 * Seconds to wait before retrying a response with this status, Retry-After
 * header value (NULL if none) and decoded Status (NULL if none): the header
 * (delta-seconds) first, else details.retryAfterSeconds; -1 when neither.
 */
int kube_retry_after(const char *header, const struct kube_status *st);

/* May a response with this status be retried? (429 and 5xx) */
bool kube_retryable_status(long status);

/*
 * May a failed attempt of this verb be sent again as it is? status: the
 * HTTP status, 0 when no answer came; sent: false when the request surely
 * never left (connect, DNS or TLS handshake failure). A PATCH that may have
 * reached the server is not resent (it may have been applied with its answer
 * lost: its caller reads the state back and decides), except after a 429,
 * which refuses before any handling. Other verbs are reads or writes guarded
 * by a resourceVersion or a fresh name: any no-answer, 429 and 5xx may retry.
 */
bool kube_resend_allowed(enum kube_verb verb, long status, bool sent);

/*
 * The wait before attempt number `attempt` (1 = the first retry): the
 * larger of retry_after_s (capped at KUBE_RETRY_AFTER_MAX_S) and the
 * exponential backoff, stretched by a jitter fraction rnd in [0, 1).
 */
uint32_t kube_backoff_ms(unsigned attempt, int retry_after_s, double rnd);

/* Percent-encode s for a query value into buf. Returns 0 or -E2BIG. */
int kube_query_escape(const char *s, char *buf, size_t size);

/*
 * The in-cluster URL from KUBERNETES_SERVICE_HOST/PORT values ("https://h:p",
 * IPv6 in brackets). Returns 0, -ENOENT when either is empty, -E2BIG.
 */
int kube_incluster_url(const char *host, const char *port, char *buf, size_t size);

#endif
