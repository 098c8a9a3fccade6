/* Unit tests for sidecar/rollback/guard.c: one case per refusal, and the order of the rules. */
#include <check.h>
#include <string.h>

#include "config/cfg.h"
#include "sidecar/rollback/guard.h"

Suite *guard_suite(void);

/* Facts under which an automatic enforce decision is allowed. */
static struct guard_facts ok_facts(void)
{
    struct guard_facts f;

    memset(&f, 0, sizeof(f));
    f.mode = CFG_ROLLBACK_ENFORCE;
    f.in_cluster = true;
    f.identity_known = true;
    f.now_s = 10000;
    f.rollout_start_s = 9000;
    f.guard_window_s = 1800;
    f.votes = 2;
    f.quorum = 2;
    f.quorum_checked = true;
    f.deployment_read = true;
    f.is_current = true;
    return f;
}

START_TEST(test_each_reason)
{
    struct guard_facts f = ok_facts();

    ck_assert_int_eq(guard_decide(&f), GUARD_OK);
#define EXPECT(change, reason)                                                                     \
    do {                                                                                           \
        f = ok_facts();                                                                            \
        change;                                                                                    \
        ck_assert_str_eq(guard_reason_name(guard_decide(&f)), guard_reason_name(reason));          \
    } while (0)
    EXPECT(f.mode = CFG_ROLLBACK_OFF, GUARD_MODE_OFF);
    EXPECT(f.in_cluster = false, GUARD_NOT_IN_CLUSTER);
    EXPECT(f.identity_known = false, GUARD_IDENTITY_UNKNOWN);
    EXPECT(f.already_rolled_back = true, GUARD_ALREADY_ROLLED_BACK);
    EXPECT(f.rollout_start_s = 10000 - 1801, GUARD_OUTSIDE_GUARD_WINDOW);
    EXPECT(f.rollout_start_s = 0, GUARD_OUTSIDE_GUARD_WINDOW);
    EXPECT(f.votes = 1, GUARD_QUORUM_NOT_MET);
    EXPECT(f.lease_held_by_other = true, GUARD_LEASE_HELD);
    EXPECT(f.is_current = false, GUARD_NOT_CURRENT_REVISION);
    EXPECT(f.revision_not_found = true, GUARD_REVISION_NOT_FOUND);
    EXPECT(f.no_history = true, GUARD_NO_PREVIOUS_REVISION);
    EXPECT(f.paused = true, GUARD_PAUSED);
    EXPECT(f.template_equal = true, GUARD_TEMPLATE_ALREADY_EQUAL);
    EXPECT(f.already_aborted = true, GUARD_ALREADY_ABORTED);
    /* the window's edge is inside */
    EXPECT(f.rollout_start_s = 10000 - 1800, GUARD_OK);
    /* dry-run writes no votes: quorum is not checked */
    EXPECT((f.mode = CFG_ROLLBACK_DRY_RUN, f.votes = 0, f.quorum_checked = false), GUARD_OK);
    /* before the Deployment is read only the early rules apply */
    EXPECT((f.deployment_read = false, f.paused = true, f.is_current = false), GUARD_OK);
#undef EXPECT
}
END_TEST

/* kubectl's order: revision lookup before paused, paused before "already matches". */
START_TEST(test_kubectl_order)
{
    struct guard_facts f = ok_facts();

    f.revision_not_found = f.paused = f.template_equal = true;
    ck_assert_int_eq(guard_decide(&f), GUARD_REVISION_NOT_FOUND);
    f.revision_not_found = false;
    ck_assert_int_eq(guard_decide(&f), GUARD_PAUSED);
    f.paused = false;
    ck_assert_int_eq(guard_decide(&f), GUARD_TEMPLATE_ALREADY_EQUAL);
    f = ok_facts();
    f.mode = CFG_ROLLBACK_OFF;
    f.in_cluster = false;
    ck_assert_int_eq(guard_decide(&f), GUARD_MODE_OFF);
}
END_TEST

/* An operator's request skips quorum, window and "current", not the safety rules. */
START_TEST(test_manual)
{
    struct guard_facts f = ok_facts();

    f.manual = true;
    f.votes = 0;
    f.rollout_start_s = 1;
    f.is_current = false;
    f.already_rolled_back = true;
    ck_assert_int_eq(guard_decide(&f), GUARD_OK);
    f.paused = true;
    ck_assert_int_eq(guard_decide(&f), GUARD_PAUSED);
    f.paused = false;
    f.lease_held_by_other = true;
    ck_assert_int_eq(guard_decide(&f), GUARD_LEASE_HELD);
    f.lease_held_by_other = false;
    f.mode = CFG_ROLLBACK_OFF;
    ck_assert_int_eq(guard_decide(&f), GUARD_MODE_OFF);
}
END_TEST

START_TEST(test_names)
{
    for (int r = 0; r < GUARD_REASON_COUNT; r++) {
        ck_assert_str_ne(guard_reason_name(r), "unknown");
        ck_assert_str_ne(guard_reason_text(r), "unknown");
        for (int q = 0; q < r; q++)
            ck_assert_str_ne(guard_reason_name(r), guard_reason_name(q));
    }
    ck_assert_str_eq(guard_reason_name(GUARD_REASON_COUNT), "unknown");
    ck_assert_str_eq(guard_reason_name(GUARD_QUORUM_NOT_MET), "quorum_not_met");
}
END_TEST

Suite *guard_suite(void)
{
    Suite *s = suite_create("guard");
    TCase *tc = tcase_create("decide");

    tcase_add_test(tc, test_each_reason);
    tcase_add_test(tc, test_kubectl_order);
    tcase_add_test(tc, test_manual);
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);
    return s;
}
