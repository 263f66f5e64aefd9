/* SPDX-License-Identifier: MIT */
/* Test support: check a JWS the way an ACME server does, with OpenSSL alone. */
#ifndef JWS_VERIFY_H
#define JWS_VERIFY_H

#include <openssl/evp.h>

#include "eca_buf.h"

/*
 * 1 if sig is a valid JWS signature (alg ES256/ES384: raw r||s; RS256: PKCS#1 v1.5) by pkey
 * over the signing input b64url(protected) "." b64url(payload).
 */
int jws_sig_verifies(EVP_PKEY *pkey, const char *alg, const char *input, const struct eca_buf *sig);

/*
 * 1 if the flattened JWS text verifies with pkey under the alg its protected header names.
 * The decoded protected header and payload are stored in *prot and *payload when those are
 * non-NULL (malloc'd, NUL-terminated; set in every case, "" when undecodable).
 */
int jws_verifies(const char *jws, EVP_PKEY *pkey, char **prot, char **payload);

#endif
