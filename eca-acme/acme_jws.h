/* SPDX-License-Identifier: MIT */
/* JWK, RFC 7638 thumbprint and flattened JWS (RFC 7515, RFC 8555 §6.2) over an eca_key. */
#ifndef ACME_JWS_H
#define ACME_JWS_H

#include <stddef.h>

#include "eca_buf.h"
#include "eca_err.h"
#include "eca_key.h"
#include "eca_secret.h"

/* The JWS alg for a key: "ES256" (P-256), "ES384" (P-384), "RS256" (RSA); NULL otherwise. */
const char *acme_jws_alg(const struct eca_key *key);

/*
 * Append the public JWK with only the required members in lexicographic order and no
 * whitespace (RFC 7638 §3.2): {"crv","kty","x","y"} or {"e","kty","n"}. ECA_EINVAL for
 * other key kinds.
 */
enum eca_rc acme_jws_jwk(const struct eca_key *key, struct eca_buf *out, struct eca_err *err);

/* Append the base64url SHA-256 JWK thumbprint (RFC 7638 §3). */
enum eca_rc acme_jws_thumbprint(const struct eca_key *key, struct eca_buf *out,
                                struct eca_err *err);

/* Append the key authorization token "." thumbprint (RFC 8555 §8.1). */
enum eca_rc acme_jws_key_authz(const struct eca_key *key, const char *token, struct eca_buf *out,
                               struct eca_err *err);

/*
 * Append a flattened JWS {"protected","payload","signature"} signing payload (NULL: the
 * empty payload of POST-as-GET, RFC 8555 §6.3). The protected header carries alg, nonce,
 * url and either kid (when non-NULL) or the jwk (newAccount, revocation by key).
 */
enum eca_rc acme_jws_sign(const struct eca_key *key, const char *kid, const char *nonce,
                          const char *url, const char *payload, struct eca_buf *out,
                          struct eca_err *err);

/*
 * Append the inner JWS of a keyChange (RFC 8555 §7.3.5), signed by the new key: the protected
 * header carries alg, jwk (the new key) and url (the keyChange URL), and no nonce.
 */
enum eca_rc acme_jws_sign_inner(const struct eca_key *key, const char *url, const char *payload,
                                struct eca_buf *out, struct eca_err *err);

/*
 * Append the external account binding JWS (RFC 8555 §7.3.4): HS256 with hmac over the
 * account key's JWK, header {alg,kid=eab_kid,url=newAccount URL}. The key is never copied.
 */
enum eca_rc acme_jws_eab(const struct eca_key *account_key, const char *eab_kid,
                         const struct eca_secret *hmac, const char *url, struct eca_buf *out,
                         struct eca_err *err);

#endif
