/* SPDX-License-Identifier: MIT */
/* Tests of JWK, RFC 7638 thumbprints and flattened JWS, verified independently with OpenSSL. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>

#include "acme_jws.h"
#include "eca_b64.h"
#include "eca_secret.h"
#include "eca_test.h"
#include "jws_verify.h"

/* RFC 7638 §3.1: the example RSA key and its thumbprint. */
static const char rfc7638_n[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJEC"
    "PebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Qvzq"
    "Y368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
    "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
static const char rfc7638_thumb[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

static struct eca_key *
rsa_from_jwk(const char *n64, const char *e64)
{
    struct eca_buf n, e;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *bn = NULL, *be = NULL;
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pkey = NULL;
    struct eca_key *key = NULL;

    eca_buf_init(&n, 0);
    eca_buf_init(&e, 0);
    ck_assert_int_eq(eca_b64url_decode(n64, strlen(n64), &n, NULL), ECA_OK);
    ck_assert_int_eq(eca_b64url_decode(e64, strlen(e64), &e, NULL), ECA_OK);
    bn = BN_bin2bn(n.data, (int)n.len, NULL);
    be = BN_bin2bn(e.data, (int)e.len, NULL);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be);
    params = OSSL_PARAM_BLD_to_param(bld);
    ck_assert_int_eq(EVP_PKEY_fromdata_init(ctx), 1);
    ck_assert_int_eq(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
    ck_assert_int_eq(eca_key_wrap(pkey, &key, NULL), ECA_OK);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_free(bn);
    BN_free(be);
    eca_buf_free(&n);
    eca_buf_free(&e);
    return key;
}

START_TEST(jws_thumbprint_matches_rfc7638_vector)
{
    struct eca_key *key = rsa_from_jwk(rfc7638_n, "AQAB");
    struct eca_buf jwk, tp, ka;

    eca_buf_init(&jwk, 0);
    eca_buf_init(&tp, 0);
    eca_buf_init(&ka, 0);
    ck_assert_int_eq(acme_jws_jwk(key, &jwk, NULL), ECA_OK);
    ck_assert_ptr_nonnull(
        strstr(eca_buf_str(&jwk), "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"0vx7"));
    ck_assert_int_eq(acme_jws_thumbprint(key, &tp, NULL), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&tp), rfc7638_thumb);
    ck_assert_int_eq(acme_jws_key_authz(key, "tok_EN-1", &ka, NULL), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&ka), "tok_EN-1.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    ck_assert_str_eq(acme_jws_alg(key), "RS256");
    eca_buf_free(&jwk);
    eca_buf_free(&tp);
    eca_buf_free(&ka);
    eca_key_free(key);
}
END_TEST

/* P-521 is a certificate key only: no ES512 here, and every JWS path says so. */
START_TEST(jws_refuses_a_p521_key)
{
    struct eca_key *key = NULL;
    struct eca_buf out;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P521, &key, NULL), ECA_OK);
    eca_buf_init(&out, 0);
    ck_assert_ptr_null(acme_jws_alg(key));
    ck_assert_int_eq(acme_jws_jwk(key, &out, &err), ECA_EINVAL);
    ck_assert_int_eq(acme_jws_sign(key, NULL, "nonce", "https://ca.test/new", "{}", &out, &err),
                     ECA_EINVAL);
    ck_assert_msg(strstr(err.msg, "key type ec-p521 cannot sign") != NULL, "%s", err.msg);
    ck_assert_int_eq(acme_jws_sign_inner(key, "https://ca.test/kc", "{}", &out, &err), ECA_EINVAL);
    ck_assert_uint_eq(out.len, 0);
    eca_buf_free(&out);
    eca_key_free(key);
}
END_TEST

static const struct {
    enum eca_key_type type;
    const char *alg;
    const char *crv;
    size_t coord_len; /* base64url length of x and y */
} keys[] = {
    {ECA_KEY_EC_P256, "ES256", "P-256", 43},
    {ECA_KEY_EC_P384, "ES384", "P-384", 64},
    {ECA_KEY_RSA_2048, "RS256", NULL, 0},
};

START_TEST(jws_jwk_has_rfc7638_member_order)
{
    struct eca_key *key = NULL;
    struct eca_buf jwk;
    struct json_object *o;
    const char *want[4];
    size_t i = 0;

    ck_assert_int_eq(eca_key_generate(keys[_i].type, &key, NULL), ECA_OK);
    eca_buf_init(&jwk, 0);
    ck_assert_int_eq(acme_jws_jwk(key, &jwk, NULL), ECA_OK);
    ck_assert_ptr_null(strchr(eca_buf_str(&jwk), ' '));
    o = json_tokener_parse(eca_buf_str(&jwk));
    ck_assert_ptr_nonnull(o);
    if (keys[_i].crv != NULL) {
        want[0] = "crv", want[1] = "kty", want[2] = "x", want[3] = "y";
        ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "crv")), keys[_i].crv);
        ck_assert_uint_eq(strlen(json_object_get_string(json_object_object_get(o, "x"))),
                          keys[_i].coord_len);
        ck_assert_uint_eq(strlen(json_object_get_string(json_object_object_get(o, "y"))),
                          keys[_i].coord_len);
    } else {
        want[0] = "e", want[1] = "kty", want[2] = "n", want[3] = NULL;
    }
    json_object_object_foreach(o, k, v)
    {
        (void)v;
        ck_assert_str_eq(k, want[i++]);
    }
    ck_assert_uint_eq(i, keys[_i].crv ? 4 : 3);
    json_object_put(o);
    eca_buf_free(&jwk);
    eca_key_free(key);
}
END_TEST

