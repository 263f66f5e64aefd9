/* SPDX-License-Identifier: MIT */
/* eca_renew tests: every reason and its priority, short and long lifetimes, jitter, backoff. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "eca_renew.h"
#include "eca_test.h"

#define DAY 86400L
#define NB  ((time_t)1700000000)

/* A valid certificate of `life` seconds, checked at nb + age. */
static struct eca_renew_in
cert(long life, long age)
{
    struct eca_renew_in in;

    memset(&in, 0, sizeof in);
    in.present = 1;
    in.matches = 1;
    in.not_before = NB;
    in.not_after = NB + life;
    in.now = NB + age;
    in.threshold_pct = 33;
    in.check_interval_s = 21600;
    return in;
}

START_TEST(reasons_in_priority_order)
{
    struct eca_renew_in in;
    struct eca_renew_out out;

    /* Everything wrong at once: the first in the priority list wins, one by one. */
    in = cert(90 * DAY, 200 * DAY); /* expired */
    in.present = 0;
    in.matches = 0;
    in.revoked = 1;
    in.forced = 1;
    in.max_age_s = DAY;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_MISSING);
    in.present = 1;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_MISMATCH);
    in.matches = 1;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_EXPIRED);
    in.now = NB - 10;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_NOT_YET_VALID);
    in.now = NB + 40 * DAY;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_REVOKED);
    in.revoked = 0;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_FORCED);
    in.forced = 0;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_MAX_AGE);
    in.max_age_s = 0;
    in.now = NB + 70 * DAY;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_THRESHOLD);
    ck_assert_int_eq(out.next_check, in.now);
    in.now = NB + 40 * DAY;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_NONE);
    /* Expiry is exclusive of not_after: at not_after the certificate is expired. */
    in.now = in.not_after;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_EXPIRED);
}
END_TEST

START_TEST(two_minute_lifetime)
{
    struct eca_renew_in in = cert(120, 0);
    struct eca_renew_out out;

    /* 33% of 120 s = 39 s window: opens at 81 s; sleep at most 39/4 = 9 s. */
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_NONE);
    ck_assert_int_eq(out.renew_at, NB + 81);
    ck_assert_int_eq(out.next_check, NB + 9);
    in.now = NB + 78;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.next_check, NB + 81); /* the window opening comes first */
    in.now = NB + 80;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_NONE);
    ck_assert_int_eq(out.next_check, NB + 81);
    in.now = NB + 81;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_THRESHOLD);
    ck_assert_str_eq(eca_renew_reason_name(out.reason), "threshold");
}
END_TEST

START_TEST(four_hundred_day_lifetime)
{
    struct eca_renew_in in = cert(400 * DAY, DAY);
    struct eca_renew_out out;
    time_t open = NB + 400 * DAY - 400 * DAY * 33 / 100;

    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_NONE);
    ck_assert_int_eq(out.renew_at, open);
    ck_assert_int_eq(out.next_check, in.now + 21600);
    in.check_interval_s = 0; /* default: 6 h */
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.next_check, in.now + 21600);
    in.now = open - 100;
    in.check_interval_s = 21600;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.next_check, open);
    in.now = open;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_THRESHOLD);
}
END_TEST

START_TEST(jitter_is_deterministic_bounded_and_spread)
{
    struct eca_renew_in in = cert(90 * DAY, 0);
    struct eca_renew_out out, again;
    time_t latest = NB + 90 * DAY - 90 * DAY * 33 / 100;
    time_t earliest = latest - (90 * DAY * 33 / 100) / 10;
    time_t lo = latest, hi = earliest;
    unsigned seed;

    for (seed = 1; seed <= 2000; seed++) {
        in.jitter_seed = seed;
        eca_renew_decide(&in, &out);
        eca_renew_decide(&in, &again);
        ck_assert_int_eq(out.renew_at, again.renew_at);
        ck_assert_int_ge(out.renew_at, earliest);
        ck_assert_int_le(out.renew_at, latest);
        if (out.renew_at < lo)
            lo = out.renew_at;
        if (out.renew_at > hi)
            hi = out.renew_at;
    }
    /* 2000 seeds cover most of the 10% span (about 3 days). */
    ck_assert_int_gt(hi - lo, (latest - earliest) * 9 / 10);
    in.jitter_seed = 0;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.renew_at, latest);
}
END_TEST

