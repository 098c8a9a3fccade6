/*
 * Unit tests for sidecar/kube/: the jansson adapter (kube_json: decoders, normalisation,
 * encoders), label selectors (kube_selector), times (kube_time) and struct kube_map (kube_types).
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/kube/kube_json.h"
#include "tests/kube_fixtures.h"

Suite *kube_json_suite(void);

static char err[256];

#define PARSE(fn, s, out) fn((s), strlen(s), (out), err, sizeof(err))

START_TEST(test_deployment_fixture)
{
    struct kube_deployment d;

    ck_assert_int_eq(PARSE(kube_json_deployment_parse, FIX_DEPLOYMENT, &d), 0);
    ck_assert_str_eq(d.meta.name, "web");
    ck_assert_str_eq(d.meta.namespace, "prod");
    ck_assert_str_eq(d.meta.uid, "6b3c8f2e-0000-4000-8000-000000000001");
    ck_assert_str_eq(d.meta.resource_version, "48213");
    ck_assert(d.meta.has_generation);
    ck_assert_int_eq(d.meta.generation, 2);
    ck_assert_int_gt(d.meta.created, 1700000000);
    ck_assert_str_eq(kube_map_get(&d.meta.annotations, KUBE_REVISION_ANN), "2");
    ck_assert(!d.paused);
    ck_assert_int_eq(d.replicas, 3);
    ck_assert_int_eq(d.revision_history_limit, 10);
    ck_assert_str_eq(d.selector, "app=web");
    ck_assert_ptr_nonnull(strstr(d.template_json, "\"image\":\"registry.example/web:v2\""));
    /* key order as served: metadata before spec */
    ck_assert(strncmp(d.template_json,
                      "{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":", 44) == 0);
    kube_deployment_done(&d);
    kube_deployment_done(NULL);
}
END_TEST

START_TEST(test_deployment_paused_and_errors)
{
    struct kube_deployment d;
    const char *fix = FIX_DEPLOYMENT, *at = strstr(fix, "\"replicas\":3,");
    char *paused = malloc(strlen(fix) + 16);

    ck_assert_ptr_nonnull(at);
    /* "replicas":3, becomes "paused":true, */
    sprintf(paused, "%.*s\"paused\":true,%s", (int)(at - fix), fix, at + 13);
    ck_assert_int_eq(PARSE(kube_json_deployment_parse, paused, &d), 0);
    ck_assert(d.paused);
    ck_assert_int_eq(d.replicas, 1);
    kube_deployment_done(&d);
    free(paused);

    ck_assert_int_eq(PARSE(kube_json_deployment_parse, "", &d), -EINVAL);
    ck_assert_int_eq(PARSE(kube_json_deployment_parse, "[1]", &d), -EINVAL);
    ck_assert_int_eq(PARSE(kube_json_deployment_parse, "{\"metadata\":{\"name\":\"x\"}}", &d),
                     -EINVAL);
    ck_assert_int_eq(PARSE(kube_json_deployment_parse,
                           "{\"metadata\":{\"name\":7,\"uid\":\"u\"},\"spec\":{}}", &d),
                     -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "name"));
    ck_assert_int_eq(PARSE(kube_json_deployment_parse,
                           "{\"metadata\":{\"name\":\"x\",\"uid\":\"u\"},\"spec\":{\"selector\":"
                           "{\"matchLabels\":{\"a\":\"b\"}}}}",
                           &d),
                     -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "template"));
    ck_assert_int_eq(PARSE(kube_json_deployment_parse,
                           "{\"metadata\":{\"name\":\"x\",\"uid\":\"u\",\"creationTimestamp\":"
                           "\"yesterday\"},\"spec\":{}}",
                           &d),
                     -EINVAL);
}
END_TEST

START_TEST(test_name_limit)
{
    struct kube_pod p;
    char *big = malloc(400), *doc = malloc(600);

    memset(big, 'a', 300);
    big[300] = '\0';
    snprintf(doc, 600, "{\"metadata\":{\"name\":\"%s\"}}", big);
    ck_assert_int_eq(PARSE(kube_json_pod_parse, doc, &p), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "longer than"));
    free(big);
    free(doc);
}
END_TEST

