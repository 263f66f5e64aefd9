/* SPDX-License-Identifier: MIT */
/* Unit tests for eca_certstate: installed certificate and key as facts. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "eca_certstate.h"
#include "eca_fs.h"
#include "eca_x509.h"
#include "eca_test.h"
#include "test_pki.h"

Suite *certstate_suite(void);

static const char *const names[] = {"svc.test", "alt.test"};

static char dir[256], cert[512], key[512];
static struct test_pki pki;

static void
setup(void)
{
    struct test_pki_opts o = {.dns = names, .ndns = 2};

    test_mkdtemp(dir, sizeof dir);
    test_pki_make(&o, &pki);
    test_pki_write(&pki, dir);
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
}

static void
teardown(void)
{
    test_pki_free(&pki);
    test_rmdir(dir);
}

START_TEST(certstate_reads_matching_pair)
{
    struct eca_certstate st;
    struct eca_err err = {0};
    char serial[130];

    ck_assert_int_eq(eca_certstate_read(cert, key, &st, &err), ECA_OK);
    ck_assert_int_eq(st.present, 1);
    ck_assert_int_eq(st.matches, 1);
    ck_assert_str_eq(st.problem, "");
    ck_assert_int_eq(st.not_after, eca_x509_not_after(pki.leaf));
    ck_assert_int_eq(st.not_before, eca_x509_not_before(pki.leaf));
    eca_x509_serial_hex(pki.leaf, serial, sizeof serial);
    ck_assert_str_eq(st.serial, serial);
    ck_assert_str_eq(st.subject, "CN=svc.test");
    ck_assert_str_eq(st.issuer, "CN=Test Intermediate CA");
    ck_assert_str_eq(st.dns, "svc.test,alt.test");
}
END_TEST

START_TEST(certstate_missing_files_are_facts)
{
    struct eca_certstate st;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_fs_remove(key, NULL), ECA_OK);
    ck_assert_int_eq(eca_certstate_read(cert, key, &st, &err), ECA_OK);
    ck_assert_int_eq(st.present, 0);
    ck_assert_int_eq(st.matches, 0);
    ck_assert_msg(strstr(st.problem, "key file") && strstr(st.problem, "missing"), "%s",
                  st.problem);
    ck_assert_str_eq(st.subject, "CN=svc.test"); /* the certificate's facts are still there */

    ck_assert_int_eq(eca_fs_remove(cert, NULL), ECA_OK);
    ck_assert_int_eq(eca_certstate_read(cert, key, &st, &err), ECA_OK);
    ck_assert_int_eq(st.present, 0);
    ck_assert_msg(strstr(st.problem, "certificate file") && strstr(st.problem, "missing"), "%s",
                  st.problem);
    ck_assert_str_eq(st.subject, "");
}
END_TEST

/* A directory where the key belongs is an error of the pass (before any order), not a fact. */
START_TEST(certstate_directory_at_key_path_is_an_error)
{
    struct eca_certstate st;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_fs_remove(key, NULL), ECA_OK);
    ck_assert_int_eq(eca_fs_mkdir_p(key, 0700, NULL), ECA_OK);
    ck_assert_int_eq(eca_certstate_read(cert, key, &st, &err), ECA_EINVAL);
    ck_assert_msg(strstr(err.msg, "key.pem: is a directory, not a regular file: remove it") != NULL,
                  "%s", err.msg);
    ck_assert_int_eq(st.present, 0);
    ck_assert_msg(strstr(st.problem, "is a directory") != NULL, "%s", st.problem);
}
END_TEST

START_TEST(certstate_unparsable_certificate)
{
    struct eca_certstate st;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_fs_write_atomic(cert, "garbage\n", 8, 0644, NULL), ECA_OK);
    ck_assert_int_eq(eca_certstate_read(cert, key, &st, &err), ECA_OK);
    ck_assert_int_eq(st.present, 0);
    ck_assert_msg(strstr(st.problem, "certificate file unusable") &&
                      strstr(st.problem, "no CERTIFICATE block"),
                  "%s", st.problem);
}
END_TEST

START_TEST(certstate_detects_key_mismatch)
{
    struct eca_certstate st;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_key_save(pki.inter_key, key, NULL), ECA_OK);
    ck_assert_int_eq(eca_certstate_read(cert, key, &st, &err), ECA_OK);
    ck_assert_int_eq(st.present, 1);
    ck_assert_int_eq(st.matches, 0);
    ck_assert_msg(strstr(st.problem, "does not match") != NULL, "%s", st.problem);
}
END_TEST

/* The key is looked up by the certificate's key type first; a key of another type still loads. */
START_TEST(certstate_key_of_another_type_is_a_mismatch)
{
    struct eca_certstate st;
    struct eca_err err = {0};
    struct eca_key *rsa = NULL;

    ck_assert_int_eq(eca_key_generate(ECA_KEY_RSA_2048, &rsa, &err), ECA_OK);
    ck_assert_int_eq(eca_key_save(rsa, key, NULL), ECA_OK);
    ck_assert_int_eq(eca_certstate_read(cert, key, &st, &err), ECA_OK);
    ck_assert_int_eq(st.present, 1);
    ck_assert_int_eq(st.matches, 0);
    eca_key_free(rsa);
}
END_TEST

/* A SEC1 ("EC PRIVATE KEY") file, as openssl ecparam writes it, is the certificate's key too. */
START_TEST(certstate_reads_a_sec1_key)
{
    struct eca_certstate st;
    struct eca_err err = {0};
    BIO *bio = BIO_new_file(key, "w");

    ck_assert_ptr_nonnull(bio);
    ck_assert_int_eq(PEM_write_bio_PrivateKey_traditional(bio, eca_key_pkey(pki.leaf_key), NULL,
                                                          NULL, 0, NULL, NULL),
                     1);
    BIO_free(bio);
    ck_assert_int_eq(eca_certstate_read(cert, key, &st, &err), ECA_OK);
    ck_assert_int_eq(st.present, 1);
    ck_assert_int_eq(st.matches, 1);
}
END_TEST

Suite *
certstate_suite(void)
{
    Suite *s = suite_create("certstate");
    TCase *tc = tcase_create("certstate");

    tcase_set_timeout(tc, 5);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, certstate_reads_matching_pair);
    tcase_add_test(tc, certstate_missing_files_are_facts);
    tcase_add_test(tc, certstate_directory_at_key_path_is_an_error);
    tcase_add_test(tc, certstate_unparsable_certificate);
    tcase_add_test(tc, certstate_detects_key_mismatch);
    tcase_add_test(tc, certstate_key_of_another_type_is_a_mismatch);
    tcase_add_test(tc, certstate_reads_a_sec1_key);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(certstate_suite)
