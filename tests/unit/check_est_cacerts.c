/* SPDX-License-Identifier: MIT */
/* Tests for est_cacerts: certs-only PKCS#7 built at test time, in every encoding servers use. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "eca_b64.h"
#include "eca_http.h"
#include "est_cacerts.h"
#include "pki_helpers.h"
#include "eca_test.h"

static X509 *certs[2];
static unsigned char *p7der;
static int p7len;

static void
setup(void)
{
    EVP_PKEY *ck = pki_key(), *ik = pki_key();

    certs[0] = pki_cert("Test Root CA", ck, NULL, ck, 1, 1, 3600, NULL);
    certs[1] = pki_cert("Test Issuing CA", ik, certs[0], ck, 1, 2, 3600, NULL);
    p7len = pki_p7_certs(certs, 2, &p7der);
    EVP_PKEY_free(ck);
    EVP_PKEY_free(ik);
}

static void
teardown(void)
{
    X509_free(certs[0]);
    X509_free(certs[1]);
    OPENSSL_free(p7der);
}

static void
mkresp(struct eca_http_resp *r, long status, const char *ctype, const void *body, size_t len)
{
    char h[256];

    eca_http_resp_init(r, 0);
    r->status = status;
    if (ctype) {
        snprintf(h, sizeof h, "Content-Type: %s", ctype);
        ck_assert_int_eq(eca_http_resp_add_header(r, h, strlen(h), NULL), ECA_OK);
    }
    if (len)
        ck_assert_int_eq(eca_buf_append(&r->body, body, len, NULL), ECA_OK);
}

/* Base64 of the PKCS#7 with a line break (eol) every `col` characters (0: none), then tail. */
static char *
b64_lines(size_t col, const char *eol, const char *tail)
{
    struct eca_buf b, o;
    char *s;

    eca_buf_init(&b, 0);
    eca_buf_init(&o, 0);
    ck_assert_int_eq(eca_b64_encode(p7der, (size_t)p7len, &b, NULL), ECA_OK);
    for (size_t i = 0; i < b.len; i++) {
        eca_buf_append(&o, b.data + i, 1, NULL);
        if (col && (i + 1) % col == 0)
            eca_buf_puts(&o, eol, NULL);
    }
    eca_buf_puts(&o, tail, NULL);
    s = eca_buf_steal(&o);
    eca_buf_free(&b);
    return s;
}

static const struct {
    size_t col;
    const char *eol, *tail, *ctype;
} good[] = {
    {0, "", "", "application/pkcs7-mime"},
    {64, "\n", "\n", "application/pkcs7-mime; smime-type=certs-only"},
    {76, "\r\n", "\r\n", "application/pkcs7-mime"},
    {64, "\n", "  \t\r\n\n", "Application/PKCS7-MIME;smime-type=certs-only"},
    {64, "\n", "", NULL},
};

START_TEST(cacerts_parses_base64_variants)
{
    struct eca_http_resp r;
    struct eca_chain *c = NULL;
    struct eca_err err = {0};
    char *body = b64_lines(good[_i].col, good[_i].eol, good[_i].tail);

    mkresp(&r, 200, good[_i].ctype, body, strlen(body));
    ck_assert_msg(est_cacerts_parse(&r, &c, &err) == ECA_OK, "%s", err.msg);
    ck_assert_uint_eq(eca_x509_chain_count(c), 2);
    ck_assert_int_eq(X509_cmp(eca_x509_chain_get(c, 0), certs[0]), 0);
    ck_assert_int_eq(X509_cmp(eca_x509_chain_get(c, 1), certs[1]), 0);
    eca_x509_chain_free(c);
    eca_http_resp_free(&r);
    free(body);
}
END_TEST

START_TEST(cacerts_parses_raw_der_and_pem_armour)
{
    struct eca_http_resp r;
    struct eca_chain *c = NULL;
    struct eca_err err = {0};
    char *b64 = b64_lines(64, "\n", "\n");
    char pem[8192];

    mkresp(&r, 200, "application/pkcs7-mime", p7der, (size_t)p7len);
    ck_assert_msg(est_cacerts_parse(&r, &c, &err) == ECA_OK, "%s", err.msg);
    ck_assert_uint_eq(eca_x509_chain_count(c), 2);
    eca_x509_chain_free(c);
    eca_http_resp_free(&r);
    snprintf(pem, sizeof pem, "-----BEGIN PKCS7-----\n%s-----END PKCS7-----\n", b64);
    c = NULL;
    ck_assert_int_eq(est_certs_parse_body("cacerts", pem, strlen(pem), &c, &err), ECA_OK);
    ck_assert_uint_eq(eca_x509_chain_count(c), 2);
    eca_x509_chain_free(c);
    free(b64);
}
END_TEST

static const struct {
    long status;
    const char *ctype, *body;
    enum eca_rc rc;
    const char *needle;
} bad[] = {
    {200, "application/pkcs7-mime", "", ECA_EPARSE, "cacerts: empty body"},
    {200, "application/pkcs7-mime", "this is *not* base64!", ECA_EPARSE, "neither DER nor base64"},
    {200, "application/pkcs7-mime", "MAMCAQE=", ECA_EPARSE, "not a DER PKCS#7"},
    {200, "text/html", "<html>login page</html>", ECA_EPROTO, "Content-Type is 'text/html'"},
    {404, "text/plain", "no such label", ECA_ESERVER, "HTTP 404: no such label"},
    {500, NULL, "", ECA_ESERVER, "HTTP 500"},
};

START_TEST(cacerts_rejects_broken_answers)
{
    struct eca_http_resp r;
    struct eca_chain *c = NULL;
    struct eca_err err = {0};

    mkresp(&r, bad[_i].status, bad[_i].ctype, bad[_i].body, strlen(bad[_i].body));
    ck_assert_int_eq(est_cacerts_parse(&r, &c, &err), bad[_i].rc);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.msg, bad[_i].needle) != NULL, "'%s' lacks '%s'", err.msg,
                  bad[_i].needle);
    eca_http_resp_free(&r);
}
END_TEST

START_TEST(cacerts_rejects_pkcs7_without_certificates)
{
    unsigned char *der = NULL;
    int n = pki_p7_certs(NULL, 0, &der);
    struct eca_chain *c = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(est_certs_parse_body("cacerts", der, (size_t)n, &c, &err), ECA_EPROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "no certificate"));
    OPENSSL_free(der);
}
END_TEST

START_TEST(body_snippet_is_printable_and_capped)
{
    struct eca_http_resp r;
    char s[16];
    const char body[] = "a\x01\x1b[31m  \r\n b\xff long long long long";

    mkresp(&r, 500, NULL, body, sizeof body - 1);
    est_body_snippet(&r, s, sizeof s);
    ck_assert_str_eq(s, "a..[31m b. long");
    ck_assert_uint_eq(strlen(s), 15);
    eca_http_resp_free(&r);
}
END_TEST

static Suite *
cacerts_suite(void)
{
    Suite *s = suite_create("est_cacerts");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, cacerts_parses_base64_variants, 0, sizeof good / sizeof good[0]);
    tcase_add_test(tc, cacerts_parses_raw_der_and_pem_armour);
    tcase_add_loop_test(tc, cacerts_rejects_broken_answers, 0, sizeof bad / sizeof bad[0]);
    tcase_add_test(tc, cacerts_rejects_pkcs7_without_certificates);
    tcase_add_test(tc, body_snippet_is_printable_and_capped);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(cacerts_suite)