START_TEST(test_selector_expressions)
{
    struct kube_deployment d;
    const char *doc =
        "{\"metadata\":{\"name\":\"x\",\"uid\":\"u\"},\"spec\":{\"selector\":{\"matchLabels\":"
        "{\"tier\":\"web\",\"app\":\"a\"},\"matchExpressions\":[{\"key\":\"env\",\"operator\":"
        "\"NotIn\",\"values\":[\"qa\",\"dev\"]},{\"key\":\"zone\",\"operator\":\"In\",\"values\":"
        "[\"b\",\"a\"]},{\"key\":\"canary\",\"operator\":\"DoesNotExist\"},{\"key\":\"blue\","
        "\"operator\":\"Exists\"}]},\"template\":{}}}";

    ck_assert_int_eq(PARSE(kube_json_deployment_parse, doc, &d), 0);
    ck_assert_str_eq(d.selector, "app=a,blue,!canary,env notin (dev,qa),tier=web,zone in (a,b)");
    kube_deployment_done(&d);
    ck_assert_int_eq(
        PARSE(kube_json_deployment_parse,
              "{\"metadata\":{\"name\":\"x\",\"uid\":\"u\"},\"spec\":{\"selector\":{"
              "\"matchExpressions\":[{\"key\":\"k\",\"operator\":\"Near\"}]},\"template\":{}}}",
              &d),
        -EINVAL);
}
END_TEST

START_TEST(test_rs_list_fixture)
{
    struct kube_rs_list l;
    unsigned found = 0;

    ck_assert_int_eq(PARSE(kube_json_rs_list_parse, FIX_RS_LIST, &l), 0);
    ck_assert_uint_eq(l.n, 4);
    ck_assert_ptr_null(l.continue_token);
    for (size_t i = 0; i < l.n; i++) {
        struct kube_rs *rs = &l.items[i];

        ck_assert_ptr_null(strstr(rs->template_json, "pod-template-hash"));
        ck_assert_ptr_null(strstr(rs->template_norm, "pod-template-hash"));
        ck_assert(rs->meta.has_controller);
        if (!strcmp(rs->meta.name, "web-5d8f7c9b6d")) {
            found++;
            ck_assert_str_eq(rs->hash, "5d8f7c9b6d");
            ck_assert_str_eq(rs->meta.controller.kind, "Deployment");
            ck_assert_str_eq(rs->meta.controller.uid, "6b3c8f2e-0000-4000-8000-000000000001");
            ck_assert_str_eq(
                rs->template_json,
                "{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":"
                "[{\"name\":\"app\",\"image\":\"registry.example/web:v1\",\"resources\":"
                "{},\"terminationMessagePath\":\"/dev/termination-log\","
                "\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":"
                "\"IfNotPresent\"}],\"restartPolicy\":\"Always\","
                "\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\","
                "\"securityContext\":{},\"schedulerName\":\"default-scheduler\"}}");
        }
        if (!strcmp(rs->meta.name, "web-canary-6f9c8d7b5")) {
            found++;
            ck_assert_str_eq(rs->meta.controller.uid, "eeee0000-0000-4000-8000-000000000005");
        }
    }
    ck_assert_uint_eq(found, 2);
    kube_rs_list_done(&l);
}
END_TEST

START_TEST(test_rs_list_continue_and_append)
{
    struct kube_rs_list a, b;
    const char *page = "{\"kind\":\"ReplicaSetList\",\"metadata\":{\"continue\":\"tok/1=\"},"
                       "\"items\":[{\"metadata\":{\"name\":\"r1\"},\"spec\":{\"template\":{}}}]}";

    ck_assert_int_eq(PARSE(kube_json_rs_list_parse, page, &a), 0);
    ck_assert_str_eq(a.continue_token, "tok/1=");
    ck_assert_int_eq(PARSE(kube_json_rs_list_parse, FIX_RS_LIST, &b), 0);
    ck_assert_int_eq(kube_rs_list_append(&a, &b), 0);
    ck_assert_uint_eq(a.n, 5);
    ck_assert_uint_eq(b.n, 0);
    ck_assert_str_eq(a.items[0].meta.name, "r1");
    kube_rs_list_done(&a);
    kube_rs_list_done(&b);
    ck_assert_int_eq(PARSE(kube_json_rs_list_parse, "{\"items\":{}}", &a), -EINVAL);
    ck_assert_int_eq(PARSE(kube_json_rs_list_parse, "{\"items\":[{\"metadata\":{}}]}", &a),
                     -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "items[0]"));
}
END_TEST

