/* SPDX-License-Identifier: MIT */
/* Tests for eca_crl: CA and CRLs generated at test time; revoked, signature, freshness, DP URL. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>

#include "eca_crl.h"
#include "eca_x509.h"
#include "pki_helpers.h"
#include "eca_test.h"

struct pki {
    EVP_PKEY *ca_key, *other_key;
    X509 *ca, *other_ca, *leaf;
};

static void
pki_make(struct pki *p)
{
    EVP_PKEY *lk = pki_key();

    p->ca_key = pki_key();
    p->other_key = pki_key();
    p->ca = pki_cert("Test CA", p->ca_key, NULL, p->ca_key, 1, 1, 3600, NULL);
    /* Same name, other key: a forged CRL must fail on the signature, not the name. */
    p->other_ca = pki_cert("Test CA", p->other_key, NULL, p->other_key, 1, 1, 3600, NULL);
    p->leaf =
        pki_cert("dev", lk, p->ca, p->ca_key, 0, 0x1234, 3600, "http://127.0.0.1:4211/crl/ca.crl");
    EVP_PKEY_free(lk);
}

static void
pki_free(struct pki *p)
{
    EVP_PKEY_free(p->ca_key);
    EVP_PKEY_free(p->other_key);
    X509_free(p->ca);
    X509_free(p->other_ca);
    X509_free(p->leaf);
}

static struct eca_crl *
parse_der(X509_CRL *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509_CRL(x, &der);
    struct eca_crl *c = NULL;
    struct eca_err err = {0};

    ck_assert_int_gt(n, 0);
    ck_assert_msg(eca_crl_parse(der, (size_t)n, &c, &err) == ECA_OK, "%s", err.msg);
    OPENSSL_free(der);
    X509_CRL_free(x);
    return c;
}

static struct eca_crl *
parse_pem(X509_CRL *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    long n;
    struct eca_crl *c = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(PEM_write_bio_X509_CRL(b, x), 1);
    n = BIO_get_mem_data(b, &p);
    ck_assert_msg(eca_crl_parse(p, (size_t)n, &c, &err) == ECA_OK, "%s", err.msg);
    BIO_free(b);
    X509_CRL_free(x);
    return c;
}

START_TEST(crl_lists_revoked_serials_pem_and_der)
{
    struct pki p;
    const long serials[] = {7, 0x1234};
    struct eca_crl *der, *pem;
    struct eca_err err = {0};

    pki_make(&p);
    der = parse_der(pki_crl(p.ca, p.ca_key, serials, 2, -60, 3600));
    pem = parse_pem(pki_crl(p.ca, p.ca_key, serials + 1, 1, -60, 3600));
    ck_assert_int_eq(eca_crl_verify(der, p.ca, &err), ECA_OK);
    ck_assert_int_eq(eca_crl_is_revoked(der, p.leaf), 1);
    ck_assert_int_eq(eca_crl_is_revoked(pem, p.leaf), 1);
    ck_assert_int_eq(eca_crl_is_serial_revoked(der, "07"), 1);
    ck_assert_int_eq(eca_crl_is_serial_revoked(der, "0x12:34"), 1);
    ck_assert_int_eq(eca_crl_is_serial_revoked(pem, "07"), 0);
    ck_assert_int_eq(eca_crl_is_serial_revoked(der, "zz"), 0);
    ck_assert_uint_eq(eca_crl_count(der), 2);
    eca_crl_free(der);
    eca_crl_free(pem);
    pki_free(&p);
}
END_TEST

START_TEST(crl_not_listed_is_not_revoked)
{
    struct pki p;
    const long serials[] = {99};
    struct eca_crl *c;

    pki_make(&p);
    c = parse_der(pki_crl(p.ca, p.ca_key, serials, 1, -60, 3600));
    ck_assert_int_eq(eca_crl_is_revoked(c, p.leaf), 0);
    eca_crl_free(c);
    c = parse_der(pki_crl(p.ca, p.ca_key, NULL, 0, -60, 3600));
    ck_assert_int_eq(eca_crl_is_revoked(c, p.leaf), 0);
    ck_assert_uint_eq(eca_crl_count(c), 0);
    eca_crl_free(c);
    pki_free(&p);
}
END_TEST

