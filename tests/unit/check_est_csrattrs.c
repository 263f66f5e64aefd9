/* SPDX-License-Identifier: MIT */
/* Tests for est_csrattrs: CsrAttrs built at test time, the merge with the configuration, and the
 * CSR that results. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "eca_b64.h"
#include "eca_buf.h"
#include "eca_key.h"
#include "eca_x509.h"
#include "est_csrattrs.h"
#include "eca_test.h"

#define OID_EC       "1.2.840.10045.2.1"
#define OID_P384     "1.3.132.0.34"
#define OID_P521     "1.3.132.0.35"
#define OID_BP256    "1.3.36.3.3.2.8.1.1.7"
#define OID_SHA512   "2.16.840.1.101.3.4.2.3"
#define OID_ES384    "1.2.840.10045.4.3.3"
#define OID_RSA      "1.2.840.113549.1.1.1"
#define OID_RSA256   "1.2.840.113549.1.1.11"
#define OID_CHALLPW  "1.2.840.113549.1.9.7"
#define OID_EXTREQ   "1.2.840.113549.1.9.14"
#define OID_MAC      "1.3.6.1.1.1.1.22"
#define OID_SAN      "2.5.29.17"
#define OID_KU       "2.5.29.15"
#define OID_UNKNOWN  "1.2.3.4"
#define OID_TEMPLATE "1.2.3.5"

/* ---- a tiny DER writer ---- */

static void
tlv(struct eca_buf *out, unsigned tag, const struct eca_buf *content)
{
    unsigned char hdr[4] = {(unsigned char)tag};
    size_t n = 2;

    ck_assert_uint_lt(content->len, 65536);
    if (content->len < 128) {
        hdr[1] = (unsigned char)content->len;
    } else if (content->len < 256) {
        hdr[1] = 0x81;
        hdr[2] = (unsigned char)content->len;
        n = 3;
    } else {
        hdr[1] = 0x82;
        hdr[2] = (unsigned char)(content->len >> 8);
        hdr[3] = (unsigned char)content->len;
        n = 4;
    }
    ck_assert_int_eq(eca_buf_append(out, hdr, n, NULL), ECA_OK);
    ck_assert_int_eq(eca_buf_append(out, content->data, content->len, NULL), ECA_OK);
}

static void
oid(struct eca_buf *out, const char *dotted)
{
    ASN1_OBJECT *o = OBJ_txt2obj(dotted, 1);
    unsigned char *der = NULL;
    int n;

    ck_assert_ptr_nonnull(o);
    n = i2d_ASN1_OBJECT(o, &der);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(eca_buf_append(out, der, (size_t)n, NULL), ECA_OK);
    OPENSSL_free(der);
    ASN1_OBJECT_free(o);
}

/* Attribute ::= SEQUENCE { type, SET { values } } with values already encoded. */
static void
attr(struct eca_buf *out, const char *type, const struct eca_buf *values)
{
    struct eca_buf seq, set;

    eca_buf_init(&seq, 0);
    eca_buf_init(&set, 0);
    oid(&seq, type);
    tlv(&set, 0x31, values);
    eca_buf_append(&seq, set.data, set.len, NULL);
    tlv(out, 0x30, &seq);
    eca_buf_free(&seq);
    eca_buf_free(&set);
}

/* An attribute whose one value is an OID. */
static void
attr_oid(struct eca_buf *out, const char *type, const char *value)
{
    struct eca_buf v;

    eca_buf_init(&v, 0);
    oid(&v, value);
    attr(out, type, &v);
    eca_buf_free(&v);
}

/* A DER Extension made by OpenSSL from its config syntax ("DNS:a.example", "digitalSignature"). */
static void
ext(struct eca_buf *out, int nid, const char *value)
{
    X509_EXTENSION *x = X509V3_EXT_conf_nid(NULL, NULL, nid, value);
    unsigned char *der = NULL;
    int n;

    ck_assert_ptr_nonnull(x);
    n = i2d_X509_EXTENSION(x, &der);
    ck_assert_int_gt(n, 0);
    eca_buf_append(out, der, (size_t)n, NULL);
    OPENSSL_free(der);
    X509_EXTENSION_free(x);
}

/* extensionRequest whose one value is SEQUENCE OF Extension (given encoded). */
static void
ext_request(struct eca_buf *out, const struct eca_buf *exts)
{
    struct eca_buf seq;

    eca_buf_init(&seq, 0);
    tlv(&seq, 0x30, exts);
    attr(out, OID_EXTREQ, &seq);
    eca_buf_free(&seq);
}

