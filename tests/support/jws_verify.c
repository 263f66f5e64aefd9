/* SPDX-License-Identifier: MIT */
/* Test support: check a JWS the way an ACME server does, with OpenSSL alone. */
#include "jws_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include "eca_b64.h"

int
jws_sig_verifies(EVP_PKEY *pkey, const char *alg, const char *input, const struct eca_buf *sig)
{
    const EVP_MD *md = strcmp(alg, "ES384") == 0 ? EVP_sha384() : EVP_sha256();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *der = NULL;
    int derlen = (int)sig->len, ok;

    if (alg[0] == 'E') {
        ECDSA_SIG *es = ECDSA_SIG_new();
        size_t half = sig->len / 2;

        ECDSA_SIG_set0(es, BN_bin2bn(sig->data, (int)half, NULL),
                       BN_bin2bn(sig->data + half, (int)half, NULL));
        derlen = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
    }
    ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) == 1 &&
         EVP_DigestVerify(ctx, der ? der : sig->data, (size_t)derlen, (const unsigned char *)input,
                          strlen(input)) == 1;
    OPENSSL_free(der);
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* The base64url member name of o decoded into a new string ("" when absent or undecodable). */
static char *
member(struct json_object *o, const char *name)
{
    const char *s = json_object_get_string(json_object_object_get(o, name));
    struct eca_buf b;

    eca_buf_init(&b, 0);
    if (s == NULL || eca_b64url_decode(s, strlen(s), &b, NULL) != ECA_OK || b.data == NULL) {
        eca_buf_free(&b);
        return strdup("");
    }
    return eca_buf_steal(&b);
}

int
jws_verifies(const char *jws, EVP_PKEY *pkey, char **prot, char **payload)
{
    struct json_object *o = json_tokener_parse(jws), *h = NULL;
    const char *p64, *l64, *s64, *alg;
    char *hdr = NULL, *input = NULL;
    struct eca_buf sig;
    size_t n;
    int ok = 0;

    eca_buf_init(&sig, 0);
    if (prot != NULL)
        *prot = NULL;
    if (payload != NULL)
        *payload = NULL;
    p64 = json_object_get_string(json_object_object_get(o, "protected"));
    l64 = json_object_get_string(json_object_object_get(o, "payload"));
    s64 = json_object_get_string(json_object_object_get(o, "signature"));
    hdr = member(o, "protected");
    h = json_tokener_parse(hdr);
    alg = json_object_get_string(json_object_object_get(h, "alg"));
    if (p64 != NULL && l64 != NULL && s64 != NULL && alg != NULL &&
        eca_b64url_decode(s64, strlen(s64), &sig, NULL) == ECA_OK && sig.len > 0) {
        n = strlen(p64) + strlen(l64) + 2;
        if ((input = malloc(n)) != NULL) {
            snprintf(input, n, "%s.%s", p64, l64);
            ok = jws_sig_verifies(pkey, alg, input, &sig);
        }
    }
    if (payload != NULL)
        *payload = member(o, "payload");
    if (prot != NULL)
        *prot = hdr;
    else
        free(hdr);
    free(input);
    eca_buf_free(&sig);
    json_object_put(h);
    json_object_put(o);
    return ok;
}
