/* SPDX-License-Identifier: MIT */
/*
 * The retry side of one certificate's pass, shared by both daemons around their agent: a new
 * pair that failed at its reload or verify is taken up again without fetching another; a
 * failure before a new pair was in place retries as a renewal; a spent issuance budget lets
 * the pass look but not fetch.
 */
#ifndef ECA_PASS_H
#define ECA_PASS_H

#include <stddef.h>

#include "eca_agentconf.h"
#include "eca_budget.h"
#include "eca_deploy.h"
#include "eca_retry.h"

/* The agent's pass over certificate i with ECA_PASS_* flags (check, decide, act). */
typedef enum eca_rc (*eca_pass_fn)(void *agent, size_t i, unsigned flags,
                                   struct eca_pass_result *res, struct eca_err *err);

/* What a daemon keeps per certificate for these decisions. */
struct eca_pass_slot {
    struct eca_retry retry;
    struct eca_budget budget;
    int override;  /* the operator's override of a spent budget, not used yet */
    long lifetime; /* of the installed certificate (0: none): its renewals are allowed for */
};

/*
 * The issuance budget of cc now: the setting plus the renewals the installed certificate's
 * lifetime needs in the window (a week of 6-day certificates renewed at a third left: one more),
 * so that short lifetimes keep renewing; 0 (no limit) when that exceeds ECA_BUDGET_MAX.
 */
int eca_pass_budget(const struct eca_agentconf *g, const struct eca_certconf *cc,
                    const struct eca_pass_slot *s);

/* Load the slot of cc from STATE_DIR (problems logged; a fresh state is used instead). */
void eca_pass_slot_load(const struct eca_agentconf *g, const struct eca_certconf *cc,
                        struct eca_pass_slot *s);

/*
 * Certificate i's pass: eca_deploy_resume() when s->retry says so and force is not set
 * (targets: the files cc installs, eca_deploy_set_targets() plus the daemon's own), else
 * run() (renewal forced by force or an earlier failure to fetch, looking only when the budget
 * is spent and not overridden). A certificate the CA issued is counted. *refused: a new
 * certificate was due and the budget did not allow it (rc ECA_OK; see eca_pass_refuse).
 */
enum eca_rc eca_pass_run(const struct eca_agentconf *g, const struct eca_certconf *cc,
                         struct eca_pass_slot *s, struct eca_deploy_set *targets, int force,
                         eca_pass_fn run, void *agent, size_t i, struct eca_pass_result *res,
                         int *refused, struct eca_err *err);

/* A refused pass: logged, recorded in the retry state (err says why); returns when to retry. */
time_t eca_pass_refuse(const struct eca_agentconf *g, const struct eca_certconf *cc,
                       struct eca_pass_slot *s, time_t now, struct eca_err *err);

/* A failed pass: its step (and the new pair's serial) into the retry state, then eca_retry_fail. */
time_t eca_pass_fail(const struct eca_agentconf *g, const char *name, struct eca_pass_slot *s,
                     const struct eca_pass_result *res, const struct eca_err *e, long base_s,
                     long cap_s, time_t now);

/* New certificates cc may still get now; -1 when it has no budget. For the metrics. */
int eca_pass_budget_left(const struct eca_agentconf *g, const struct eca_certconf *cc,
                         const struct eca_pass_slot *s, time_t now);

#endif