/* Wrap the items as CsrAttrs and parse them (DER, base64 and base64 + NUL must agree). */
static void
parse_items(const struct eca_buf *items, struct est_csrattrs *a)
{
    struct eca_buf der, b64;
    struct est_csrattrs again;
    struct eca_err err = {0};

    eca_buf_init(&der, 0);
    eca_buf_init(&b64, 0);
    tlv(&der, 0x30, items);
    ck_assert_msg(est_csrattrs_parse_body(der.data, der.len, a, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(eca_b64_encode(der.data, der.len, &b64, NULL), ECA_OK);
    eca_buf_append(&b64, "\n\0", 2, NULL);
    ck_assert_msg(est_csrattrs_parse_body(b64.data, b64.len, &again, &err) == ECA_OK, "%s",
                  err.msg);
    ck_assert_uint_eq(again.noids + again.nattrs + again.nexts, a->noids + a->nattrs + a->nexts);
    eca_buf_free(&der);
    eca_buf_free(&b64);
}

/* ---- tests ---- */

/* The RFC 7030 §4.5.2 example shape: challengePassword, P-384, macAddress, ecdsa-with-SHA384. */
START_TEST(rfc7030_example_picks_p384_and_sha384)
{
    struct eca_buf items, v;
    struct est_csrattrs a;
    struct est_csrattrs_plan plan;

    eca_buf_init(&items, 0);
    eca_buf_init(&v, 0);
    oid(&items, OID_CHALLPW);
    attr_oid(&items, OID_EC, OID_P384);
    oid(&v, OID_MAC);
    attr(&items, OID_EXTREQ, &v);
    oid(&items, OID_ES384);
    parse_items(&items, &a);
    ck_assert_int_eq(a.key_family, EST_KEY_EC);
    ck_assert_str_eq(a.ec_curve, "secp384r1");
    ck_assert_str_eq(a.sig_md, "SHA384");
    ck_assert_int_eq(a.challenge_password, 1);

    est_csrattrs_plan(&a, ECA_KEY_EC_P256, 0, 0, 0, &plan);
    ck_assert_int_eq(plan.key_type, ECA_KEY_EC_P384);
    ck_assert_str_eq(plan.extra.md, "SHA384");
    ck_assert_ptr_nonnull(strstr(plan.applied, "key_type ec-p384"));
    ck_assert_ptr_nonnull(strstr(plan.ignored, "challengePassword"));
    ck_assert_ptr_nonnull(strstr(plan.ignored, "extension macAddress: no value known"));
    ck_assert_uint_eq(plan.extra.nexts + plan.extra.nattrs, 0);

    /* The operator's explicit key type wins; the digest still fits an EC key. */
    est_csrattrs_plan(&a, ECA_KEY_EC_P256, 1, 0, 0, &plan);
    ck_assert_int_eq(plan.key_type, ECA_KEY_EC_P256);
    ck_assert_str_eq(plan.extra.md, "SHA384");
    ck_assert_ptr_nonnull(strstr(plan.ignored, "key_type ec-p384: configured ec-p256 kept"));
    /* An explicit RSA key: the ECDSA signature cannot apply. */
    est_csrattrs_plan(&a, ECA_KEY_RSA_2048, 1, 0, 0, &plan);
    ck_assert_int_eq(plan.key_type, ECA_KEY_RSA_2048);
    ck_assert_ptr_null(plan.extra.md);
    ck_assert_ptr_nonnull(strstr(plan.ignored, "ecdsa-with-SHA384: does not fit a rsa-2048 key"));
    eca_buf_free(&items);
    eca_buf_free(&v);
}
END_TEST

static const struct {
    long bits;
    enum eca_key_type want;
    const char *ignored;
} rsa_sizes[] = {
    {0, ECA_KEY_RSA_2048, NULL},          {1024, ECA_KEY_RSA_2048, NULL},
    {3072, ECA_KEY_RSA_3072, NULL},       {4000, ECA_KEY_RSA_4096, NULL},
    {8192, ECA_KEY_EC_P256, "8192 bits"},
};

START_TEST(rsa_size_attribute_rounds_up_to_a_supported_size)
{
    struct eca_buf items, v;
    struct est_csrattrs a;
    struct est_csrattrs_plan plan;
    ASN1_INTEGER *i = ASN1_INTEGER_new();
    unsigned char *der = NULL;
    int n;

    eca_buf_init(&items, 0);
    eca_buf_init(&v, 0);
    if (rsa_sizes[_i].bits == 0) {
        oid(&items, OID_RSA);
    } else {
        ASN1_INTEGER_set(i, rsa_sizes[_i].bits);
        n = i2d_ASN1_INTEGER(i, &der);
        eca_buf_append(&v, der, (size_t)n, NULL);
        attr(&items, OID_RSA, &v);
    }
    oid(&items, OID_RSA256);
    parse_items(&items, &a);
    ck_assert_int_eq(a.key_family, EST_KEY_RSA);
    ck_assert_int_eq(a.rsa_bits, (int)rsa_sizes[_i].bits);
    est_csrattrs_plan(&a, ECA_KEY_EC_P256, 0, 0, 0, &plan);
    ck_assert_int_eq(plan.key_type, rsa_sizes[_i].want);
    if (rsa_sizes[_i].ignored) {
        ck_assert_ptr_nonnull(strstr(plan.ignored, rsa_sizes[_i].ignored));
        ck_assert_ptr_null(plan.extra.md); /* sha256WithRSA does not fit the EC key kept */
    } else {
        ck_assert_str_eq(plan.extra.md, "SHA256");
    }
    OPENSSL_free(der);
    ASN1_INTEGER_free(i);
    eca_buf_free(&items);
    eca_buf_free(&v);
}
END_TEST

START_TEST(unsupported_curve_keeps_the_configured_key)
{
    struct eca_buf items;
    struct est_csrattrs a;
    struct est_csrattrs_plan plan;

    eca_buf_init(&items, 0);
    attr_oid(&items, OID_EC, OID_BP256);
    parse_items(&items, &a);
    est_csrattrs_plan(&a, ECA_KEY_EC_P384, 0, 0, 0, &plan);
    ck_assert_int_eq(plan.key_type, ECA_KEY_EC_P384);
    ck_assert_msg(
        strstr(plan.ignored, "curve brainpoolP256r1: not supported (P-256, P-384, P-521)") != NULL,
        "%s", plan.ignored);
    eca_buf_free(&items);
}
END_TEST

/* A bare secp521r1 (RFC 8951 §4) asks for P-521; the CSR is then signed with SHA-512, alone
 * or when a bare sha512 asks for it too; the attribute form picks it as well. */
START_TEST(bare_secp521r1_selects_p521)
{
    struct eca_buf items, csr;
    struct est_csrattrs a;
    struct est_csrattrs_plan plan;
    struct eca_key *key = NULL;
    struct eca_err err = {0};
    const unsigned char *p;
    X509_REQ *req;

    eca_buf_init(&items, 0);
    eca_buf_init(&csr, 0);
    oid(&items, OID_P521);
    if (_i == 1)
        oid(&items, OID_SHA512);
    else if (_i == 2)
        attr_oid(&items, OID_EC, OID_P521);
    parse_items(&items, &a);
    ck_assert_int_eq(a.key_family, EST_KEY_EC);
    ck_assert_str_eq(a.ec_curve, "secp521r1");
    est_csrattrs_plan(&a, ECA_KEY_EC_P256, 0, 0, 0, &plan);
    ck_assert_int_eq(plan.key_type, ECA_KEY_EC_P521);
    ck_assert_msg(strstr(plan.applied, "key_type ec-p521") != NULL, "%s", plan.applied);
    ck_assert_str_eq(plan.ignored, "");
    if (_i == 1)
        ck_assert_str_eq(plan.extra.md, "SHA512");
    ck_assert_int_eq(eca_key_generate(plan.key_type, &key, &err), ECA_OK);
    ck_assert_msg(eca_x509_csr_build_ex(key, "CN=device-1", NULL, 0, &plan.extra, &csr, &err) ==
                      ECA_OK,
                  "%s", err.msg);
    p = csr.data;
    ck_assert_ptr_nonnull(req = d2i_X509_REQ(NULL, &p, (long)csr.len));
    ck_assert_int_eq(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
    ck_assert_int_eq(X509_REQ_get_signature_nid(req), NID_ecdsa_with_SHA512);
    ck_assert_int_eq(EVP_PKEY_get_bits(X509_REQ_get0_pubkey(req)), 521);
    /* Configured explicitly, the operator's key type still wins and the request is named. */
    est_csrattrs_plan(&a, ECA_KEY_EC_P256, 1, 0, 0, &plan);
    ck_assert_int_eq(plan.key_type, ECA_KEY_EC_P256);
    ck_assert_msg(strstr(plan.ignored, "key_type ec-p521: configured ec-p256 kept") != NULL, "%s",
                  plan.ignored);
    X509_REQ_free(req);
    eca_key_free(key);
    eca_buf_free(&items);
    eca_buf_free(&csr);
}
END_TEST

/* extensionRequest with real values: SAN, keyUsage; plus an unknown OID and a template attr. */
static void
rich_attrs(struct est_csrattrs *a)
{
    struct eca_buf items, exts, v;

    eca_buf_init(&items, 0);
    eca_buf_init(&exts, 0);
    eca_buf_init(&v, 0);
    ext(&exts, NID_subject_alt_name, "DNS:server-picked.example");
    ext(&exts, NID_key_usage, "critical,digitalSignature");
    ext_request(&items, &exts);
    oid(&items, OID_UNKNOWN);
    eca_buf_append(&v, "\x0c\x02hi", 4, NULL); /* UTF8String "hi" */
    attr(&items, OID_TEMPLATE, &v);
    parse_items(&items, a);
    eca_buf_free(&items);
    eca_buf_free(&exts);
    eca_buf_free(&v);
}

START_TEST(extension_values_are_applied_unless_names_are_configured)
{
    struct est_csrattrs a;
    struct est_csrattrs_plan plan;

    rich_attrs(&a);
    ck_assert_uint_eq(a.nexts, 2);
    ck_assert_uint_eq(a.nextvals, 2);
    ck_assert_int_eq(a.wants_san, 1);
    ck_assert_uint_eq(a.nattrvals, 1);

    est_csrattrs_plan(&a, ECA_KEY_EC_P256, 0, 0, 0, &plan);
    ck_assert_uint_eq(plan.extra.nexts, 2);
    ck_assert_int_eq(plan.server_san, 1);
    ck_assert_uint_eq(plan.extra.nattrs, 1);
    ck_assert_ptr_nonnull(strstr(plan.applied, "extension " OID_SAN " (server's value)"));
    ck_assert_ptr_nonnull(strstr(plan.applied, "attribute " OID_TEMPLATE));
    ck_assert_ptr_nonnull(strstr(plan.ignored, OID_UNKNOWN ": not honoured (no value to give)"));

    /* Configured names win over the server's subjectAltName; keyUsage still comes along. */
    est_csrattrs_plan(&a, ECA_KEY_EC_P256, 0, 1, 0, &plan);
    ck_assert_uint_eq(plan.extra.nexts, 1);
    ck_assert_int_eq(plan.server_san, 0);
    ck_assert_ptr_nonnull(strstr(plan.applied, "subjectAltName (configured names)"));
}
END_TEST

/* The CSR built from the plan carries the key, digest, extensions and attributes asked for. */
START_TEST(csr_reflects_the_plan)
{
    struct eca_buf items, exts, csr;
    struct est_csrattrs a, b;
    struct est_csrattrs_plan plan;
    struct eca_key *key = NULL;
    struct eca_err err = {0};
    const unsigned char *p;
    X509_REQ *req;
    STACK_OF(X509_EXTENSION) * got;
    GENERAL_NAMES *gens;
    ASN1_OBJECT *tmpl;

    rich_attrs(&a);
    eca_buf_init(&items, 0);
    eca_buf_init(&exts, 0);
    eca_buf_init(&csr, 0);
    attr_oid(&items, OID_EC, OID_P384);
    oid(&items, OID_ES384);
    parse_items(&items, &b);
    /* Merge the two answers' requests the way one server could send them. */
    b.nexts = a.nexts;
    memcpy(b.exts, a.exts, sizeof a.exts);
    b.nextvals = a.nextvals;
    memcpy(b.extvals, a.extvals, sizeof a.extvals);
    b.nattrvals = a.nattrvals;
    memcpy(b.attrvals, a.attrvals, sizeof a.attrvals);
    memcpy(b.pool, a.pool, sizeof a.pool);
    b.pool_len = a.pool_len;

    est_csrattrs_plan(&b, ECA_KEY_EC_P256, 0, 0, 0, &plan);
    ck_assert_int_eq(eca_key_generate(plan.key_type, &key, &err), ECA_OK);
    ck_assert_msg(eca_x509_csr_build_ex(key, "CN=device-1", NULL, 0, &plan.extra, &csr, &err) ==
                      ECA_OK,
                  "%s", err.msg);
    p = csr.data;
    ck_assert_ptr_nonnull(req = d2i_X509_REQ(NULL, &p, (long)csr.len));
    ck_assert_int_eq(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
    ck_assert_int_eq(X509_REQ_get_signature_nid(req), NID_ecdsa_with_SHA384);
    ck_assert_int_eq(EVP_PKEY_get_bits(X509_REQ_get0_pubkey(req)), 384);
    got = X509_REQ_get_extensions(req);
    ck_assert_int_eq(sk_X509_EXTENSION_num(got), 2);
    gens = X509V3_get_d2i(got, NID_subject_alt_name, NULL, NULL);
    ck_assert_ptr_nonnull(gens);
    ck_assert_str_eq((const char *)ASN1_STRING_get0_data(sk_GENERAL_NAME_value(gens, 0)->d.dNSName),
                     "server-picked.example");
    ck_assert_int_ge(X509v3_get_ext_by_NID(got, NID_key_usage, -1), 0);
    ck_assert_ptr_nonnull(tmpl = OBJ_txt2obj(OID_TEMPLATE, 1));
    ck_assert_int_ge(X509_REQ_get_attr_by_OBJ(req, tmpl, -1), 0);
    ASN1_OBJECT_free(tmpl);
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(got, X509_EXTENSION_free);
    X509_REQ_free(req);
    eca_key_free(key);
    eca_buf_free(&items);
    eca_buf_free(&exts);
    eca_buf_free(&csr);
}
END_TEST

START_TEST(empty_and_nothing_asked_keep_the_configuration)
{
    struct est_csrattrs a;
    struct est_csrattrs_plan plan;
    struct eca_err err = {0};
    static const char nul_ws[] = "\n\r \0";

    ck_assert_int_eq(est_csrattrs_parse_body("", 0, &a, &err), ECA_OK);
    ck_assert_int_eq(est_csrattrs_parse_body(nul_ws, sizeof nul_ws, &a, &err), ECA_OK);
    ck_assert_int_eq(est_csrattrs_parse_body("MAA=\0", 5, &a, &err), ECA_OK); /* SEQUENCE {} */
    ck_assert_uint_eq(a.noids + a.nattrs + a.nexts, 0);
    est_csrattrs_plan(&a, ECA_KEY_RSA_3072, 1, 2, 0, &plan);
    ck_assert_int_eq(plan.key_type, ECA_KEY_RSA_3072);
    ck_assert_ptr_null(plan.extra.md);
    ck_assert_str_eq(plan.applied, "");
    ck_assert_str_eq(plan.ignored, "");
    est_csrattrs_plan(NULL, ECA_KEY_EC_P384, 0, 0, 0, &plan);
    ck_assert_int_eq(plan.key_type, ECA_KEY_EC_P384);
}
END_TEST

static const struct {
    const char *body;
    size_t len;
} garbage[] = {
    {"<html>nope</html>", 17},
    {"\x30\x03\x02\x01", 4},         /* truncated DER */
    {"\x30\x03\x02\x01\x05", 5},     /* an INTEGER is neither OID nor Attribute */
    {"MAMCAQU=", 8},                 /* the same, base64 */
    {"\x30\x02\x06\x00\x00\x01", 6}, /* trailing data after the SEQUENCE */
    {"!!!!", 4},
};

START_TEST(garbage_is_a_parse_error_that_leaves_out_alone)
{
    struct est_csrattrs a;
    struct eca_err err = {0};

    memset(&a, 0x5a, sizeof a);
    ck_assert_int_eq(est_csrattrs_parse_body(garbage[_i].body, garbage[_i].len, &a, &err),
                     ECA_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "csrattrs"));
    ck_assert_uint_eq(a.noids, 0x5a5a5a5a5a5a5a5aULL);
}
END_TEST

static Suite *
est_csrattrs_suite(void)
{
    Suite *s = suite_create("est_csrattrs");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, rfc7030_example_picks_p384_and_sha384);
    tcase_add_loop_test(tc, rsa_size_attribute_rounds_up_to_a_supported_size, 0,
                        sizeof rsa_sizes / sizeof rsa_sizes[0]);
    tcase_add_test(tc, unsupported_curve_keeps_the_configured_key);
    tcase_add_loop_test(tc, bare_secp521r1_selects_p521, 0, 3);
    tcase_add_test(tc, extension_values_are_applied_unless_names_are_configured);
    tcase_add_test(tc, csr_reflects_the_plan);
    tcase_add_test(tc, empty_and_nothing_asked_keep_the_configuration);
    tcase_add_loop_test(tc, garbage_is_a_parse_error_that_leaves_out_alone, 0,
                        sizeof garbage / sizeof garbage[0]);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(est_csrattrs_suite)
