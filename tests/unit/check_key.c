/* SPDX-License-Identifier: MIT */
/* Unit tests for eca_key: generate, save (0600), load, sign, and refusals. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/ecdsa.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "eca_fs.h"
#include "eca_key.h"
#include "eca_test.h"

Suite *key_suite(void);

static const struct {
    enum eca_key_type type;
    const char *name;
    int ec;
    int bits;
    int md_nid; /* the digest signatures and CSRs use */
} types[] = {
    {ECA_KEY_EC_P256, "ec-p256", 1, 256, NID_sha256},
    {ECA_KEY_EC_P384, "ec-p384", 1, 384, NID_sha384},
    {ECA_KEY_EC_P521, "ec-p521", 1, 521, NID_sha512},
    {ECA_KEY_RSA_2048, "rsa-2048", 0, 2048, NID_sha256},
    {ECA_KEY_RSA_3072, "rsa-3072", 0, 3072, NID_sha256},
    {ECA_KEY_RSA_4096, "rsa-4096", 0, 4096, NID_sha256},
};

/* Verify sig over msg with key's public half and the digest the module promises. */
static int
verify(const struct eca_key *key, const char *msg, const unsigned char *sig, size_t len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok;

    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_DigestVerifyInit(ctx, NULL, eca_key_md(key), NULL, eca_key_pkey(key)), 1);
    ok = EVP_DigestVerify(ctx, sig, len, (const unsigned char *)msg, strlen(msg));
    EVP_MD_CTX_free(ctx);
    return ok == 1;
}

/* r||s back to DER, so OpenSSL can verify the raw JWS form. */
static void
raw_to_der(const unsigned char *raw, size_t len, struct eca_buf *der)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    unsigned char *p = NULL;
    int n;

    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(ECDSA_SIG_set0(s, BN_bin2bn(raw, (int)len / 2, NULL),
                                    BN_bin2bn(raw + len / 2, (int)len / 2, NULL)),
                     1);
    n = i2d_ECDSA_SIG(s, &p);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(eca_buf_append(der, p, (size_t)n, NULL), ECA_OK);
    OPENSSL_free(p);
    ECDSA_SIG_free(s);
}

START_TEST(key_roundtrip_each_type)
{
    struct eca_key *k = NULL, *k2 = NULL;
    struct eca_err err = {0};
    struct eca_buf sig, der;
    char dir[256], path[512];
    enum eca_key_type t;

    ck_assert_int_eq(eca_key_type_parse(types[_i].name, &t), 0);
    ck_assert_int_eq(t, types[_i].type);
    ck_assert_str_eq(eca_key_type_name(t), types[_i].name);
    ck_assert_msg(eca_key_generate(t, &k, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(eca_key_type_of(k), t);
    ck_assert_int_eq(eca_key_is_ec(k), types[_i].ec);
    ck_assert_int_eq(EVP_PKEY_get_bits(eca_key_pkey(k)), types[_i].bits);
    ck_assert_int_eq(EVP_MD_get_type(eca_key_md(k)), types[_i].md_nid);
    test_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/key.pem", dir);
    ck_assert_msg(eca_key_save(k, path, &err) == ECA_OK, "%s", err.msg);
    test_assert_private(path);
    ck_assert_msg(eca_key_load(path, &k2, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(eca_key_type_of(k2), t);
    ck_assert_int_eq(EVP_PKEY_eq(eca_key_pkey(k), eca_key_pkey(k2)), 1);

    eca_buf_init(&sig, 0);
    eca_buf_init(&der, 0);
    ck_assert_int_eq(eca_key_sign(k2, "payload", 7, 0, &sig, &err), ECA_OK);
    ck_assert(verify(k, "payload", sig.data, sig.len));
    ck_assert(!verify(k, "payloaD", sig.data, sig.len));
    eca_buf_reset(&sig);
    ck_assert_int_eq(eca_key_sign(k2, "payload", 7, 1, &sig, &err), ECA_OK);
    if (types[_i].ec) {
        ck_assert_uint_eq(sig.len, ((size_t)types[_i].bits + 7) / 8 * 2);
        raw_to_der(sig.data, sig.len, &der);
        ck_assert(verify(k, "payload", der.data, der.len));
    } else {
        ck_assert_uint_eq(sig.len, (size_t)types[_i].bits / 8);
        ck_assert(verify(k, "payload", sig.data, sig.len));
    }
    eca_buf_free(&sig);
    eca_buf_free(&der);
    eca_key_free(k);
    eca_key_free(k2);
    test_rmdir(dir);
}
END_TEST

START_TEST(key_type_parse_rejects_unknown)
{
    enum eca_key_type t;

    ck_assert_int_eq(eca_key_type_parse("rsa-1024", &t), -1);
    ck_assert_int_eq(eca_key_type_parse("EC-P256", &t), -1);
    ck_assert_int_eq(eca_key_type_parse(NULL, &t), -1);
}
END_TEST

static char *
pem_of(EVP_PKEY *pk)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p = NULL, *copy;
    long n;

    ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL), 1);
    n = BIO_get_mem_data(bio, &p);
    copy = strndup(p, (size_t)n);
    BIO_free(bio);
    EVP_PKEY_free(pk);
    return copy;
}

START_TEST(key_refuses_rsa_1024)
{
    char *pem = pem_of(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024));
    struct eca_key *k = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_key_from_pem(pem, strlen(pem), &k, &err), ECA_EINVAL);
    ck_assert_ptr_null(k);
    ck_assert_ptr_nonnull(strstr(err.msg, "1024 bits refused"));
    free(pem);
}
END_TEST

