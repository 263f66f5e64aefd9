/* SPDX-License-Identifier: MIT */
/* Tests for eca_retry: persisted backoff across restarts, failures recorded, capped, cleared. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eca_certstate.h"
#include "eca_clock.h"
#include "eca_daemon.h"
#include "eca_fs.h"
#include "eca_retry.h"
#include "eca_test.h"

#define T0 1767225600

static char dir[256];
static time_t fake_now = T0;

static time_t
fake_clock(void)
{
    return fake_now;
}

static void
setup(void)
{
    test_mkdtemp(dir, sizeof dir);
    logcap_start();
    eca_clock_set(fake_clock);
    fake_now = T0;
}

static void
teardown(void)
{
    eca_clock_set(NULL);
    eca_daemon_fini();
    logcap_stop();
    test_rmdir(dir);
}

START_TEST(sched_round_trips_and_backs_off)
{
    struct eca_retry s = {0}, r = {0};
    struct eca_err e = {0};
    long w1, w2;

    memset(&s, 0, sizeof s);
    eca_err_set(&e, ECA_ENET, "line one\nline two");
    w1 = eca_retry_failed(&s, &e, T0, 60, 3600, 0, 7);
    w2 = eca_retry_failed(&s, &e, T0, 60, 3600, 0, 7);
    ck_assert_int_ge(w1, 45);
    ck_assert_int_le(w1, 60);
    ck_assert_int_ge(w2, 90);
    ck_assert_int_le(w2, 120);
    ck_assert_int_eq(eca_retry_save(dir, "x", &s, NULL), ECA_OK);
    ck_assert_int_eq(eca_retry_load(dir, "x", &r, NULL), ECA_OK);
    ck_assert_uint_eq(r.failures, 2);
    ck_assert_int_eq(r.next_attempt, T0 + w2);
    ck_assert_str_eq(r.last_rc, "ENET");
    ck_assert_str_eq(eca_retry_error(&r), "line one line two");
    /* A two-minute certificate gets a base of 6 s, not 60. */
    eca_retry_clear(&s);
    ck_assert_int_le(eca_retry_failed(&s, &e, T0, 60, 3600, 120, 7), 6);
    eca_retry_succeeded(&s, 1, T0 + 5);
    ck_assert_uint_eq(s.failures, 0);
    ck_assert_int_eq(s.last_success, T0 + 5);
    /* A healthy certificate holds no failure texts (a daemon keeps a state per certificate). */
    ck_assert_ptr_null(s.last_error);
    ck_assert_ptr_null(s.serial);
    ck_assert_str_eq(eca_retry_error(&s), "");
    ck_assert_int_eq(eca_retry_load(dir, "absent", &r, NULL), ECA_OK);
    ck_assert_uint_eq(r.failures, 0);
    eca_retry_clear(&s);
    eca_retry_clear(&r);
}
END_TEST

START_TEST(restart_respects_persisted_backoff)
{
    struct eca_retry s = {0};

    memset(&s, 0, sizeof s);
    ck_assert_int_eq(eca_retry_first_due(&s, T0, 0), T0);
    s.failures = 1;
    s.next_attempt = T0 + 600;
    /* A daemon restart right away: the failing certificate waits... */
    ck_assert_int_eq(eca_retry_first_due(&s, T0, 0), T0 + 600);
    /* ...--once would not even wait for it; and a backoff in the past is due now. */
    ck_assert_int_eq(eca_retry_first_due(&s, T0, 1), T0);
    ck_assert_int_eq(eca_retry_first_due(&s, T0 + 700, 0), T0 + 700);
}
END_TEST

