/* SPDX-License-Identifier: MIT */
/* PKCS#12 (.pfx) files: write a key and its chain under a password, and read one back. */
#include "eca_pkcs12.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

/*
 * Iteration counts: OpenSSL 3's default (PKCS12_DEFAULT_ITER) for the modern profile;
 * 2000, what Windows itself writes, for the legacy one.
 */
#define MODERN_ITER PKCS12_DEFAULT_ITER
#define LEGACY_ITER 2000

int
eca_pkcs12_profile_parse(const char *s, enum eca_pkcs12_profile *out)
{
    if (s == NULL)
        return -1;
    if (strcasecmp(s, "modern") == 0)
        *out = ECA_PKCS12_MODERN;
    else if (strcasecmp(s, "legacy") == 0)
        *out = ECA_PKCS12_LEGACY;
    else
        return -1;
    return 0;
}

const char *
eca_pkcs12_profile_name(enum eca_pkcs12_profile p)
{
    return p == ECA_PKCS12_LEGACY ? "legacy" : "modern";
}

static enum eca_rc
p12_serialise(PKCS12 *p12, struct eca_buf *out, struct eca_err *err)
{
    unsigned char *der = NULL;
    int n;
    enum eca_rc rc;

    if ((n = i2d_PKCS12(p12, &der)) <= 0)
        return eca_err_ssl(err, ECA_ECRYPTO, "pkcs12: cannot encode");
    rc = eca_buf_append(out, der, (size_t)n, err);
    OPENSSL_clear_free(der, (size_t)n);
    return rc;
}

enum eca_rc
eca_pkcs12_build(const struct eca_key *key, const struct eca_chain *chain,
                 const struct eca_secret *password, const char *friendly_name,
                 enum eca_pkcs12_profile profile, struct eca_buf *out, struct eca_err *err)
{
    STACK_OF(X509) *ca = NULL;
    PKCS12 *p12 = NULL;
    EVP_PKEY *pkey;
    X509 *leaf;
    const char *pass;
    int legacy = profile == ECA_PKCS12_LEGACY;
    int nid = legacy ? NID_pbe_WithSHA1And3_Key_TripleDES_CBC : NID_aes_256_cbc;
    int iter = legacy ? LEGACY_ITER : MODERN_ITER;
    enum eca_rc rc = ECA_OK;

    if (key == NULL || chain == NULL || password == NULL ||
        (leaf = eca_x509_chain_get(chain, 0)) == NULL)
        return eca_err_set(err, ECA_EINVAL, "pkcs12: key, certificate and password are required");
    pkey = eca_key_pkey(key);
    pass = eca_secret_str(password);
    if (!eca_x509_matches_key(leaf, key))
        return eca_err_set(err, ECA_EINVAL, "pkcs12: the key does not match the certificate");
    if ((ca = sk_X509_new_null()) == NULL) {
        rc = eca_err_set(err, ECA_ENOMEM, "pkcs12: out of memory");
        goto out;
    }
    for (size_t i = 1; i < eca_x509_chain_count(chain); i++) {
        if (!sk_X509_push(ca, eca_x509_chain_get(chain, i))) {
            rc = eca_err_set(err, ECA_ENOMEM, "pkcs12: out of memory");
            goto out;
        }
    }
    /* mac_iter -1: no MAC here, so that the MAC digest can be chosen explicitly below. */
    p12 = PKCS12_create_ex(pass, friendly_name, pkey, leaf, ca, nid, nid, iter, -1, 0, NULL, NULL);
    if (p12 == NULL) {
        rc = eca_err_ssl(err, ECA_ECRYPTO, "pkcs12: cannot create (%s profile)",
                         eca_pkcs12_profile_name(profile));
        goto out;
    }
    if (!PKCS12_set_mac(p12, pass, -1, NULL, 0, iter, legacy ? EVP_sha1() : EVP_sha256())) {
        rc = eca_err_ssl(err, ECA_ECRYPTO, "pkcs12: cannot compute the MAC");
        goto out;
    }
    rc = p12_serialise(p12, out, err);
out:
    PKCS12_free(p12);
    sk_X509_free(ca);
    return rc;
}

/* Short name of a PBE algorithm; for PBES2 the name of the inner cipher. */
static void
alg_name(const X509_ALGOR *alg, char *out, size_t outlen)
{
    const ASN1_OBJECT *obj = NULL;
    const void *pval = NULL;
    int ptype = 0, nid;
    PBE2PARAM *pbe2 = NULL;

    out[0] = '\0';
    if (alg == NULL)
        return;
    X509_ALGOR_get0(&obj, &ptype, &pval, alg);
    nid = OBJ_obj2nid(obj);
    if (nid == NID_pbes2 && ptype == V_ASN1_SEQUENCE) {
        pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), (ASN1_TYPE *)alg->parameter);
        if (pbe2 != NULL && pbe2->encryption != NULL)
            nid = OBJ_obj2nid(pbe2->encryption->algorithm);
        PBE2PARAM_free(pbe2);
    }
    snprintf(out, outlen, "%s", nid == NID_undef ? "" : OBJ_nid2sn(nid));
}