/* A P-521 key made elsewhere (OpenSSL's own PEM) is accepted and signs with SHA-512. */
START_TEST(key_accepts_a_foreign_p521_pem)
{
    char *pem = pem_of(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521"));
    struct eca_key *k = NULL;
    struct eca_err err = {0};

    ck_assert_msg(eca_key_from_pem(pem, strlen(pem), &k, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(eca_key_type_of(k), ECA_KEY_EC_P521);
    ck_assert_int_eq(EVP_MD_get_type(eca_key_md(k)), NID_sha512);
    eca_key_free(k);
    free(pem);
}
END_TEST

START_TEST(key_refuses_other_curve)
{
    char *pem = pem_of(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1"));
    struct eca_key *k = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_key_from_pem(pem, strlen(pem), &k, &err), ECA_EINVAL);
    ck_assert_ptr_null(k);
    ck_assert_msg(strstr(err.msg, "unsupported EC curve 'secp256k1'") != NULL, "%s", err.msg);
    free(pem);
}
END_TEST

START_TEST(key_refuses_garbage)
{
    static const char junk[] = "-----BEGIN PRIVATE KEY-----\nnot base64!!\n"
                               "-----END PRIVATE KEY-----\n";
    struct eca_key *k = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_key_from_pem(junk, strlen(junk), &k, &err), ECA_EPARSE);
    ck_assert_ptr_null(k);
    ck_assert_ptr_nonnull(strstr(err.msg, "no unencrypted PEM private key"));
    ck_assert_int_eq(eca_key_from_pem("hello", 5, &k, &err), ECA_EPARSE);
    ck_assert_ptr_null(k);
}
END_TEST

START_TEST(key_load_missing_and_loose_mode)
{
    struct eca_key *k = NULL;
    struct eca_err err = {0};
    struct eca_buf pem;
    char dir[256], path[512];

    test_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/absent.pem", dir);
    ck_assert_int_eq(eca_key_load(path, &k, &err), ECA_ENOTFOUND);
    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P256, &k, &err), ECA_OK);
    eca_buf_init(&pem, 0);
    ck_assert_int_eq(eca_key_to_pem(k, &pem, &err), ECA_OK);
    ck_assert_ptr_nonnull(strstr(eca_buf_str(&pem), "-----BEGIN PRIVATE KEY-----"));
    eca_key_free(k);
    k = NULL;
    snprintf(path, sizeof path, "%s/loose.pem", dir);
    ck_assert_int_eq(eca_fs_write_atomic(path, pem.data, pem.len, 0644, &err), ECA_OK);
    ck_assert_int_eq(eca_key_load(path, &k, &err), ECA_EINVAL);
    ck_assert_ptr_null(k);
    ck_assert_ptr_nonnull(strstr(err.msg, "loose.pem"));
    eca_buf_free(&pem);
    test_rmdir(dir);
}
END_TEST

Suite *
key_suite(void)
{
    Suite *s = suite_create("key");
    TCase *tc = tcase_create("key");

    tcase_set_timeout(tc, 60); /* RSA-4096 generation, slower under ASan */
    tcase_add_loop_test(tc, key_roundtrip_each_type, 0, sizeof types / sizeof types[0]);
    tcase_add_test(tc, key_type_parse_rejects_unknown);
    tcase_add_test(tc, key_refuses_rsa_1024);
    tcase_add_test(tc, key_refuses_other_curve);
    tcase_add_test(tc, key_accepts_a_foreign_p521_pem);
    tcase_add_test(tc, key_refuses_garbage);
    tcase_add_test(tc, key_load_missing_and_loose_mode);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(key_suite)