/* A page without items appends nothing; a hash must be a label value (records join with ","). */
START_TEST(test_rs_list_empty_page_and_hash)
{
    struct kube_rs_list a = {0}, b;
    struct kube_rs rs;
    struct kube_rollout ro;

    ck_assert_int_eq(PARSE(kube_json_rs_list_parse, "{\"items\":null}", &b), 0);
    ck_assert_uint_eq(b.n, 0);
    ck_assert_int_eq(kube_rs_list_append(&a, &b), 0);
    ck_assert_uint_eq(a.n, 0);
    kube_rs_list_done(&a);
    kube_rs_list_done(&b);
    ck_assert_int_eq(PARSE(kube_json_rs_parse,
                           "{\"metadata\":{\"name\":\"r\",\"labels\":{\"pod-template-hash\":"
                           "\"a_b-c.9\"}},\"spec\":{\"template\":{}}}",
                           &rs),
                     0);
    ck_assert_str_eq(rs.hash, "a_b-c.9");
    kube_rs_done(&rs);
    ck_assert_int_eq(PARSE(kube_json_rs_parse,
                           "{\"metadata\":{\"name\":\"r\",\"labels\":{\"pod-template-hash\":"
                           "\"a,b\"}},\"spec\":{\"template\":{}}}",
                           &rs),
                     -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "pod-template-hash"));
    ck_assert_int_eq(PARSE(kube_json_rs_parse,
                           "{\"metadata\":{\"name\":\"r\"},\"spec\":{\"template\":{\"metadata\":"
                           "{\"labels\":{\"pod-template-hash\":\"-x\"}}}}}",
                           &rs),
                     -EINVAL);
    ck_assert_int_eq(PARSE(kube_json_rollout_parse,
                           "{\"metadata\":{\"name\":\"r\",\"uid\":\"u\"},\"status\":"
                           "{\"currentPodHash\":\"a,b\",\"stableRS\":\"c\"}}",
                           &ro),
                     -EINVAL);
}
END_TEST

/* equalIgnoreHash: hash label, creationTimestamp null and empty maps do not count. */
START_TEST(test_normalised_equality)
{
    struct kube_deployment d;
    struct kube_rs r1, r2;
    const char *dep = "{\"metadata\":{\"name\":\"x\",\"uid\":\"u\"},\"spec\":{\"selector\":{},"
                      "\"template\":{\"metadata\":{\"labels\":{\"app\":\"a\"}},\"spec\":{"
                      "\"containers\":[{\"name\":\"c\",\"image\":\"i:1\"}]}}}}";
    const char *rs = "{\"metadata\":{\"name\":\"x-h\",\"labels\":{\"pod-template-hash\":\"h\"}},"
                     "\"spec\":{\"template\":{\"metadata\":{\"creationTimestamp\":null,"
                     "\"annotations\":{},\"labels\":{\"pod-template-hash\":\"h\",\"app\":\"a\"}},"
                     "\"spec\":{\"volumes\":[],\"containers\":[{\"image\":\"i:1\",\"name\":\"c\","
                     "\"env\":null}]}}}}";
    const char *other = "{\"metadata\":{\"name\":\"x-g\"},\"spec\":{\"template\":{\"metadata\":"
                        "{\"labels\":{\"app\":\"a\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
                        "\"image\":\"i:2\"}]}}}}";

    ck_assert_int_eq(PARSE(kube_json_deployment_parse, dep, &d), 0);
    ck_assert_int_eq(PARSE(kube_json_rs_parse, rs, &r1), 0);
    ck_assert_int_eq(PARSE(kube_json_rs_parse, other, &r2), 0);
    ck_assert_str_eq(r1.hash, "h");
    ck_assert_str_eq(d.template_norm, r1.template_norm);
    ck_assert_str_ne(d.template_norm, r2.template_norm);
    ck_assert_str_eq(d.selector, "");
    kube_deployment_done(&d);
    kube_rs_done(&r1);
    kube_rs_done(&r2);
}
END_TEST

