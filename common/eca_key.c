/* SPDX-License-Identifier: MIT */
/* Private keys: generate, load, save (0600 from the first byte), and the narrow sign interface. */
#include "eca_key.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "eca_fs.h"
#include "eca_pem.h"

/* A PEM key file is a few KiB at most (RSA-4096 PKCS#8 is ~3.3 KiB). */
#define KEY_FILE_MAX ((size_t)64 * 1024)

struct eca_key {
    EVP_PKEY *pkey;
    enum eca_key_type type;
};

static const char *const type_names[ECA_KEY_TYPE_MAX] = {
    [ECA_KEY_EC_P256] = "ec-p256",   [ECA_KEY_EC_P384] = "ec-p384",
    [ECA_KEY_EC_P521] = "ec-p521",   [ECA_KEY_RSA_2048] = "rsa-2048",
    [ECA_KEY_RSA_3072] = "rsa-3072", [ECA_KEY_RSA_4096] = "rsa-4096",
};

int
eca_key_type_parse(const char *s, enum eca_key_type *out)
{
    int i;

    if (s == NULL)
        return -1;
    for (i = 0; i < ECA_KEY_TYPE_MAX; i++) {
        if (strcmp(s, type_names[i]) == 0) {
            *out = (enum eca_key_type)i;
            return 0;
        }
    }
    return -1;
}

const char *
eca_key_type_name(enum eca_key_type t)
{
    if ((unsigned)t >= ECA_KEY_TYPE_MAX)
        return "other";
    return type_names[t];
}

/* The EC curve as one of ours; ECA_KEY_TYPE_MAX for any other curve. */
static enum eca_key_type
ec_type(EVP_PKEY *pkey, char *group, size_t glen)
{
    size_t n = 0;

    group[0] = '\0';
    if (EVP_PKEY_get_group_name(pkey, group, glen, &n) != 1)
        return ECA_KEY_TYPE_MAX;
    if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
        return ECA_KEY_EC_P256;
    if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
        return ECA_KEY_EC_P384;
    if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0)
        return ECA_KEY_EC_P521;
    return ECA_KEY_TYPE_MAX;
}

static enum eca_key_type
rsa_type(int bits)
{
    switch (bits) {
    case 2048:
        return ECA_KEY_RSA_2048;
    case 3072:
        return ECA_KEY_RSA_3072;
    case 4096:
        return ECA_KEY_RSA_4096;
    default:
        return ECA_KEY_TYPE_MAX;
    }
}

/*
 * Classify pkey and refuse what we will not sign with: RSA below 2048 bits (NIST SP 800-131A)
 * and EC curves other than the NIST P-256/P-384/P-521 that CAs accept (JWS signing takes only
 * P-256/P-384: the JWS signer refuses a P-521 key by its algorithm).
 */
static enum eca_rc
classify(EVP_PKEY *pkey, enum eca_key_type *type, struct eca_err *err)
{
    char group[64];
    int bits = EVP_PKEY_get_bits(pkey);

    if (EVP_PKEY_is_a(pkey, "EC")) {
        *type = ec_type(pkey, group, sizeof group);
        if (*type == ECA_KEY_TYPE_MAX)
            return eca_err_set(err, ECA_EINVAL,
                               "unsupported EC curve '%s' (use P-256, P-384 or P-521)",
                               group[0] ? group : "unknown");
        return ECA_OK;
    }
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        if (bits < 2048)
            return eca_err_set(err, ECA_EINVAL, "RSA key of %d bits refused (minimum 2048)", bits);
        *type = rsa_type(bits);
        return ECA_OK;
    }
    return eca_err_set(err, ECA_EINVAL, "unsupported key algorithm '%s' (use EC or RSA)",
                       EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "?");
}

enum eca_rc
eca_key_wrap(EVP_PKEY *pkey, struct eca_key **out, struct eca_err *err)
{
    struct eca_key *k = NULL;
    enum eca_key_type type = ECA_KEY_TYPE_MAX;
    enum eca_rc rc;

    if (pkey == NULL)
        return eca_err_set(err, ECA_EINVAL, "key: no key given");
    if ((rc = classify(pkey, &type, err)) != ECA_OK)
        goto out;
    if ((k = calloc(1, sizeof *k)) == NULL) {
        rc = eca_err_set(err, ECA_ENOMEM, "key: out of memory");
        goto out;
    }
    k->pkey = pkey;
    k->type = type;
    pkey = NULL;
    *out = k;
out:
    EVP_PKEY_free(pkey);
    return rc;
}

