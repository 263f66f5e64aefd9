/* SPDX-License-Identifier: MIT */
/* PKCS#12 (.pfx) files: write a key and its chain under a password, and read one back. */
#ifndef ECA_PKCS12_H
#define ECA_PKCS12_H

#include <stddef.h>

#include "eca_buf.h"
#include "eca_err.h"
#include "eca_key.h"
#include "eca_secret.h"
#include "eca_x509.h"

/*
 * modern: PBES2 (PBKDF2 + AES-256-CBC) for key and certificates, HMAC-SHA-256 MAC, as
 * OpenSSL 3 writes by default. legacy: pbeWithSHA1And3-KeyTripleDES-CBC for key and
 * certificates, HMAC-SHA-1 MAC: what Windows Server 2016 and .NET Framework can import.
 */
enum eca_pkcs12_profile { ECA_PKCS12_MODERN = 0, ECA_PKCS12_LEGACY };

/* "modern" / "legacy" (case-insensitive); 0 on success, -1 otherwise. */
int eca_pkcs12_profile_parse(const char *s, enum eca_pkcs12_profile *out);
const char *eca_pkcs12_profile_name(enum eca_pkcs12_profile p);

/*
 * Append the DER of a PKCS#12 holding key, chain[0] (the leaf, which must match key) and
 * the rest of chain as CA certificates, protected by password. friendly_name (may be NULL)
 * labels key and leaf. ECA_EINVAL when the key does not match the leaf.
 */
enum eca_rc eca_pkcs12_build(const struct eca_key *key, const struct eca_chain *chain,
                             const struct eca_secret *password, const char *friendly_name,
                             enum eca_pkcs12_profile profile, struct eca_buf *out,
                             struct eca_err *err);

/* What a parsed PKCS#12 was protected with (OpenSSL short names, "" when unknown). */
struct eca_pkcs12_info {
    char mac_digest[32];  /* "SHA256", "SHA1" */
    char key_cipher[64];  /* "AES-256-CBC" (inside PBES2) or "PBE-SHA1-3DES" */
    char cert_cipher[64]; /* idem, for the encrypted certificate bag */
    char friendly_name[128];
    long mac_iter;
};

/*
 * Parse DER, verify the MAC with password and decrypt. On success *key and *chain (leaf
 * first, then the CA certificates) are new and owned by the caller; info may be NULL.
 * Wrong password: ECA_EAUTH; not PKCS#12: ECA_EPARSE.
 */
enum eca_rc eca_pkcs12_parse(const void *der, size_t len, const struct eca_secret *password,
                             struct eca_key **key, struct eca_chain **chain,
                             struct eca_pkcs12_info *info, struct eca_err *err);

#endif
