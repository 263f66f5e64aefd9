/* SPDX-License-Identifier: MIT */
/* JWK, RFC 7638 thumbprint and flattened JWS (RFC 7515, RFC 8555 §6.2) over an eca_key. */
#include "acme_jws.h"

#include <string.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "eca_b64.h"

/* Compact, insertion-ordered, "/" unescaped: the bytes RFC 7638 hashes and servers verify. */
static const char *
dump(struct json_object *o)
{
    return json_object_to_json_string_ext(o,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static int
ec_field_len(const struct eca_key *key)
{
    char group[64];
    size_t len = 0;

    if (!eca_key_is_ec(key) ||
        !EVP_PKEY_get_group_name(eca_key_pkey(key), group, sizeof group, &len))
        return 0;
    if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
        return 32;
    if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
        return 48;
    return 0;
}

const char *
acme_jws_alg(const struct eca_key *key)
{
    if (key == NULL || eca_key_pkey(key) == NULL)
        return NULL;
    if (eca_key_is_ec(key)) {
        int n = ec_field_len(key);

        return n == 32 ? "ES256" : n == 48 ? "ES384" : NULL;
    }
    return EVP_PKEY_is_a(eca_key_pkey(key), "RSA") ? "RS256" : NULL;
}

/* base64url of a big number, left-padded to width bytes (0: minimal, RFC 7518 §6.3.1.1). */
static enum eca_rc
add_bn(struct json_object *o, const char *name, EVP_PKEY *pkey, const char *param, int width,
       struct eca_err *err)
{
    BIGNUM *bn = NULL;
    unsigned char bin[1024];
    struct eca_buf b;
    int n;
    enum eca_rc rc;

    eca_buf_init(&b, 0);
    if (!EVP_PKEY_get_bn_param(pkey, param, &bn))
        return eca_err_ssl(err, ECA_ECRYPTO, "jwk.%s: cannot read the public key", name);
    n = width ? width : BN_num_bytes(bn);
    if (n <= 0 || (size_t)n > sizeof bin || BN_bn2binpad(bn, bin, n) != n) {
        rc = eca_err_set(err, ECA_ECRYPTO, "jwk.%s: unsupported size", name);
        goto out;
    }
    rc = eca_b64url_encode(bin, (size_t)n, &b, err);
    if (rc == ECA_OK)
        json_object_object_add(o, name, json_object_new_string(eca_buf_str(&b)));
out:
    BN_free(bn);
    eca_buf_free(&b);
    return rc;
}

/* The JWK as a json-c object, members already in RFC 7638 order. */
static enum eca_rc
jwk_obj(const struct eca_key *key, struct json_object **out, struct eca_err *err)
{
    struct json_object *o = json_object_new_object();
    EVP_PKEY *pkey = key ? eca_key_pkey(key) : NULL;
    int w = key ? ec_field_len(key) : 0;
    enum eca_rc rc;

    if (o == NULL)
        return eca_err_set(err, ECA_ENOMEM, "jwk: out of memory");
    if (pkey != NULL && w != 0) {
        json_object_object_add(o, "crv", json_object_new_string(w == 32 ? "P-256" : "P-384"));
        json_object_object_add(o, "kty", json_object_new_string("EC"));
        rc = add_bn(o, "x", pkey, OSSL_PKEY_PARAM_EC_PUB_X, w, err);
        if (rc == ECA_OK)
            rc = add_bn(o, "y", pkey, OSSL_PKEY_PARAM_EC_PUB_Y, w, err);
    } else if (pkey != NULL && !eca_key_is_ec(key) && EVP_PKEY_is_a(pkey, "RSA")) {
        rc = add_bn(o, "e", pkey, OSSL_PKEY_PARAM_RSA_E, 0, err);
        json_object_object_add(o, "kty", json_object_new_string("RSA"));
        if (rc == ECA_OK)
            rc = add_bn(o, "n", pkey, OSSL_PKEY_PARAM_RSA_N, 0, err);
    } else {
        rc = eca_err_set(err, ECA_EINVAL, "jwk: key is neither EC P-256/P-384 nor RSA");
    }
    if (rc != ECA_OK)
        json_object_put(o);
    else
        *out = o;
    return rc;
}

enum eca_rc
acme_jws_jwk(const struct eca_key *key, struct eca_buf *out, struct eca_err *err)
{
    struct json_object *o = NULL;
    enum eca_rc rc = jwk_obj(key, &o, err);

    if (rc == ECA_OK)
        rc = eca_buf_puts(out, dump(o), err);
    json_object_put(o);
    return rc;
}

enum eca_rc
acme_jws_thumbprint(const struct eca_key *key, struct eca_buf *out, struct eca_err *err)
{
    struct eca_buf jwk;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    enum eca_rc rc;

    eca_buf_init(&jwk, 0);
    rc = acme_jws_jwk(key, &jwk, err);
    if (rc != ECA_OK)
        goto out;
    if (!EVP_Digest(jwk.data, jwk.len, md, &mdlen, EVP_sha256(), NULL)) {
        rc = eca_err_ssl(err, ECA_ECRYPTO, "jwk thumbprint: SHA-256 failed");
        goto out;
    }
    rc = eca_b64url_encode(md, mdlen, out, err);
out:
    eca_buf_free(&jwk);
    return rc;
}

enum eca_rc
acme_jws_key_authz(const struct eca_key *key, const char *token, struct eca_buf *out,
                   struct eca_err *err)
{
    enum eca_rc rc = eca_buf_puts(out, token, err);

    if (rc == ECA_OK)
        rc = eca_buf_puts(out, ".", err);
    if (rc == ECA_OK)
        rc = acme_jws_thumbprint(key, out, err);
    return rc;
}

/* Append b64url(protected) "." b64url(payload) to input. */
static enum eca_rc
signing_input(const char *prot, const char *payload, struct eca_buf *input, struct eca_err *err)
{
    enum eca_rc rc = eca_b64url_encode(prot, strlen(prot), input, err);

    if (rc == ECA_OK)
        rc = eca_buf_puts(input, ".", err);
    if (rc == ECA_OK && payload[0] != '\0')
        rc = eca_b64url_encode(payload, strlen(payload), input, err);
    return rc;
}

/* Append {"protected","payload","signature"} from the signing input and the raw signature. */
static enum eca_rc
flatten(const struct eca_buf *input, const struct eca_buf *sig, struct eca_buf *out,
        struct eca_err *err)
{
    const char *s = eca_buf_str(input);
    const char *dot = strchr(s, '.');
    enum eca_rc rc;

    rc = eca_buf_printf(out, err, "{\"protected\":\"%.*s\",\"payload\":\"%s\",\"signature\":\"",
                        (int)(dot - s), s, dot + 1);
    if (rc == ECA_OK)
        rc = eca_b64url_encode(sig->data, sig->len, out, err);
    if (rc == ECA_OK)
        rc = eca_buf_puts(out, "\"}", err);
    return rc;
}

static enum eca_rc
protected_header(const struct eca_key *key, const char *kid, const char *nonce, const char *url,
                 struct json_object **out, struct eca_err *err)
{
    struct json_object *h = json_object_new_object();
    struct json_object *jwk = NULL;
    const char *alg = acme_jws_alg(key);
    enum eca_rc rc = ECA_OK;

    if (h == NULL)
        return eca_err_set(err, ECA_ENOMEM, "jws: out of memory");
    if (alg == NULL) {
        rc = eca_err_set(err, ECA_EINVAL, "jws: key type %s cannot sign (ES256, ES384, RS256 only)",
                         key ? eca_key_type_name(eca_key_type_of(key)) : "missing");
        goto out;
    }
    json_object_object_add(h, "alg", json_object_new_string(alg));
    if (kid != NULL) {
        json_object_object_add(h, "kid", json_object_new_string(kid));
    } else {
        if ((rc = jwk_obj(key, &jwk, err)) != ECA_OK)
            goto out;
        json_object_object_add(h, "jwk", jwk);
    }
    /* The inner JWS of a keyChange has none (RFC 8555 §7.3.5): it is never replayable alone. */
    if (nonce != NULL)
        json_object_object_add(h, "nonce", json_object_new_string(nonce));
    json_object_object_add(h, "url", json_object_new_string(url));
out:
    if (rc != ECA_OK)
        json_object_put(h);
    else
        *out = h;
    return rc;
}

static enum eca_rc
sign(const struct eca_key *key, const char *kid, const char *nonce, const char *url,
     const char *payload, struct eca_buf *out, struct eca_err *err)
{
    struct json_object *h = NULL;
    struct eca_buf input, sig;
    enum eca_rc rc;

    eca_buf_init(&input, 0);
    eca_buf_init(&sig, 0);
    rc = protected_header(key, kid, nonce, url, &h, err);
    if (rc == ECA_OK)
        rc = signing_input(dump(h), payload ? payload : "", &input, err);
    if (rc == ECA_OK)
        rc = eca_key_sign(key, input.data, input.len, 1, &sig, err);
    if (rc == ECA_OK)
        rc = flatten(&input, &sig, out, err);
    json_object_put(h);
    eca_buf_free(&input);
    eca_buf_free(&sig);
    return rc;
}

enum eca_rc
acme_jws_sign(const struct eca_key *key, const char *kid, const char *nonce, const char *url,
              const char *payload, struct eca_buf *out, struct eca_err *err)
{
    if (nonce == NULL || url == NULL)
        return eca_err_set(err, ECA_EINVAL, "jws: %s missing", nonce ? "url" : "nonce");
    return sign(key, kid, nonce, url, payload, out, err);
}

enum eca_rc
acme_jws_sign_inner(const struct eca_key *key, const char *url, const char *payload,
                    struct eca_buf *out, struct eca_err *err)
{
    if (url == NULL || payload == NULL)
        return eca_err_set(err, ECA_EINVAL, "jws: %s missing", url ? "payload" : "url");
    return sign(key, NULL, NULL, url, payload, out, err);
}

static enum eca_rc
hs256(const struct eca_secret *hmac, const struct eca_buf *input, struct eca_buf *sig,
      struct eca_err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    enum eca_rc rc;

    if (eca_secret_len(hmac) == 0 || eca_secret_len(hmac) > 1024)
        return eca_err_set(err, ECA_EINVAL, "eab: HMAC key must be 1..1024 bytes");
    if (HMAC(EVP_sha256(), eca_secret_data(hmac), (int)eca_secret_len(hmac), input->data,
             input->len, md, &mdlen) == NULL)
        return eca_err_ssl(err, ECA_ECRYPTO, "eab: HMAC-SHA256 failed");
    rc = eca_buf_append(sig, md, mdlen, err);
    OPENSSL_cleanse(md, sizeof md);
    return rc;
}

enum eca_rc
acme_jws_eab(const struct eca_key *account_key, const char *eab_kid, const struct eca_secret *hmac,
             const char *url, struct eca_buf *out, struct eca_err *err)
{
    struct json_object *h = json_object_new_object();
    struct eca_buf jwk, input, sig;
    enum eca_rc rc;

    eca_buf_init(&jwk, 0);
    eca_buf_init(&input, 0);
    eca_buf_init(&sig, 0);
    if (h == NULL || eab_kid == NULL || hmac == NULL || url == NULL) {
        rc = eca_err_set(err, ECA_EINVAL, "eab: kid, HMAC key and newAccount URL are required");
        goto out;
    }
    json_object_object_add(h, "alg", json_object_new_string("HS256"));
    json_object_object_add(h, "kid", json_object_new_string(eab_kid));
    json_object_object_add(h, "url", json_object_new_string(url));
    rc = acme_jws_jwk(account_key, &jwk, err);
    if (rc == ECA_OK)
        rc = signing_input(dump(h), eca_buf_str(&jwk), &input, err);
    if (rc == ECA_OK)
        rc = hs256(hmac, &input, &sig, err);
    if (rc == ECA_OK)
        rc = flatten(&input, &sig, out, err);
out:
    json_object_put(h);
    eca_buf_free(&jwk);
    eca_buf_free(&input);
    eca_buf_free(&sig);
    return rc;
}