START_TEST(fail_persists_logs_and_caps)
{
    struct eca_retry s = {0}, r = {0};
    struct eca_certstate st;
    struct eca_err e = {0};
    time_t due;

    memset(&s, 0, sizeof s);
    memset(&st, 0, sizeof st);
    eca_err_set(&e, ECA_ENET, "connect to CA: refused");
    due = eca_retry_fail(dir, "down", &s, &st, &e, 60, 3600, 21600, 7, T0);
    ck_assert_int_gt(due, T0);
    ck_assert_int_le(due, T0 + 60);
    ck_assert(logcap_contains("\"event\":\"renew_failed\",\"cert\":\"down\""));
    ck_assert_int_eq(eca_retry_load(dir, "down", &r, NULL), ECA_OK);
    ck_assert_uint_eq(r.failures, 1);
    ck_assert_int_eq(r.next_attempt, due);
    ck_assert_str_eq(eca_retry_error(&r), "connect to CA: refused");
    /* A two-minute certificate with 40 s left is retried within a quarter of that. */
    st.present = 1;
    st.not_before = T0 - 80;
    st.not_after = T0 + 40;
    for (int i = 0; i < 5; i++)
        ck_assert_int_le(eca_retry_fail(dir, "down", &s, &st, &e, 60, 3600, 21600, 7, T0), T0 + 10);
    /* The check interval caps the backoff too. */
    memset(&st, 0, sizeof st);
    for (int i = 0; i < 10; i++)
        ck_assert_int_le(eca_retry_fail(dir, "down", &s, &st, &e, 60, 3600, 100, 7, T0), T0 + 100);
    /* A good pass clears and saves it; a quiet one on a healthy certificate writes nothing. */
    eca_retry_ok(dir, "down", &s, 0, T0 + 5);
    ck_assert_int_eq(eca_retry_load(dir, "down", &r, NULL), ECA_OK);
    ck_assert_uint_eq(r.failures, 0);
    ck_assert_int_eq(r.last_success, 0);
    eca_retry_ok(dir, "quiet", &s, 0, T0 + 5);
    snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/quiet.sched");
    ck_assert(!eca_fs_exists(dir));
    *strrchr(dir, '/') = '\0';
    eca_retry_ok(dir, "down", &s, 1, T0 + 9);
    ck_assert_int_eq(eca_retry_load(dir, "down", &r, NULL), ECA_OK);
    ck_assert_int_eq(r.last_success, T0 + 9);
    eca_retry_clear(&s);
    eca_retry_clear(&r);
}
END_TEST

START_TEST(failed_step_survives_a_restart)
{
    struct eca_retry s = {0}, r = {0};
    struct eca_certstate st;
    struct eca_err e = {0};
    char path[512];
    FILE *f;

    memset(&s, 0, sizeof s);
    memset(&st, 0, sizeof st);
    eca_err_set(&e, ECA_EIO, "reload: command exited with status 1");
    s.step = ECA_STEP_RELOAD;
    eca_retry_set_serial(&s, "2e88851b1f78c605");
    eca_retry_fail(dir, "web", &s, &st, &e, 60, 3600, 21600, 7, T0);
    ck_assert(logcap_contains("\"step\":\"reload\""));
    ck_assert_int_eq(eca_retry_load(dir, "web", &r, NULL), ECA_OK);
    ck_assert_int_eq(r.step, ECA_STEP_RELOAD);
    ck_assert_str_eq(eca_retry_serial(&r), "2e88851b1f78c605");
    ck_assert_str_eq(eca_retry_error(&r), "reload: command exited with status 1");
    /* A reload or verify to take up is resumed, never fetched again... */
    ck_assert(eca_retry_resumes(&r));
    ck_assert(!eca_retry_refetch(&r));
    r.step = ECA_STEP_VERIFY;
    ck_assert(eca_retry_resumes(&r));
    /* ...but without the pair's serial there is nothing to take up. */
    eca_retry_set_serial(&r, NULL);
    ck_assert(!eca_retry_resumes(&r));
    ck_assert(eca_retry_refetch(&r));
    /* A failure to obtain (or an older file without a step) retries as a renewal. */
    s.step = ECA_STEP_OBTAIN;
    eca_retry_set_serial(&s, "");
    ck_assert(!eca_retry_resumes(&s));
    ck_assert(eca_retry_refetch(&s));
    snprintf(path, sizeof path, "%s/old.sched", dir);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    fputs("eca-sched 1 2 1767226000 0 ENET\nconnect: refused\n", f);
    fclose(f);
    ck_assert_int_eq(eca_retry_load(dir, "old", &r, NULL), ECA_OK);
    ck_assert_uint_eq(r.failures, 2);
    ck_assert_int_eq(r.step, ECA_STEP_NONE);
    ck_assert_str_eq(eca_retry_serial(&r), "");
    ck_assert_str_eq(eca_retry_error(&r), "connect: refused");
    ck_assert(eca_retry_refetch(&r));
    /* A good pass clears the step and serial on disk too. */
    eca_retry_ok(dir, "web", &s, 1, T0 + 9);
    ck_assert_int_eq(eca_retry_load(dir, "web", &r, NULL), ECA_OK);
    ck_assert_int_eq(r.step, ECA_STEP_NONE);
    ck_assert_str_eq(eca_retry_serial(&r), "");
    ck_assert(!eca_retry_resumes(&r) && !eca_retry_refetch(&r));
    ck_assert_str_eq(eca_step_name(ECA_STEP_VERIFY), "verify");
    ck_assert_int_eq(eca_step_parse("budget"), ECA_STEP_BUDGET);
    ck_assert_int_eq(eca_step_parse("nonsense"), ECA_STEP_NONE);
    eca_retry_clear(&s);
    eca_retry_clear(&r);
}
END_TEST

