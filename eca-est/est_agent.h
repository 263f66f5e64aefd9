/* SPDX-License-Identifier: MIT */
/* One managed EST certificate: check (incl. CRL), decide, enroll or re-enroll, install, reload. */
#ifndef EST_AGENT_H
#define EST_AGENT_H

#include "eca_err.h"
#include "eca_http.h"
#include "eca_deploy.h"
#include "est_conf.h"

/* Process-level hooks for a pass; every field may be NULL. */
struct est_agent_env {
    int (*should_stop)(void);
    /* Transport factory (tests); NULL: eca_http_curl_new. */
    enum eca_rc (*http_new)(const struct eca_http_opts *opts, struct eca_http **out,
                            struct eca_err *err);
};

/*
 * One pass for certificate cc: read what is installed, check the CRL when enabled
 * (revoked: renew now, with the bootstrap credentials), decide (force: renew whatever the
 * lifetime), and when due enroll or re-enroll, then eca_deploy_run (install, reload,
 * verify). One JSON log line per step; failures are returned (not logged) with the step
 * named in err. res holds the installed state and the next check.
 */
enum eca_rc est_agent_run(const struct est_conf *conf, const struct est_cert_conf *cc,
                          const struct est_agent_env *env, int force, struct eca_pass_result *res,
                          struct eca_err *err);

#endif
