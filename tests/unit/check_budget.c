/* SPDX-License-Identifier: MIT */
/* Tests for eca_budget: the rolling 7-day window of issued certificates, persisted. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eca_budget.h"
#include "eca_fs.h"
#include "eca_pass.h"
#include "eca_test.h"

#define T0   1767225600
#define DAY  86400
#define WEEK ECA_BUDGET_WINDOW_S

static char dir[256];

static void
setup(void)
{
    test_mkdtemp(dir, sizeof dir);
    logcap_start();
}

static void
teardown(void)
{
    logcap_stop();
    test_rmdir(dir);
}

START_TEST(window_rolls_over_seven_days)
{
    struct eca_budget b = {0};

    memset(&b, 0, sizeof b);
    ck_assert_int_eq(eca_budget_remaining(&b, 2, T0), 2);
    ck_assert_int_eq(eca_budget_frees_at(&b, 2, T0), T0);
    eca_budget_add(&b, T0);
    eca_budget_add(&b, T0 + 2 * DAY);
    ck_assert_int_eq(eca_budget_remaining(&b, 2, T0 + 3 * DAY), 0);
    /* The oldest leaves the window exactly a week after it was issued. */
    ck_assert_int_eq(eca_budget_frees_at(&b, 2, T0 + 3 * DAY), T0 + WEEK);
    ck_assert_int_eq(eca_budget_remaining(&b, 2, T0 + WEEK - 1), 0);
    ck_assert_int_eq(eca_budget_remaining(&b, 2, T0 + WEEK), 1);
    ck_assert_int_eq(eca_budget_remaining(&b, 2, T0 + 2 * DAY + WEEK), 2);
    /* Over budget (an override went through): the window frees once enough have left. */
    eca_budget_add(&b, T0 + 3 * DAY);
    ck_assert_int_eq(eca_budget_remaining(&b, 2, T0 + 3 * DAY), 0);
    ck_assert_int_eq(eca_budget_frees_at(&b, 2, T0 + 3 * DAY), T0 + 2 * DAY + WEEK);
    /* No limit (0): never spent. */
    ck_assert_int_gt(eca_budget_remaining(&b, 0, T0 + 3 * DAY), 0);
    ck_assert_int_eq(eca_budget_frees_at(&b, 0, T0 + 3 * DAY), T0 + 3 * DAY);
    eca_budget_clear(&b);
}
END_TEST

START_TEST(record_persists_and_prunes)
{
    struct eca_budget b = {0}, r = {0};
    char path[512];
    FILE *f;

    memset(&b, 0, sizeof b);
    ck_assert_int_eq(eca_budget_load(dir, "web", T0, &r, NULL), ECA_OK);
    ck_assert_uint_eq(r.n, 0);
    ck_assert_int_eq(eca_budget_record(dir, "web", &b, T0, NULL), ECA_OK);
    ck_assert_int_eq(eca_budget_record(dir, "web", &b, T0 + DAY, NULL), ECA_OK);
    ck_assert_int_eq(eca_budget_load(dir, "web", T0 + DAY, &r, NULL), ECA_OK);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_int_eq(eca_budget_remaining(&r, 4, T0 + DAY), 2);
    /* A week later the first is gone from what is loaded and from what is written. */
    ck_assert_int_eq(eca_budget_load(dir, "web", T0 + WEEK, &r, NULL), ECA_OK);
    ck_assert_uint_eq(r.n, 1);
    ck_assert_int_eq(eca_budget_record(dir, "web", &r, T0 + WEEK, NULL), ECA_OK);
    snprintf(path, sizeof path, "%s/web.issued", dir);
    ck_assert_int_eq(eca_fs_check_private(path, NULL), ECA_OK);
    ck_assert_int_eq(eca_budget_load(dir, "web", T0 + WEEK, &r, NULL), ECA_OK);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_int_eq(r.at[0], T0 + DAY);
    /* Garbage is an error (the caller counts from zero and says so), not a crash. */
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    fputs("eca-issued 1\n12x\n", f);
    fclose(f);
    ck_assert_int_eq(eca_budget_load(dir, "web", T0, &r, NULL), ECA_EPARSE);
    ck_assert_uint_eq(r.n, 0);
    ck_assert_int_eq(eca_budget_parse("something else\n", T0, &r), -1);
    eca_budget_clear(&b);
    eca_budget_clear(&r);
}
END_TEST

START_TEST(many_issues_keep_the_newest)
{
    struct eca_budget b = {0};

    memset(&b, 0, sizeof b);
    for (int i = 0; i < ECA_BUDGET_MAX + 5; i++)
        eca_budget_add(&b, T0 + i);
    ck_assert_uint_eq(b.n, ECA_BUDGET_MAX);
    ck_assert_int_eq(b.at[0], T0 + 5);
    ck_assert_int_eq(eca_budget_remaining(&b, ECA_BUDGET_MAX, T0 + 100), 0);
    eca_budget_clear(&b);
}
END_TEST

