/* SPDX-License-Identifier: MIT */
/* Tests for eca_sched and eca_loop: persisted backoff, one failing certificate, status file. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eca_agentconf.h"
#include "eca_clock.h"
#include "eca_daemon.h"
#include "eca_fs.h"
#include "eca_loop.h"
#include "eca_sched.h"
#include "eca_test.h"

#define T0 1767225600

static char dir[256];
static time_t fake_now = T0;
static int calls[2], forced[2];
static int stop_after_ok;

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
    stop_after_ok = 0;
    memset(calls, 0, sizeof calls);
    memset(forced, 0, sizeof forced);
}

static void
teardown(void)
{
    eca_clock_set(NULL);
    eca_daemon_fini();
    logcap_stop();
    test_rmdir(dir);
}

/* Certificate 0 always fails (CA down); certificate 1 renews and is due again in 1000 s. */
static enum eca_rc
fake_run(void *ctx, size_t i, int force, struct eca_pass_result *res, struct eca_err *err)
{
    (void)ctx;
    calls[i]++;
    forced[i] += force;
    if (i == 0)
        return eca_err_set(err, ECA_ENET, "connect to CA: refused");
    if (stop_after_ok)
        eca_daemon_request(ECA_DAEMON_STOP);
    res->renewed = 1;
    res->st.present = 1;
    res->st.not_before = fake_now;
    res->st.not_after = fake_now + 90 * 86400;
    res->dec.next_check = fake_now + 1000;
    return ECA_OK;
}

struct fixture {
    struct eca_agentconf g;
    struct eca_certconf certs[2];
    struct eca_loop l;
};

static void
fixture_init(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    eca_agentconf_init(&f->g);
    f->g.state_dir = dir;
    for (int i = 0; i < 2; i++) {
        eca_certconf_defaults(&f->certs[i]);
        f->certs[i].name = i ? "ok" : "down";
        f->certs[i].cert_path = "/nonexistent/c.pem";
        f->certs[i].key_path = "/nonexistent/k.pem";
    }
    f->l = (struct eca_loop){"eca-test", "1.0", &f->g,    f->certs, 2,   sizeof f->certs[0],
                             60,         3600,  fake_run, NULL,     NULL};
}

START_TEST(sched_round_trips_and_backs_off)
{
    struct eca_sched s, r;
    struct eca_err e = {0};
    long w1, w2;

    memset(&s, 0, sizeof s);
    eca_err_set(&e, ECA_ENET, "line one\nline two");
    w1 = eca_sched_failed(&s, &e, T0, 60, 3600, 0, 7);
    w2 = eca_sched_failed(&s, &e, T0, 60, 3600, 0, 7);
    ck_assert_int_ge(w1, 45);
    ck_assert_int_le(w1, 60);
    ck_assert_int_ge(w2, 90);
    ck_assert_int_le(w2, 120);
    ck_assert_int_eq(eca_sched_save(dir, "x", &s, NULL), ECA_OK);
    ck_assert_int_eq(eca_sched_load(dir, "x", &r, NULL), ECA_OK);
    ck_assert_uint_eq(r.failures, 2);
    ck_assert_int_eq(r.next_attempt, T0 + w2);
    ck_assert_str_eq(r.last_rc, "ENET");
    ck_assert_str_eq(r.last_error, "line one line two");
    /* A two-minute certificate gets a base of 6 s, not 60. */
    memset(&s, 0, sizeof s);
    ck_assert_int_le(eca_sched_failed(&s, &e, T0, 60, 3600, 120, 7), 6);
    eca_sched_succeeded(&s, 1, T0 + 5);
    ck_assert_uint_eq(s.failures, 0);
    ck_assert_int_eq(s.last_success, T0 + 5);
    ck_assert_int_eq(eca_sched_load(dir, "absent", &r, NULL), ECA_OK);
    ck_assert_uint_eq(r.failures, 0);
}
END_TEST

