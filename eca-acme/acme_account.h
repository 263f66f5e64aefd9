/* SPDX-License-Identifier: MIT */
/* ACME accounts (RFC 8555 §7.3): newAccount payload, EAB embedding, account response. */
#ifndef ACME_ACCOUNT_H
#define ACME_ACCOUNT_H

#include <stddef.h>

#include "eca_buf.h"
#include "eca_err.h"
#include "eca_http.h"

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

void acme_account_free(struct acme_account *a);

#endif
