/* SPDX-License-Identifier: MIT */
/* Test-time PKI for unit suites: keys, CA/leaf certificates, CRLs and PKCS#7 bundles, never
 * committed. */
#ifndef PKI_HELPERS_H
#define PKI_HELPERS_H

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define PKI_UNUSED __attribute__((unused))

static PKI_UNUSED EVP_PKEY *
pki_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");

    ck_assert_ptr_nonnull(k);
    return k;
}

static PKI_UNUSED void
pki_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    ck_assert_ptr_nonnull(ext);
    ck_assert_int_eq(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/*
 * A certificate for cn with pub, signed by ikey (issuer: NULL = self-signed), valid from
 * now-60 for `secs` seconds. crl_dp may be NULL.
 */
static PKI_UNUSED X509 *
pki_cert(const char *cn, EVP_PKEY *pub, X509 *issuer, EVP_PKEY *ikey, int is_ca, long serial,
         long secs, const char *crl_dp)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    char dp[512];

    ck_assert_ptr_nonnull(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), secs);
    X509_set_pubkey(x, pub);
    pki_ext(x, issuer, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "CA:FALSE");
    pki_ext(x, issuer, NID_subject_key_identifier, "hash");
    if (is_ca)
        pki_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    if (crl_dp) {
        snprintf(dp, sizeof dp, "URI:%s", crl_dp);
        pki_ext(x, issuer, NID_crl_distribution_points, dp);
    }
    ck_assert_int_gt(X509_sign(x, ikey, EVP_sha256()), 0);
    X509_NAME_free(n);
    return x;
}

/* A CRL by issuer listing serials, thisUpdate now+this_off, nextUpdate now+next_off (0: none). */
static PKI_UNUSED X509_CRL *
pki_crl(X509 *issuer, EVP_PKEY *ikey, const long *serials, size_t n, long this_off, long next_off)
{
    X509_CRL *c = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_new();

    X509_CRL_set_version(c, 1);
    X509_CRL_set_issuer_name(c, X509_get_subject_name(issuer));
    X509_gmtime_adj(t, this_off);
    X509_CRL_set1_lastUpdate(c, t);
    if (next_off) {
        X509_gmtime_adj(t, next_off);
        X509_CRL_set1_nextUpdate(c, t);
    }
    for (size_t i = 0; i < n; i++) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *s = ASN1_INTEGER_new();

        ASN1_INTEGER_set(s, serials[i]);
        X509_REVOKED_set_serialNumber(r, s);
        X509_gmtime_adj(t, -10);
        X509_REVOKED_set_revocationDate(r, t);
        X509_CRL_add0_revoked(c, r);
        ASN1_INTEGER_free(s);
    }
    X509_CRL_sort(c);
    ck_assert_int_gt(X509_CRL_sign(c, ikey, EVP_sha256()), 0);
    ASN1_TIME_free(t);
    return c;
}

/* The CRL x (freed) in PEM, NUL-terminated; the caller free()s it. */
static PKI_UNUSED char *
pki_crl_pem(X509_CRL *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p, *out;
    long n;

    ck_assert_int_eq(PEM_write_bio_X509_CRL(b, x), 1);
    n = BIO_get_mem_data(b, &p);
    out = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(out);
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
    BIO_free(b);
    X509_CRL_free(x);
    return out;
}

/* A raw HTTP 200 whose body is the CRL x (freed) in PEM, as a CRL server sends it (a fake
 * transport's canned answer); the caller free()s it. */
static PKI_UNUSED char *
pki_crl_response(X509_CRL *x)
{
    static const char head[] = "HTTP/1.1 200 OK\nContent-Type: application/pkix-crl\n\n";
    char *pem = pki_crl_pem(x), *out = malloc(sizeof head + strlen(pem));

    ck_assert_ptr_nonnull(out);
    memcpy(out, head, sizeof head - 1);
    strcpy(out + sizeof head - 1, pem);
    free(pem);
    return out;
}

/* DER of a PKCS#7 SignedData certs-only holding certs[0..n); caller OPENSSL_free()s *der. */
static PKI_UNUSED int
pki_p7_certs(X509 *const *certs, size_t n, unsigned char **der)
{
    PKCS7 *p7 = PKCS7_new();
    int len;

    ck_assert_int_eq(PKCS7_set_type(p7, NID_pkcs7_signed), 1);
    ck_assert_int_eq(PKCS7_content_new(p7, NID_pkcs7_data), 1);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(PKCS7_add_certificate(p7, certs[i]), 1);
    *der = NULL;
    len = i2d_PKCS7(p7, der);
    ck_assert_int_gt(len, 0);
    PKCS7_free(p7);
    return len;
}

#endif
