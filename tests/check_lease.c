/* Unit tests for sidecar/rollback/lease.c: client-go leader election rules and rollguard's records.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/rollback/lease.h"

Suite *lease_suite(void);

static void parse(const char *doc, struct kube_lease *l)
{
    char err[200];

    ck_assert_int_eq(kube_json_lease_parse(doc, strlen(doc), l, err, sizeof(err)), 0);
}

/* Round-trip through the encoder, as the server would store it. */
static void roundtrip(struct kube_lease *l)
{
    char *body;
    struct kube_lease back;

    ck_assert_int_eq(kube_json_lease_render(l, &body), 0);
    parse(body, &back);
    free(body);
    kube_lease_done(l);
    *l = back;
}

START_TEST(test_takeover_waits_a_full_duration)
{
    struct kube_lease l;
    struct lease_view v = {0};

    parse("{\"metadata\":{\"name\":\"web-rollguard\",\"namespace\":\"prod\",\"resourceVersion\":"
          "\"5\"},\"spec\":{\"holderIdentity\":\"other_1\",\"leaseDurationSeconds\":15,"
          "\"renewTime\":\"2020-01-01T00:00:00.000000Z\",\"leaseTransitions\":4}}",
          &l);
    /* the server's renewTime is ancient; only the local observation counts */
    lease_observe(&v, &l, 100000);
    ck_assert(lease_held_by_other(&v, &l, "me_1", 100000));
    ck_assert(lease_held_by_other(&v, &l, "me_1", 114999));
    lease_observe(&v, &l, 114999); /* unchanged record: observation time stays */
    ck_assert(!lease_held_by_other(&v, &l, "me_1", 115000));
    ck_assert(!lease_held_by_other(&v, &l, "other_1", 100000));
    lease_take(&l, "me_1", 15, 1784887140000000LL);
    ck_assert_str_eq(l.holder, "me_1");
    ck_assert_int_eq(l.transitions, 5);
    ck_assert_str_eq(l.acquire_time, "2026-07-24T09:59:00.000000Z");
    roundtrip(&l);
    /* a changed record restarts the clock */
    lease_observe(&v, &l, 120000);
    ck_assert(lease_held_by_other(&v, &l, "third", 134999));
    /* renew keeps acquireTime and transitions */
    lease_take(&l, "me_1", 15, 1784887150000000LL);
    ck_assert_int_eq(l.transitions, 5);
    ck_assert_str_eq(l.acquire_time, "2026-07-24T09:59:00.000000Z");
    ck_assert_str_eq(l.renew_time, "2026-07-24T09:59:10.000000Z");
    lease_release(&l, 1784887160000000LL);
    ck_assert_str_eq(l.holder, "");
    ck_assert_int_eq(l.duration_s, 1);
    ck_assert_int_eq(l.transitions, 5);
    ck_assert(!lease_held_by_other(&v, &l, "x", 0));
    kube_lease_done(&l);
}
END_TEST

START_TEST(test_never_observed_is_held)
{
    struct kube_lease l;
    struct lease_view v = {0};

    ck_assert_int_eq(lease_init(&l, "web-rollguard", "prod"), 0);
    ck_assert(!lease_held_by_other(&v, &l, "me", 0));
    snprintf(l.holder, sizeof(l.holder), "x");
    ck_assert(lease_held_by_other(&v, &l, "me", 0));
    ck_assert_str_eq(kube_map_get(&l.meta.labels, "app.kubernetes.io/managed-by"), "rollguard");
    kube_lease_done(&l);
}
END_TEST