START_TEST(refusal_waits_for_the_given_time)
{
    struct eca_retry s = {0}, r = {0};
    struct eca_err e = {0};

    memset(&s, 0, sizeof s);
    eca_err_set(&e, ECA_EAGAIN, "issuance budget exhausted");
    ck_assert_int_eq(eca_retry_refuse(dir, "web", &s, &e, T0 + 86400), T0 + 86400);
    ck_assert_int_eq(eca_retry_load(dir, "web", &r, NULL), ECA_OK);
    ck_assert_uint_eq(r.failures, 1);
    ck_assert_int_eq(r.step, ECA_STEP_BUDGET);
    ck_assert_int_eq(r.next_attempt, T0 + 86400);
    ck_assert_str_eq(r.last_rc, "EAGAIN");
    /* A restart honours it; the retry, when due, is a renewal. */
    ck_assert_int_eq(eca_retry_first_due(&r, T0, 0), T0 + 86400);
    ck_assert(eca_retry_refetch(&r));
    eca_retry_clear(&s);
    eca_retry_clear(&r);
}
END_TEST

START_TEST(stop_request_is_taken_once_and_stays)
{
    eca_daemon_request(ECA_DAEMON_RELOAD | ECA_DAEMON_FORCE);
    ck_assert_uint_eq(eca_daemon_take(), ECA_DAEMON_RELOAD | ECA_DAEMON_FORCE);
    ck_assert_uint_eq(eca_daemon_take(), 0);
    eca_daemon_request(ECA_DAEMON_STOP | ECA_DAEMON_RELOAD);
    ck_assert_uint_eq(eca_daemon_take(), ECA_DAEMON_STOP | ECA_DAEMON_RELOAD);
    ck_assert_uint_eq(eca_daemon_take(), ECA_DAEMON_STOP);
    ck_assert(eca_daemon_stopping());
}
END_TEST

static Suite *
retry_suite(void)
{
    Suite *s = suite_create("retry");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sched_round_trips_and_backs_off);
    tcase_add_test(tc, restart_respects_persisted_backoff);
    tcase_add_test(tc, fail_persists_logs_and_caps);
    tcase_add_test(tc, failed_step_survives_a_restart);
    tcase_add_test(tc, refusal_waits_for_the_given_time);
    tcase_add_test(tc, stop_request_is_taken_once_and_stays);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(retry_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
