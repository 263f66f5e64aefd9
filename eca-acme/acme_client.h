/* SPDX-License-Identifier: MIT */
/* The ACME driver: the only ACME file that talks to a transport (nonces, retries, polling). */
#ifndef ACME_CLIENT_H
#define ACME_CLIENT_H

#include <stddef.h>

#include "acme_ari.h"
#include "acme_dir.h"
#include "acme_order.h"
#include "eca_buf.h"
#include "eca_err.h"
#include "eca_http.h"
#include "eca_key.h"
#include "eca_secret.h"

/*
 * How an http-01 challenge is answered (RFC 8555 §8.3): publish makes
 * http://<domain>/.well-known/acme-challenge/<token> answer key_authz; unpublish undoes it.
 * acme_http01.c provides a built-in listener and a webroot writer.
 */
struct acme_responder {
    enum eca_rc (*publish)(void *ctx, const char *token, const char *key_authz,
                           struct eca_err *err);
    void (*unpublish)(void *ctx, const char *token);
    void *ctx;
};

/*
 * How a dns-01 challenge is answered (RFC 8555 §8.4): publish provisions the TXT record
 * _acme-challenge.<domain> for key_authz and returns once it is in place; unpublish removes
 * what was published under token. acme_dns01.c runs hooks.
 */
struct acme_dns_responder {
    enum eca_rc (*publish)(void *ctx, const char *domain, const char *token, const char *key_authz,
                           struct eca_err *err);
    void (*unpublish)(void *ctx, const char *token);
    void *ctx;
};

struct acme_client_opts {
    const char *directory_url;
    struct eca_http *http;             /* borrowed */
    const struct eca_key *account_key; /* borrowed */
    const char *account_url;           /* known kid, or NULL: look up / create */
    const char *const *contact;        /* "mailto:..." URLs, may be NULL */
    size_t ncontact;
    int tos_agreed;
    const char *eab_kid;               /* external account binding, with eab_hmac */
    const struct eca_secret *eab_hmac; /* raw HMAC key bytes (decoded from base64url) */
    const char *preferred_chain;       /* issuer CN/DN substring of the chain to prefer; NULL */
    long max_wait_s;                   /* cap on Retry-After waits and polling (0: 300) */
    long pass_timeout_s;      /* deadline of a pass (0: 300 s), from acme_client_new() or the last
                                 acme_client_pass_start(): no request, wait or poll outlives it */
    int (*should_stop)(void); /* polled while waiting; NULL: never */
    int account_key_new;      /* 1: the key was just generated, so create the account without
                                 the onlyReturnExisting lookup (one round trip less) */
    /* Told the account URL whenever one is found or created (to persist it), and NULL when
     * the CA said it does not know the stored one (to forget it). May be NULL. */
    void (*account_changed)(void *ctx, const char *url);
    void *account_ctx;
};

struct acme_client;

/* Fetch the directory and prepare; ECA_EPROTO/ECA_ESERVER naming the URL on failure. */
enum eca_rc acme_client_new(const struct acme_client_opts *opts, struct acme_client **out,
                            struct eca_err *err);

/*
 * Make sure an account exists for the key. With no known URL: newAccount with
 * onlyReturnExisting first (RFC 8555 §7.3.1), and only on accountDoesNotExist a newAccount
 * with contact, ToS and EAB (unless account_key_new). The account URL (kid) is then set.
 */
enum eca_rc acme_client_account(struct acme_client *c, struct eca_err *err);
const char *acme_client_account_url(const struct acme_client *c);

/*
 * Order a certificate for names[0..n) (DNS identifiers), answer each authorization through
 * responder (http-01), finalize with csr_der, wait, download. The PEM chain (leaf first,
 * the preferred alternate if configured) is appended to chain_pem. A failed order reports
 * the server's problem and every subproblem per identifier.
 * A newOrder refused with accountDoesNotExist or unauthorized (a CA that lost its database,
 * an account it no longer knows) drops the account URL, finds the key's account again
 * (onlyReturnExisting) or registers it anew (with EAB when configured), and orders once more;
 * acme_account_lost and acme_account_recovered are logged.
 */
enum eca_rc acme_client_issue(struct acme_client *c, const char *const *names, size_t n,
                              const struct acme_responder *responder, const void *csr_der,
                              size_t csr_len, struct eca_buf *chain_pem, struct eca_err *err);

/*
 * Answer dns-01 challenges through r (borrowed until changed; NULL: none) in the following
 * acme_client_issue* calls: every DNS name then goes through dns-01 (acme_authz_choose), and
 * the http-01 responder may be NULL when no address is ordered.
 */
