/* SPDX-License-Identifier: MIT */
/*
 * Lifetimes from 10 minutes to 90 days with default settings, simulated over days of passes on
 * a fake clock through the mechanisms both daemons use (eca_deploy_decide, eca_pass_plan,
 * eca_pass_fail): renewals come inside the window, sleeps and retries scale with the lifetime
 * and keep to the floor, and the issuance budget allows what the lifetime needs.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eca_agentconf.h"
#include "eca_budget.h"
#include "eca_clock.h"
#include "eca_deploy.h"
#include "eca_pass.h"
#include "eca_renew.h"
#include "eca_test.h"

#define T0        ((time_t)1767225600)
#define HOUR      3600L
#define DAY       86400L
#define BASE_S    60L   /* eca-acme's first retry */
#define CAP_S     3600L /* and its longest */
#define THRESHOLD 33

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
}

static void
teardown(void)
{
    eca_clock_set(NULL);
    logcap_stop();
    test_rmdir(dir);
}

/* One certificate's life under the daemon's loop, and what was seen of it. */
struct sim {
    const char *name;
    long life;                  /* of every certificate the CA issues */
    time_t down_from, down_end; /* the CA fails every request in [down_from, down_end) */
    unsigned passes, issued, failed, expired_passes;
    time_t first_up_issue; /* the first issue at or after down_end (0: none) */
};

static long
window_of(long life)
{
    return life / 100 * THRESHOLD + life % 100 * THRESHOLD / 100;
}

static long
maxl(long a, long b)
{
    return a > b ? a : b;
}

/* An idle pass: the next look comes no later than the renewal, no sooner than the floor. */
static void
check_idle(const struct sim *sm, const struct eca_certstate *st, const struct eca_renew_out *d,
           time_t now)
{
    long w = window_of(sm->life), sleep = (long)(d->next_check - now);

    ck_assert_int_le(d->next_check, d->renew_at);
    ck_assert_int_le(sleep, maxl(w / 4, ECA_RENEW_FLOOR_S));
    ck_assert_int_le(sleep, 21600);
    if (d->renew_at - now >= ECA_RENEW_FLOOR_S)
        ck_assert_int_ge(sleep, ECA_RENEW_FLOOR_S);
    /* Jitter: the window opens at the threshold, at most a tenth of the window earlier. */
    ck_assert_int_le(d->renew_at, st->not_after - w);
    ck_assert_int_ge(d->renew_at, st->not_after - w - w / 10);
}

/* A failed pass: the retry keeps to the floor, the caps, and the time the certificate has. */
static void
check_retry(const struct sim *sm, const struct eca_certstate *st, time_t now, time_t next)
{
    long wait = (long)(next - now);

    ck_assert_int_ge(wait, ECA_RENEW_FLOOR_S);
    ck_assert_int_le(wait, CAP_S);
    if (st->present && now < st->not_after)
        ck_assert_int_le(wait, maxl((long)(st->not_after - now) / 4, ECA_RENEW_FLOOR_S));
    else if (st->present)
        ck_assert_int_le(wait, maxl(sm->life / 4, ECA_RENEW_FLOOR_S));
}

/* The CA issues: the new pair is in place at now. */
static void
issue(struct sim *sm, struct eca_pass_slot *slot, struct eca_certstate *st, time_t now)
{
    memset(st, 0, sizeof *st);
    st->present = 1;
    st->matches = 1;
    st->not_before = now;
    st->not_after = now + sm->life;
    eca_budget_add(&slot->budget, now);
    slot->lifetime = sm->life;
    eca_retry_ok(dir, sm->name, &slot->retry, 1, now);
    sm->issued++;
    if (sm->down_end > 0 && now >= sm->down_end && sm->first_up_issue == 0)
        sm->first_up_issue = now;
}

/* One pass at now; returns when the certificate is looked at again. */
static time_t
pass(struct sim *sm, const struct eca_agentconf *g, const struct eca_certconf *cc,
     struct eca_pass_slot *slot, struct eca_certstate *st, time_t now)
{
    struct eca_renew_out d;
    struct eca_pass_plan plan = eca_pass_plan(g, cc, slot, 0, now);

