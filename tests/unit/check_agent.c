/* SPDX-License-Identifier: MIT */
/* Unit tests for eca_agent's start-up housekeeping: the per-host seed, journal recovery, sweep. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eca_agent.h"
#include "eca_fs.h"
#include "eca_test.h"

Suite *agent_suite(void);

static char dir[256], seedp[512];

static void
setup(void)
{
    test_mkdtemp(dir, sizeof dir);
    snprintf(seedp, sizeof seedp, "%s/host.seed", dir);
}

static void
teardown(void)
{
    test_rmdir(dir);
}

static void
slurp(const char *path, char *out, size_t outlen)
{
    struct eca_buf b;

    eca_buf_init(&b, 0);
    ck_assert_int_eq(eca_fs_read(path, 4096, &b, NULL), ECA_OK);
    snprintf(out, outlen, "%s", eca_buf_str(&b));
    eca_buf_free(&b);
}

/* A certificate valid 90 days from a fixed point, and its renewal point under the host seed. */
static time_t
renew_at(const char *name)
{
    struct eca_certconf cc;
    struct eca_certstate st;
    struct eca_renew_out out;

    memset(&cc, 0, sizeof cc);
    memset(&st, 0, sizeof st);
    cc.name = (char *)name;
    cc.threshold_pct = 33;
    st.present = st.matches = 1;
    st.not_before = 1700000000;
    st.not_after = st.not_before + 90 * 86400;
    eca_agent_decide(&cc, &st, 0, 0, 3600, st.not_before + 3600, &out);
    return out.renew_at;
}

START_TEST(host_seed_created_private_and_stable)
{
    struct eca_err err = {0};
    char first[64], again[64];
    unsigned s1;
    time_t r1;

    /* Read only: nothing there yet, nothing created. */
    ck_assert_int_eq(eca_agent_host_seed_load(dir, 0, &err), ECA_ENOTFOUND);
    ck_assert(!eca_fs_exists(seedp));
    ck_assert_msg(eca_agent_host_seed_load(dir, 1, &err) == ECA_OK, "%s", err.msg);
    test_assert_private(seedp);
    slurp(seedp, first, sizeof first);
    ck_assert_uint_eq(strlen(first), 9);
    s1 = eca_agent_host_seed();
    ck_assert_uint_ne(s1, 0);
    ck_assert_uint_eq(s1, (unsigned)strtoul(first, NULL, 16));
    r1 = renew_at("mosquitto");
    /* A restart reads the same seed back: same renewal point. */
    ck_assert_int_eq(eca_agent_host_seed_load(dir, 1, &err), ECA_OK);
    slurp(seedp, again, sizeof again);
    ck_assert_str_eq(first, again);
    ck_assert_uint_eq(eca_agent_host_seed(), s1);
    ck_assert_int_eq(renew_at("mosquitto"), r1);
}
END_TEST

START_TEST(host_seed_moves_the_renewal_point)
{
    struct eca_err err = {0};
    time_t a, b;

    ck_assert_int_eq(eca_fs_write_atomic(seedp, "1234abcd\n", 9, 0600, NULL), ECA_OK);
    ck_assert_msg(eca_agent_host_seed_load(dir, 0, &err) == ECA_OK, "%s", err.msg);
    ck_assert_uint_eq(eca_agent_host_seed(), 0x1234abcdu);
    a = renew_at("mosquitto");
    ck_assert_int_eq(eca_fs_write_atomic(seedp, "9e3779b9\n", 9, 0600, NULL), ECA_OK);
    ck_assert_int_eq(eca_agent_host_seed_load(dir, 0, &err), ECA_OK);
    b = renew_at("mosquitto");
    ck_assert_int_ne(a, b);
    /* Seeds for retries differ per host too. */
    ck_assert_int_eq(eca_fs_write_atomic(seedp, "1234abcd\n", 9, 0600, NULL), ECA_OK);
    ck_assert_int_eq(eca_agent_host_seed_load(dir, 0, &err), ECA_OK);
    ck_assert_int_eq(renew_at("mosquitto"), a);
}
END_TEST

START_TEST(host_seed_garbage_is_replaced)
{
    struct eca_err err = {0};
    char text[64];

    ck_assert_int_eq(eca_fs_write_atomic(seedp, "not a seed", 10, 0600, NULL), ECA_OK);
    ck_assert_int_eq(eca_agent_host_seed_load(dir, 0, &err), ECA_EPARSE);
    ck_assert_msg(strstr(err.msg, "host.seed") != NULL, "%s", err.msg);
    ck_assert_int_eq(eca_agent_host_seed_load(dir, 1, &err), ECA_OK);
    slurp(seedp, text, sizeof text);
    ck_assert_uint_eq(strlen(text), 9);
    ck_assert_uint_eq(eca_agent_host_seed(), (unsigned)strtoul(text, NULL, 16));
}
END_TEST

Suite *
agent_suite(void)
{
    Suite *s = suite_create("agent");
    TCase *tc = tcase_create("agent");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, host_seed_created_private_and_stable);
    tcase_add_test(tc, host_seed_moves_the_renewal_point);
    tcase_add_test(tc, host_seed_garbage_is_replaced);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(agent_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