/* One certificate name on many hosts (same jitter_seed): each host's seed moves it, stably. */
START_TEST(host_seed_spreads_one_certificate_over_a_fleet)
{
    struct eca_renew_in in = cert(90 * DAY, 0);
    struct eca_renew_out out, again, a, b;
    time_t latest = NB + 90 * DAY - 90 * DAY * 33 / 100;
    time_t earliest = latest - (90 * DAY * 33 / 100) / 10;
    time_t lo = latest, hi = earliest;
    unsigned host;

    in.jitter_seed = 0x6d6f7371u; /* the same certificate everywhere */
    in.host_seed = 0x1234abcdu;
    eca_renew_decide(&in, &a);
    in.host_seed = 0x1234abceu;
    eca_renew_decide(&in, &b);
    ck_assert_int_ne(a.renew_at, b.renew_at);
    for (host = 1; host <= 1000; host++) {
        in.host_seed = host * 2654435761u;
        eca_renew_decide(&in, &out);
        eca_renew_decide(&in, &again);
        ck_assert_int_eq(out.renew_at, again.renew_at);
        ck_assert_int_ge(out.renew_at, earliest);
        ck_assert_int_le(out.renew_at, latest);
        lo = out.renew_at < lo ? out.renew_at : lo;
        hi = out.renew_at > hi ? out.renew_at : hi;
    }
    ck_assert_int_gt(hi - lo, (latest - earliest) * 9 / 10);
}
END_TEST

START_TEST(renew_at_never_before_not_before)
{
    struct eca_renew_in in = cert(1000, 0);
    struct eca_renew_out out;
    unsigned seed;

    in.threshold_pct = 99;
    for (seed = 0; seed < 200; seed++) {
        in.jitter_seed = seed;
        eca_renew_decide(&in, &out);
        ck_assert_int_ge(out.renew_at, NB);
    }
    in.threshold_pct = 500; /* clamped to 99 */
    eca_renew_decide(&in, &out);
    ck_assert_int_ge(out.renew_at, NB);
}
END_TEST

START_TEST(next_check_is_capped_and_never_in_the_past)
{
    struct eca_renew_in in = cert(2, 0);
    struct eca_renew_out out;
    long life;

    /* A 2-second certificate: window 0 s, but nothing to do at nb: next look at its end. */
    in.threshold_pct = 10;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_NONE);
    ck_assert_int_eq(out.next_check, in.now + 2);
    /* Across lifetimes, at the start: sleep <= quarter window (or the floor) and <= interval,
     * >= 1 s. */
    for (life = 60; life <= 400 * DAY; life = life * 3 + 7) {
        in = cert(life, 0);
        in.jitter_seed = (unsigned)life;
        eca_renew_decide(&in, &out);
        ck_assert_int_eq(out.reason, ECA_RENEW_NONE);
        ck_assert_int_ge(out.next_check, in.now + 1);
        ck_assert_int_le(out.next_check, in.now + 21600);
        ck_assert_int_le(out.next_check - in.now, (life * 33 / 100) / 4 > ECA_RENEW_FLOOR_S
                                                      ? (life * 33 / 100) / 4
                                                      : ECA_RENEW_FLOOR_S);
        ck_assert_int_le(out.next_check, out.renew_at);
    }
    /* Missing: act now. */
    in = cert(DAY, 0);
    in.present = 0;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_MISSING);
    ck_assert_int_eq(out.next_check, in.now);
    ck_assert_int_eq(out.renew_at, in.now);
}
END_TEST

