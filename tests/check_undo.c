/* Unit tests for sidecar/rollback/undo.c: kubectl's rollback computation, pinned and guarded. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/rollback/undo.h"
#include "tests/kube_fixtures.h"

Suite *undo_suite(void);

static struct kube_deployment dep;
static struct kube_rs_list rs;
static char err[256];

static void load(const char *d, const char *l)
{
    ck_assert_int_eq(kube_json_deployment_parse(d, strlen(d), &dep, err, sizeof(err)), 0);
    ck_assert_int_eq(kube_json_rs_list_parse(l, strlen(l), &rs, err, sizeof(err)), 0);
}

static void unload(void)
{
    kube_deployment_done(&dep);
    kube_rs_list_done(&rs);
}

static struct kube_rs *rs_named(const char *name)
{
    for (size_t i = 0; i < rs.n; i++)
        if (!strcmp(rs.items[i].meta.name, name))
            return &rs.items[i];
    ck_abort_msg("no RS %s", name);
    return NULL;
}

/* Reference 9.2: the fixture's kubectl body, byte for byte. */
START_TEST(test_kubectl_body_matches_reference)
{
    struct undo_req req = {0};
    struct undo_plan p;
    struct buf b;

    load(FIX_DEPLOYMENT, FIX_RS_LIST);
    ck_assert_int_eq(undo_plan_make(&dep, &rs, &req, &p), 0);
    ck_assert_ptr_nonnull(p.current);
    ck_assert_str_eq(p.current->meta.name, "web-7c5d9f8b4");
    ck_assert_int_eq(p.current_revision, 2);
    ck_assert_ptr_nonnull(p.target);
    ck_assert_str_eq(p.target->meta.name, "web-5d8f7c9b6d");
    ck_assert_int_eq(p.target_revision, 1);
    ck_assert(!p.no_history && !p.revision_not_found && !p.template_equal);
    /* the RS of another Deployment is filtered out; the one without revision counts as 0 */
    ck_assert_uint_eq(p.owned, 3);
    buf_init(&b, 1 << 20);
    ck_assert_int_eq(undo_kubectl_patch_render(&p, &b), 0);
    ck_assert_str_eq(b.data, FIX_KUBECTL_PATCH);
    buf_done(&b);
    undo_plan_done(&p);
    unload();
}
END_TEST

START_TEST(test_guarded_patch)
{
    struct undo_req req = {.bad_hash = "7c5d9f8b4", .test_generation = true, .record = true};
    struct undo_plan p;
    struct buf b;
    const char *ops;

    load(FIX_DEPLOYMENT, FIX_RS_LIST);
    ck_assert_int_eq(undo_plan_make(&dep, &rs, &req, &p), 0);
    ck_assert_str_eq(p.target->hash, "5d8f7c9b6d");
    buf_init(&b, 1 << 20);
    ck_assert_int_eq(undo_patch_render(&dep, &p, &req, &b), 0);
    ck_assert(strncmp(b.data,
                      "[{\"op\":\"test\",\"path\":\"/metadata/uid\",\"value\":"
                      "\"6b3c8f2e-0000-4000-8000-000000000001\"},{\"op\":\"test\",\"path\":"
                      "\"/metadata/generation\",\"value\":2},{\"op\":\"test\",\"path\":"
                      "\"/metadata/annotations/deployment.kubernetes.io~1revision\",\"value\":"
                      "\"2\"},{\"op\":\"replace\",\"path\":\"/spec/template\",",
                      270) == 0);
    /* the template op is kubectl's, byte for byte */
    ops = strstr(b.data, "{\"op\":\"replace\",\"path\":\"/spec/template\"");
    ck_assert_ptr_nonnull(ops);
    ck_assert(strncmp(ops, FIX_KUBECTL_PATCH + 1, strlen(FIX_KUBECTL_PATCH) - 60) == 0);
    ck_assert_ptr_nonnull(strstr(b.data, "\"kubernetes.io/change-cause\":\"image v1\","
                                         "\"rollguard.io/rolled-back\":\"7c5d9f8b4\"}}]"));
    buf_reset(&b);
    req.test_generation = false;
    ck_assert_int_eq(undo_patch_render(&dep, &p, &req, &b), 0);
    ck_assert_ptr_nonnull(strstr(b.data, "{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\","
                                         "\"value\":\"48213\"}"));
    buf_done(&b);
    undo_plan_done(&p);
    unload();
}
END_TEST

/*
 * After the controller renumbered (good RS now revision 3, bad one 2), a
 * naive kubectl undo targets the bad revision: the flip-flop. Pinned to the
 * recorded bad hash the plan finds nothing new to do.
 */
