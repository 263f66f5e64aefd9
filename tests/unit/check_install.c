/* SPDX-License-Identifier: MIT */
/* Unit tests for eca_install: staged install, .prev copies, modes, journal and roll-forward. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "eca_fs.h"
#include "eca_install.h"
#include "eca_test.h"

Suite *install_suite(void);

static char dir[256], keyp[512], certp[512], journal[512];

static void
setup(void)
{
    test_mkdtemp(dir, sizeof dir);
    snprintf(keyp, sizeof keyp, "%s/key.pem", dir);
    snprintf(certp, sizeof certp, "%s/cert.pem", dir);
    snprintf(journal, sizeof journal, "%s/install.journal", dir);
}

static void
teardown(void)
{
    test_rmdir(dir);
}

static void
put(const char *path, const char *suffix, const char *text, unsigned mode)
{
    char p[600];

    snprintf(p, sizeof p, "%s%s", path, suffix);
    ck_assert_int_eq(eca_fs_write_atomic(p, text, strlen(text), mode, NULL), ECA_OK);
}

/* Assert path+suffix holds text with mode. */
static void
expect(const char *path, const char *suffix, const char *text, unsigned mode)
{
    char p[600];
    struct eca_buf b;

    snprintf(p, sizeof p, "%s%s", path, suffix);
    eca_buf_init(&b, 0);
    ck_assert_msg(eca_fs_read(p, 4096, &b, NULL) == ECA_OK, "%s missing", p);
    ck_assert_str_eq(eca_buf_str(&b), text);
    test_assert_mode(p, mode);
    eca_buf_free(&b);
}

static int
exists(const char *path, const char *suffix)
{
    char p[600];

    snprintf(p, sizeof p, "%s%s", path, suffix);
    return eca_fs_exists(p);
}

static void
set_files(struct eca_install_file f[2], const char *key, const char *cert)
{
    f[0] = (struct eca_install_file){keyp, key, strlen(key), ECA_FS_MODE_PRIVATE};
    f[1] = (struct eca_install_file){certp, cert, strlen(cert), ECA_FS_MODE_PUBLIC};
}

START_TEST(install_replaces_set_and_keeps_prev)
{
    struct eca_install_file f[2];
    struct eca_err err = {0};

    put(keyp, "", "old key\n", 0600);
    put(certp, "", "old cert\n", 0644);
    set_files(f, "new key\n", "new cert\n");
    ck_assert_msg(eca_install_files(journal, f, 2, &err) == ECA_OK, "%s", err.msg);
    expect(keyp, "", "new key\n", 0600);
    expect(certp, "", "new cert\n", 0644);
    expect(keyp, ".prev", "old key\n", 0600);
    expect(certp, ".prev", "old cert\n", 0644);
    ck_assert(!exists(keyp, ".new"));
    ck_assert(!exists(certp, ".new"));
    ck_assert(!eca_fs_exists(journal));
}
END_TEST

START_TEST(install_first_time_has_no_prev)
{
    struct eca_install_file f[2];
    struct eca_err err = {0};

    set_files(f, "k\n", "c\n");
    ck_assert_msg(eca_install_files(journal, f, 2, &err) == ECA_OK, "%s", err.msg);
    expect(keyp, "", "k\n", 0600);
    expect(certp, "", "c\n", 0644);
    ck_assert(!exists(keyp, ".prev"));
    ck_assert(!exists(certp, ".prev"));
}
END_TEST

START_TEST(install_replaces_stale_staged_file)
{
    struct eca_install_file f[2];
    struct eca_err err = {0};
    int rolled = -1;

    put(certp, ".new", "stale from a crash before the journal\n", 0644);
    ck_assert_int_eq(eca_install_recover(journal, &rolled, &err), ECA_OK);
    ck_assert_int_eq(rolled, 0);
    ck_assert(!eca_fs_exists(certp)); /* no journal: nothing is rolled */
    set_files(f, "k\n", "c\n");
    ck_assert_msg(eca_install_files(journal, f, 2, &err) == ECA_OK, "%s", err.msg);
    expect(certp, "", "c\n", 0644);
}
END_TEST

