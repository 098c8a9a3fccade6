/*
 * fuzz_kube_json — libFuzzer target for the Kubernetes JSON decoders. The
 * first byte picks the decoder, the rest is the body. A decoder must
 * either fail with -EINVAL/-ENOMEM or return structs that honour their
 * limits (NUL-terminated fixed fields, bounded maps and lists), and the
 * pure consumers (undo plan and patch, Lease records) must cope with
 * whatever decoded. Any violation aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/kube/kube_json.h"
#include "sidecar/rollback/lease.h"
#include "sidecar/rollback/undo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

static void check_meta(const struct kube_meta *m)
{
    CHECK(memchr(m->name, 0, sizeof(m->name)));
    CHECK(memchr(m->uid, 0, sizeof(m->uid)));
    CHECK(memchr(m->resource_version, 0, sizeof(m->resource_version)));
    CHECK(m->labels.n <= KUBE_MAP_MAX && m->annotations.n <= KUBE_MAP_MAX);
    for (size_t i = 0; i < m->annotations.n; i++)
        CHECK(m->annotations.kv[i].key && m->annotations.kv[i].value);
}

/* A pod-template hash is a label value: the rolled-back record joins hashes with ','. */
static void check_hash(const char *h)
{
    size_t n = strlen(h);

    CHECK(n <= 63);
    for (size_t i = 0; i < n; i++)
        CHECK((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'z') ||
              (h[i] >= 'A' && h[i] <= 'Z') || h[i] == '-' || h[i] == '_' || h[i] == '.');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    const char *buf = (const char *)data + 1;
    size_t len = size ? size - 1 : 0;

    if (size == 0)
        return 0;
    switch (data[0] % 7) {
    case 0: {
        struct kube_deployment d;
        struct kube_rs_list empty = {0};
        struct undo_req req = {.record = true, .bad_hash = "x"};
        struct undo_plan p;

        if (kube_json_deployment_parse(buf, len, &d, err, sizeof(err)) < 0)
            break;
        check_meta(&d.meta);
        CHECK(d.selector && d.template_json && d.template_norm);
        if (undo_plan_make(&d, &empty, &req, &p) == 0) {
            CHECK(p.no_history && !p.target);
            undo_plan_done(&p);
        }
        kube_deployment_done(&d);
        break;
    }
    case 1: {
        struct kube_rs_list l;
        struct kube_deployment d = {0};
        struct undo_req req = {.record = true, .test_generation = true};
        struct undo_plan p;

        if (kube_json_rs_list_parse(buf, len, &l, err, sizeof(err)) < 0)
            break;
        CHECK(l.n <= KUBE_LIST_MAX);
        for (size_t i = 0; i < l.n; i++) {
            check_meta(&l.items[i].meta);
            check_hash(l.items[i].hash);
            CHECK(l.items[i].template_json && l.items[i].template_norm);
        }
        /* A Deployment owning everything whose controller uid is "u". */
        strcpy(d.meta.uid, "u");
        d.selector = "";
        d.template_json = "{}";
        d.template_norm = "{}";
        if (undo_plan_make(&d, &l, &req, &p) == 0) {
            if (p.target) {
                struct buf b;

                buf_init(&b, 1 << 24);
                CHECK(undo_patch_render(&d, &p, &req, &b) == 0 || b.failed);
                buf_done(&b);
            }
            undo_plan_done(&p);
        }
        kube_rs_list_done(&l);
        break;
    }
    case 2: {
        struct kube_pod p;

        if (kube_json_pod_parse(buf, len, &p, err, sizeof(err)) == 0) {
            check_meta(&p.meta);
            kube_pod_done(&p);
        }
        break;
    }
    case 3: {
        struct kube_lease l;
        char *body;

        if (kube_json_lease_parse(buf, len, &l, err, sizeof(err)) < 0)
            break;
        check_meta(&l.meta);
        (void)lease_votes(&l, "h", 1000, 600);
        if (lease_vote(&l, "h", "pod", 1000, 600) == 0)
            CHECK(lease_has_vote(&l, "h", "pod", 1000, 600));
        (void)lease_record_add(&l, LEASE_ANN_ROLLED_BACK, "h");
        if (kube_json_lease_render(&l, &body) == 0)
            free(body);
        kube_lease_done(&l);
        break;
    }
    case 4: {
        struct kube_status st;

        if (kube_json_status_parse(buf, len, &st, err, sizeof(err)) == 0)
            CHECK(memchr(st.message, 0, sizeof(st.message)) && st.retry_after_s >= 0);
        break;
    }
    case 5: {
        struct kube_rollout ro;

        if (kube_json_rollout_parse(buf, len, &ro, err, sizeof(err)) == 0) {
            check_meta(&ro.meta);
            check_hash(ro.current_hash);
            check_hash(ro.stable_hash);
            kube_rollout_done(&ro);
        }
        break;
    }
    default: {
        struct kube_rs rs;

        if (kube_json_rs_parse(buf, len, &rs, err, sizeof(err)) == 0) {
            check_meta(&rs.meta);
            check_hash(rs.hash);
            kube_rs_done(&rs);
        }
    }
    }
    return 0;
}
