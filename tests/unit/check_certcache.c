/* SPDX-License-Identifier: MIT */
/* Unit tests for eca_certcache: files read again exactly when their identity changed. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eca_buf.h"
#include "eca_certcache.h"
#include "eca_clock.h"
#include "eca_fs.h"
#include "eca_x509.h"
#include "eca_test.h"
#include "test_pki.h"

Suite *certcache_suite(void);

static const char *const names[] = {"svc.test", "alt.test"};
static const char *const other_names[] = {"svc.test"};

static char dir[256], cert[512], key[512];
static struct test_pki pki;
static time_t later;

/* The files are older than ECA_CERTCACHE_SETTLE_S as this clock sees them: trusted. */
static time_t
settled_clock(void)
{
    return later;
}

static void
setup(void)
{
    struct test_pki_opts o = {.dns = names, .ndns = 2};

    test_mkdtemp(dir, sizeof dir);
    test_pki_make(&o, &pki);
    test_pki_write(&pki, dir);
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    later = time(NULL) + 60;
    eca_clock_set(settled_clock);
}

static void
teardown(void)
{
    eca_clock_set(NULL);
    test_pki_free(&pki);
    test_rmdir(dir);
}

/* Replace the certificate file by another certificate for the same names (a new inode). */
static void
replace_cert(char *serial_out, size_t outlen)
{
    struct test_pki other;
    struct test_pki_opts o = {.dns = names, .ndns = 2};

    test_pki_make(&o, &other);
    test_pki_write(&other, dir);
    eca_x509_serial_hex(other.leaf, serial_out, outlen);
    test_pki_free(&other);
}

START_TEST(certcache_unchanged_files_are_not_read_again)
{
    struct eca_certcache *c = eca_certcache_new();
    struct eca_certstate a, b;
    struct eca_err err = {0};
    char serial[130];

    ck_assert_int_eq(eca_certcache_read(c, cert, key, names, 2, &a, &err), ECA_OK);
    ck_assert_int_eq(eca_certcache_reads(c), 1);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(eca_certcache_read(c, cert, key, names, 2, &b, &err), ECA_OK);
        ck_assert_int_eq(eca_certcache_reads(c), 1);
    }
    /* The facts handed out are those of the read, field by field. */
    eca_x509_serial_hex(pki.leaf, serial, sizeof serial);
    ck_assert_int_eq(b.present, 1);
    ck_assert_int_eq(b.matches, 1);
    ck_assert_int_eq(b.names_match, 1);
    ck_assert_str_eq(b.serial, serial);
    ck_assert_str_eq(b.subject, a.subject);
    ck_assert_str_eq(b.issuer, a.issuer);
    ck_assert_str_eq(b.dns, "svc.test,alt.test");
    ck_assert_str_eq(b.aki, a.aki);
    ck_assert_int_ne(strlen(b.aki), 0);
    ck_assert_int_eq(b.not_before, a.not_before);
    ck_assert_int_eq(b.not_after, a.not_after);
    /* Without names the caller does not ask about them: the same entry serves. */
    ck_assert_int_eq(eca_certcache_read(c, cert, key, NULL, 0, &b, &err), ECA_OK);
    ck_assert_int_eq(eca_certcache_reads(c), 1);
    eca_certcache_free(c);
}
END_TEST

START_TEST(certcache_replaced_certificate_is_read_again)
{
    struct eca_certcache *c = eca_certcache_new();
    struct eca_certstate st;
    struct eca_err err = {0};
    char serial[130];

    ck_assert_int_eq(eca_certcache_read(c, cert, key, names, 2, &st, &err), ECA_OK);
    replace_cert(serial, sizeof serial);
    ck_assert_int_eq(eca_certcache_read(c, cert, key, names, 2, &st, &err), ECA_OK);
    ck_assert_int_eq(eca_certcache_reads(c), 2);
    ck_assert_str_eq(st.serial, serial);
    ck_assert_int_eq(st.present, 1);
    /* The other key is in place too (test_pki_write): still a matching pair. */
    ck_assert_int_eq(st.matches, 1);
    eca_certcache_free(c);
}
END_TEST

/*
 * A rewrite in place that keeps inode, size and mtime (restored by hand, as a timer tick too
 * coarse to see the write would) still changes ctime: read again.
 */
