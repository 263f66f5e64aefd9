/* SPDX-License-Identifier: MIT */
/* One pass over one managed certificate: check, decide, act (order, install), reload. */
#ifndef ACME_AGENT_H
#define ACME_AGENT_H

#include <stddef.h>
#include <time.h>

#include "acme_conf.h"
#include "eca_certstate.h"
#include "eca_err.h"
#include "eca_renew.h"

struct acme_agent;

/* What `status` prints for one certificate. */
struct acme_cert_status {
    struct eca_certstate state;
    struct eca_renew_out decision;
    long lifetime_left_s; /* not_after - now; 0 when absent */
    int lifetime_left_pct;
};

/*
 * An agent for conf (borrowed: it must outlive the agent). Creates STATE_DIR (0700) and rolls
 * forward any interrupted install (journal STATE_DIR/<name>.journal). The ACME account and
 * the http-01 responder are set up lazily, at the first renewal or revocation.
 */
enum eca_rc acme_agent_new(const struct acme_conf *conf, struct acme_agent **out,
                           struct eca_err *err);

/* A stop predicate polled while the ACME client waits (signals); NULL: never. */
void acme_agent_set_stop(struct acme_agent *a, int (*should_stop)(void));

/*
 * One pass for certificate i: read what is installed, decide, and renew when due (or when
 * force is set): new key, CSR, order, install key then certificate, reload. One JSON log
 * event per step. *next_check is when to look again (backoff after failures).
 */
enum eca_rc acme_agent_run(struct acme_agent *a, size_t i, int force, time_t *next_check,
                           struct eca_err *err);

/* Installed state and the decision for certificate i, without acting. */
enum eca_rc acme_agent_status(struct acme_agent *a, size_t i, struct acme_cert_status *st,
                              struct eca_err *err);

/* Revoke the installed certificate i (RFC 8555 §7.6) with an RFC 5280 reason code. */
enum eca_rc acme_agent_revoke(struct acme_agent *a, size_t i, int reason, struct eca_err *err);

void acme_agent_free(struct acme_agent *a);

#endif
