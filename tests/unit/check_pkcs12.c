/* SPDX-License-Identifier: MIT */
/* Tests for eca_pkcs12: both profiles round-trip through OpenSSL's own PKCS12_parse. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pkcs12.h>

#include "eca_key.h"
#include "eca_pkcs12.h"
#include "eca_secret.h"
#include "eca_x509.h"
#include "pki_helpers.h"
#include "eca_test.h"

struct fixture {
    struct eca_key *key;
    struct eca_chain *chain;
    struct eca_secret *pass;
    EVP_PKEY *ca_key;
};

static void
make_fixture(struct fixture *f)
{
    struct eca_err err = {0};
    EVP_PKEY *leaf_key = pki_key();
    X509 *ca, *leaf;

    f->ca_key = pki_key();
    ca = pki_cert("Test Root", f->ca_key, NULL, f->ca_key, 1, 1, 3600, NULL);
    leaf = pki_cert("device-1", leaf_key, ca, f->ca_key, 0, 2, 3600, NULL);
    ck_assert_int_eq(eca_x509_chain_new(&f->chain, &err), ECA_OK);
    ck_assert_int_eq(eca_x509_chain_push(f->chain, leaf, &err), ECA_OK);
    ck_assert_int_eq(eca_x509_chain_push(f->chain, ca, &err), ECA_OK);
    ck_assert_int_eq(eca_key_wrap(leaf_key, &f->key, &err), ECA_OK);
    ck_assert_int_eq(eca_secret_from_mem("s3cret-pfx", 10, &f->pass, &err), ECA_OK);
    X509_free(ca);
    X509_free(leaf);
}

static void
free_fixture(struct fixture *f)
{
    eca_key_free(f->key);
    eca_x509_chain_free(f->chain);
    eca_secret_free(f->pass);
    EVP_PKEY_free(f->ca_key);
}

static PKCS12 *
build(struct fixture *f, enum eca_pkcs12_profile prof, struct eca_buf *der)
{
    struct eca_err err = {0};
    const unsigned char *p;

    eca_buf_init(der, 0);
    ck_assert_msg(eca_pkcs12_build(f->key, f->chain, f->pass, "device-1", prof, der, &err) ==
                      ECA_OK,
                  "%s", err.msg);
    p = der->data;
    return d2i_PKCS12(NULL, &p, (long)der->len);
}

static int
mac_nid(PKCS12 *p12)
{
    const X509_ALGOR *alg = NULL;
    const ASN1_OBJECT *obj = NULL;

    PKCS12_get0_mac(NULL, &alg, NULL, NULL, p12);
    ck_assert_ptr_nonnull(alg);
    X509_ALGOR_get0(&obj, NULL, NULL, alg);
    return OBJ_obj2nid(obj);
}

static const struct {
    enum eca_pkcs12_profile prof;
    int mac;
    const char *cipher;
} profiles[] = {
    {ECA_PKCS12_MODERN, NID_sha256, "AES-256-CBC"},
    {ECA_PKCS12_LEGACY, NID_sha1, "PBE-SHA1-3DES"},
};

START_TEST(pkcs12_round_trips_through_openssl)
{
    struct fixture f = {0};
    struct eca_buf der;
    PKCS12 *p12;
    EVP_PKEY *pk = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *ca = NULL;

    make_fixture(&f);
    p12 = build(&f, profiles[_i].prof, &der);
    ck_assert_ptr_nonnull(p12);
    ck_assert_int_eq(mac_nid(p12), profiles[_i].mac);
    ck_assert_int_eq(PKCS12_verify_mac(p12, "s3cret-pfx", -1), 1);
    ck_assert_int_eq(PKCS12_verify_mac(p12, "wrong", -1), 0);
    ck_assert_int_eq(PKCS12_parse(p12, "s3cret-pfx", &pk, &cert, &ca), 1);
    ck_assert_int_eq(X509_cmp(cert, eca_x509_chain_get(f.chain, 0)), 0);
    ck_assert_int_eq(EVP_PKEY_eq(pk, eca_key_pkey(f.key)), 1);
    ck_assert_int_eq(sk_X509_num(ca), 1);
    ck_assert_int_eq(X509_cmp(sk_X509_value(ca, 0), eca_x509_chain_get(f.chain, 1)), 0);
    EVP_PKEY_free(pk);
    X509_free(cert);
    sk_X509_pop_free(ca, X509_free);
    PKCS12_free(p12);
    eca_buf_free(&der);
    free_fixture(&f);
}
END_TEST

START_TEST(pkcs12_parse_reports_profile_algorithms)
{
    struct fixture f = {0};
    struct eca_err err = {0};
    struct eca_pkcs12_info info;
    struct eca_buf der;
    struct eca_key *k = NULL;
    struct eca_chain *c = NULL;

    make_fixture(&f);
    PKCS12_free(build(&f, profiles[_i].prof, &der));
    ck_assert_int_eq(eca_pkcs12_parse(der.data, der.len, f.pass, &k, &c, &info, &err), ECA_OK);
    ck_assert_str_eq(info.key_cipher, profiles[_i].cipher);
    ck_assert_str_eq(info.cert_cipher, profiles[_i].cipher);
    ck_assert_str_eq(info.mac_digest, profiles[_i].mac == NID_sha1 ? "SHA1" : "SHA256");
    ck_assert_str_eq(info.friendly_name, "device-1");
    ck_assert_int_ge(info.mac_iter, 2000);
    ck_assert_uint_eq(eca_x509_chain_count(c), 2);
    ck_assert_int_eq(eca_x509_matches_key(eca_x509_chain_get(c, 0), k), 1);
    eca_key_free(k);
    eca_x509_chain_free(c);
    eca_buf_free(&der);
    free_fixture(&f);
}
END_TEST

START_TEST(pkcs12_parse_refuses_wrong_password_and_garbage)
{
    struct fixture f = {0};
    struct eca_err err = {0};
    struct eca_secret *bad = NULL;
    struct eca_buf der;
    struct eca_key *k = NULL;
    struct eca_chain *c = NULL;

    make_fixture(&f);
    PKCS12_free(build(&f, ECA_PKCS12_MODERN, &der));
    ck_assert_int_eq(eca_secret_from_mem("nope", 4, &bad, &err), ECA_OK);
    ck_assert_int_eq(eca_pkcs12_parse(der.data, der.len, bad, &k, &c, NULL, &err), ECA_EAUTH);
    ck_assert_ptr_null(k);
    ck_assert_int_eq(eca_pkcs12_parse("garbage", 7, f.pass, &k, &c, NULL, &err), ECA_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "pkcs12"));
    eca_secret_free(bad);
    eca_buf_free(&der);
    free_fixture(&f);
}
END_TEST

START_TEST(pkcs12_build_refuses_mismatched_key)
{
    struct fixture f = {0};
    struct eca_err err = {0};
    struct eca_key *other = NULL;
    struct eca_buf der;

    make_fixture(&f);
    ck_assert_int_eq(eca_key_wrap(pki_key(), &other, &err), ECA_OK);
    eca_buf_init(&der, 0);
    ck_assert_int_eq(eca_pkcs12_build(other, f.chain, f.pass, NULL, ECA_PKCS12_MODERN, &der, &err),
                     ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not match"));
    ck_assert_uint_eq(der.len, 0);
    eca_key_free(other);
    free_fixture(&f);
}
END_TEST

START_TEST(pkcs12_profile_names_parse)
{
    enum eca_pkcs12_profile p;

    ck_assert_int_eq(eca_pkcs12_profile_parse("Legacy", &p), 0);
    ck_assert_int_eq(p, ECA_PKCS12_LEGACY);
    ck_assert_int_eq(eca_pkcs12_profile_parse("modern", &p), 0);
    ck_assert_int_eq(p, ECA_PKCS12_MODERN);
    ck_assert_int_eq(eca_pkcs12_profile_parse("rc2", &p), -1);
    ck_assert_str_eq(eca_pkcs12_profile_name(ECA_PKCS12_LEGACY), "legacy");
}
END_TEST

static Suite *
pkcs12_suite(void)
{
    Suite *s = suite_create("pkcs12");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_loop_test(tc, pkcs12_round_trips_through_openssl, 0, 2);
    tcase_add_loop_test(tc, pkcs12_parse_reports_profile_algorithms, 0, 2);
    tcase_add_test(tc, pkcs12_parse_refuses_wrong_password_and_garbage);
    tcase_add_test(tc, pkcs12_build_refuses_mismatched_key);
    tcase_add_test(tc, pkcs12_profile_names_parse);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(pkcs12_suite)