START_TEST(refusal_and_override_are_logged)
{
    struct eca_budget b = {0};
    struct eca_err err = {0};
    time_t at;

    memset(&b, 0, sizeof b);
    eca_budget_issued(dir, "web", &b, 1, 0, T0);
    ck_assert(!logcap_contains("issuance_budget_override"));
    at = eca_budget_refused(&b, 1, "web", T0 + DAY, &err);
    ck_assert_int_eq(at, T0 + WEEK);
    ck_assert_int_eq(err.rc, ECA_EAGAIN);
    ck_assert_ptr_nonnull(strstr(err.msg, "2026-01-08T00:00:00Z"));
    ck_assert(logcap_contains("\"event\":\"issuance_budget_exhausted\",\"cert\":\"web\""));
    ck_assert(logcap_contains("\"frees_at\":\"2026-01-08T00:00:00Z\""));
    eca_budget_issued(dir, "web", &b, 1, 1, T0 + DAY);
    ck_assert(logcap_contains("\"event\":\"issuance_budget_override\",\"cert\":\"web\""));
    ck_assert_int_eq(eca_budget_load(dir, "web", T0 + DAY, &b, NULL), ECA_OK);
    ck_assert_uint_eq(b.n, 2);
    eca_budget_clear(&b);
}
END_TEST

START_TEST(lifetime_renewals_are_allowed_for)
{
    struct eca_agentconf g;
    struct eca_certconf cc;
    struct eca_pass_slot s;

    eca_agentconf_init(&g);
    eca_certconf_defaults(&cc);
    memset(&s, 0, sizeof s);
    /* Nothing installed: the setting alone (the global default, 4). */
    ck_assert_int_eq(eca_pass_budget(&g, &cc, &s), ECA_BUDGET_DEFAULT);
    /* 90 days, renewed at a third left: no renewal within a week, still 4. */
    s.lifetime = 90L * DAY;
    ck_assert_int_eq(eca_pass_budget(&g, &cc, &s), 4);
    /* 6 days, renewed every 3.8 days at the earliest (threshold and jitter): any 7 days can
     * hold two scheduled renewals, on top. */
    s.lifetime = 6L * DAY;
    ck_assert_int_eq(eca_pass_budget(&g, &cc, &s), 6);
    /* A certificate's own setting wins over the global one; 0 is no limit. */
    cc.issuance_budget = 2;
    ck_assert_int_eq(eca_pass_budget(&g, &cc, &s), 4);
    cc.issuance_budget = 0;
    ck_assert_int_eq(eca_pass_budget(&g, &cc, &s), 0);
    /* Ten-minute certificates need more renewals than can be counted: no limit. */
    cc.issuance_budget = -1;
    s.lifetime = 600;
    ck_assert_int_eq(eca_pass_budget(&g, &cc, &s), 0);
    /* Under 100 s too (a share of it once rounded to nothing, which left the bare setting). */
    s.lifetime = 60;
    ck_assert_int_eq(eca_pass_budget(&g, &cc, &s), 0);
    /* Six hours still fits in what is counted: 44 renewals a week on top of the 4. */
    s.lifetime = 6L * 3600;
    ck_assert_int_eq(eca_pass_budget(&g, &cc, &s), 48);
}
END_TEST

START_TEST(plan_takes_up_forces_or_looks)
{
    struct eca_agentconf g;
    struct eca_certconf cc;
    struct eca_pass_slot s;
    struct eca_pass_plan p;

    eca_agentconf_init(&g);
    eca_certconf_defaults(&cc);
    cc.issuance_budget = 2;
    memset(&s, 0, sizeof s);
    p = eca_pass_plan(&g, &cc, &s, 0, T0);
    ck_assert(!p.resume && p.flags == 0 && p.limit == 2 && !p.over);
    /* A reload that failed for a new pair: taken up, unless the operator forces a renewal. */
    s.retry.failures = 1;
    s.retry.step = ECA_STEP_RELOAD;
    eca_retry_set_serial(&s.retry, "0A");
    p = eca_pass_plan(&g, &cc, &s, 0, T0);
    ck_assert(p.resume && p.flags == 0);
    p = eca_pass_plan(&g, &cc, &s, 1, T0);
    ck_assert(!p.resume && p.flags == ECA_PASS_FORCE);
    /* A failure before a new pair was in place: fetch again. */
    s.retry.step = ECA_STEP_OBTAIN;
    eca_retry_set_serial(&s.retry, NULL);
    p = eca_pass_plan(&g, &cc, &s, 0, T0);
    ck_assert(!p.resume && p.flags == ECA_PASS_FORCE);
    /* The budget spent in the window: look only, unless overridden; free again a week later. */
    eca_budget_add(&s.budget, T0 - DAY);
    eca_budget_add(&s.budget, T0);
    p = eca_pass_plan(&g, &cc, &s, 0, T0);
    ck_assert(p.over && p.flags == (ECA_PASS_FORCE | ECA_PASS_LOOK));
    s.override = 1;
    p = eca_pass_plan(&g, &cc, &s, 0, T0);
    ck_assert(p.over && p.flags == ECA_PASS_FORCE);
    s.override = 0;
    p = eca_pass_plan(&g, &cc, &s, 0, T0 + WEEK);
    ck_assert(!p.over && p.flags == ECA_PASS_FORCE);
    eca_pass_slot_clear(&s);
}
END_TEST

static Suite *
budget_suite(void)
{
    Suite *s = suite_create("budget");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, window_rolls_over_seven_days);
    tcase_add_test(tc, record_persists_and_prunes);
    tcase_add_test(tc, many_issues_keep_the_newest);
    tcase_add_test(tc, refusal_and_override_are_logged);
    tcase_add_test(tc, lifetime_renewals_are_allowed_for);
    tcase_add_test(tc, plan_takes_up_forces_or_looks);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(budget_suite)