static void
bags_info(const STACK_OF(PKCS12_SAFEBAG) * bags, struct eca_pkcs12_info *info)
{
    for (int j = 0; j < sk_PKCS12_SAFEBAG_num(bags); j++) {
        PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, j);
        const X509_ALGOR *alg = NULL;
        char *fn;

        if (PKCS12_SAFEBAG_get_nid(bag) == NID_pkcs8ShroudedKeyBag) {
            X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, NULL);
            alg_name(alg, info->key_cipher, sizeof info->key_cipher);
        }
        if (info->friendly_name[0] == '\0' && (fn = PKCS12_get_friendlyname(bag)) != NULL) {
            snprintf(info->friendly_name, sizeof info->friendly_name, "%s", fn);
            OPENSSL_free(fn);
        }
    }
}

static void
p12_info(PKCS12 *p12, const char *pass, struct eca_pkcs12_info *info)
{
    const ASN1_OCTET_STRING *mac = NULL, *salt = NULL;
    const X509_ALGOR *macalg = NULL;
    const ASN1_INTEGER *iter = NULL;
    const ASN1_OBJECT *obj = NULL;
    STACK_OF(PKCS7) * safes;
    STACK_OF(PKCS12_SAFEBAG) * bags;

    memset(info, 0, sizeof *info);
    PKCS12_get0_mac(&mac, &macalg, &salt, &iter, p12);
    if (macalg != NULL) {
        X509_ALGOR_get0(&obj, NULL, NULL, macalg);
        snprintf(info->mac_digest, sizeof info->mac_digest, "%s", OBJ_nid2sn(OBJ_obj2nid(obj)));
    }
    info->mac_iter = iter != NULL ? ASN1_INTEGER_get(iter) : 1;
    if ((safes = PKCS12_unpack_authsafes(p12)) == NULL)
        return;
    for (int i = 0; i < sk_PKCS7_num(safes); i++) {
        PKCS7 *p7 = sk_PKCS7_value(safes, i);

        bags = NULL;
        if (OBJ_obj2nid(p7->type) == NID_pkcs7_encrypted) {
            alg_name(p7->d.encrypted->enc_data->algorithm, info->cert_cipher,
                     sizeof info->cert_cipher);
            bags = PKCS12_unpack_p7encdata(p7, pass, -1);
        } else if (OBJ_obj2nid(p7->type) == NID_pkcs7_data) {
            bags = PKCS12_unpack_p7data(p7);
        }
        if (bags != NULL)
            bags_info(bags, info);
        sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
    sk_PKCS7_pop_free(safes, PKCS7_free);
    ERR_clear_error();
}

static enum eca_rc
wrap_parsed(EVP_PKEY **pkey, X509 *cert, STACK_OF(X509) * ca, struct eca_key **key,
            struct eca_chain **chain, struct eca_err *err)
{
    struct eca_chain *c = NULL;
    struct eca_key *k = NULL;
    enum eca_rc rc;

    if ((rc = eca_x509_chain_from_certs(cert, ca, &c, err)) != ECA_OK)
        goto out;
    if ((rc = eca_key_wrap(*pkey, &k, err)) != ECA_OK)
        goto out;
    *pkey = NULL;
    *key = k;
    *chain = c;
    c = NULL;
out:
    eca_x509_chain_free(c);
    return rc;
}

enum eca_rc
eca_pkcs12_parse(const void *der, size_t len, const struct eca_secret *password,
                 struct eca_key **key, struct eca_chain **chain, struct eca_pkcs12_info *info,
                 struct eca_err *err)
{
    const unsigned char *p = der;
    const char *pass = password ? eca_secret_str(password) : "";
    PKCS12 *p12 = NULL;
    EVP_PKEY *pkey = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *ca = NULL;
    enum eca_rc rc;

    if (der == NULL || len == 0 || len > (size_t)1 << 24 ||
        (p12 = d2i_PKCS12(NULL, &p, (long)len)) == NULL) {
        rc = eca_err_ssl(err, ECA_EPARSE, "pkcs12: not a DER PKCS#12 structure");
        goto out;
    }
    if (!PKCS12_mac_present(p12) || !PKCS12_verify_mac(p12, pass, -1)) {
        rc = eca_err_ssl(err, ECA_EAUTH, "pkcs12: MAC missing or wrong password");
        goto out;
    }
    if (!PKCS12_parse(p12, pass, &pkey, &cert, &ca) || pkey == NULL || cert == NULL) {
        rc = eca_err_ssl(err, ECA_EPARSE, "pkcs12: no key and certificate inside");
        goto out;
    }
    if ((rc = wrap_parsed(&pkey, cert, ca, key, chain, err)) != ECA_OK)
        goto out;
    if (info != NULL)
        p12_info(p12, pass, info);
out:
    EVP_PKEY_free(pkey);
    X509_free(cert);
    sk_X509_pop_free(ca, X509_free);
    PKCS12_free(p12);
    return rc;
}
