/*
 * control — the concurrent control's part here: whether this pod is a new
 * revision in an active rollout (rollback_rollout), and the stable
 * revision's ready pods found with one label-selected LIST of the owner's
 * pods (rollback_control_pods), within a budget: ROLLBACK_CONTROL_LISTS_MAX
 * LISTs per rollout (a pod's revision never changes, so per pod lifetime),
 * ROLLBACK_CONTROL_RELIST_MS apart, one at a time. The answer goes to the
 * caller's callback once, always from the loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/base/log.h"
#include "sidecar/rollback/rollback-int.h"

void rollback_rollout(const struct rollback *rb, struct rollback_rollout *ret)
{
    int64_t now_s, win_s;

    memset(ret, 0, sizeof(*ret));
    ret->hash = rb->id.hash;
    if (!rb->enabled) {
        snprintf(rb->rollout_why, RB_ROLLOUT_WHY_MAX, "rollback disabled: %s", rb->disabled_why);
        ret->why = rb->rollout_why;
        return;
    }
    if (!rb->id.known) {
        ret->why = "identity not known yet";
        return;
    }
    ret->start_wall_ms = rb->id.rs_created * 1000;
    if (!rb->id.current_at_start) {
        ret->why = "this pod's revision is not the owner's current one";
        return;
    }
    /* An accessor: "now" of its own, without touching the orchestrator's. */
    now_s = rb->env.wall_ms(rb->env.ctx) / 1000;
    win_s = (int64_t)rb->cfg->rollback.guard_window_ms / 1000;
    if (!guard_in_window(now_s, rb->id.rs_created, win_s)) {
        if (rb->id.rs_created && now_s >= rb->id.rs_created)
            snprintf(rb->rollout_why, RB_ROLLOUT_WHY_MAX,
                     "outside the guard window (the rollout began %lldm ago)",
                     (long long)((now_s - rb->id.rs_created) / 60));
        else
            snprintf(rb->rollout_why, RB_ROLLOUT_WHY_MAX,
                     "outside the guard window (the rollout's start is unknown)");
        ret->why = rb->rollout_why;
        return;
    }
    ret->active = true;
    ret->why = "";
}

/* --- the LIST -------------------------------------------------------------------- */

static void control_reset_pods(struct rb_control *c)
{
    free(c->pods);
    c->pods = NULL;
    c->n = c->cap = 0;
}

void rb_control_done(struct rollback *rb)
{
    rb_call_cancel(rb->ctl.call);
    rb->ctl.call = NULL;
    control_reset_pods(&rb->ctl);
    rb->ctl.pending = false;
}

/* Tell the caller: the one callback of this LIST. */
static void control_tell(struct rollback *rb, int err, const char *why, const char *hash,
                         const struct rollback_control_pod *pods, unsigned n)
{
    struct rb_control *c = &rb->ctl;
    rollback_pods_fn *cb = c->cb;
    void *arg = c->arg;

    c->pending = false;
    c->cb = NULL;
    c->arg = NULL;
    if (err < 0)
        log_event(LOG_LVL_WARN, "rollback_control_list_failed", LF_S("error", why),
                  LF_I("lists", c->lists));
    else
        log_event(LOG_LVL_INFO, "rollback_control_pods", LF_S("stable_hash", hash), LF_I("pods", n),
                  LF_I("lists", c->lists), LF_S("detail", why));
    if (cb)
        cb(err, why, hash, pods, n, arg);
}

static void control_fail(struct rollback *rb, int err, const char *why)
{
    control_reset_pods(&rb->ctl);
    control_tell(rb, err, why, "", NULL, 0);
}

/* A failure known before an answer: told from the loop, never inside the caller. */
void rb_control_on_timer(struct rollback *rb)
{
    control_fail(rb, rb->ctl.err, rb->ctl.why);
}

static void control_fail_later(struct rollback *rb, int err, const char *why)
{
    rb->ctl.err = err;
    snprintf(rb->ctl.why, sizeof(rb->ctl.why), "%s", why);
    rb_timer_arm(&rb->ctl.timer, 0);
}

static int by_hash(const void *a, const void *b)
{
    const struct kube_pod_brief *x = *(const struct kube_pod_brief *const *)a,
                                *y = *(const struct kube_pod_brief *const *)b;
    int d = strcmp(x->hash, y->hash);

    return d ? d : (x < y ? -1 : x > y);
}

/* The revision other than this pod's with the most eligible pods; ties: the smaller hash. */
static void control_pick(struct rollback *rb)
{
    struct rb_control *c = &rb->ctl;
    struct rollback_control_pod out[ROLLBACK_CONTROL_PODS_MAX];
    const struct kube_pod_brief **v;
    char hash[sizeof(c->pods[0].hash)] = "";
    size_t best_n = 0;
    unsigned n = 0;

    if (c->n == 0) {
        control_reset_pods(c);
        control_tell(rb, 0, "no ready pod of another revision", "", NULL, 0);
        return;
    }
    if (!(v = malloc(c->n * sizeof(*v)))) {
        control_fail(rb, -ENOMEM, "listing pods: out of memory");
        return;
    }
    for (size_t i = 0; i < c->n; i++)
        v[i] = &c->pods[i];
    qsort(v, c->n, sizeof(*v), by_hash);
    for (size_t i = 0, j; i < c->n; i = j) {
        for (j = i + 1; j < c->n && !strcmp(v[j]->hash, v[i]->hash);)
            j++;
        if (j - i > best_n) { /* sorted: of equal counts, the smaller hash came first */
            best_n = j - i;
            snprintf(hash, sizeof(hash), "%s", v[i]->hash);
        }
    }
    free(v);
    /* The pods in the API's order (by name). */
    for (size_t i = 0; i < c->n && n < ROLLBACK_CONTROL_PODS_MAX; i++) {
        if (strcmp(c->pods[i].hash, hash))
            continue;
        snprintf(out[n].name, sizeof(out[n].name), "%s", c->pods[i].name);
        snprintf(out[n].ip, sizeof(out[n].ip), "%s", c->pods[i].ip);
        n++;
    }
    control_reset_pods(c);
    control_tell(rb, 0, "", hash, out, n);
}