enum eca_rc
eca_key_generate(enum eca_key_type type, struct eca_key **out, struct eca_err *err)
{
    static const size_t rsa_bits[ECA_KEY_TYPE_MAX] = {
        [ECA_KEY_RSA_2048] = 2048, [ECA_KEY_RSA_3072] = 3072, [ECA_KEY_RSA_4096] = 4096};
    EVP_PKEY *pkey;

    switch (type) {
    case ECA_KEY_EC_P256:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case ECA_KEY_EC_P384:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        break;
    case ECA_KEY_EC_P521:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
        break;
    case ECA_KEY_RSA_2048:
    case ECA_KEY_RSA_3072:
    case ECA_KEY_RSA_4096:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", rsa_bits[type]);
        break;
    default:
        return eca_err_set(err, ECA_EINVAL, "key: unknown key type %d", (int)type);
    }
    if (pkey == NULL)
        return eca_err_ssl(err, ECA_ECRYPTO, "key: generating %s failed", eca_key_type_name(type));
    return eca_key_wrap(pkey, out, err);
}

enum eca_rc
eca_key_from_pem(const void *pem, size_t len, struct eca_key **out, struct eca_err *err)
{
    BIO *bio = NULL;
    EVP_PKEY *pkey = NULL;
    enum eca_rc rc;

    if (len > KEY_FILE_MAX)
        return eca_err_set(err, ECA_ETOOBIG, "key: PEM of %zu bytes is too large", len);
    if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
        rc = eca_err_ssl(err, ECA_ENOMEM, "key: out of memory");
        goto out;
    }
    pkey = PEM_read_bio_PrivateKey(bio, NULL, eca_pem_no_password, NULL);
    if (pkey == NULL) {
        rc = eca_err_ssl(err, ECA_EPARSE, "key: no unencrypted PEM private key found");
        goto out;
    }
    rc = eca_key_wrap(pkey, out, err);
out:
    BIO_free(bio);
    return rc;
}

