/* SPDX-License-Identifier: MIT */
/* Unit tests for eca_agent's start-up housekeeping: the per-host seed, journal recovery, sweep. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utime.h>

#include "eca_deploy.h"
#include "eca_fs.h"
#include "eca_log.h"
#include "eca_test.h"

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
    eca_deploy_decide(&cc, &st, 0, 0, 3600, st.not_before + 3600, &out);
    return out.renew_at;
}

START_TEST(host_seed_created_private_and_stable)
{
    struct eca_err err = {0};
    char first[64], again[64];
    unsigned s1;
    time_t r1;

    /* Read only: nothing there yet, nothing created. */
    ck_assert_int_eq(eca_deploy_host_seed_load(dir, 0, &err), ECA_ENOTFOUND);
    ck_assert(!eca_fs_exists(seedp));
    ck_assert_msg(eca_deploy_host_seed_load(dir, 1, &err) == ECA_OK, "%s", err.msg);
    test_assert_private(seedp);
    slurp(seedp, first, sizeof first);
    ck_assert_uint_eq(strlen(first), 9);
    s1 = eca_deploy_host_seed();
    ck_assert_uint_ne(s1, 0);
    ck_assert_uint_eq(s1, (unsigned)strtoul(first, NULL, 16));
    r1 = renew_at("mosquitto");
    /* A restart reads the same seed back: same renewal point. */
    ck_assert_int_eq(eca_deploy_host_seed_load(dir, 1, &err), ECA_OK);
    slurp(seedp, again, sizeof again);
    ck_assert_str_eq(first, again);
    ck_assert_uint_eq(eca_deploy_host_seed(), s1);
    ck_assert_int_eq(renew_at("mosquitto"), r1);
}
END_TEST

START_TEST(host_seed_moves_the_renewal_point)
{
    struct eca_err err = {0};
    time_t a, b;

    ck_assert_int_eq(eca_fs_write_atomic(seedp, "1234abcd\n", 9, 0600, NULL), ECA_OK);
    ck_assert_msg(eca_deploy_host_seed_load(dir, 0, &err) == ECA_OK, "%s", err.msg);
    ck_assert_uint_eq(eca_deploy_host_seed(), 0x1234abcdu);
    a = renew_at("mosquitto");
    ck_assert_int_eq(eca_fs_write_atomic(seedp, "9e3779b9\n", 9, 0600, NULL), ECA_OK);
    ck_assert_int_eq(eca_deploy_host_seed_load(dir, 0, &err), ECA_OK);
    b = renew_at("mosquitto");
    ck_assert_int_ne(a, b);
    /* Seeds for retries differ per host too. */
    ck_assert_int_eq(eca_fs_write_atomic(seedp, "1234abcd\n", 9, 0600, NULL), ECA_OK);
    ck_assert_int_eq(eca_deploy_host_seed_load(dir, 0, &err), ECA_OK);
    ck_assert_int_eq(renew_at("mosquitto"), a);
}
END_TEST

START_TEST(host_seed_garbage_is_replaced)
{
    struct eca_err err = {0};
    char text[64];

    ck_assert_int_eq(eca_fs_write_atomic(seedp, "not a seed", 10, 0600, NULL), ECA_OK);
    ck_assert_int_eq(eca_deploy_host_seed_load(dir, 0, &err), ECA_EPARSE);
    ck_assert_msg(strstr(err.msg, "host.seed") != NULL, "%s", err.msg);
    ck_assert_int_eq(eca_deploy_host_seed_load(dir, 1, &err), ECA_OK);
    slurp(seedp, text, sizeof text);
    ck_assert_uint_eq(strlen(text), 9);
    ck_assert_uint_eq(eca_deploy_host_seed(), (unsigned)strtoul(text, NULL, 16));
}
END_TEST