START_TEST(test_flip_flop_is_refused_when_pinned)
{
    struct undo_req naive = {0}, pinned = {.bad_hash = "7c5d9f8b4"};
    struct undo_plan p;
    struct kube_rs *good;
    char *d2, *at;
    const char *fix = FIX_DEPLOYMENT;

    /* The Deployment now carries the good template (image v1) and revision 3. */
    d2 = strdup(fix);
    at = strstr(d2, "web:v2");
    ck_assert_ptr_nonnull(at);
    at[5] = '1';
    at = strstr(d2, "\"deployment.kubernetes.io/revision\":\"2\"");
    at[37] = '3';
    load(d2, FIX_RS_LIST);
    free(d2);
    good = rs_named("web-5d8f7c9b6d");
    ck_assert_int_eq(kube_map_set(&good->meta.annotations, KUBE_REVISION_ANN, "3"), 0);
    ck_assert_int_eq(undo_plan_make(&dep, &rs, &naive, &p), 0);
    ck_assert_str_eq(p.current->meta.name, "web-5d8f7c9b6d");
    ck_assert_str_eq(p.target->meta.name, "web-7c5d9f8b4"); /* kubectl would roll forward */
    undo_plan_done(&p);
    ck_assert_int_eq(undo_plan_make(&dep, &rs, &pinned, &p), 0);
    ck_assert_str_eq(p.target->meta.name, "web-5d8f7c9b6d");
    ck_assert(p.template_equal);
    undo_plan_done(&p);
    /* an operator's default undo now: pinned to the current hash, the recorded bad one excluded */
    pinned.bad_hash = "5d8f7c9b6d";
    pinned.exclude = "7c5d9f8b4";
    ck_assert_int_eq(undo_plan_make(&dep, &rs, &pinned, &p), 0);
    ck_assert(p.target == NULL || strcmp(p.target->hash, "7c5d9f8b4"));
    ck_assert_str_eq(p.target->meta.name, "web-84c6b5f9d7"); /* revision 0, the only other */
    undo_plan_done(&p);
    unload();
}
END_TEST

START_TEST(test_to_revision_and_missing)
{
    struct undo_req req = {.to_revision = 1};
    struct undo_plan p;

    load(FIX_DEPLOYMENT, FIX_RS_LIST);
    ck_assert_int_eq(undo_plan_make(&dep, &rs, &req, &p), 0);
    ck_assert_str_eq(p.target->meta.name, "web-5d8f7c9b6d");
    undo_plan_done(&p);
    req.to_revision = 7; /* revision 7 exists, but on another Deployment's RS */
    ck_assert_int_eq(undo_plan_make(&dep, &rs, &req, &p), 0);
    ck_assert(p.revision_not_found);
    ck_assert_ptr_null(p.target);
    undo_plan_done(&p);
    req.to_revision = 2; /* the current one: already matches */
    ck_assert_int_eq(undo_plan_make(&dep, &rs, &req, &p), 0);
    ck_assert(p.template_equal);
    undo_plan_done(&p);
    unload();
}
END_TEST

START_TEST(test_no_history)
{
    const char *one = "{\"items\":[{\"metadata\":{\"name\":\"web-7c5d9f8b4\",\"labels\":{"
                      "\"pod-template-hash\":\"7c5d9f8b4\"},\"annotations\":{"
                      "\"deployment.kubernetes.io/revision\":\"2\"},\"ownerReferences\":[{"
                      "\"kind\":\"Deployment\",\"name\":\"web\",\"uid\":"
                      "\"6b3c8f2e-0000-4000-8000-000000000001\",\"controller\":true}]},\"spec\":{"
                      "\"template\":{}}},{\"metadata\":{\"name\":\"web-x\",\"labels\":{"
                      "\"pod-template-hash\":\"x\"},\"annotations\":{"
                      "\"deployment.kubernetes.io/revision\":\"nope\"},\"ownerReferences\":[{"
                      "\"kind\":\"Deployment\",\"name\":\"web\",\"uid\":"
                      "\"6b3c8f2e-0000-4000-8000-000000000001\",\"controller\":true}]},\"spec\":{"
                      "\"template\":{}}}]}";
    struct undo_req req = {0}, pinned = {.bad_hash = "7c5d9f8b4"};
    struct undo_plan p;

    load(FIX_DEPLOYMENT, one);
    ck_assert_int_eq(undo_plan_make(&dep, &rs, &req, &p), 0);
    ck_assert(p.no_history); /* an unparsable revision is skipped, like kubectl */
    undo_plan_done(&p);
    ck_assert_int_eq(undo_plan_make(&dep, &rs, &pinned, &p), 0);
    ck_assert(p.no_history);
    undo_plan_done(&p);
    unload();
}
END_TEST

