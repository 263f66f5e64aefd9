/* SPDX-License-Identifier: MIT */
/* eca_clock: the one sleep (slices, early stop, the tests' seam) and the monotonic clock. */
#include <check.h>

#include "eca_clock.h"
#include "eca_test.h"

static int stop_calls, stop_at;

/* Says "stop" from its stop_at-th call on (0: never). */
static int
stop_after(void)
{
    return stop_at > 0 && ++stop_calls >= stop_at;
}

START_TEST(sleeps_the_time_asked)
{
    long long t0 = eca_clock_mono_ms(), took;

    ck_assert_int_eq(eca_clock_sleep_ms(150, NULL), 0);
    took = eca_clock_mono_ms() - t0;
    ck_assert_msg(took >= 150 && took < 1000, "slept %lld ms", took);
    ck_assert_int_eq(eca_clock_sleep_ms(0, NULL), 0);
    ck_assert_int_eq(eca_clock_sleep_ms(-5, NULL), 0);
}
END_TEST

START_TEST(stop_cuts_a_long_sleep_short)
{
    long long t0 = eca_clock_mono_ms(), took;

    stop_calls = 0;
    stop_at = 3; /* before, after the first slice, after the second: stop */
    ck_assert_int_eq(eca_clock_sleep_ms(5000, stop_after), 1);
    took = eca_clock_mono_ms() - t0;
    ck_assert_msg(took >= 150 && took < 1000, "stopped after %lld ms", took);
    stop_calls = 0;
    stop_at = 1; /* already stopping: no sleep at all */
    t0 = eca_clock_mono_ms();
    ck_assert_int_eq(eca_clock_sleep_ms(5000, stop_after), 1);
    ck_assert_int_lt(eca_clock_mono_ms() - t0, 50);
}
END_TEST

static long asked[4];
static int nasked;

static void
fake_sleep(long ms)
{
    if (nasked < 4)
        asked[nasked++] = ms;
}

START_TEST(a_test_sleep_gets_the_whole_wait)
{
    long long t0 = eca_clock_mono_ms();

    nasked = 0;
    eca_clock_set_sleep(fake_sleep);
    ck_assert_int_eq(eca_clock_sleep_ms(3600 * 1000L, NULL), 0);
    ck_assert_int_eq(eca_clock_sleep_ms(250, NULL), 0);
    stop_calls = 0;
    stop_at = 2; /* not before, but after the sleep */
    ck_assert_int_eq(eca_clock_sleep_ms(100, stop_after), 1);
    eca_clock_set_sleep(NULL);
    ck_assert_int_eq(nasked, 3);
    ck_assert_int_eq(asked[0], 3600 * 1000L);
    ck_assert_int_eq(asked[1], 250);
    ck_assert_int_eq(asked[2], 100);
    ck_assert_int_lt(eca_clock_mono_ms() - t0, 500);
}
END_TEST

static Suite *
clock_suite(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("sleep");

    tcase_add_test(tc, sleeps_the_time_asked);
    tcase_add_test(tc, stop_cuts_a_long_sleep_short);
    tcase_add_test(tc, a_test_sleep_gets_the_whole_wait);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(clock_suite)