START_TEST(certcache_in_place_rewrite_with_mtime_restored_is_read_again)
{
    struct eca_certcache *c = eca_certcache_new();
    struct eca_certstate st;
    struct eca_err err = {0};
    struct stat before, after;
    struct timespec times[2];
    char junk[8192];
    int fd;

    ck_assert_int_eq(eca_certcache_read(c, cert, key, names, 2, &st, &err), ECA_OK);
    ck_assert_int_eq(st.present, 1);
    ck_assert_int_eq(stat(cert, &before), 0);
    usleep(20000); /* past a coarse timestamp tick: the ctime moves */
    ck_assert_int_le(before.st_size, (off_t)sizeof junk);
    memset(junk, 'x', sizeof junk);
    fd = open(cert, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, junk, (size_t)before.st_size, 0), (ssize_t)before.st_size);
    close(fd);
    times[0] = before.st_atim;
    times[1] = before.st_mtim;
    ck_assert_int_eq(utimensat(AT_FDCWD, cert, times, 0), 0);
    ck_assert_int_eq(stat(cert, &after), 0);
    ck_assert_int_eq(after.st_ino, before.st_ino);
    ck_assert_int_eq(after.st_size, before.st_size);
    ck_assert_int_eq(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
    ck_assert_int_eq(eca_certcache_read(c, cert, key, names, 2, &st, &err), ECA_OK);
    ck_assert_int_eq(eca_certcache_reads(c), 2);
    ck_assert_int_eq(st.present, 0);
    ck_assert_msg(strstr(st.problem, "certificate file unusable") != NULL, "%s", st.problem);
    eca_certcache_free(c);
}
END_TEST

START_TEST(certcache_replaced_key_is_read_again)
{
    struct eca_certcache *c = eca_certcache_new();
    struct eca_certstate st;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_certcache_read(c, cert, key, names, 2, &st, &err), ECA_OK);
    ck_assert_int_eq(st.matches, 1);
    ck_assert_int_eq(eca_key_save(pki.inter_key, key, NULL), ECA_OK);
    ck_assert_int_eq(eca_certcache_read(c, cert, key, names, 2, &st, &err), ECA_OK);
    ck_assert_int_eq(eca_certcache_reads(c), 2);
    ck_assert_int_eq(st.present, 1);
    ck_assert_int_eq(st.matches, 0);
    eca_certcache_free(c);
}
END_TEST

/* Files younger than the settle time could change again unseen: never trusted. */
START_TEST(certcache_fresh_files_are_read_every_time)
{
    struct eca_certcache *c = eca_certcache_new();
    struct eca_certstate st;
    struct eca_err err = {0};

    eca_clock_set(NULL);
    ck_assert_int_eq(eca_certcache_read(c, cert, key, names, 2, &st, &err), ECA_OK);
    ck_assert_int_eq(eca_certcache_read(c, cert, key, names, 2, &st, &err), ECA_OK);
    ck_assert_int_eq(eca_certcache_reads(c), 2);
    ck_assert_int_eq(st.present, 1);
    eca_certcache_free(c);
}
END_TEST

START_TEST(certcache_forget_and_other_names_read_again)
{
    struct eca_certcache *c = eca_certcache_new();
    struct eca_certstate st;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_certcache_read(c, cert, key, names, 2, &st, &err), ECA_OK);
    eca_certcache_forget(c);
    ck_assert_int_eq(eca_certcache_read(c, cert, key, names, 2, &st, &err), ECA_OK);
    ck_assert_int_eq(eca_certcache_reads(c), 2);
    ck_assert_int_eq(eca_certcache_read(c, cert, key, other_names, 1, &st, &err), ECA_OK);
    ck_assert_int_eq(eca_certcache_reads(c), 3);
    ck_assert_int_eq(st.names_match, 0);
    eca_certcache_free(c);
}
END_TEST

/* A missing key is a fact that is looked at again every time (nothing to read is cheap). */
START_TEST(certcache_missing_file_is_not_kept)
{
    struct eca_certcache *c = eca_certcache_new();
    struct eca_certstate st;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_certcache_read(c, cert, key, names, 2, &st, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_remove(key, NULL), ECA_OK);
    ck_assert_int_eq(eca_certcache_read(c, cert, key, names, 2, &st, &err), ECA_OK);
    ck_assert_int_eq(st.present, 0);
    ck_assert_msg(strstr(st.problem, "missing") != NULL, "%s", st.problem);
    ck_assert_int_eq(eca_certcache_read(c, cert, key, names, 2, &st, &err), ECA_OK);
    ck_assert_int_eq(eca_certcache_reads(c), 3);
    /* NULL cache: a plain read. */
    ck_assert_int_eq(eca_certcache_read(NULL, cert, key, names, 2, &st, &err), ECA_OK);
    ck_assert_int_eq(st.present, 0);
    eca_certcache_free(c);
    eca_certcache_free(NULL);
}
END_TEST

Suite *
certcache_suite(void)
{
    Suite *s = suite_create("certcache");
    TCase *tc = tcase_create("certcache");

    tcase_set_timeout(tc, 5);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, certcache_unchanged_files_are_not_read_again);
    tcase_add_test(tc, certcache_replaced_certificate_is_read_again);
    tcase_add_test(tc, certcache_in_place_rewrite_with_mtime_restored_is_read_again);
    tcase_add_test(tc, certcache_replaced_key_is_read_again);
    tcase_add_test(tc, certcache_fresh_files_are_read_every_time);
    tcase_add_test(tc, certcache_forget_and_other_names_read_again);
    tcase_add_test(tc, certcache_missing_file_is_not_kept);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(certcache_suite)
