/* SPDX-License-Identifier: MIT */
/* One managed EST certificate: check (incl. CRL), decide, enroll or re-enroll, install, reload. */
#ifndef EST_AGENT_H
#define EST_AGENT_H

#include "eca_certcache.h"
#include "eca_crlmemo.h"
#include "eca_err.h"
#include "eca_http.h"
#include "eca_deploy.h"
#include "eca_status.h"
#include "est_conf.h"

/* Process-level hooks for a pass; every field may be NULL. */
struct est_agent_env {
    int (*should_stop)(void);
    /* Transport factory (tests); NULL: eca_http_curl_new. */
    enum eca_rc (*http_new)(const struct eca_http_opts *opts, struct eca_http **out,
                            struct eca_err *err);
    /* CRL downloads shared by the certificates of a pass naming the same URL (the daemon's,
     * emptied when a pass ends); NULL: each check downloads. */
    struct eca_crlmemo *crl_memo;
};

/*
 * One pass for certificate cc: read what is installed, check the CRL when enabled
 * (revoked: renew now, with the bootstrap credentials), decide (force: renew whatever the
 * lifetime), and when due enroll or re-enroll, then eca_deploy_run (install, reload,
 * verify). One JSON log line per step; failures are returned (not logged) with the step
 * named in err (and in res->step). res holds the installed state and the next check;
 * res->issued says the CA issued a certificate. force is a set of ECA_PASS_* flags (1:
 * forced); with ECA_PASS_LOOK the pass checks and decides, and enrolls nothing.
 *
 * A 202 (RFC 7030 §4.2.3) keeps key and CSR in STATE_DIR (est_pending.h); later passes send
 * that same request again at the time the server asked, until it is issued (installed with
 * that key) or older than max_pending_hours. A pass that ends with the request pending
 * returns ECA_EAGAIN with res->dec.next_check = the next try: a scheduled wake-up, not a
 * failure. force sends a pending request at once.
 *
 * cache (NULL: none; one per certificate) keeps what the installed files held between passes:
 * they are read again only when they changed (eca_certcache_read), and after an install.
 */
enum eca_rc est_agent_run(const struct est_conf *conf, const struct est_cert_conf *cc,
                          const struct est_agent_env *env, struct eca_certcache *cache, int force,
                          struct eca_pass_result *res, struct eca_err *err);

/*
 * The status of cc from its files alone (`status`): the installed certificate, its retry
 * state, whether it is known to be revoked (eca_revoked.h), a pending request.
 */
void est_agent_status(const struct est_conf *conf, const struct est_cert_conf *cc, time_t now,
                      struct eca_status_cert *out);

/* Add a pending request of cc (if any) to its status: since, next try, next action. Reads only. */
void est_agent_pending_status(const struct est_conf *conf, const struct est_cert_conf *cc,
                              struct eca_status_cert *out);

#endif