START_TEST(one_failure_does_not_stop_the_other)
{
    struct fixture f;
    char path[512];
    struct eca_sched s;
    int failed = 0;

    fixture_init(&f);
    ck_assert_int_eq(eca_loop_run(&f.l, 1, 0, &failed), ECA_LOOP_DONE);
    ck_assert_int_eq(failed, 1);
    ck_assert_int_eq(calls[0], 1);
    ck_assert_int_eq(calls[1], 1);
    ck_assert(logcap_contains("\"event\":\"renew_failed\",\"cert\":\"down\""));
    ck_assert_int_eq(eca_sched_load(dir, "down", &s, NULL), ECA_OK);
    ck_assert_uint_eq(s.failures, 1);
    ck_assert_int_gt(s.next_attempt, T0);
    ck_assert_int_eq(eca_sched_load(dir, "ok", &s, NULL), ECA_OK);
    ck_assert_uint_eq(s.failures, 0);
    ck_assert_int_eq(s.last_success, T0);
    snprintf(path, sizeof path, "%s/status.json", dir);
    ck_assert(eca_fs_exists(path));
}
END_TEST

START_TEST(restart_respects_persisted_backoff)
{
    struct fixture f;
    struct eca_sched s;
    int failed = 0;

    fixture_init(&f);
    eca_loop_run(&f.l, 1, 0, &failed);
    /* A daemon restart right away: the failing certificate waits, the healthy one is looked
     * at (and then asks the loop to stop instead of sleeping). */
    stop_after_ok = 1;
    eca_loop_run(&f.l, 0, 0, &failed);
    ck_assert_int_eq(calls[0], 1);
    ck_assert_int_eq(calls[1], 2);
    eca_daemon_fini();
    stop_after_ok = 0;
    /* At the end of the backoff the retry happens; --once would not even wait for it. */
    eca_sched_load(dir, "down", &s, NULL);
    fake_now = s.next_attempt;
    eca_loop_run(&f.l, 1, 0, &failed);
    ck_assert_int_eq(calls[0], 2);
    /* The retry after a failure is a renewal attempt, not just a look. */
    ck_assert_int_eq(forced[0], 1);
    eca_sched_load(dir, "down", &s, NULL);
    ck_assert_uint_eq(s.failures, 2);
}
END_TEST

START_TEST(status_reports_retry_and_error)
{
    struct fixture f;
    struct eca_buf b;
    int failed = 0;

    fixture_init(&f);
    eca_loop_run(&f.l, 1, 0, &failed);
    eca_buf_init(&b, 0);
    ck_assert_int_eq(eca_loop_status(&f.l, 1, &b, NULL), ECA_OK);
    eca_buf_append(&b, "", 1, NULL);
    ck_assert_ptr_nonnull(strstr((char *)b.data, "\"next_reason\":\"retry\""));
    ck_assert_ptr_nonnull(strstr((char *)b.data, "\"last_error\":\"connect to CA: refused\""));
    ck_assert_ptr_nonnull(strstr((char *)b.data, "\"failures\":1"));
    eca_buf_free(&b);
}
END_TEST

START_TEST(stop_request_ends_before_a_pass)
{
    struct fixture f;
    int failed = 0;

    fixture_init(&f);
    eca_daemon_request(ECA_DAEMON_STOP);
    ck_assert_int_eq(eca_loop_run(&f.l, 0, 0, &failed), ECA_LOOP_DONE);
    ck_assert_int_eq(calls[0] + calls[1], 0);
}
END_TEST

START_TEST(reload_request_ends_the_loop)
{
    struct fixture f;
    int failed = 0;

    fixture_init(&f);
    eca_daemon_request(ECA_DAEMON_RELOAD);
    ck_assert_int_eq(eca_loop_run(&f.l, 0, 0, &failed), ECA_LOOP_RELOAD);
}
END_TEST

static Suite *
loop_suite(void)
{
    Suite *s = suite_create("loop");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sched_round_trips_and_backs_off);
    tcase_add_test(tc, one_failure_does_not_stop_the_other);
    tcase_add_test(tc, restart_respects_persisted_backoff);
    tcase_add_test(tc, status_reports_retry_and_error);
    tcase_add_test(tc, stop_request_ends_before_a_pass);
    tcase_add_test(tc, reload_request_ends_the_loop);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(loop_suite)