    fake_now = now;
    sm->passes++;
    sm->expired_passes += st->present && now >= st->not_after;
    eca_deploy_decide(cc, st, 0, (plan.flags & ECA_PASS_FORCE) != 0, g->check_interval_s, now, &d);
    if (d.reason == ECA_RENEW_NONE) {
        check_idle(sm, st, &d, now);
        return d.next_check;
    }
    /* Due: the budget allows every renewal the lifetime needs. */
    ck_assert(!plan.over);
    if (d.reason == ECA_RENEW_THRESHOLD && slot->retry.failures == 0) {
        /* Inside the window: not before its (jittered) opening, not after the threshold. */
        ck_assert_int_le(st->not_after - now, window_of(sm->life) * 11 / 10 + 1);
        ck_assert_int_ge(st->not_after - now, window_of(sm->life));
    }
    if (now >= sm->down_from && now < sm->down_end) {
        struct eca_pass_result res;
        struct eca_err e = {0};
        time_t next;

        memset(&res, 0, sizeof res);
        res.st = *st;
        res.step = ECA_STEP_OBTAIN;
        eca_err_set(&e, ECA_ENET, "connect to CA: refused");
        next = eca_pass_fail(g, cc->name, slot, &res, &e, BASE_S, CAP_S, now);
        check_retry(sm, st, now, next);
        sm->failed++;
        return next;
    }
    issue(sm, slot, st, now);
    eca_deploy_decide(cc, st, 0, 0, g->check_interval_s, now, &d);
    ck_assert_int_eq(d.reason, ECA_RENEW_NONE);
    check_idle(sm, st, &d, now);
    return d.next_check;
}

/* Run the daemon's loop over one certificate for span seconds from T0, default settings. */
static void
simulate(struct sim *sm, long span)
{
    struct eca_agentconf g;
    struct eca_certconf cc;
    struct eca_pass_slot slot;
    struct eca_certstate st;
    time_t now = T0;

    eca_agentconf_init(&g);
    g.state_dir = dir;
    eca_certconf_defaults(&cc);
    cc.name = (char *)sm->name;
    ck_assert_int_eq(cc.threshold_pct, THRESHOLD);
    memset(&slot, 0, sizeof slot);
    memset(&st, 0, sizeof st);
    while (now < T0 + span) {
        time_t next = pass(sm, &g, &cc, &slot, &st, now);

        /* The loop sleeps at most the check interval. */
        if (next > now + g.check_interval_s)
            next = now + g.check_interval_s;
        ck_assert_int_gt(next, now);
        now = next;
    }
    eca_pass_slot_clear(&slot);
}

static const long lifetimes[] = {600, HOUR, 6 * DAY, 45 * DAY, 90 * DAY};
static const char *const names[] = {"ten-min", "hourly", "short-lived", "tlsserver", "classic"};

/* Expected renewals over span: one every 63.7% to 67% of the lifetime, plus the first. */
static void
assert_renewals(const struct sim *sm, long span)
{
    long lo = (long)(span / (sm->life - window_of(sm->life))),
         hi = (long)(span / (sm->life - window_of(sm->life) * 11 / 10)) + 2;

    ck_assert_int_ge(sm->issued, lo);
    ck_assert_int_le(sm->issued, hi);
}

START_TEST(renewed_inside_the_window_with_default_settings)
{
    long life = lifetimes[_i], span = life < DAY ? 3 * DAY : 60 * life / 10;
    struct sim sm = {.name = names[_i], .life = life};
    long w = window_of(life);
    long per_cert = (life - w) / maxl(w / 4 < 21600 ? w / 4 : 21600, ECA_RENEW_FLOOR_S) + 3;

    simulate(&sm, span);
    ck_assert_uint_eq(sm.expired_passes, 0);
    ck_assert_uint_eq(sm.failed, 0);
    assert_renewals(&sm, span);
    /* Bounded looks: a handful per certificate, whatever the lifetime. */
    ck_assert_uint_le(sm.passes, sm.issued * (unsigned long)per_cert);
}
END_TEST

