/* SPDX-License-Identifier: MIT */
/* One pass over one managed certificate: check, decide, act (order, install), reload. */
#ifndef ACME_AGENT_H
#define ACME_AGENT_H

#include <stddef.h>
#include <time.h>

#include "acme_conf.h"
#include "eca_err.h"
#include "eca_deploy.h"

struct acme_agent;

/*
 * An agent for conf (borrowed: it must outlive the agent). Creates STATE_DIR (0700); the
 * daemon rolls interrupted installs forward itself, at start. The ACME account and the
 * http-01 responder are set up lazily, at the first renewal or revocation.
 */
enum eca_rc acme_agent_new(const struct acme_conf *conf, struct acme_agent **out,
                           struct eca_err *err);

/* A stop predicate polled while the ACME client waits (signals); NULL: never. */
void acme_agent_set_stop(struct acme_agent *a, int (*should_stop)(void));

/*
 * One pass for certificate i: read what is installed, decide, and renew
 * when due (or when force is set): new key, CSR, order, then eca_deploy_run (install,
 * reload, verify). One JSON log event per step; res holds the state and next check.
 */
enum eca_rc acme_agent_run(struct acme_agent *a, size_t i, int force, struct eca_pass_result *res,
                           struct eca_err *err);

/* Revoke the installed certificate i (RFC 8555 §7.6) with an RFC 5280 reason code. */
enum eca_rc acme_agent_revoke(struct acme_agent *a, size_t i, int reason, struct eca_err *err);

void acme_agent_free(struct acme_agent *a);

#endif