START_TEST(max_age_moves_renewal_earlier)
{
    struct eca_renew_in in = cert(400 * DAY, 10 * DAY);
    struct eca_renew_out out;

    in.max_age_s = 30 * DAY;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_NONE);
    ck_assert_int_eq(out.renew_at, NB + 30 * DAY);
    in.now = NB + 30 * DAY;
    eca_renew_decide(&in, &out);
    ck_assert_int_eq(out.reason, ECA_RENEW_MAX_AGE);
    ck_assert_str_eq(eca_renew_reason_name(out.reason), "max_age");
}
END_TEST

START_TEST(backoff_doubles_caps_and_jitters)
{
    unsigned seed, n;
    long d;

    ck_assert_int_eq(eca_renew_backoff(0, 60, 3600, 0), 0);
    ck_assert_int_eq(eca_renew_backoff(1, 60, 3600, 0), 60);
    ck_assert_int_eq(eca_renew_backoff(2, 60, 3600, 0), 120);
    ck_assert_int_eq(eca_renew_backoff(3, 60, 3600, 0), 240);
    ck_assert_int_eq(eca_renew_backoff(7, 60, 3600, 0), 3600);
    ck_assert_int_eq(eca_renew_backoff(1000, 60, 3600, 0), 3600);
    ck_assert_int_eq(eca_renew_backoff(4000000000u, 60, 3600, 0), 3600);
    ck_assert_int_eq(eca_renew_backoff(3, 0, 0, 0), 1);
    for (seed = 1; seed < 500; seed++) {
        for (n = 1; n < 12; n++) {
            long full = eca_renew_backoff(n, 60, 3600, 0);

            d = eca_renew_backoff(n, 60, 3600, seed);
            ck_assert_int_eq(d, eca_renew_backoff(n, 60, 3600, seed)); /* deterministic */
            ck_assert_int_le(d, full);
            ck_assert_int_ge(d, full - full / 4);
        }
    }
    ck_assert_int_ne(eca_renew_backoff(5, 60, 3600, 1), eca_renew_backoff(5, 60, 3600, 2));
}
END_TEST

START_TEST(reason_names)
{
    ck_assert_str_eq(eca_renew_reason_name(ECA_RENEW_NONE), "none");
    ck_assert_str_eq(eca_renew_reason_name(ECA_RENEW_MISSING), "missing");
    ck_assert_str_eq(eca_renew_reason_name(ECA_RENEW_MISMATCH), "mismatch");
    ck_assert_str_eq(eca_renew_reason_name(ECA_RENEW_NOT_YET_VALID), "not_yet_valid");
    ck_assert_str_eq(eca_renew_reason_name(ECA_RENEW_EXPIRED), "expired");
    ck_assert_str_eq(eca_renew_reason_name(ECA_RENEW_REVOKED), "revoked");
    ck_assert_str_eq(eca_renew_reason_name(ECA_RENEW_FORCED), "forced");
    ck_assert_str_eq(eca_renew_reason_name(ECA_RENEW_REASON_MAX), "unknown");
}
END_TEST

static Suite *
renew_suite(void)
{
    Suite *s = suite_create("renew");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, reasons_in_priority_order);
    tcase_add_test(tc, two_minute_lifetime);
    tcase_add_test(tc, four_hundred_day_lifetime);
    tcase_add_test(tc, jitter_is_deterministic_bounded_and_spread);
    tcase_add_test(tc, host_seed_spreads_one_certificate_over_a_fleet);
    tcase_add_test(tc, renew_at_never_before_not_before);
    tcase_add_test(tc, next_check_is_capped_and_never_in_the_past);
    tcase_add_test(tc, max_age_moves_renewal_earlier);
    tcase_add_test(tc, backoff_doubles_caps_and_jitters);
    tcase_add_test(tc, reason_names);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(renew_suite)