START_TEST(ca_down_through_the_threshold_still_renews_before_expiry)
{
    long life = lifetimes[_i], span = 3 * life;
    /* Down from half the first lifetime to 80% of it: past the threshold, 20% left. */
    struct sim sm = {.name = names[_i],
                     .life = life,
                     .down_from = T0 + life / 2,
                     .down_end = T0 + life / 10 * 8};

    simulate(&sm, span);
    ck_assert_uint_gt(sm.failed, 0);
    ck_assert_uint_eq(sm.expired_passes, 0);
    /* Back within a quarter of what was left (20% of the lifetime) or the floor. */
    ck_assert_int_ne(sm.first_up_issue, 0);
    ck_assert_int_le(sm.first_up_issue - sm.down_end, maxl(life / 20, ECA_RENEW_FLOOR_S));
    /* Retries are not a busy loop: at most one per floor while the CA was down. */
    ck_assert_uint_le(sm.failed, (unsigned)((sm.down_end - sm.down_from) / ECA_RENEW_FLOOR_S));
}
END_TEST

START_TEST(ca_down_past_expiry_retries_at_the_pace_of_the_lifetime)
{
    long life = lifetimes[_i], span = 3 * life;
    struct sim sm = {.name = names[_i],
                     .life = life,
                     .down_from = T0 + life / 2,
                     .down_end = T0 + life + life / 2};

    simulate(&sm, span);
    ck_assert_uint_gt(sm.expired_passes, 0);
    ck_assert_int_ne(sm.first_up_issue, 0);
    /* Once expired, a retry comes within a quarter of a lifetime (and the hour cap). */
    ck_assert_int_le(sm.first_up_issue - sm.down_end,
                     maxl(life / 4 < CAP_S ? life / 4 : CAP_S, ECA_RENEW_FLOOR_S));
}
END_TEST

START_TEST(budget_allows_what_the_lifetime_needs)
{
    struct eca_agentconf g;
    struct eca_certconf cc;
    struct eca_pass_slot s;

    eca_agentconf_init(&g);
    eca_certconf_defaults(&cc);
    memset(&s, 0, sizeof s);
    /* Below 6 hours more renewals than can be counted: no limit; the backoff bounds faults. */
    s.lifetime = 60;
    ck_assert_int_eq(eca_pass_budget(&g, &cc, &s), 0);
    s.lifetime = 600;
    ck_assert_int_eq(eca_pass_budget(&g, &cc, &s), 0);
    s.lifetime = HOUR;
    ck_assert_int_eq(eca_pass_budget(&g, &cc, &s), 0);
    s.lifetime = 6 * DAY;
    ck_assert_int_eq(eca_pass_budget(&g, &cc, &s), ECA_BUDGET_DEFAULT + 2);
    s.lifetime = 45 * DAY;
    ck_assert_int_eq(eca_pass_budget(&g, &cc, &s), ECA_BUDGET_DEFAULT);
    /* The allowance covers the renewals any week holds, with the jitter's earliest times. */
    ck_assert_int_eq(eca_renew_per_window(6 * DAY, THRESHOLD, 7 * DAY), 2);
    ck_assert_int_eq(eca_renew_per_window(60, THRESHOLD, 7 * DAY), 7 * DAY / 40);
    ck_assert_int_eq(eca_renew_per_window(0, THRESHOLD, 7 * DAY), 0);
    ck_assert_int_eq(eca_renew_per_window(90 * DAY, THRESHOLD, 7 * DAY), 0);
}
END_TEST

START_TEST(sixty_second_certificate_keeps_to_the_floor)
{
    struct sim sm = {.name = "minute", .life = 60};

    /* Window 19 s: a quarter is 4 s, below the floor; the renewal still comes on time. */
    simulate(&sm, 2 * HOUR);
    ck_assert_uint_eq(sm.expired_passes, 0);
    assert_renewals(&sm, 2 * HOUR);
    ck_assert_uint_le(sm.passes, sm.issued * (unsigned)((60 - 19) / ECA_RENEW_FLOOR_S + 2));
}
END_TEST

static Suite *
shortlife_suite(void)
{
    Suite *s = suite_create("shortlife");
    TCase *tc = tcase_create("core");
    int n = (int)(sizeof lifetimes / sizeof lifetimes[0]);

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_loop_test(tc, renewed_inside_the_window_with_default_settings, 0, n);
    tcase_add_loop_test(tc, ca_down_through_the_threshold_still_renews_before_expiry, 0, n);
    tcase_add_loop_test(tc, ca_down_past_expiry_retries_at_the_pace_of_the_lifetime, 0, n);
    tcase_add_test(tc, budget_allows_what_the_lifetime_needs);
    tcase_add_test(tc, sixty_second_certificate_keeps_to_the_floor);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(shortlife_suite)
