/*
 * fuzz_undo — libFuzzer target for the rollback computation as the daemon
 * runs it (sidecar/rollback/rollback.c decide_deployment): a Deployment and the
 * pages of its ReplicaSet list are decoded (sidecar/kube/kube_json.c), the
 * pages appended, the undo plan made (sidecar/rollback/undo.c) and the guarded JSON
 * patch rendered.
 *
 * Input: two option bytes, then the Deployment JSON, then one or more
 * ReplicaSetList pages, each part introduced by the separator "\n---\n":
 *   byte 0, bits 0-1: 0 the pod's own hash is the bad one (the automatic
 *                     rollback; byte 1 picks the ReplicaSet whose hash the
 *                     pod carries), 1 the manual rollback (the bad hash is
 *                     the current ReplicaSet's), 2 kubectl's plain undo,
 *                     3 --to-revision=<byte 1>
 *           bit 2:    adopt every ReplicaSet (controller uid := the
 *                     Deployment's), so mutated owner references still
 *                     reach the planner
 *           bit 3:    test resourceVersion instead of generation
 *           bit 4:    no record annotation
 * What must hold: the plan picks an owned ReplicaSet with a valid revision
 * and honours the request (pinned: another hash, not recorded before, the
 * newest such revision; --to-revision: exactly that one); with a current
 * ReplicaSet holding the newest revision the target is never the current
 * one and never newer; the annotations keep the Deployment's skip-listed
 * keys; the patch is JSON whose test ops carry the observed uid,
 * generation or resourceVersion and revision annotation, whose template is
 * the target's and whose annotations are the plan's. Any violation aborts.
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/base/buf.h"
#include "sidecar/kube/kube_json.h"
#include "sidecar/rollback/undo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz_undo: %s:%d: %s\n", __FILE__, __LINE__, #x);                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define SEP "\n---\n"
#define SEP_LEN 5
#define MAX_PAGES 8
#define PATCH_MAX (2u << 20) /* as the daemon's */

enum mode { MODE_AUTO, MODE_MANUAL, MODE_KUBECTL, MODE_TO_REVISION };

static const char *const skip_keys[] = {
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
};