/* Decode a base64url member of a JSON object into a NUL-terminated buffer. */
static void
member_b64(struct json_object *o, const char *name, struct eca_buf *out)
{
    const char *s = json_object_get_string(json_object_object_get(o, name));

    ck_assert_ptr_nonnull(s);
    eca_buf_init(out, 0);
    ck_assert_int_eq(eca_b64url_decode(s, strlen(s), out, NULL), ECA_OK);
}

START_TEST(jws_signature_verifies_with_openssl)
{
    struct eca_key *key = NULL;
    struct eca_buf jws, prot, payload, sig;
    struct json_object *o, *h;
    char input[4096];
    const char *p64;

    ck_assert_int_eq(eca_key_generate(keys[_i].type, &key, NULL), ECA_OK);
    eca_buf_init(&jws, 0);
    ck_assert_int_eq(acme_jws_sign(key, "https://ca.test/acct/7", "nonce-abc",
                                   "https://ca.test/new-order", "{\"identifiers\":[]}", &jws, NULL),
                     ECA_OK);
    o = json_tokener_parse(eca_buf_str(&jws));
    ck_assert_ptr_nonnull(o);
    member_b64(o, "protected", &prot);
    member_b64(o, "payload", &payload);
    member_b64(o, "signature", &sig);
    ck_assert_str_eq(eca_buf_str(&payload), "{\"identifiers\":[]}");
    h = json_tokener_parse(eca_buf_str(&prot));
    ck_assert_str_eq(json_object_get_string(json_object_object_get(h, "alg")), keys[_i].alg);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(h, "kid")),
                     "https://ca.test/acct/7");
    ck_assert_str_eq(json_object_get_string(json_object_object_get(h, "nonce")), "nonce-abc");
    ck_assert_str_eq(json_object_get_string(json_object_object_get(h, "url")),
                     "https://ca.test/new-order");
    ck_assert_ptr_null(json_object_object_get(h, "jwk"));
    p64 = json_object_get_string(json_object_object_get(o, "protected"));
    snprintf(input, sizeof input, "%s.%s", p64,
             json_object_get_string(json_object_object_get(o, "payload")));
    ck_assert(jws_sig_verifies(eca_key_pkey(key), keys[_i].alg, input, &sig));
    /* A flipped bit must not verify: the check above is not vacuous. */
    input[3] ^= 1;
    ck_assert(!jws_sig_verifies(eca_key_pkey(key), keys[_i].alg, input, &sig));
    json_object_put(h);
    json_object_put(o);
    eca_buf_free(&prot);
    eca_buf_free(&payload);
    eca_buf_free(&sig);
    eca_buf_free(&jws);
    eca_key_free(key);
}
END_TEST

START_TEST(jws_post_as_get_has_empty_payload_and_jwk_header)
{
    struct eca_key *key = NULL;
    struct eca_buf jws, prot, jwk;
    struct json_object *o, *h;

    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P256, &key, NULL), ECA_OK);
    eca_buf_init(&jws, 0);
    eca_buf_init(&jwk, 0);
    ck_assert_int_eq(acme_jws_sign(key, NULL, "n1", "https://ca.test/acct", NULL, &jws, NULL),
                     ECA_OK);
    o = json_tokener_parse(eca_buf_str(&jws));
    ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "payload")), "");
    member_b64(o, "protected", &prot);
    h = json_tokener_parse(eca_buf_str(&prot));
    ck_assert_ptr_null(json_object_object_get(h, "kid"));
    ck_assert_int_eq(acme_jws_jwk(key, &jwk, NULL), ECA_OK);
    ck_assert_str_eq(
        json_object_to_json_string_ext(json_object_object_get(h, "jwk"), JSON_C_TO_STRING_PLAIN),
        eca_buf_str(&jwk));
    json_object_put(h);
    json_object_put(o);
    eca_buf_free(&prot);
    eca_buf_free(&jwk);
    eca_buf_free(&jws);
    eca_key_free(key);
}
END_TEST