START_TEST(test_pod_and_rollout)
{
    struct kube_pod p;
    struct kube_rollout ro;

    ck_assert_int_eq(PARSE(kube_json_pod_parse, FIX_POD, &p), 0);
    ck_assert_str_eq(p.meta.name, "web-7c5d9f8b4-x2kqp");
    ck_assert(p.meta.has_controller);
    ck_assert_str_eq(p.meta.controller.kind, "ReplicaSet");
    ck_assert_str_eq(p.meta.controller.api_version, "apps/v1");
    ck_assert_str_eq(p.meta.controller.name, "web-7c5d9f8b4");
    ck_assert_str_eq(p.meta.controller.uid, "bbbb0000-0000-4000-8000-000000000002");
    ck_assert_str_eq(kube_map_get(&p.meta.labels, "pod-template-hash"), "7c5d9f8b4");
    kube_pod_done(&p);
    ck_assert_int_eq(PARSE(kube_json_rollout_parse, FIX_ROLLOUT, &ro), 0);
    ck_assert_str_eq(ro.current_hash, "7d9f6c5b8");
    ck_assert_str_eq(ro.stable_hash, "5c8b7d6f9");
    ck_assert(!ro.aborted);
    kube_rollout_done(&ro);
}
END_TEST

START_TEST(test_lease_roundtrip)
{
    struct kube_lease l, back;
    char *body;
    uint64_t fp;
    const char *doc = "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":"
                      "{\"name\":\"web-rollguard\",\"namespace\":\"prod\",\"resourceVersion\":"
                      "\"90211\",\"annotations\":{\"rollguard.io/rolled-back\":\"abc\"}},\"spec\":"
                      "{\"holderIdentity\":\"p_1\",\"leaseDurationSeconds\":15,\"acquireTime\":"
                      "\"2026-07-24T10:00:00.000000Z\",\"renewTime\":"
                      "\"2026-07-24T10:00:08.004512Z\",\"leaseTransitions\":3}}";

    ck_assert_int_eq(PARSE(kube_json_lease_parse, doc, &l), 0);
    ck_assert_str_eq(l.holder, "p_1");
    ck_assert_int_eq(l.duration_s, 15);
    ck_assert_int_eq(l.transitions, 3);
    ck_assert_str_eq(l.renew_time, "2026-07-24T10:00:08.004512Z");
    ck_assert_uint_ne(l.record_fp, 0);
    ck_assert_int_eq(kube_json_lease_render(&l, &body), 0);
    ck_assert_ptr_nonnull(strstr(body, "\"resourceVersion\":\"90211\""));
    ck_assert_int_eq(PARSE(kube_json_lease_parse, body, &back), 0);
    ck_assert_uint_eq(back.record_fp, l.record_fp);
    ck_assert_str_eq(kube_map_get(&back.meta.annotations, "rollguard.io/rolled-back"), "abc");
    free(body);
    fp = back.record_fp;
    kube_lease_done(&back);
    l.holder[0] = '\0';
    ck_assert_int_eq(kube_json_lease_render(&l, &body), 0);
    ck_assert_int_eq(PARSE(kube_json_lease_parse, body, &back), 0);
    ck_assert_uint_ne(back.record_fp, fp);
    free(body);
    kube_lease_done(&back);
    kube_lease_done(&l);
}
END_TEST

START_TEST(test_status_bodies)
{
    struct kube_status st;
    const char *invalid = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                          "\"Failure\",\"message\":\"the server rejected our request due to an "
                          "error in our request\",\"reason\":\"Invalid\",\"details\":{},\"code\":"
                          "422}\n";
    const char *tmr = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                      "\"Failure\",\"message\":\"slow down\",\"reason\":\"TooManyRequests\","
                      "\"details\":{\"retryAfterSeconds\":5},\"code\":429}";

    ck_assert_int_eq(PARSE(kube_json_status_parse, invalid, &st), 0);
    ck_assert_int_eq(st.code, 422);
    ck_assert_str_eq(st.reason, "Invalid");
    ck_assert_int_eq(st.retry_after_s, 0);
    ck_assert_int_eq(PARSE(kube_json_status_parse, tmr, &st), 0);
    ck_assert_int_eq(st.retry_after_s, 5);
    ck_assert_int_eq(
        PARSE(kube_json_status_parse, "Too many requests, please try again later.\n", &st),
        -EINVAL);
    ck_assert_int_eq(PARSE(kube_json_status_parse, "{\"kind\":\"Pod\"}", &st), -EINVAL);
}
END_TEST