void acme_client_set_dns01(struct acme_client *c, const struct acme_dns_responder *r);

/* What acme_client_issue_ex() adds to an order, and what it reports back. */
struct acme_issue_opts {
    const char *profile;  /* requested profile, NULL: none (the server's default) */
    const char *replaces; /* certID of the certificate this one renews (RFC 9773 §5), or NULL */
    const char *resume;   /* URL of an order an earlier pass left open (info->pending), or NULL */
};

struct acme_issue_info {
    char *profile; /* the profile the server echoed in the order, NULL: none (caller frees) */
    int replaces_dropped; /* 1: the server refused "replaces" and the order went without it */
    int resumed;          /* 1: opts->resume was taken up (0: it was over, a new order went) */
    /* On failure, the URL of the order when it can still lead to a certificate (caller frees):
     * keep it, with the key of the CSR, and pass it as opts->resume at the next pass. NULL when
     * the order failed for good or none was made. */
    char *pending;
};

/*
 * acme_client_issue with a profile and/or "replaces", or resuming an open order. A newOrder
 * refused because of "replaces" (acme_ari_replaces_refused) is sent once more without it, with
 * a warning. A resumed order is fetched (POST-as-GET) and carried on from its state: answered,
 * finalized with csr_der (which must hold the key of the first pass's CSR), polled or
 * downloaded; one that is gone, invalid or expired is dropped (acme_order_resume_dropped) and
 * a new order goes instead. A wait the pass cannot afford ends the call with ECA_EAGAIN,
 * err->retry_after the seconds the server asked for ("server asked to retry in 3600 s") and
 * info->pending set. info (may be NULL) is filled; free info->profile and info->pending.
 */
enum eca_rc acme_client_issue_ex(struct acme_client *c, const char *const *names, size_t n,
                                 const struct acme_responder *responder, const void *csr_der,
                                 size_t csr_len, const struct acme_issue_opts *opts,
                                 struct eca_buf *chain_pem, struct acme_issue_info *info,
                                 struct eca_err *err);

/* The directory fetched by acme_client_new(), borrowed for the life of the client. */
const struct acme_dir *acme_client_dir(const struct acme_client *c);

/*
 * GET <renewalInfo>/<cert_id> (RFC 9773 §4.1, unsigned, with the transport's User-Agent).
 * On success *out is new (acme_ari_free). *retry_after (may be NULL) is set in every case to
 * the clamped wait before the next request (acme_ari_retry_after). ECA_ENOTFOUND when the
 * directory offers no renewalInfo; any failure names the URL.
 */
enum eca_rc acme_client_renewal_info(struct acme_client *c, const char *cert_id,
                                     struct acme_ari **out, long *retry_after, struct eca_err *err);

/* Revoke a certificate (DER) with a reason code (RFC 5280 §5.3.1), signed by the account. */
enum eca_rc acme_client_revoke(struct acme_client *c, const void *cert_der, size_t len, int reason,
                               struct eca_err *err);

/* Start a pass: its deadline is now + pass_timeout_s. */
void acme_client_pass_start(struct acme_client *c);

/*
 * Look the key's account up (newAccount with onlyReturnExisting, RFC 8555 §7.3.1) and take
 * its URL as the kid; never creates one. ECA_OK at once when the URL is known; ECA_ENOTFOUND
 * when the CA knows no account for the key; ECA_EAUTH for a deactivated or revoked one.
 */
enum eca_rc acme_client_find_account(struct acme_client *c, struct eca_err *err);

/*
 * Roll the account key over to new_signer (RFC 8555 §7.3.5): the keyChange URL gets a JWS
 * signed by the current key with the account's kid, whose payload is a JWS signed by
 * new_signer over {"account", "oldKey"}. The account is looked up, never created. On 200 the
 * client signs with new_signer (borrowed: it must outlive the client) from then on; the caller
 * stores it. A 409 names the account that already holds the new key. ECA_ENOTFOUND when the
 * directory offers no keyChange.
 */
enum eca_rc acme_client_key_change(struct acme_client *c, const struct eca_key *new_signer,
                                   struct eca_err *err);

/*
 * Deactivate the account (RFC 8555 §7.3.6): POST {"status":"deactivated"} to its URL and
 * check the answer says so. The account is looked up, never created. Final: the CA refuses
 * every later request signed by this key.
 */
enum eca_rc acme_client_deactivate(struct acme_client *c, struct eca_err *err);

void acme_client_free(struct acme_client *c);

#endif