START_TEST(crl_bad_signature_is_refused)
{
    struct pki p;
    struct eca_crl *c;
    struct eca_chain *bundle = NULL;
    struct eca_err err = {0};

    pki_make(&p);
    c = parse_der(pki_crl(p.other_ca, p.other_key, NULL, 0, -60, 3600));
    ck_assert_int_eq(eca_crl_verify(c, p.ca, &err), ECA_ECRYPTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "signature does not verify"));
    ck_assert_int_eq(eca_x509_chain_new(&bundle, &err), ECA_OK);
    ck_assert_int_eq(eca_crl_verify_any(c, bundle, &err), ECA_ENOTFOUND);
    ck_assert_int_eq(eca_x509_chain_push(bundle, p.leaf, &err), ECA_OK);
    ck_assert_int_eq(eca_x509_chain_push(bundle, p.ca, &err), ECA_OK);
    ck_assert_int_eq(eca_crl_verify_any(c, bundle, &err), ECA_ECRYPTO);
    eca_crl_free(c);
    c = parse_der(pki_crl(p.ca, p.ca_key, NULL, 0, -60, 3600));
    ck_assert_int_eq(eca_crl_verify_any(c, bundle, &err), ECA_OK);
    ck_assert_int_eq(eca_crl_verify(c, p.leaf, &err), ECA_EPROTO);
    eca_crl_free(c);
    eca_x509_chain_free(bundle);
    pki_free(&p);
}
END_TEST

START_TEST(crl_freshness)
{
    struct pki p;
    struct eca_crl *c;
    struct eca_err err = {0};
    time_t now = time(NULL);

    pki_make(&p);
    c = parse_der(pki_crl(p.ca, p.ca_key, NULL, 0, -7200, -3600));
    ck_assert_int_eq(eca_crl_check_fresh(c, now, 0, &err), ECA_EPROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "nextUpdate"));
    ck_assert_int_eq(eca_crl_check_fresh(c, now - 5400, 0, &err), ECA_OK);
    eca_crl_free(c);
    c = parse_der(pki_crl(p.ca, p.ca_key, NULL, 0, -7200, 0));
    ck_assert_int_eq(eca_crl_next_update(c), 0);
    ck_assert_int_eq(eca_crl_check_fresh(c, now, 0, &err), ECA_OK);
    ck_assert_int_eq(eca_crl_check_fresh(c, now, 3600, &err), ECA_EPROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "older than 3600"));
    ck_assert_int_eq(eca_crl_check_fresh(c, now - 7300, 0, &err), ECA_EPROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "future"));
    ck_assert(llabs((long long)(eca_crl_this_update(c) - (now - 7200))) < 5);
    eca_crl_free(c);
    pki_free(&p);
}
END_TEST

START_TEST(crl_garbage_is_a_parse_error)
{
    struct eca_crl *c = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_crl_parse("", 0, &c, &err), ECA_EPARSE);
    ck_assert_int_eq(eca_crl_parse("\x30\x03\x02\x01\x01", 5, &c, &err), ECA_EPARSE);
    ck_assert_int_eq(
        eca_crl_parse("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n", 52, &c, &err),
        ECA_EPARSE);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(strstr(err.msg, "CRL"));
}
END_TEST

START_TEST(crl_distribution_point_url)
{
    struct pki p;
    char url[256];
    struct eca_err err = {0};

    pki_make(&p);
    ck_assert_int_eq(eca_crl_dp_url(p.leaf, url, sizeof url, &err), ECA_OK);
    ck_assert_str_eq(url, "http://127.0.0.1:4211/crl/ca.crl");
    ck_assert_int_eq(eca_crl_dp_url(p.ca, url, sizeof url, &err), ECA_ENOTFOUND);
    pki_free(&p);
}
END_TEST

static Suite *
crl_suite(void)
{
    Suite *s = suite_create("crl");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, crl_lists_revoked_serials_pem_and_der);
    tcase_add_test(tc, crl_not_listed_is_not_revoked);
    tcase_add_test(tc, crl_bad_signature_is_refused);
    tcase_add_test(tc, crl_freshness);
    tcase_add_test(tc, crl_garbage_is_a_parse_error);
    tcase_add_test(tc, crl_distribution_point_url);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(crl_suite)