START_TEST(test_votes)
{
    struct kube_lease l;
    int64_t t = 1000000;

    ck_assert_int_eq(lease_init(&l, "w", "ns"), 0);
    ck_assert_uint_eq(lease_votes(&l, "h1", t, 600), 0);
    ck_assert_int_eq(lease_vote(&l, "h1", "pod-a", t, 600), 0);
    ck_assert_int_eq(lease_vote(&l, "h1", "pod-b", t + 10, 600), 0);
    ck_assert_int_eq(lease_vote(&l, "h1", "pod-a", t + 20, 600), 0); /* refresh, not a 3rd */
    roundtrip(&l);
    ck_assert_uint_eq(lease_votes(&l, "h1", t + 30, 600), 2);
    ck_assert(lease_has_vote(&l, "h1", "pod-b", t + 30, 600));
    ck_assert(!lease_has_vote(&l, "h1", "pod-c", t + 30, 600));
    ck_assert_uint_eq(lease_votes(&l, "h2", t + 30, 600), 0);
    /* pod-b's vote expires first */
    ck_assert_uint_eq(lease_votes(&l, "h1", t + 615, 600), 1);
    ck_assert_uint_eq(lease_votes(&l, "h1", t + 700, 600), 0);
    /* a vote for another hash replaces the set */
    ck_assert_int_eq(lease_vote(&l, "h2", "pod-c", t + 40, 600), 0);
    ck_assert_uint_eq(lease_votes(&l, "h1", t + 40, 600), 0);
    ck_assert_uint_eq(lease_votes(&l, "h2", t + 40, 600), 1);
    ck_assert_int_eq(lease_vote(&l, "h2", "bad,name", t, 600), -EINVAL);
    ck_assert_int_eq(lease_vote(&l, "h;2", "pod", t, 600), -EINVAL);
    /* garbage in the annotation is ignored, not fatal */
    kube_map_set(&l.meta.annotations, LEASE_ANN_VOTES, "h2;=5,x=,y=abc,,z=1000000");
    ck_assert_uint_eq(lease_votes(&l, "h2", t, 600), 1);
    kube_lease_done(&l);
}
END_TEST

START_TEST(test_voter_cap)
{
    struct kube_lease l;
    char pod[32];

    ck_assert_int_eq(lease_init(&l, "w", "ns"), 0);
    for (int i = 0; i < LEASE_MAX_VOTERS; i++) {
        snprintf(pod, sizeof(pod), "p%d", i);
        ck_assert_int_eq(lease_vote(&l, "h", pod, 100, 600), 0);
    }
    ck_assert_uint_eq(lease_votes(&l, "h", 100, 600), LEASE_MAX_VOTERS);
    ck_assert_int_eq(lease_vote(&l, "h", "one-more", 100, 600), -E2BIG);
    kube_lease_done(&l);
}
END_TEST

START_TEST(test_records_and_baseline)
{
    struct kube_lease l;
    const char *json;
    char from[KUBE_NAME_MAX];
    int64_t at;

    ck_assert_int_eq(lease_init(&l, "w", "ns"), 0);
    ck_assert(!lease_record_has(&l, LEASE_ANN_ROLLED_BACK, "h1"));
    ck_assert_int_eq(lease_record_add(&l, LEASE_ANN_ROLLED_BACK, "h1"), 0);
    ck_assert_int_eq(lease_record_add(&l, LEASE_ANN_ROLLED_BACK, "h2"), 0);
    ck_assert(lease_record_has(&l, LEASE_ANN_ROLLED_BACK, "h1"));
    ck_assert_str_eq(kube_map_get(&l.meta.annotations, LEASE_ANN_ROLLED_BACK), "h1,h2");
    ck_assert_int_eq(lease_baseline_get(&l, &json, from, &at), -ENOENT);
    ck_assert_int_eq(lease_baseline_set(&l, "old", "{\"p50\":0.1}", 500), 0);
    ck_assert_int_eq(lease_baseline_get(&l, &json, from, &at), 0);
    ck_assert_str_eq(json, "{\"p50\":0.1}");
    ck_assert_str_eq(from, "old");
    ck_assert_int_eq(at, 500);
    /* a later publication replaces it */
    ck_assert_int_eq(lease_baseline_set(&l, "new", "{\"p50\":0.2}", 700), 0);
    {
        char *big = malloc(LEASE_BASELINE_MAX + 2);
        memset(big, 'x', LEASE_BASELINE_MAX + 1);
        big[LEASE_BASELINE_MAX + 1] = '\0';
        ck_assert_int_eq(lease_baseline_set(&l, "new", big, 800), -E2BIG);
        free(big);
    }
    kube_lease_done(&l);
}
END_TEST

Suite *lease_suite(void)
{
    Suite *s = suite_create("lease");
    TCase *tc = tcase_create("lease");

    tcase_add_test(tc, test_takeover_waits_a_full_duration);
    tcase_add_test(tc, test_never_observed_is_held);
    tcase_add_test(tc, test_votes);
    tcase_add_test(tc, test_voter_cap);
    tcase_add_test(tc, test_records_and_baseline);
    suite_add_tcase(s, tc);
    return s;
}