START_TEST(recover_rolls_forward_after_crash)
{
    struct eca_err err = {0};
    char list[1200];
    int rolled = 0;

    put(keyp, "", "old key\n", 0600);
    put(certp, "", "old cert\n", 0644);
    put(keyp, ".new", "new key\n", 0600);
    put(certp, ".new", "new cert\n", 0644);
    snprintf(list, sizeof list, "%s\n%s\n", keyp, certp);
    put(journal, "", list, 0600);
    ck_assert_msg(eca_install_recover(journal, &rolled, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(rolled, 1);
    expect(keyp, "", "new key\n", 0600);
    expect(certp, "", "new cert\n", 0644);
    expect(keyp, ".prev", "old key\n", 0600);
    expect(certp, ".prev", "old cert\n", 0644);
    ck_assert(!exists(keyp, ".new"));
    ck_assert(!exists(certp, ".new"));
    ck_assert(!eca_fs_exists(journal));
}
END_TEST

/* The certificate's .prev cannot be written (a directory sits there; works as root too): the
 * install fails naming the file, renames nothing, so key and certificate still match; once
 * the obstacle is gone, recovery installs the whole set. A key's .prev is 0600. */
START_TEST(failed_prev_renames_nothing)
{
    struct eca_install_file f[2];
    struct eca_err err = {0};
    char blocker[600], inside[700];
    int rolled = 0;

    put(keyp, "", "old key\n", 0600);
    put(certp, "", "old cert\n", 0644);
    snprintf(blocker, sizeof blocker, "%s.prev", certp);
    snprintf(inside, sizeof inside, "%s/x", blocker);
    ck_assert_int_eq(eca_fs_mkdir_p(blocker, 0700, &err), ECA_OK);
    put(inside, "", "x", 0600);
    set_files(f, "new key\n", "new cert\n");
    ck_assert_int_ne(eca_install_files(journal, f, 2, &err), ECA_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "cert.pem"));
    expect(keyp, "", "old key\n", 0600);
    expect(certp, "", "old cert\n", 0644);
    ck_assert(eca_fs_exists(journal));
    ck_assert_int_eq(unlink(inside), 0);
    ck_assert_int_eq(rmdir(blocker), 0);
    ck_assert_msg(eca_install_recover(journal, &rolled, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(rolled, 1);
    expect(keyp, "", "new key\n", 0600);
    expect(certp, "", "new cert\n", 0644);
    expect(keyp, ".prev", "old key\n", 0600);
    expect(certp, ".prev", "old cert\n", 0644);
}
END_TEST

/* A directory at the key path is refused before anything is staged: no journal is left that
 * would jam every later start. */
START_TEST(install_refuses_directory_target_before_staging)
{
    struct eca_install_file f[2];
    struct eca_err err = {0};

    ck_assert_int_eq(eca_fs_mkdir_p(keyp, 0700, NULL), ECA_OK);
    put(certp, "", "old cert\n", 0644);
    set_files(f, "new key\n", "new cert\n");
    ck_assert_int_eq(eca_install_files(journal, f, 2, &err), ECA_EINVAL);
    ck_assert_msg(strstr(err.msg, "key.pem: is a directory, not a regular file: remove it") != NULL,
                  "%s", err.msg);
    ck_assert(!eca_fs_exists(journal));
    ck_assert(!exists(keyp, ".new"));
    ck_assert(!exists(certp, ".new"));
    expect(certp, "", "old cert\n", 0644);
}
END_TEST

/* A journal (from a crash) naming a path that became a directory: the error says what to remove;
 * once it is removed, recovery installs the staged set. */
START_TEST(recover_names_what_to_remove)
{
    struct eca_err err = {0};
    char list[1200];
    int rolled = 0;

    ck_assert_int_eq(eca_fs_mkdir_p(keyp, 0700, NULL), ECA_OK);
    put(certp, "", "old cert\n", 0644);
    put(keyp, ".new", "new key\n", 0600);
    put(certp, ".new", "new cert\n", 0644);
    snprintf(list, sizeof list, "%s\n%s\n", keyp, certp);
    put(journal, "", list, 0600);
    ck_assert_int_eq(eca_install_recover(journal, &rolled, &err), ECA_EINVAL);
    ck_assert_msg(strstr(err.msg, "key.pem: is a directory, not a regular file: remove it") != NULL,
                  "%s", err.msg);
    ck_assert_msg(strstr(err.msg, journal) != NULL, "%s", err.msg);
    expect(certp, "", "old cert\n", 0644);
    ck_assert(eca_fs_exists(journal));
    ck_assert_int_eq(rmdir(keyp), 0);
    ck_assert_msg(eca_install_recover(journal, &rolled, &err) == ECA_OK, "%s", err.msg);
    expect(keyp, "", "new key\n", 0600);
    expect(certp, "", "new cert\n", 0644);
}
END_TEST

static void
put_old(const char *path, const char *suffix)
{
    char q[700];
    struct utimbuf t;

    put(path, suffix, "leftover\n", 0600);
    snprintf(q, sizeof q, "%s%s", path, suffix);
    t.actime = t.modtime = time(NULL) - 3600;
    ck_assert_int_eq(utime(q, &t), 0);
}

/* What kill -9 leaves: temp copies of the old key, staged .new files. Kept while a journal
 * needs them or while young; removed otherwise. */
START_TEST(sweep_removes_leftovers)
{
    const char *paths[] = {keyp, certp, NULL};
    int removed = 0;

    put(keyp, "", "key\n", 0600);
    put(certp, "", "cert\n", 0644);
    put_old(dir, "/.key.pem.prev.tmp-00112233445566ff");
    put_old(dir, "/.cert.pem.tmp-00112233445566ff");
    put_old(keyp, ".new");
    put_old(certp, ".new");
    put(journal, "", "x\n", 0600);
    ck_assert_int_eq(eca_install_sweep(journal, paths, 3, 60, &removed, NULL), ECA_OK);
    ck_assert_int_eq(removed, 2);
    ck_assert(exists(keyp, ".new"));
    ck_assert(exists(certp, ".new"));
    ck_assert(!exists(dir, "/.key.pem.prev.tmp-00112233445566ff"));
    ck_assert(!exists(dir, "/.cert.pem.tmp-00112233445566ff"));
    ck_assert_int_eq(unlink(journal), 0);
    put(certp, ".new", "young\n", 0644);
    ck_assert_int_eq(eca_install_sweep(journal, paths, 3, 60, &removed, NULL), ECA_OK);
    ck_assert_int_eq(removed, 3);
    ck_assert(!exists(keyp, ".new"));
    ck_assert(exists(certp, ".new"));
    expect(keyp, "", "key\n", 0600);
    expect(certp, "", "cert\n", 0644);
}
END_TEST

START_TEST(recover_finishes_half_done_renames)
{
    struct eca_err err = {0};
    char list[1200];
    int rolled = 0;

    /* The crash came after the key was renamed and before the certificate was. */
    put(keyp, "", "new key\n", 0600);
    put(keyp, ".prev", "old key\n", 0600);
    put(certp, "", "old cert\n", 0644);
    put(certp, ".new", "new cert\n", 0644);
    snprintf(list, sizeof list, "%s\n%s\n", keyp, certp);
    put(journal, "", list, 0600);
    ck_assert_int_eq(eca_install_recover(journal, &rolled, &err), ECA_OK);
    ck_assert_int_eq(rolled, 1);
    expect(keyp, "", "new key\n", 0600);
    expect(keyp, ".prev", "old key\n", 0600);
    expect(certp, "", "new cert\n", 0644);
    expect(certp, ".prev", "old cert\n", 0644);
    ck_assert(!eca_fs_exists(journal));
}
END_TEST

START_TEST(install_renames_key_before_cert)
{
    struct eca_install_file f[2];
    struct eca_err err = {0};
    char sub[600];

    /* A directory where the certificate goes is found before the key is touched: nothing is
     * staged or renamed (the key would no longer match the certificate), no journal is left. */
    put(keyp, "", "old key\n", 0600);
    ck_assert_int_eq(eca_fs_mkdir_p(certp, 0700, NULL), ECA_OK);
    snprintf(sub, sizeof sub, "%s/x", certp);
    put(sub, "", "x", 0600);
    set_files(f, "new key\n", "new cert\n");
    ck_assert_int_eq(eca_install_files(journal, f, 2, &err), ECA_EINVAL);
    ck_assert_msg(strstr(err.msg, "cert.pem: is a directory") != NULL, "%s", err.msg);
    expect(keyp, "", "old key\n", 0600);
    ck_assert(!exists(keyp, ".new"));
    ck_assert(!exists(keyp, ".prev"));
    ck_assert(!eca_fs_exists(journal));
}
END_TEST

START_TEST(install_rejects_bad_arguments)
{
    struct eca_install_file f[1] = {{"bad\npath", "x", 1, 0600}};
    struct eca_err err = {0};

    ck_assert_int_eq(eca_install_files(journal, f, 0, &err), ECA_EINVAL);
    ck_assert_int_eq(eca_install_files(journal, f, 1, &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "no usable path"));
    ck_assert(!eca_fs_exists(journal));
}
END_TEST

Suite *
install_suite(void)
{
    Suite *s = suite_create("install");
    TCase *tc = tcase_create("install");

    tcase_set_timeout(tc, 5);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, install_replaces_set_and_keeps_prev);
    tcase_add_test(tc, install_first_time_has_no_prev);
    tcase_add_test(tc, install_replaces_stale_staged_file);
    tcase_add_test(tc, recover_rolls_forward_after_crash);
    tcase_add_test(tc, recover_finishes_half_done_renames);
    tcase_add_test(tc, failed_prev_renames_nothing);
    tcase_add_test(tc, install_renames_key_before_cert);
    tcase_add_test(tc, install_rejects_bad_arguments);
    tcase_add_test(tc, install_refuses_directory_target_before_staging);
    tcase_add_test(tc, recover_names_what_to_remove);
    tcase_add_test(tc, sweep_removes_leftovers);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(install_suite)