static bool is_skip_key(const char *k)
{
    for (size_t i = 0; i < sizeof(skip_keys) / sizeof(skip_keys[0]); i++)
        if (!strcmp(k, skip_keys[i]))
            return true;
    return false;
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The next part of [p, end) up to the separator; advances *p past it. */
static size_t next_part(const char **p, const char *end, const char **part)
{
    const char *s = *p;
    const char *e = memmem(s, (size_t)(end - s), SEP, SEP_LEN);

    *part = s;
    *p = e ? e + SEP_LEN : end;
    return (size_t)((e ? e : end) - s);
}

static const json_t *op_at(const json_t *ops, size_t i, const char *op, const char *path)
{
    const json_t *o = json_array_get(ops, i);

    CHECK(json_is_object(o));
    CHECK(json_is_string(json_object_get(o, "op")) &&
          !strcmp(json_string_value(json_object_get(o, "op")), op));
    CHECK(json_is_string(json_object_get(o, "path")) &&
          !strcmp(json_string_value(json_object_get(o, "path")), path));
    return json_object_get(o, "value");
}

/* The rendered patch, parsed back, says what the Deployment and plan say. */
static void check_patch(const struct kube_deployment *d, const struct undo_plan *p,
                        const struct undo_req *req, const struct buf *b)
{
    const char *rev = kube_map_get(&d->meta.annotations, KUBE_REVISION_ANN);
    json_error_t jerr;
    json_t *doc = json_loadb(b->data, b->len, 0, &jerr), *tmpl;
    const json_t *v;
    const char *key;
    size_t i = 0;

    CHECK(doc && json_is_array(doc));
    CHECK(json_array_size(doc) == (rev ? 5u : 4u));
    v = op_at(doc, i++, "test", "/metadata/uid");
    CHECK(json_is_string(v) && !strcmp(json_string_value(v), d->meta.uid));
    if (req->test_generation && d->meta.has_generation) {
        v = op_at(doc, i++, "test", "/metadata/generation");
        CHECK(json_is_integer(v) && json_integer_value(v) == d->meta.generation);
    } else {
        v = op_at(doc, i++, "test", "/metadata/resourceVersion");
        CHECK(json_is_string(v) && !strcmp(json_string_value(v), d->meta.resource_version));
    }
    if (rev) {
        v = op_at(doc, i++, "test", "/metadata/annotations/deployment.kubernetes.io~1revision");
        CHECK(json_is_string(v) && !strcmp(json_string_value(v), rev));
    }
    v = op_at(doc, i++, "replace", "/spec/template");
    tmpl = json_loads(p->target->template_json, 0, &jerr);
    CHECK(tmpl && json_equal(v, tmpl));
    json_decref(tmpl);
    v = op_at(doc, i++, d->meta.annotations.n ? "replace" : "add", "/metadata/annotations");
    CHECK(json_is_object(v) && json_object_size(v) == p->annotations.n);
    json_object_foreach((json_t *)v, key, tmpl)
    {
        const char *want = kube_map_get(&p->annotations, key);

        CHECK(want && json_is_string(tmpl) && !strcmp(json_string_value(tmpl), want));
    }
    json_decref(doc);
}

/* kubectl's own body: just the two replace ops. */
static void check_kubectl_patch(const struct undo_plan *p)
{
    struct buf b;
    json_error_t jerr;
    json_t *doc;

    buf_init(&b, PATCH_MAX);
    if (undo_kubectl_patch_render(p, &b) == 0) {
        doc = json_loadb(b.data, b.len, 0, &jerr);
        CHECK(doc && json_is_array(doc) && json_array_size(doc) == 2);
        op_at(doc, 0, "replace", "/spec/template");
        op_at(doc, 1, "replace", "/metadata/annotations");
        json_decref(doc);
    } else {
        CHECK(b.failed);
    }
    buf_done(&b);
}

static void check_plan(const struct kube_deployment *d, const struct kube_rs_list *l,
                       const struct undo_req *req, enum mode mode, const struct undo_plan *p)
{
    const struct kube_rs *t = p->target;
    bool pinned = req->bad_hash && req->bad_hash[0];
    bool kubectl_view = !pinned && req->to_revision <= 0;
    long max_rev = -1, cur_rev = p->current_revision;
    unsigned owned = 0, at_max = 0;

    for (size_t i = 0; i < l->n; i++) {
        const struct kube_rs *rs = &l->items[i];
        long v;

        if (!undo_owned_by(rs, d->meta.uid))
            continue;
        owned++;
        v = undo_revision(&rs->meta.annotations);
        if (v > max_rev) {
            max_rev = v;
            at_max = 0;
        }
        at_max += v == max_rev;
        if (pinned && t && v >= 0 && strcmp(rs->hash, req->bad_hash) &&
            !undo_record_has(req->exclude, rs->hash))
            CHECK(v <= p->target_revision); /* the newest eligible revision */
        if (mode == MODE_TO_REVISION && !t)
            CHECK(v != req->to_revision);
    }
    CHECK(p->owned == owned);
    if (p->current) {
        CHECK(undo_owned_by(p->current, d->meta.uid));
        CHECK(!strcmp(p->current->template_norm, d->template_norm));
        CHECK(cur_rev == undo_revision(&p->current->meta.annotations));
    } else {
        CHECK(cur_rev == -1);
    }
    if (!t) {
        CHECK(p->target_revision == -1 || mode == MODE_TO_REVISION);
        CHECK(mode == MODE_TO_REVISION ? p->revision_not_found : p->no_history);
        CHECK(p->annotations.n == 0);
        return;
    }
    CHECK(!p->no_history && !p->revision_not_found);
    CHECK(undo_owned_by(t, d->meta.uid));
    CHECK(p->target_revision >= 0 && p->target_revision == undo_revision(&t->meta.annotations));
    CHECK(p->target_revision <= max_rev);
    CHECK(p->template_equal == !strcmp(t->template_norm, d->template_norm));
    if (mode == MODE_TO_REVISION)
        CHECK(p->target_revision == req->to_revision);
    if (pinned) {
        CHECK(strcmp(t->hash, req->bad_hash) != 0);
        CHECK(!undo_record_has(req->exclude, t->hash));
    }
    if (kubectl_view && at_max == 1)
        CHECK(p->target_revision < max_rev); /* the second-highest revision */
    /* The current RS alone at the newest revision: never it, never newer. */
    if (p->current && cur_rev >= 0 && cur_rev == max_rev && at_max == 1 &&
        (kubectl_view || (pinned && !strcmp(req->bad_hash, p->current->hash)))) {
        CHECK(t != p->current);
        CHECK(p->target_revision < cur_rev);
    }
    if (t == p->current)
        CHECK(p->template_equal);
    /* Annotations: the skip-listed ones are the Deployment's, the rest the target's. */
    for (size_t i = 0; i < sizeof(skip_keys) / sizeof(skip_keys[0]); i++)
        CHECK(same_str(kube_map_get(&p->annotations, skip_keys[i]),
                       kube_map_get(&d->meta.annotations, skip_keys[i])));
    for (size_t i = 0; i < t->meta.annotations.n; i++) {
        const struct kube_kv *kv = &t->meta.annotations.kv[i];

        if (is_skip_key(kv->key) || (req->record && !strcmp(kv->key, UNDO_RECORD_ANN)))
            continue;
        CHECK(same_str(kube_map_get(&p->annotations, kv->key), kv->value));
    }
    if (req->record) {
        const char *bad = pinned ? req->bad_hash : (p->current ? p->current->hash : "");
        const char *rec = kube_map_get(&p->annotations, UNDO_RECORD_ANN);

        if (bad[0])
            CHECK(undo_record_has(rec, bad));
        else
            CHECK(same_str(rec, kube_map_get(&d->meta.annotations, UNDO_RECORD_ANN)));
    }
}

/* One plan with its checks and its patch. */
static void run_plan(const struct kube_deployment *d, const struct kube_rs_list *l,
                     const struct undo_req *req, enum mode mode)
{
    struct undo_plan p;
    struct buf b;
    int r;

    if (undo_plan_make(d, l, req, &p) < 0)
        return; /* -ENOMEM, or a record that cannot grow */
    check_plan(d, l, req, mode, &p);
    buf_init(&b, PATCH_MAX);
    r = undo_patch_render(d, &p, req, &b);
    if (!p.target) {
        CHECK(r == -EINVAL);
    } else if (r == 0) {
        CHECK(!b.failed && b.data);
        check_patch(d, &p, req, &b);
    } else {
        CHECK(r == -E2BIG && b.failed);
    }
    buf_done(&b);
    if (mode == MODE_KUBECTL && p.target)
        check_kubectl_patch(&p);
    undo_plan_done(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p, *end, *part;
    size_t len, pages = 0;
    enum mode mode;
    uint8_t param;
    struct kube_deployment d;
    struct kube_rs_list all = {0};
    struct undo_req req = {0};
    struct undo_plan first;
    char err[256], bad[KUBE_NAME_MAX];

    if (size < 2)
        return 0;
    mode = (enum mode)(data[0] & 3);
    param = data[1];
    p = (const char *)data + 2;
    end = (const char *)data + size;
    len = next_part(&p, end, &part);
    if (kube_json_deployment_parse(part, len, &d, err, sizeof(err)) < 0)
        return 0;
    while (p < end && pages < MAX_PAGES) {
        struct kube_rs_list page;

        len = next_part(&p, end, &part);
        if (kube_json_rs_list_parse(part, len, &page, err, sizeof(err)) < 0)
            goto out;
        pages++;
        CHECK(page.n <= KUBE_LIST_MAX);
        if (kube_rs_list_append(&all, &page) < 0) {
            kube_rs_list_done(&page);
            goto out;
        }
        CHECK(page.n == 0);
        kube_rs_list_done(&page);
    }
    if (data[0] & 4) {
        for (size_t i = 0; i < all.n; i++) {
            all.items[i].meta.has_controller = true;
            snprintf(all.items[i].meta.controller.uid, sizeof(all.items[i].meta.controller.uid),
                     "%s", d.meta.uid);
        }
    }
    req.test_generation = !(data[0] & 8);
    req.record = !(data[0] & 16);
    switch (mode) {
    case MODE_AUTO:
        /* The pod carries the hash of one of the listed ReplicaSets. */
        snprintf(bad, sizeof(bad), "%s", all.n ? all.items[param % all.n].hash : "");
        req.bad_hash = bad[0] ? bad : NULL;
        req.exclude = kube_map_get(&d.meta.annotations, UNDO_RECORD_ANN);
        break;
    case MODE_MANUAL:
        /* First kubectl's view, to learn the current hash, as the daemon does. */
        if (undo_plan_make(&d, &all, &req, &first) < 0)
            goto out;
        snprintf(bad, sizeof(bad), "%s", first.current ? first.current->hash : "");
        undo_plan_done(&first);
        req.bad_hash = bad[0] ? bad : NULL;
        req.exclude = kube_map_get(&d.meta.annotations, UNDO_RECORD_ANN);
        break;
    case MODE_KUBECTL:
        req.record = false;
        break;
    case MODE_TO_REVISION:
        req.to_revision = param ? param : 1;
        break;
    }
    run_plan(&d, &all, &req, mode);
out:
    kube_rs_list_done(&all);
    kube_deployment_done(&d);
    return 0;
}
