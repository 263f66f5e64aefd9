/* SPDX-License-Identifier: MIT */
/* The ACME directory document (RFC 8555 §7.1.1): where each resource lives. */
#ifndef ACME_DIR_H
#define ACME_DIR_H

#include "eca_err.h"
#include "eca_http.h"

/* Owned strings; optional ones are NULL when the server does not offer them. */
struct acme_dir {
    char *new_nonce;
    char *new_account;
    char *new_order;
    char *revoke_cert;
    char *key_change;       /* optional */
    char *renewal_info;     /* optional (ARI, RFC 9773) */
    char *terms_of_service; /* meta.termsOfService, optional */
    int eab_required;       /* meta.externalAccountRequired */
    /* meta.profiles (draft-ietf-acme-profiles): name -> description, in the server's order. */
    char **profile_names;
    char **profile_descs;
    size_t nprofiles; /* 0: the server offers no profiles */
};

/* Most profiles a directory may list before it is refused as hostile. */
#define ACME_DIR_MAX_PROFILES 64

/*
 * Parse a directory response (status, Content-Type, JSON). On success *out is new (free
 * with acme_dir_free()); on failure *out is untouched and err names the field
 * ("directory.newOrder: missing").
 */
enum eca_rc acme_dir_parse(const struct eca_http_resp *resp, struct acme_dir **out,
                           struct eca_err *err);

/* Same over the JSON body alone. */
enum eca_rc acme_dir_parse_json(const void *body, size_t len, struct acme_dir **out,
                                struct eca_err *err);

/* 1 if the directory lists a profile called name (case-sensitive, as the server spells it). */
int acme_dir_has_profile(const struct acme_dir *d, const char *name);

/* The profile names, comma-separated ("classic, shortlived"), into out; "" when none. */
void acme_dir_profile_list(const struct acme_dir *d, char *out, size_t outlen);

void acme_dir_free(struct acme_dir *d);

#endif
