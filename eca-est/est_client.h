/* SPDX-License-Identifier: MIT */
/* The EST driver: the only EST file that talks to a transport (RFC 7030 §4; RFC 8951). */
#ifndef EST_CLIENT_H
#define EST_CLIENT_H

#include <stddef.h>

#include "eca_buf.h"
#include "eca_err.h"
#include "eca_http.h"
#include "eca_secret.h"
#include "eca_x509.h"
#include "est_enroll.h"

struct est_client_opts {
    const char *base_url;     /* https://host/.well-known/est[/label], no trailing slash */
    long max_pending_s;       /* cap on 202 polling within the call (0: 300) */
    long default_retry_s;     /* wait after a 202 without Retry-After (0: 10) */
    int (*should_stop)(void); /* polled while waiting (eca_clock_sleep_ms); NULL: never */
    /* Told of every 202 before anything else happens (the caller keeps the request): what the
     * server asked for (-1: no usable Retry-After) and the wait within this call that follows
     * (0: none, est_client_enroll returns ECA_EAGAIN). NULL: nobody is told. */
    void (*pending)(void *ctx, long retry_after, long wait_s);
    void *pending_ctx;
};

/* Credentials for one enrollment. Transports are borrowed and chosen by the caller. */
struct est_client_auth {
    struct eca_http *http; /* server-authenticated TLS, with the client certificate
                              when one authenticates (bootstrap or current cert) */
    const char *username;  /* HTTP Basic or Digest (first enrollment); NULL: none */
    const struct eca_secret *password;
    int basic_preemptive; /* 1: Basic at once; 0: only after a 401 challenge. A Digest
                             challenge (RFC 7616) is answered either way. */
    const struct eca_http_conn_info *pop; /* the connection whose tls-unique the CSR's
                                             challengePassword carries (RFC 7030 §3.5);
                                             NULL: no proof-of-possession */
    int anonymous;          /* no credential at all (no user, no client certificate): a 401
                               says what to provide */
    const char *token_gone; /* with anonymous: a configured token file that no longer exists */
};

/*
 * GET /cacerts (RFC 7030 §4.1) over http. On success *out holds the CA certificates as
 * sent. Transport failures keep their code, prefixed with the URL.
 */
enum eca_rc est_client_cacerts(const struct est_client_opts *o, struct eca_http *http,
                               struct eca_chain **out, struct eca_err *err);

/*
 * GET /csrattrs (RFC 7030 §4.5); 204/404 give an empty set. conn (may be NULL) gets the
 * connection the answer came on: its tls-unique is what a proof-of-possession CSR carries.
 */
enum eca_rc est_client_csrattrs(const struct est_client_opts *o, struct eca_http *http,
                                struct est_csrattrs *out, struct eca_http_conn_info *conn,
                                struct eca_err *err);

/*
 * POST /simpleenroll (reenroll = 0) or /simplereenroll with csr_der. The transport answers
 * 401 challenges (Basic after a challenge unless preemptive, Digest); a 202 is resent after
 * its Retry-After (RFC 7030 §4.2.3) while the waits fit in max_pending_s; a longer one ends
 * the call with ECA_EAGAIN, err->retry_after holding what the server asked for (-1: nothing)
 * and the message saying so. On success *issued holds the certificates of the answer.
 * ECA_EAUTH (naming the scheme the server challenged for, its text, and a proof-of-possession
 * CSR sent over another connection), ECA_ESERVER or ECA_ESTOPPED otherwise.
 */
enum eca_rc est_client_enroll(const struct est_client_opts *o, const struct est_client_auth *a,
                              int reenroll, const void *csr_der, size_t csr_len,
                              struct eca_chain **issued, struct eca_err *err);

/* Wait secs in one-second slices; ECA_ESTOPPED as soon as o->should_stop() says so. */
enum eca_rc est_client_wait(const struct est_client_opts *o, long secs, struct eca_err *err);

#endif
