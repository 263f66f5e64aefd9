/* SPDX-License-Identifier: MIT */
/* One managed EST certificate: check (incl. CRL), decide, enroll or re-enroll, install, reload. */
#ifndef EST_AGENT_H
#define EST_AGENT_H

#include <stdio.h>
#include <time.h>

#include "eca_err.h"
#include "eca_http.h"
#include "eca_renew.h"
#include "est_conf.h"

/* Process-level hooks for a pass; every field may be NULL/0. */
struct est_agent_env {
    int (*should_stop)(void);
    /* Transport factory (tests); NULL: eca_http_curl_new. */
    enum eca_rc (*http_new)(const struct eca_http_opts *opts, struct eca_http **out,
                            struct eca_err *err);
    void (*sleep_s)(unsigned s);
    int force; /* renew this pass whatever the lifetime (--force, USR1) */
};

/* What a pass did, for the loop and for tests. */
struct est_agent_result {
    enum eca_renew_reason reason; /* ECA_RENEW_NONE: nothing to do */
    int renewed;                  /* a new certificate was installed */
    int reenrolled;               /* via simplereenroll (else simpleenroll) */
    time_t next_check;
    char serial[130]; /* of the installed certificate */
};

/*
 * One pass for certificate cc at `now`: read what is installed, check the CRL when
 * enabled (revoked: renew now, with the bootstrap credentials), decide, and when due
 * enroll and install atomically, then reload. One JSON log line per step; failures are
 * returned (not logged) with the step named in err.
 */
enum eca_rc est_agent_run(const struct est_conf *conf, const struct est_cert_conf *cc,
                          const struct est_agent_env *env, time_t now, struct est_agent_result *res,
                          struct eca_err *err);

/* Print one line per fact about cc (subject, serial, expiry, lifetime left, next action). */
void est_agent_status(const struct est_conf *conf, const struct est_cert_conf *cc, time_t now,
                      FILE *out);

#endif
