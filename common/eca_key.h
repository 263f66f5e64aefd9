/* SPDX-License-Identifier: MIT */
/* Private keys: generate, load, save (0600 from the first byte), and a narrow sign interface. */
#ifndef ECA_KEY_H
#define ECA_KEY_H

#include <stddef.h>

#include <openssl/evp.h>

#include "eca_buf.h"
#include "eca_err.h"

enum eca_key_type {
    ECA_KEY_EC_P256 = 0,
    ECA_KEY_EC_P384,
    ECA_KEY_EC_P521, /* certificate keys only: JWS account keys stay ES256/ES384 */
    ECA_KEY_RSA_2048,
    ECA_KEY_RSA_3072,
    ECA_KEY_RSA_4096,
    ECA_KEY_TYPE_MAX
};

struct eca_key;

/* "ec-p256", "ec-p384", "ec-p521", "rsa-2048", "rsa-3072", "rsa-4096"; 0 on success, -1 otherwise.
 */
int eca_key_type_parse(const char *s, enum eca_key_type *out);
const char *eca_key_type_name(enum eca_key_type t);

/* Generate a fresh key. */
enum eca_rc eca_key_generate(enum eca_key_type type, struct eca_key **out, struct eca_err *err);

/*
 * Load a PEM private key (PKCS#8, traditional EC or RSA; never encrypted). ECA_ENOTFOUND if
 * absent; ECA_EINVAL (naming the file) if group/world-accessible, RSA < 2048 bits or another
 * curve than P-256/P-384/P-521; ECA_EPARSE for no key.
 */
enum eca_rc eca_key_load(const char *path, struct eca_key **out, struct eca_err *err);

/*
 * eca_key_load() with a hint: type is the algorithm the key is expected to be, as OpenSSL
 * names it ("EC", "RSA": eca_x509_key_type() of its certificate). OpenSSL 3.0 then tries only
 * that type's decoders, four times faster than trying them all; a key of another type (or
 * type NULL) is still loaded, by the full search.
 */
enum eca_rc eca_key_load_typed(const char *path, const char *type, struct eca_key **out,
                               struct eca_err *err);
enum eca_rc eca_key_from_pem(const void *pem, size_t len, struct eca_key **out,
                             struct eca_err *err);

/* Unencrypted PKCS#8 PEM into out (cleansed when out is freed with eca_buf_free). */
enum eca_rc eca_key_to_pem(const struct eca_key *key, struct eca_buf *out, struct eca_err *err);

/* Save as PKCS#8 PEM, atomically, mode 0600 from the first byte. */
enum eca_rc eca_key_save(const struct eca_key *key, const char *path, struct eca_err *err);

/* The type of a key; ECA_KEY_TYPE_MAX for a loaded key of another size or curve. */
enum eca_key_type eca_key_type_of(const struct eca_key *key);
int eca_key_is_ec(const struct eca_key *key);

/*
 * Sign msg with SHA-256 (P-256, RSA), SHA-384 (P-384) or SHA-512 (P-521). RSA: PKCS#1 v1.5. EC: raw
 * r||s fixed-width (as JWS wants) when raw_ec is set, DER otherwise. Appends to sig.
 */
enum eca_rc eca_key_sign(const struct eca_key *key, const void *msg, size_t len, int raw_ec,
                         struct eca_buf *sig, struct eca_err *err);

/*
 * The digest eca_key_sign and CSR signing use: SHA-384 for P-384, SHA-512 for P-521, SHA-256
 * otherwise.
 */
const EVP_MD *eca_key_md(const struct eca_key *key);

/* The OpenSSL key, borrowed (for CSR building, public-key export, TLS). */
EVP_PKEY *eca_key_pkey(const struct eca_key *key);

/*
 * Wrap an EVP_PKEY (takes ownership of one reference, also on failure). The same checks as
 * eca_key_from_pem apply: EC on P-256/P-384/P-521 or RSA >= 2048 bits, else ECA_EINVAL.
 */
enum eca_rc eca_key_wrap(EVP_PKEY *pkey, struct eca_key **out, struct eca_err *err);

void eca_key_free(struct eca_key *key);

#endif
