/* SPDX-License-Identifier: MIT */
/*
 * ACME accounts (RFC 8555 §7.3): newAccount payload, EAB embedding, account response, key
 * rollover (§7.3.5) and deactivation (§7.3.6).
 */
#ifndef ACME_ACCOUNT_H
#define ACME_ACCOUNT_H

#include <stddef.h>

#include "eca_buf.h"
#include "eca_err.h"
#include "eca_http.h"
#include "eca_key.h"

enum acme_account_status { ACME_ACCOUNT_VALID = 0, ACME_ACCOUNT_DEACTIVATED, ACME_ACCOUNT_REVOKED };

/* What goes into a newAccount request. Borrowed. */
struct acme_account_req {
    const char *const *contact; /* "mailto:..." URLs */
    size_t ncontact;
    int tos_agreed;
    int only_return_existing;
    const char *eab_jws; /* flattened JWS text from acme_jws_eab(), or NULL */
};

/* Append the newAccount payload JSON (RFC 8555 §7.3, §7.3.1, §7.3.4). */
enum eca_rc acme_account_build_new(const struct acme_account_req *req, struct eca_buf *out,
                                   struct eca_err *err);

/* A parsed account. Owned strings; free with acme_account_free(). */
struct acme_account {
    char *url; /* the Location header: the kid of later requests */
    enum acme_account_status status;
    int created; /* 1 on 201 Created, 0 on 200 (the key already had an account) */
};

/*
 * Parse the newAccount response (201 or 200, application/json, Location). A deactivated
 * or revoked account parses fine; the caller decides. On failure *out is untouched.
 */
enum eca_rc acme_account_parse(const struct eca_http_resp *resp, struct acme_account **out,
                               struct eca_err *err);

/*
 * Parse the answer to a POST to the account URL itself (an update such as deactivation,
 * §7.3.2): 200 with the account object; the URL is the one posted to (servers send no
 * Location there; one that does must name the same account).
 */
enum eca_rc acme_account_parse_update(const struct eca_http_resp *resp, const char *url,
                                      struct acme_account **out, struct eca_err *err);

/* The payload that deactivates an account (RFC 8555 §7.3.6). */
#define ACME_ACCOUNT_DEACTIVATE "{\"status\":\"deactivated\"}"

/*
 * Append the keyChange payload (RFC 8555 §7.3.5): the inner JWS, signed by new_key, with the
 * new JWK and url = key_change_url in its header and no nonce, over
 * {"account": account_url, "oldKey": <old_key's JWK>}. The caller signs it again with the old
 * key and the account's kid. ECA_EINVAL when both keys are the same.
 */
enum eca_rc acme_account_build_key_change(const char *account_url, const struct eca_key *old_key,
                                          const struct eca_key *new_key, const char *key_change_url,
                                          struct eca_buf *out, struct eca_err *err);

/*
 * Parse the keyChange response: 200 (with an account object, which must then be valid, or
 * with none, as pebble sends) is ECA_OK. 409 Conflict (the new key already belongs to
 * another account, §7.3.5) is ECA_ESERVER and that account's URL, from Location, goes to
 * *conflict (caller frees; may be NULL) and into the message. Problems map as everywhere.
 */
enum eca_rc acme_account_parse_key_change(const struct eca_http_resp *resp, char **conflict,
                                          struct eca_err *err);

void acme_account_free(struct acme_account *a);

#endif