/* An unencrypted PEM key of that type, through its decoders alone; NULL when it is not one. */
static EVP_PKEY *
pem_of_type(const void *pem, size_t len, const char *type)
{
    OSSL_DECODER_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    BIO *bio = NULL;

    if (type == NULL || len > KEY_FILE_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
        return NULL;
    ctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, type, EVP_PKEY_KEYPAIR, NULL, NULL);
    if (ctx == NULL || OSSL_DECODER_from_bio(ctx, bio) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    /* A miss is no error: the full search follows and reports its own. */
    ERR_clear_error();
    OSSL_DECODER_CTX_free(ctx);
    BIO_free(bio);
    return pkey;
}

enum eca_rc
eca_key_load(const char *path, struct eca_key **out, struct eca_err *err)
{
    return eca_key_load_typed(path, NULL, out, err);
}

enum eca_rc
eca_key_load_typed(const char *path, const char *type, struct eca_key **out, struct eca_err *err)
{
    struct eca_buf b;
    EVP_PKEY *pkey;
    enum eca_rc rc;

    eca_buf_init(&b, KEY_FILE_MAX);
    if ((rc = eca_fs_read(path, KEY_FILE_MAX, &b, err)) != ECA_OK)
        goto out;
    /* Refuse a key others can read: it may already be compromised (STYLE §6). */
    if ((rc = eca_fs_check_private(path, err)) != ECA_OK)
        goto out;
    if ((pkey = pem_of_type(b.data, b.len, type)) != NULL)
        rc = eca_key_wrap(pkey, out, err);
    else if ((rc = eca_key_from_pem(b.data, b.len, out, err)) != ECA_OK)
        eca_err_prefix(err, "%s: ", path);
out:
    eca_buf_free(&b);
    return rc;
}

enum eca_rc
eca_key_to_pem(const struct eca_key *key, struct eca_buf *out, struct eca_err *err)
{
    BIO *bio = NULL;
    enum eca_rc rc;

    /* A secure-heap memory BIO: it is cleansed when freed. */
    if ((bio = BIO_new(BIO_s_secmem())) == NULL) {
        rc = eca_err_ssl(err, ECA_ENOMEM, "key: out of memory");
        goto out;
    }
    if (PEM_write_bio_PKCS8PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        rc = eca_err_ssl(err, ECA_ECRYPTO, "key: PKCS#8 encoding failed");
        goto out;
    }
    rc = eca_pem_bio_append(bio, out, err);
out:
    BIO_free(bio);
    return rc;
}

enum eca_rc
eca_key_save(const struct eca_key *key, const char *path, struct eca_err *err)
{
    struct eca_buf b;
    enum eca_rc rc;

    eca_buf_init(&b, KEY_FILE_MAX);
    if ((rc = eca_key_to_pem(key, &b, err)) != ECA_OK)
        goto out;
    rc = eca_fs_write_atomic(path, b.data, b.len, ECA_FS_MODE_PRIVATE, err);
out:
    eca_buf_free(&b);
    return rc;
}

enum eca_key_type
eca_key_type_of(const struct eca_key *key)
{
    return key->type;
}

int
eca_key_is_ec(const struct eca_key *key)
{
    return EVP_PKEY_is_a(key->pkey, "EC");
}

const EVP_MD *
eca_key_md(const struct eca_key *key)
{
    /* Match the hash to the curve's strength (RFC 5480 §4, RFC 7518 §3.4). */
    if (key->type == ECA_KEY_EC_P521)
        return EVP_sha512();
    if (key->type == ECA_KEY_EC_P384)
        return EVP_sha384();
    return EVP_sha256();
}

EVP_PKEY *
eca_key_pkey(const struct eca_key *key)
{
    return key->pkey;
}

/* DER ECDSA-Sig-Value -> r||s, each left-padded to the field size (RFC 7518 §3.4). */
static enum eca_rc
der_to_raw(const struct eca_key *key, const unsigned char *der, size_t len, struct eca_buf *sig,
           struct eca_err *err)
{
    const unsigned char *p = der;
    ECDSA_SIG *es = NULL;
    unsigned char raw[2 * 66];
    int w = (EVP_PKEY_get_bits(key->pkey) + 7) / 8;
    enum eca_rc rc;

    if (w <= 0 || (size_t)w * 2 > sizeof raw) {
        rc = eca_err_set(err, ECA_ECRYPTO, "sign: unexpected EC field size");
        goto out;
    }
    if ((es = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL ||
        BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, w) != w ||
        BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + w, w) != w) {
        rc = eca_err_ssl(err, ECA_ECRYPTO, "sign: cannot convert ECDSA signature");
        goto out;
    }
    rc = eca_buf_append(sig, raw, (size_t)w * 2, err);
out:
    ECDSA_SIG_free(es);
    return rc;
}

enum eca_rc
eca_key_sign(const struct eca_key *key, const void *msg, size_t len, int raw_ec,
             struct eca_buf *sig, struct eca_err *err)
{
    EVP_MD_CTX *ctx = NULL;
    unsigned char *der = NULL;
    size_t dlen = 0;
    enum eca_rc rc;

    if ((ctx = EVP_MD_CTX_new()) == NULL) {
        rc = eca_err_ssl(err, ECA_ENOMEM, "sign: out of memory");
        goto out;
    }
    /* RSA keys default to PKCS#1 v1.5 padding (RS256), which is what we want. */
    if (EVP_DigestSignInit(ctx, NULL, eca_key_md(key), NULL, key->pkey) != 1 ||
        EVP_DigestSign(ctx, NULL, &dlen, msg, len) != 1) {
        rc = eca_err_ssl(err, ECA_ECRYPTO, "sign: cannot start signature");
        goto out;
    }
    if ((der = OPENSSL_malloc(dlen)) == NULL) {
        rc = eca_err_ssl(err, ECA_ENOMEM, "sign: out of memory");
        goto out;
    }
    if (EVP_DigestSign(ctx, der, &dlen, msg, len) != 1) {
        rc = eca_err_ssl(err, ECA_ECRYPTO, "sign: signing failed");
        goto out;
    }
    if (raw_ec && eca_key_is_ec(key))
        rc = der_to_raw(key, der, dlen, sig, err);
    else
        rc = eca_buf_append(sig, der, dlen, err);
out:
    OPENSSL_free(der);
    EVP_MD_CTX_free(ctx);
    return rc;
}

void
eca_key_free(struct eca_key *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_free(key->pkey);
    free(key);
}
