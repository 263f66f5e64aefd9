/* SPDX-License-Identifier: MIT */
/* EST /csrattrs, pure: parse what the server asks the CSR to hold and merge it with the
 * configuration (RFC 7030 §4.5, RFC 8951 §4). */
#ifndef EST_CSRATTRS_H
#define EST_CSRATTRS_H

#include <stddef.h>

#include "eca_err.h"
#include "eca_http.h"
#include "eca_key.h"
#include "eca_x509.h"

#define EST_CSRATTRS_MAX  32
#define EST_OID_MAX       64
#define EST_CSRATTRS_POOL 8192

/* The key algorithm family a server asked for (by key OID or by signature algorithm). */
enum est_key_family { EST_KEY_ANY = 0, EST_KEY_EC, EST_KEY_RSA };

/* A value the server supplied: DER at pool[off..off+len) of the enclosing est_csrattrs. */
struct est_csrattrs_val {
    char oid[EST_OID_MAX];
    size_t off, len;
};

/* What a server asked for in /csrattrs. Plain data, copyable; OIDs are dotted. */
struct est_csrattrs {
    size_t noids; /* bare OIDs (e.g. a signature algorithm) */
    char oids[EST_CSRATTRS_MAX][EST_OID_MAX];
    size_t nattrs; /* attribute types */
    char attrs[EST_CSRATTRS_MAX][EST_OID_MAX];
    size_t nexts; /* extensions named in extensionRequest */
    char exts[EST_CSRATTRS_MAX][EST_OID_MAX];
    int challenge_password;         /* asked for: proof-of-possession (RFC 7030 §3.5) */
    char ec_curve[EST_OID_MAX];     /* curve short name: ecPublicKey attribute or bare OID */
    int wants_san;                  /* subjectAltName among the requested extensions */
    enum est_key_family key_family; /* from id-ecPublicKey / rsaEncryption (OID or attribute) */
    int rsa_bits;                   /* from an rsaEncryption attribute's INTEGER; 0: none */
    enum est_key_family sig_family; /* the key family a requested signature algorithm needs */
    char sig_md[16];                /* its digest ("SHA384"), or a bare hash OID's */
    char sig_name[EST_OID_MAX];     /* its short name, for logs */
    size_t nextvals;                /* extensions sent with a value: DER Extension */
    struct est_csrattrs_val extvals[EST_CSRATTRS_MAX];
    size_t nattrvals; /* other attributes sent with values: DER Attribute */
    struct est_csrattrs_val attrvals[EST_CSRATTRS_MAX];
    size_t pool_len;
    unsigned char pool[EST_CSRATTRS_POOL];
};

/*
 * Parse a CsrAttrs body (base64 of DER, or DER; a trailing NUL and whitespace tolerated;
 * empty is an empty set). Entries beyond EST_CSRATTRS_MAX (or values beyond the pool) are
 * dropped. Garbage: ECA_EPARSE.
 */
enum eca_rc est_csrattrs_parse_body(const void *body, size_t len, struct est_csrattrs *out,
                                    struct eca_err *err);

/* A /csrattrs answer: 204 and 404 mean "nothing requested" (ECA_OK, empty set). */
enum eca_rc est_csrattrs_parse(const struct eca_http_resp *resp, struct est_csrattrs *out,
                               struct eca_err *err);

/* What the CSR is built from: the configuration merged with a /csrattrs answer. */
struct est_csrattrs_plan {
    enum eca_key_type key_type;
    struct eca_csr_extra extra; /* md, exts, attrs: borrowed from the est_csrattrs */
    struct eca_der exts[EST_CSRATTRS_MAX];
    struct eca_der attrs[EST_CSRATTRS_MAX];
    int server_san;     /* the subjectAltName is the server's (no names configured) */
    char applied[512];  /* "; "-separated, for the log */
    char ignored[1024]; /* what was asked for and not honoured, with why */
};

/*
 * Merge a (NULL: nothing asked) with the configuration: key_type (explicit: the operator set
 * it, so it wins over the server), the number of configured DNS names (configured names win
 * over a server's subjectAltName value) and whether the CSR carries proof-of-possession (a
 * challengePassword request is honoured then). Requests not honoured are named in ignored.
 * The plan borrows from a; a must outlive it.
 */
void est_csrattrs_plan(const struct est_csrattrs *a, enum eca_key_type key_type,
                       int key_type_explicit, size_t nsans, int pop, struct est_csrattrs_plan *out);

#endif