/* Keep the pods of a page that may serve as the control. Returns 0 or -ENOMEM. */
static int control_keep(struct rollback *rb, const struct kube_pod_list *page)
{
    struct rb_control *c = &rb->ctl;

    for (size_t i = 0; i < page->n; i++) {
        const struct kube_pod_brief *p = &page->items[i];

        if (!p->running || !p->ready || !p->ip[0] || p->terminating || !p->hash[0] ||
            !strcmp(p->hash, rb->id.hash))
            continue;
        if (c->n == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 16;
            struct kube_pod_brief *np = realloc(c->pods, cap * sizeof(*np));

            if (!np)
                return -ENOMEM;
            c->pods = np;
            c->cap = cap;
        }
        c->pods[c->n++] = *p;
    }
    return 0;
}

static int control_list_page(struct rollback *rb, const char *cont);

static void control_on_list(const struct rb_resp *r, void *arg)
{
    struct rollback *rb = arg;
    struct rb_control *c = &rb->ctl;
    struct kube_pod_list page;
    char why[400], perr[240];
    int rc;

    c->call = NULL;
    if (r->status != 200) {
        int err = r->status == 403   ? -EACCES
                  : r->status == 404 ? -ENOENT
                  : r->status == 0   ? -ETIMEDOUT
                                     : -EIO;

        if (r->status == 403)
            snprintf(why, sizeof(why),
                     "listing pods: pods is forbidden: the ServiceAccount lacks list on pods "
                     "(k8s/ RBAC)");
        else if (r->status == 0)
            rb_resp_error(r, "listing pods: no answer", why, sizeof(why));
        else {
            char what[64];

            snprintf(what, sizeof(what), "listing pods: HTTP %ld", r->status);
            rb_resp_error(r, what, why, sizeof(why));
        }
        control_fail(rb, err, why);
        return;
    }
    if (kube_json_pod_list_parse(r->body, r->body_len, rb_target(rb)->hash_label, &page, perr,
                                 sizeof(perr)) < 0) {
        snprintf(why, sizeof(why), "listing pods: the PodList is malformed: %s", perr);
        control_fail(rb, -EBADMSG, why);
        return;
    }
    if (control_keep(rb, &page) < 0) {
        kube_pod_list_done(&page);
        control_fail(rb, -ENOMEM, "listing pods: out of memory");
        return;
    }
    /* Bounded: past RB_CONTROL_PAGES_MAX pages, the pods read so far decide. */
    if (page.continue_token && c->pages < RB_CONTROL_PAGES_MAX) {
        rc = control_list_page(rb, page.continue_token);
        kube_pod_list_done(&page);
        if (rc < 0)
            control_fail(rb, rc, "listing pods: could not ask for the next page");
        return;
    }
    kube_pod_list_done(&page);
    control_pick(rb);
}

static int control_list_page(struct rollback *rb, const char *cont)
{
    char sel[2048], ctok[2048], path[4800];

    if (kube_query_escape(rb->id.selector, sel, sizeof(sel)) < 0 ||
        (cont && kube_query_escape(cont, ctok, sizeof(ctok)) < 0))
        return -E2BIG;
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods?labelSelector=%s&limit=%d%s%s",
             rb->id.ns, sel, ROLLBACK_LIST_LIMIT, cont ? "&continue=" : "", cont ? ctok : "");
    rb->ctl.pages++;
    return rb_call(rb, KUBE_LIST, path, NULL, NULL, control_on_list, rb, &rb->ctl.call);
}

int rollback_control_pods(struct rollback *rb, rollback_pods_fn *cb, void *arg)
{
    struct rb_control *c = &rb->ctl;
    struct rollback_rollout ro;
    int r;

    rollback_rollout(rb, &ro);
    if (!ro.active)
        return -ENOTCONN;
    rb_now(rb);
    if (c->pending || c->lists >= ROLLBACK_CONTROL_LISTS_MAX ||
        (c->lists > 0 && rb->now_ms - c->last_ms < ROLLBACK_CONTROL_RELIST_MS))
        return -EAGAIN;
    c->lists++;
    c->last_ms = rb->now_ms;
    c->pending = true;
    c->cb = cb;
    c->arg = arg;
    c->pages = 0;
    control_reset_pods(c);
    if (!rb->id.selector || !rb->id.selector[0]) {
        control_fail_later(rb, -ENOENT,
                           "the owner's spec.selector is unknown: no pods LIST without one");
        return 0;
    }
    r = control_list_page(rb, NULL);
    if (r == -E2BIG)
        control_fail_later(rb, r, "the owner's selector is too long for a LIST");
    else if (r < 0)
        control_fail_later(rb, r, "listing pods: could not start the request");
    return 0;
}
