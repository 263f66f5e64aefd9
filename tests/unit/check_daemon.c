/* SPDX-License-Identifier: MIT */
/* Tests for eca_daemon: real signals to ourselves set the right requests and cut sleeps short. */
#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "eca_clock.h"
#include "eca_daemon.h"
#include "eca_test.h"

static void
setup(void)
{
    ck_assert_int_eq(eca_daemon_init(NULL), ECA_OK);
}

static void
teardown(void)
{
    eca_daemon_fini();
}

static double
mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(signals_map_to_requests)
{
    raise(SIGHUP);
    ck_assert_uint_eq(eca_daemon_take(), ECA_DAEMON_RELOAD);
    ck_assert_uint_eq(eca_daemon_take(), 0);
    raise(SIGUSR1);
    ck_assert_uint_eq(eca_daemon_take(), ECA_DAEMON_FORCE);
    ck_assert_int_eq(eca_daemon_stopping(), 0);
    raise(SIGTERM);
    ck_assert_int_eq(eca_daemon_stopping(), 1);
    /* A stop request stays: every later look still sees it. */
    ck_assert_uint_eq(eca_daemon_take(), ECA_DAEMON_STOP);
    ck_assert_uint_eq(eca_daemon_take(), ECA_DAEMON_STOP);
}
END_TEST

START_TEST(sigint_stops_too)
{
    raise(SIGINT);
    ck_assert_int_eq(eca_daemon_stopping(), 1);
}
END_TEST

START_TEST(wait_sleeps_until_the_deadline)
{
    double t0 = mono();

    ck_assert_uint_eq(eca_daemon_wait(eca_clock_now() + 2, -1), 0);
    ck_assert(mono() - t0 >= 0.9);
    ck_assert(mono() - t0 < 2.5);
}
END_TEST

START_TEST(signal_from_child_cuts_the_wait_short)
{
    double t0 = mono();
    pid_t parent = getpid(), pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        usleep(200 * 1000);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    ck_assert_uint_eq(eca_daemon_wait(eca_clock_now() + 30, -1), ECA_DAEMON_FORCE);
    ck_assert(mono() - t0 < 5);
    ck_assert_uint_eq(eca_daemon_take(), ECA_DAEMON_FORCE);
}
END_TEST

START_TEST(pending_request_returns_at_once)
{
    eca_daemon_request(ECA_DAEMON_RELOAD);
    ck_assert_uint_eq(eca_daemon_wait(eca_clock_now() + 30, -1), ECA_DAEMON_RELOAD);
}
END_TEST

START_TEST(readable_extra_fd_wakes_the_wait)
{
    int p[2];

    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    ck_assert_uint_eq(eca_daemon_wait(eca_clock_now() + 30, p[0]), ECA_DAEMON_FD_READY);
    close(p[0]);
    close(p[1]);
}
END_TEST

static Suite *
daemon_suite(void)
{
    Suite *s = suite_create("daemon");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, signals_map_to_requests);
    tcase_add_test(tc, sigint_stops_too);
    tcase_add_test(tc, wait_sleeps_until_the_deadline);
    tcase_add_test(tc, signal_from_child_cuts_the_wait_short);
    tcase_add_test(tc, pending_request_returns_at_once);
    tcase_add_test(tc, readable_extra_fd_wakes_the_wait);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(daemon_suite)
