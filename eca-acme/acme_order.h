/* SPDX-License-Identifier: MIT */
/* Orders, authorizations, challenges (RFC 8555 §7.1.3-7.1.5, §7.4-7.5) and the pure state machine.
 */
#ifndef ACME_ORDER_H
#define ACME_ORDER_H

#include <stddef.h>

#include "acme_problem.h"
#include "eca_buf.h"
#include "eca_err.h"
#include "eca_http.h"

/* Status of an order, authorization or challenge (RFC 8555 §7.1.6). */
enum acme_status {
    ACME_ST_PENDING = 0,
    ACME_ST_READY,
    ACME_ST_PROCESSING,
    ACME_ST_VALID,
    ACME_ST_INVALID,
    ACME_ST_DEACTIVATED,
    ACME_ST_EXPIRED,
    ACME_ST_REVOKED
};

/* "pending", "ready", ... */
const char *acme_status_name(enum acme_status st);

/* An order (§7.1.3). Owned; free with acme_order_free(). */
struct acme_order {
    char *url; /* Location of the newOrder response; the driver fills it otherwise */
    enum acme_status status;
    char **authz; /* authorization URLs */
    size_t nauthz;
    char *finalize;
    char *certificate;          /* NULL until valid */
    struct acme_problem *error; /* NULL unless the server gave one */
    char *profile;              /* the profile the server echoed (draft-ietf-acme-profiles) */
    char *replaces;             /* the certID the server echoed (RFC 9773 §5) */
};

struct acme_challenge {
    char *type;
    char *url;
    char *token; /* validated by acme_token_is_valid(); NULL for types without one */
    enum acme_status status;
    struct acme_problem *error;
};

/* An authorization (§7.1.4). Owned; free with acme_authz_free(). */
struct acme_authz {
    char *id_type; /* "dns", "ip" (RFC 8738) */
    char *id_value;
    enum acme_status status;
    int wildcard;
    struct acme_challenge *ch;
    size_t nch;
};

/* Largest number of identifiers (and authorizations) per order we handle. */
#define ACME_ORDER_MAX_IDS 100

/*
 * Append the newOrder payload {"identifiers":[{"type":"dns","value":...}]} (§7.4); an address
 * literal (eca_x509_is_ip) is {"type":"ip"} (RFC 8738 §3), a wildcard "*.x" goes as it is.
 */
enum eca_rc acme_order_build_new(const char *const *names, size_t n, struct eca_buf *out,
                                 struct eca_err *err);

/* What a newOrder may carry beyond its identifiers; NULL members are left out. */
struct acme_order_extra {
    const char *profile;  /* "profile" (draft-ietf-acme-profiles §3) */
    const char *replaces; /* "replaces": certID of the certificate renewed (RFC 9773 §5) */
};

/*
 * acme_order_build_new with extra members. An empty profile or replaces, or a replaces that is
 * not a certID (base64url "." base64url), is ECA_EINVAL.
 */
enum eca_rc acme_order_build_new_ex(const char *const *names, size_t n,
                                    const struct acme_order_extra *extra, struct eca_buf *out,
                                    struct eca_err *err);

/* Append the finalize payload {"csr": base64url(DER)} (§7.4). */
enum eca_rc acme_order_build_finalize(const void *csr_der, size_t len, struct eca_buf *out,
                                      struct eca_err *err);

/* Append the revokeCert payload {"certificate":..., "reason":n} (§7.6); reason < 0 omits it. */
enum eca_rc acme_order_build_revoke(const void *cert_der, size_t len, int reason,
                                    struct eca_buf *out, struct eca_err *err);

/*
 * Parse an order response (status, Content-Type, JSON; Location into url when present).
 * On failure *out is untouched and err names the field ("order.finalize: missing").
 */
enum eca_rc acme_order_parse(const struct eca_http_resp *resp, struct acme_order **out,
                             struct eca_err *err);
enum eca_rc acme_order_parse_json(const void *body, size_t len, struct acme_order **out,
                                  struct eca_err *err);