START_TEST(test_event_render)
{
    struct kube_event ev = {
        .name = "web.18a6f2c3d4e5f601",
        .namespace = "prod",
        .type = "Warning",
        .reason = "RollbackTriggered",
        .component = "rollguard",
        .instance = "pod-1",
        .timestamp = "2026-07-24T10:00:01Z",
        .obj_api_version = "apps/v1",
        .obj_kind = "Deployment",
        .obj_name = "web",
        .obj_uid = "uid-1",
        .evidence_json = "{\"rule\":\"error_rate\",\"value\":0.2}",
    };
    char msg[3000], *body;
    json_t *root, *v;

    memset(msg, 'x', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    memcpy(msg + 1023, "\xc3\xa9", 2); /* a 2-byte character across the 1024-byte cut */
    ev.message = msg;
    ck_assert_int_eq(kube_json_event_render(&ev, &body), 0);
    root = json_loads(body, 0, NULL);
    ck_assert_ptr_nonnull(root);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(root, "involvedObject"), "uid")),
        "uid-1");
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(root, "metadata"), "namespace")), "prod");
    v = json_object_get(root, "message");
    ck_assert_uint_eq(json_string_length(v), 1023);
    ck_assert_str_eq(json_string_value(json_object_get(root, "reportingComponent")), "rollguard");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(root, "metadata"), "annotations"),
                         "rollguard.io/evidence")),
                     "{\"rule\":\"error_rate\",\"value\":0.2}");
    json_decref(root);
    free(body);
    msg[10] = '\xff'; /* invalid UTF-8 is replaced, not fatal */
    ck_assert_int_eq(kube_json_event_render(&ev, &body), 0);
    ck_assert_ptr_nonnull(strstr(body, "xx?xx"));
    free(body);
    ev.evidence_json = "{not json";
    ck_assert_int_eq(kube_json_event_render(&ev, &body), -EINVAL);
}
END_TEST

START_TEST(test_times_and_map)
{
    int64_t t;
    char buf[40];
    struct kube_map m = {0}, c = {0};

    ck_assert_int_eq(kube_time_parse("2026-07-24T09:59:00Z", &t), 0);
    ck_assert_int_eq(t, 1784887140);
    ck_assert_int_eq(kube_time_parse("2026-07-24T11:59:00.5+02:00", &t), 0);
    ck_assert_int_eq(t, 1784887140);
    ck_assert_int_eq(kube_time_parse("2026-07-24 09:59:00Z", &t), -EINVAL);
    ck_assert_int_eq(kube_time_parse("2026-13-24T09:59:00Z", &t), -EINVAL);
    kube_time_render(1784887140, buf, sizeof(buf));
    ck_assert_str_eq(buf, "2026-07-24T09:59:00Z");
    kube_time_render_micro(1784887140000123LL, buf, sizeof(buf));
    ck_assert_str_eq(buf, "2026-07-24T09:59:00.000123Z");
    ck_assert_int_eq(kube_map_set(&m, "a", "1"), 0);
    ck_assert_int_eq(kube_map_set(&m, "b", "2"), 0);
    ck_assert_int_eq(kube_map_set(&m, "a", "3"), 0);
    ck_assert_uint_eq(m.n, 2);
    ck_assert_str_eq(kube_map_get(&m, "a"), "3");
    ck_assert_int_eq(kube_map_copy(&c, &m), 0);
    kube_map_del(&m, "a");
    ck_assert_ptr_null(kube_map_get(&m, "a"));
    ck_assert_str_eq(kube_map_get(&c, "a"), "3");
    for (int i = 0; i < KUBE_MAP_MAX; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%d", i);
        if (kube_map_set(&c, k, "v") < 0) {
            ck_assert_int_eq(c.n, KUBE_MAP_MAX);
            break;
        }
    }
    ck_assert_int_eq(kube_map_set(&c, "one-more", "v"), -E2BIG);
    kube_map_done(&m);
    kube_map_done(&c);
}
END_TEST