START_TEST(jws_eab_is_hs256_over_the_account_jwk)
{
    static const unsigned char hmac_key[] = "canary-eab-hmac-key-0123456789abcdef";
    struct eca_key *key = NULL;
    struct eca_secret *sec = NULL;
    struct eca_buf jws, prot, payload, sig, jwk;
    struct json_object *o;
    unsigned char md[32];
    unsigned int mdlen = 0;
    char input[4096];

    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P256, &key, NULL), ECA_OK);
    ck_assert_int_eq(eca_secret_from_mem(hmac_key, sizeof hmac_key - 1, &sec, NULL), ECA_OK);
    eca_buf_init(&jws, 0);
    eca_buf_init(&jwk, 0);
    ck_assert_int_eq(acme_jws_eab(key, "kid-1", sec, "https://ca.test/new-acct", &jws, NULL),
                     ECA_OK);
    ck_assert_ptr_null(strstr(eca_buf_str(&jws), "canary"));
    o = json_tokener_parse(eca_buf_str(&jws));
    member_b64(o, "protected", &prot);
    member_b64(o, "payload", &payload);
    member_b64(o, "signature", &sig);
    ck_assert_str_eq(eca_buf_str(&prot),
                     "{\"alg\":\"HS256\",\"kid\":\"kid-1\",\"url\":\"https://ca.test/new-acct\"}");
    ck_assert_int_eq(acme_jws_jwk(key, &jwk, NULL), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&payload), eca_buf_str(&jwk));
    snprintf(input, sizeof input, "%s.%s",
             json_object_get_string(json_object_object_get(o, "protected")),
             json_object_get_string(json_object_object_get(o, "payload")));
    HMAC(EVP_sha256(), hmac_key, (int)sizeof hmac_key - 1, (const unsigned char *)input,
         strlen(input), md, &mdlen);
    ck_assert_uint_eq(sig.len, 32);
    ck_assert_mem_eq(sig.data, md, 32);
    json_object_put(o);
    eca_buf_free(&prot);
    eca_buf_free(&payload);
    eca_buf_free(&sig);
    eca_buf_free(&jwk);
    eca_buf_free(&jws);
    eca_secret_free(sec);
    eca_key_free(key);
}
END_TEST

START_TEST(jws_refuses_missing_nonce)
{
    struct eca_key *key = NULL;
    struct eca_buf jws;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P256, &key, NULL), ECA_OK);
    eca_buf_init(&jws, 0);
    ck_assert_int_eq(acme_jws_sign(key, NULL, NULL, "https://x", "{}", &jws, &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "nonce"));
    eca_buf_free(&jws);
    eca_key_free(key);
}
END_TEST

START_TEST(jws_inner_has_jwk_and_url_and_no_nonce)
{
    struct eca_key *key = NULL;
    struct eca_buf jws;
    struct eca_err err = {0};
    char *prot = NULL, *payload = NULL;

    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P384, &key, NULL), ECA_OK);
    eca_buf_init(&jws, 0);
    ck_assert_int_eq(
        acme_jws_sign_inner(key, "https://ca.test/key-change", "{\"a\":1}", &jws, NULL), ECA_OK);
    ck_assert(jws_verifies(eca_buf_str(&jws), eca_key_pkey(key), &prot, &payload));
    ck_assert_ptr_nonnull(strstr(prot, "\"alg\":\"ES384\",\"jwk\":{\"crv\":\"P-384\""));
    ck_assert_ptr_nonnull(strstr(prot, "\"url\":\"https://ca.test/key-change\"}"));
    ck_assert_ptr_null(strstr(prot, "nonce"));
    ck_assert_ptr_null(strstr(prot, "kid"));
    ck_assert_str_eq(payload, "{\"a\":1}");
    /* The outer JWS still needs its nonce; the inner needs its URL and payload. */
    ck_assert_int_eq(acme_jws_sign(key, "k", NULL, "https://ca.test/x", "{}", &jws, &err),
                     ECA_EINVAL);
    ck_assert_int_eq(acme_jws_sign_inner(key, NULL, "{}", &jws, &err), ECA_EINVAL);
    ck_assert_int_eq(acme_jws_sign_inner(key, "https://ca.test/x", NULL, &jws, &err), ECA_EINVAL);
    free(prot);
    free(payload);
    eca_buf_free(&jws);
    eca_key_free(key);
}
END_TEST

static Suite *
acme_jws_suite(void)
{
    Suite *s = suite_create("acme_jws");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, jws_thumbprint_matches_rfc7638_vector);
    tcase_add_loop_test(tc, jws_jwk_has_rfc7638_member_order, 0, sizeof keys / sizeof keys[0]);
    tcase_add_loop_test(tc, jws_signature_verifies_with_openssl, 0, sizeof keys / sizeof keys[0]);
    tcase_add_test(tc, jws_post_as_get_has_empty_payload_and_jwk_header);
    tcase_add_test(tc, jws_eab_is_hs256_over_the_account_jwk);
    tcase_add_test(tc, jws_refuses_missing_nonce);
    tcase_add_test(tc, jws_refuses_a_p521_key);
    tcase_add_test(tc, jws_inner_has_jwk_and_url_and_no_nonce);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(acme_jws_suite)