static const char *
at(const char *name)
{
    static char buf[4][600];
    static int i;

    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

/* A file written an hour ago (what a kill -9 left behind a while back). */
static void
put_old(const char *name)
{
    struct utimbuf t;

    ck_assert_int_eq(eca_fs_write_atomic(at(name), "x\n", 2, 0600, NULL), ECA_OK);
    t.actime = t.modtime = time(NULL) - 3600;
    ck_assert_int_eq(utime(at(name), &t), 0);
}

static char keyp[600], certp[600], pfxp[600];

static struct eca_certconf
certconf(void)
{
    struct eca_certconf cc;

    snprintf(keyp, sizeof keyp, "%s/key.pem", dir);
    snprintf(certp, sizeof certp, "%s/cert.pem", dir);
    snprintf(pfxp, sizeof pfxp, "%s/web.pfx", dir);
    memset(&cc, 0, sizeof cc);
    cc.name = "web";
    cc.key_path = keyp;
    cc.cert_path = certp;
    return cc;
}

/* At start: the leftovers of the set (and of extra files) and of STATE_DIR are swept. */
START_TEST(recover_sweeps_leftovers)
{
    struct eca_certconf cc = certconf();
    const char *extra[] = {NULL, pfxp};
    struct eca_err err = {0};

    put_old(".key.pem.prev.tmp-0123456789abcdef");
    put_old("cert.pem.new");
    put_old(".web.pfx.prev.tmp-0123456789abcdef");
    put_old(".web.sched.tmp-0123456789abcdef");
    ck_assert_int_eq(eca_fs_write_atomic(at(".key.pem.tmp-00000000000000ff"), "y", 1, 0600, NULL),
                     ECA_OK); /* young: a writer may be at work */
    logcap_start();
    ck_assert_int_eq(eca_deploy_recover_ex(dir, &cc, extra, 2, &err), ECA_OK);
    ck_assert(!eca_fs_exists(at(".key.pem.prev.tmp-0123456789abcdef")));
    ck_assert(!eca_fs_exists(at("cert.pem.new")));
    ck_assert(!eca_fs_exists(at(".web.pfx.prev.tmp-0123456789abcdef")));
    ck_assert(!eca_fs_exists(at(".web.sched.tmp-0123456789abcdef")));
    ck_assert(eca_fs_exists(at(".key.pem.tmp-00000000000000ff")));
    ck_assert(logcap_contains("\"event\":\"stale_files_removed\""));
    ck_assert(logcap_contains("\"files\":4"));
    logcap_stop();
}
END_TEST

/* A journal naming a directory fails that certificate alone: an error saying what to remove
 * (the daemon logs it and serves the other certificates); the staged set stays. */
START_TEST(recover_stuck_journal_fails_alone)
{
    struct eca_certconf cc = certconf();
    struct eca_err err = {0};
    char list[1400];

    ck_assert_int_eq(eca_fs_mkdir_p(at("key.pem"), 0700, NULL), ECA_OK);
    put_old("key.pem.new");
    snprintf(list, sizeof list, "%s\n%s\n", at("key.pem"), at("cert.pem"));
    ck_assert_int_eq(eca_fs_write_atomic(at("web.journal"), list, strlen(list), 0600, NULL),
                     ECA_OK);
    ck_assert_int_ne(eca_deploy_recover(dir, &cc, &err), ECA_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "web: recovering an interrupted install"));
    ck_assert_ptr_nonnull(
        strstr(err.msg, "key.pem: is a directory, not a regular file: remove it"));
    /* The staged file is the set the journal will install: kept. */
    ck_assert(eca_fs_exists(at("key.pem.new")));
    ck_assert(eca_fs_exists(at("web.journal")));
}
END_TEST

static Suite *
deploy_suite(void)
{
    Suite *s = suite_create("deploy");
    TCase *tc = tcase_create("deploy");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, host_seed_created_private_and_stable);
    tcase_add_test(tc, host_seed_moves_the_renewal_point);
    tcase_add_test(tc, host_seed_garbage_is_replaced);
    tcase_add_test(tc, recover_sweeps_leftovers);
    tcase_add_test(tc, recover_stuck_journal_fails_alone);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(deploy_suite)