START_TEST(test_selector_render_direct)
{
    const char *const envs[] = {"qa", "dev"}, *const zones[] = {"b", "a"};
    const struct kube_selector_req reqs[] = {
        {"zone", KUBE_SELECTOR_IN, NULL, zones, 2},
        {"canary", KUBE_SELECTOR_DOES_NOT_EXIST},
        {"env", KUBE_SELECTOR_NOT_IN, NULL, envs, 2},
        {"app", KUBE_SELECTOR_EQUALS, "web"},
        {"blue", KUBE_SELECTOR_EXISTS},
    };
    const struct kube_selector_req no_values = {"env", KUBE_SELECTOR_IN, NULL, NULL, 0};
    const struct kube_selector_req no_value = {"app", KUBE_SELECTOR_EQUALS};
    char *out = NULL;

    ck_assert_int_eq(kube_selector_render(reqs, 5, &out), 0);
    ck_assert_str_eq(out, "app=web,blue,!canary,env notin (dev,qa),zone in (a,b)");
    ck_assert_str_eq(envs[0], "qa"); /* the caller's values are not reordered */
    free(out);
    out = NULL;
    ck_assert_int_eq(kube_selector_render(NULL, 0, &out), 0);
    ck_assert_str_eq(out, "");
    free(out);
    out = NULL;
    ck_assert_int_eq(kube_selector_render(&no_values, 1, &out), -EINVAL);
    ck_assert_int_eq(kube_selector_render(&no_value, 1, &out), -EINVAL);
    ck_assert_ptr_null(out);
    ck_assert(kube_label_value_ok(""));
    ck_assert(kube_label_value_ok("7c5d9f8b4"));
    ck_assert(kube_label_value_ok("a.b_c-d"));
    ck_assert(!kube_label_value_ok("-a"));
    ck_assert(!kube_label_value_ok("a,b"));
    ck_assert(
        !kube_label_value_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}
END_TEST

START_TEST(test_pod_list_fixture)
{
    struct kube_pod_list l;

    ck_assert_int_eq(kube_json_pod_list_parse(FIX_POD_LIST, strlen(FIX_POD_LIST),
                                              "pod-template-hash", &l, err, sizeof(err)),
                     0);
    ck_assert_uint_eq(l.n, 12);
    ck_assert_ptr_null(l.continue_token);
    ck_assert_str_eq(l.items[0].name, "web-5d8f7c9b6d-a1");
    ck_assert_str_eq(l.items[0].hash, "5d8f7c9b6d");
    ck_assert_str_eq(l.items[0].ip, "10.244.1.5");
    ck_assert(l.items[0].running && l.items[0].ready && !l.items[0].terminating);
    ck_assert(!l.items[2].ready);        /* Ready False */
    ck_assert(l.items[3].terminating);   /* deletionTimestamp */
    ck_assert_str_eq(l.items[4].ip, ""); /* no podIP */
    ck_assert_str_eq(l.items[5].ip, "fd00::1:6");
    ck_assert(!l.items[10].running && !l.items[10].ready); /* Pending */
    ck_assert_str_eq(l.items[11].hash, "");                /* no hash label */
    ck_assert(l.items[11].ready);
    kube_pod_list_done(&l);
    /* the Argo label is another key: the same pods have no hash under it */
    ck_assert_int_eq(kube_json_pod_list_parse(FIX_POD_LIST, strlen(FIX_POD_LIST),
                                              "rollouts-pod-template-hash", &l, err, sizeof(err)),
                     0);
    ck_assert_str_eq(l.items[0].hash, "");
    kube_pod_list_done(&l);
}
END_TEST

START_TEST(test_pod_list_continue_and_refusals)
{
    static const char *const bad[] = {
        "[]",
        "{\"kind\":\"Status\",\"items\":[]}",
        "{\"items\":{}}",
        "{\"items\":[1]}",
        "{\"items\":[{\"metadata\":{}}]}",
        "{\"items\":[{\"metadata\":{\"name\":7}}]}",
        "{\"items\":[{\"metadata\":{\"name\":\"a\",\"labels\":{\"x\":1}}}]}",
        "{\"items\":[{\"metadata\":{\"name\":\"a\",\"labels\":{\"pod-template-hash\":\"-x\"}}}]}",
        "{\"items\":[{\"metadata\":{\"name\":\"a\"},\"status\":{\"podIP\":\"10.0.0.300\"}}]}",
        "{\"items\":[{\"metadata\":{\"name\":\"a\"},\"status\":{\"podIP\":\"10.0.0.1\\u0000\"}}]}",
        "{\"items\":[{\"metadata\":{\"name\":\"a\"},\"status\":{\"phase\":true}}]}",
        "{\"items\":[{\"metadata\":{\"name\":\"a\"},\"status\":{\"conditions\":{}}}]}",
        "{\"items\":[{\"metadata\":{\"name\":\"a\"},\"status\":{\"conditions\":[3]}}]}",
        "{\"items\":[{\"metadata\":{\"name\":\"a\"},\"status\":{\"conditions\":[{\"type\":1}]}}]}",
        "{\"items\":[{\"metadata\":{\"name\":\"a\",\"deletionTimestamp\":\"yesterday\"}}]}",
        "{\"items\":[],\"metadata\":{\"continue\":5}}",
        "{\"items\":[",
    };
    const char *doc = "{\"kind\":\"PodList\",\"metadata\":{\"continue\":\"eyJ2IjoxfQ==\"},"
                      "\"items\":[{\"metadata\":{\"name\":\"a\"},\"status\":{\"conditions\":["
                      "{\"type\":\"Ready\",\"status\":\"True\"},{\"type\":\"Ready\",\"status\":"
                      "\"False\"}]}}]}";
    struct kube_pod_list l;
    char deep[200];

    ck_assert_int_eq(
        kube_json_pod_list_parse(doc, strlen(doc), "pod-template-hash", &l, err, sizeof(err)), 0);
    ck_assert_str_eq(l.continue_token, "eyJ2IjoxfQ==");
    ck_assert(!l.items[0].ready); /* two Ready conditions that disagree: not ready */
    kube_pod_list_done(&l);
    ck_assert_int_eq(kube_json_pod_list_parse("{}", 2, "pod-template-hash", &l, err, sizeof(err)),
                     0);
    ck_assert_uint_eq(l.n, 0);
    kube_pod_list_done(&l);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        ck_assert_msg(kube_json_pod_list_parse(bad[i], strlen(bad[i]), "pod-template-hash", &l, err,
                                               sizeof(err)) == -EINVAL,
                      "accepted %s", bad[i]);
        ck_assert_msg(err[0] != '\0', "no reason for %s", bad[i]);
    }
    /* nesting refused before jansson recurses */
    memset(deep, '[', sizeof(deep));
    ck_assert_int_eq(
        kube_json_pod_list_parse(deep, sizeof(deep), "pod-template-hash", &l, err, sizeof(err)),
        -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "nested"));
}
END_TEST