START_TEST(test_annotations_rules)
{
    struct undo_req req = {.bad_hash = "7c5d9f8b4", .record = true};
    struct undo_plan p;
    struct kube_rs *target;

    load(FIX_DEPLOYMENT, FIX_RS_LIST);
    ck_assert_int_eq(kube_map_set(&dep.meta.annotations,
                                  "kubectl.kubernetes.io/last-applied-configuration", "{}"),
                     0);
    ck_assert_int_eq(kube_map_set(&dep.meta.annotations, "team", "dropped"), 0);
    ck_assert_int_eq(kube_map_set(&dep.meta.annotations, UNDO_RECORD_ANN, "aaa"), 0);
    target = rs_named("web-5d8f7c9b6d");
    ck_assert_int_eq(
        kube_map_set(&target->meta.annotations, "deprecated.deployment.rollback.to", "1"), 0);
    ck_assert_int_eq(kube_map_set(&target->meta.annotations, UNDO_RECORD_ANN, "stale"), 0);
    ck_assert_int_eq(undo_plan_make(&dep, &rs, &req, &p), 0);
    ck_assert_str_eq(
        kube_map_get(&p.annotations, "kubectl.kubernetes.io/last-applied-configuration"), "{}");
    ck_assert_str_eq(kube_map_get(&p.annotations, KUBE_REVISION_ANN), "2");
    ck_assert_str_eq(kube_map_get(&p.annotations, "kubernetes.io/change-cause"), "image v1");
    ck_assert_ptr_null(kube_map_get(&p.annotations, "team"));
    ck_assert_ptr_null(kube_map_get(&p.annotations, "deprecated.deployment.rollback.to"));
    ck_assert_ptr_null(kube_map_get(&p.annotations, "deployment.kubernetes.io/desired-replicas"));
    ck_assert_str_eq(kube_map_get(&p.annotations, UNDO_RECORD_ANN), "aaa,7c5d9f8b4");
    undo_plan_done(&p);
    unload();
}
END_TEST

START_TEST(test_record_and_revision)
{
    char buf[64];
    struct kube_map m = {0};
    char big[UNDO_RECORD_MAX * 4 + 8] = "";

    ck_assert(undo_record_has("a,bb,c", "bb"));
    ck_assert(!undo_record_has("a,bbb,c", "bb"));
    ck_assert(!undo_record_has(NULL, "a"));
    ck_assert(!undo_record_has("a", ""));
    ck_assert_int_eq(undo_record_add(NULL, "h1", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "h1");
    ck_assert_int_eq(undo_record_add("h1,h2", "h1", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "h2,h1");
    for (int i = 0; i < UNDO_RECORD_MAX; i++)
        sprintf(big + strlen(big), "%s%02d", i ? "," : "", i);
    ck_assert_int_eq(undo_record_add(big, "zz", buf, sizeof(buf)), 0);
    ck_assert(!undo_record_has(buf, "00"));
    ck_assert(undo_record_has(buf, "01") && undo_record_has(buf, "zz"));
    ck_assert_int_eq(undo_record_add("a", "b", buf, 3), -E2BIG);
    ck_assert_int_eq(undo_revision(&m), 0);
    kube_map_set(&m, KUBE_REVISION_ANN, "12");
    ck_assert_int_eq(undo_revision(&m), 12);
    kube_map_set(&m, KUBE_REVISION_ANN, "1x");
    ck_assert_int_eq(undo_revision(&m), -1);
    kube_map_set(&m, KUBE_REVISION_ANN, "");
    ck_assert_int_eq(undo_revision(&m), -1);
    kube_map_done(&m);
}
END_TEST

Suite *undo_suite(void)
{
    Suite *s = suite_create("undo");
    TCase *tc = tcase_create("plan");

    tcase_add_test(tc, test_kubectl_body_matches_reference);
    tcase_add_test(tc, test_guarded_patch);
    tcase_add_test(tc, test_flip_flop_is_refused_when_pinned);
    tcase_add_test(tc, test_to_revision_and_missing);
    tcase_add_test(tc, test_no_history);
    tcase_add_test(tc, test_annotations_rules);
    tcase_add_test(tc, test_record_and_revision);
    suite_add_tcase(s, tc);
    return s;
}