void acme_order_free(struct acme_order *o);

/* Parse an authorization; hostile challenge tokens are ECA_EPROTO naming the field. */
enum eca_rc acme_authz_parse(const struct eca_http_resp *resp, struct acme_authz **out,
                             struct eca_err *err);
enum eca_rc acme_authz_parse_json(const void *body, size_t len, struct acme_authz **out,
                                  struct eca_err *err);
void acme_authz_free(struct acme_authz *a);

/* The challenge of the given type ("http-01"), borrowed, or NULL. */
const struct acme_challenge *acme_authz_challenge(const struct acme_authz *a, const char *type);

/* Parse the response to a challenge POST (§7.5.1). Free with acme_challenge_free(). */
enum eca_rc acme_challenge_parse(const struct eca_http_resp *resp, struct acme_challenge **out,
                                 struct eca_err *err);
void acme_challenge_free(struct acme_challenge *c);

/*
 * 1 if a token is safe to use as a file name and URL segment: 1..256 characters of the
 * base64url alphabet (RFC 8555 §8.3), so no "/", "." or "..".
 */
int acme_token_is_valid(const char *token);

/*
 * URLs of the Link headers with the given rel (RFC 8288), e.g. "alternate" chains (§7.4.2).
 * Up to max new strings go to urls[] (caller frees each); returns how many.
 */
size_t acme_order_links(const struct eca_http_resp *resp, const char *rel, char **urls, size_t max);

/* Challenge types the driver can answer (acme_order_state.challenges). */
#define ACME_CH_HTTP01 0x1u
#define ACME_CH_DNS01  0x2u

/*
 * The challenge to answer for an authorization, given the types the driver can answer (can; 0
 * means http-01 only): dns-01 first for a name when possible, http-01 otherwise, and
 * http-01 only for an address (RFC 8738 §7). *out is borrowed from a. A challenge the server
 * does not offer, or a wildcard without dns-01, is ECA_EPROTO naming the identifier; an address
 * without http-01 is ECA_ECONF.
 */
enum eca_rc acme_authz_choose(const struct acme_authz *a, unsigned can,
                              const struct acme_challenge **out, struct eca_err *err);

/* What the driver knows about an order in progress. Borrowed. */
struct acme_order_state {
    const struct acme_order *order;
    struct acme_authz *const *authz; /* [order->nauthz]; NULL entries: not fetched yet */
    const unsigned char *responded;  /* [order->nauthz]; 1: challenge already answered */
    int finalized;                   /* 1: the CSR was sent */
    unsigned challenges;             /* ACME_CH_*: what can be answered; 0: http-01 only */
};

enum acme_action_kind {
    ACME_ACT_FETCH_AUTHZ = 0, /* POST-as-GET authz[index] */
    ACME_ACT_RESPOND,         /* publish the key authorization, then POST {} to challenge */
    ACME_ACT_POLL_AUTHZ,      /* wait, then POST-as-GET authz[index] again */
    ACME_ACT_FINALIZE,        /* POST the CSR to order->finalize */
    ACME_ACT_POLL_ORDER,      /* wait, then POST-as-GET the order */
    ACME_ACT_DOWNLOAD,        /* POST-as-GET order->certificate */
    ACME_ACT_FAIL             /* give up; err holds every problem */
};

struct acme_action {
    enum acme_action_kind kind;
    size_t index;                           /* the authorization, for *_AUTHZ and RESPOND */
    const char *url;                        /* borrowed from the state */
    const struct acme_challenge *challenge; /* RESPOND: the chosen challenge (acme_authz_choose) */
};

/*
 * The next step for an order (pure). ECA_OK with an action, or, for ACME_ACT_FAIL, the
 * error: the order's problem and each identifier's authorization/challenge error
 * ("order ... invalid: ...; dns:a.example: unauthorized: ..."); ECA_EAGAIN for rateLimited.
 */
enum eca_rc acme_order_next(const struct acme_order_state *st, struct acme_action *act,
                            struct eca_err *err);

#endif