START_TEST(test_owner_selector)
{
    char *sel = NULL;

    ck_assert_int_eq(
        kube_json_owner_selector_parse(FIX_ROLLOUT, strlen(FIX_ROLLOUT), &sel, err, sizeof(err)),
        0);
    ck_assert_str_eq(sel, "app=web-ro");
    free(sel);
    sel = NULL;
    {
        const char *ro = "{\"spec\":{\"selector\":{\"matchLabels\":{\"b\":\"1\",\"a\":\"2\"},"
                         "\"matchExpressions\":[{\"key\":\"t\",\"operator\":\"NotIn\","
                         "\"values\":[\"y\",\"x\"]}]}}}";

        ck_assert_int_eq(kube_json_owner_selector_parse(ro, strlen(ro), &sel, err, sizeof(err)), 0);
        ck_assert_str_eq(sel, "a=2,b=1,t notin (x,y)");
        free(sel);
    }
    {
        static const char *const bad[] = {"{\"spec\":{}}", "{\"spec\":{\"selector\":[]}}",
                                          "{\"spec\":{\"selector\":{\"matchLabels\":{\"a\":1}}}}"};

        for (size_t i = 0; i < 3; i++)
            ck_assert_int_eq(
                kube_json_owner_selector_parse(bad[i], strlen(bad[i]), &sel, err, sizeof(err)),
                -EINVAL);
    }
}
END_TEST

Suite *kube_json_suite(void)
{
    Suite *s = suite_create("kube_json");
    TCase *tc = tcase_create("decode");

    tcase_add_test(tc, test_deployment_fixture);
    tcase_add_test(tc, test_deployment_paused_and_errors);
    tcase_add_test(tc, test_name_limit);
    tcase_add_test(tc, test_selector_expressions);
    tcase_add_test(tc, test_rs_list_fixture);
    tcase_add_test(tc, test_rs_list_continue_and_append);
    tcase_add_test(tc, test_rs_list_empty_page_and_hash);
    tcase_add_test(tc, test_normalised_equality);
    tcase_add_test(tc, test_pod_and_rollout);
    tcase_add_test(tc, test_lease_roundtrip);
    tcase_add_test(tc, test_status_bodies);
    tcase_add_test(tc, test_event_render);
    tcase_add_test(tc, test_times_and_map);
    tcase_add_test(tc, test_selector_render_direct);
    tcase_add_test(tc, test_pod_list_fixture);
    tcase_add_test(tc, test_pod_list_continue_and_refusals);
    tcase_add_test(tc, test_owner_selector);
    suite_add_tcase(s, tc);
    return s;
}
