/* SPDX-License-Identifier: MIT */
/* One pass over one managed certificate: check, decide, act (order, install), reload. */
#ifndef ACME_AGENT_H
#define ACME_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "acme_conf.h"
#include "eca_certcache.h"
#include "eca_err.h"
#include "eca_deploy.h"
#include "eca_http.h"
#include "eca_status.h"

struct acme_agent;

/*
 * An agent for conf (borrowed: it must outlive the agent). Creates STATE_DIR (0700); the
 * daemon rolls interrupted installs forward itself, at start. The ACME account and the
 * http-01 responder are set up lazily, at the first renewal or revocation.
 */
enum eca_rc acme_agent_new(const struct acme_conf *conf, struct acme_agent **out,
                           struct eca_err *err);

/*
 * A worker of parent (after acme_agent_set_stop on it), for running passes of different
 * certificates at once (concurrency): acme_agent_run on each worker from its own thread, never
 * on parent meanwhile. A worker has its own transport, client and nonces, and shares the
 * parent's configuration and renewal information; the account is found or created once, by
 * parent under its lock, and every worker's http-01 challenges go through one shared
 * responder (one listener). Free the workers before parent.
 */
enum eca_rc acme_agent_new_worker(struct acme_agent *parent, struct acme_agent **out,
                                  struct eca_err *err);

/*
 * Between passes: a worker frees its client, account key copy and transport (the next pass
 * sets them up again, from the account in STATE_DIR), so that an idle daemon holds one of
 * each, not one per worker. The agent itself keeps the account and forgets the CRLs the
 * pass shared (eca_crlmemo_clear).
 */
void acme_agent_rest(struct acme_agent *a);

/* A stop predicate polled while the ACME client waits (signals); NULL: never. */
void acme_agent_set_stop(struct acme_agent *a, int (*should_stop)(void));

/*
 * One pass for certificate i: read what is installed, decide, and renew
 * when due (or when force is set): new key, CSR, order, then eca_deploy_run (install,
 * reload, verify). One JSON log event per step; res holds the state and next check.
 * The decision includes the CA's renewal information (RFC 9773) when the directory offers it:
 * res->dec.reason is ECA_RENEW_SUGGESTED when the chosen time in the CA's window has come,
 * res->dec.renew_at the earlier of that time and the lifetime threshold, and res->dec.next_check
 * is no later than the chosen time nor the next renewalInfo request (Retry-After). The loop
 * needs nothing else: sleeping until res->dec.next_check honours ARI. The renewal's newOrder
 * carries "replaces" with the installed certificate's certID. force is a set of ECA_PASS_*
 * flags (1: forced); with ECA_PASS_LOOK the pass decides and returns, fetching nothing. A
 * failure names its step in res->step; res->issued says the CA issued a certificate.
 */
enum eca_rc acme_agent_run(struct acme_agent *a, size_t i, int force, struct eca_pass_result *res,
                           struct eca_err *err);

/* Revoke the installed certificate i (RFC 8555 §7.6) with an RFC 5280 reason code. */
enum eca_rc acme_agent_revoke(struct acme_agent *a, size_t i, int reason, struct eca_err *err);

/*
 * Roll the account key over (RFC 8555 §7.3.5): a new key of the same type is written to
 * STATE_DIR/account.key.new (0600), the CA is asked to take it, and only on its 200 the old
 * key becomes account.key.prev and the new one account.key. A refusal removes .new; a lost
 * answer is settled by asking the CA with the new key. An account.key.new found at the next
 * start is settled the same way before anything else (account_key_rollover_finished or
 * account_key_rollover_undone). The account is looked up, never created.
 */
enum eca_rc acme_agent_key_change(struct acme_agent *a, struct eca_err *err);

/*
 * Deactivate the account (RFC 8555 §7.3.6), looked up, never created: on the CA's
 * confirmation STATE_DIR/account.url is removed and STATE_DIR/account.deactivated records the
 * account and the key's thumbprint. Every later renewal with that key then fails at once,
 * without a signed request, saying so; another account.key registers a new account.
 */
enum eca_rc acme_agent_deactivate(struct acme_agent *a, struct eca_err *err);

/*
 * Check every certificate's `profile` against the directory's meta.profiles (fetching the
 * directory when needed): an unknown profile is ECA_ECONF naming the profiles the CA offers;
 * a CA without profiles gets a `profile_unsupported` warning per certificate (ECA_ECONF with
 * profile_required). Network failures are returned as they are. For the daemon's start; the
 * same check runs before every order anyway.
 */
enum eca_rc acme_agent_check_profiles(struct acme_agent *a, struct eca_err *err);

/* The profile the CA echoed for certificate i's last order (for `status`): 1 and out, or 0. */
int acme_agent_profile(const struct acme_agent *a, size_t i, char *out, size_t outlen);

/*
 * The renewal time chosen in the CA's suggested window for the installed certificate i, as
 * persisted in STATE_DIR/<name>.ari (for `status`, which acts on nothing): 1 and *at, or 0.
 */
int acme_agent_ari_renew_at(const struct acme_agent *a, size_t i, time_t *at);

/*
 * Status of certificate i without acting (for `status`): eca_deploy_status() with the persisted
 * ARI renewal time folded in: renew_at is the earlier of the two, and a certificate waiting for
 * its renewal shows next_reason "suggested" (now) or "renew" at the ARI time when that comes
 * first. Reads files only: no request to the CA.
 */
void acme_agent_status(const struct acme_conf *conf, size_t i, time_t now,
                       struct eca_status_cert *out);

/*
 * acme_agent_status() for the daemon: the files are read through certificate i's cache, so
 * the pass that follows (and the ones after it) read them only when they changed.
 */
void acme_agent_look(struct acme_agent *a, size_t i, time_t now, struct eca_status_cert *out);

/* Certificate i's file cache (borrowed, lives as long as a), for the daemon's own reads. */
struct eca_certcache *acme_agent_cache(struct acme_agent *a, size_t i);

/* Tests: the random source of the ARI renewal time (NULL: RAND_bytes). */
void acme_agent_set_random(struct acme_agent *a, uint64_t (*rnd)(void *ctx), void *ctx);

/* Tests: use http (borrowed, must outlive the agent) instead of a libcurl transport. */
void acme_agent_set_transport(struct acme_agent *a, struct eca_http *http);

void acme_agent_free(struct acme_agent *a);

#endif
