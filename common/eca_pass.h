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
#include <time.h>

#include "eca_agentconf.h"
#include "eca_budget.h"
#include "eca_certcache.h"
#include "eca_deploy.h"
#include "eca_retry.h"

/* What a daemon keeps per certificate for these decisions. */
struct eca_pass_slot {
    struct eca_retry retry;
    struct eca_budget budget;
    int override;  /* the operator's override of a spent budget, not used yet */
    long lifetime; /* of the installed certificate (0: none): its renewals are allowed for */
    struct eca_certcache *cache; /* borrowed, set by the daemon: its files' cache (NULL: none) */
};

/*
 * The issuance budget of cc now: the setting plus the renewals the installed certificate's
 * lifetime needs in the window (eca_renew_per_window: 6-day certificates, two more), so that
 * short lifetimes keep renewing; 0 (no limit) when that exceeds ECA_BUDGET_MAX (a lifetime
 * under about 6 hours with the default budget).
 */
int eca_pass_budget(const struct eca_agentconf *g, const struct eca_certconf *cc,
                    const struct eca_pass_slot *s);

/* Load the slot of cc from STATE_DIR (problems logged; a fresh state is used instead). */
void eca_pass_slot_load(const struct eca_agentconf *g, const struct eca_certconf *cc,
                        struct eca_pass_slot *s);

/* Free what the slot holds (not its borrowed cache); a zeroed slot needs no clear. */
void eca_pass_slot_clear(struct eca_pass_slot *s);

/*
 * How a pass over cc goes, decided before the agent runs. The daemon runs its agent in order:
 * with resume, the agent with ECA_PASS_LOOK, eca_pass_resume(), and, when that took the step
 * up, the agent with ECA_PASS_LOOK again; otherwise (or when there was nothing to take up) the
 * agent with flags. Then eca_pass_finish().
 */
struct eca_pass_plan {
    int resume;     /* a reload or verify that failed is to be taken up first */
    unsigned flags; /* the agent's run: ECA_PASS_FORCE (forced, or an earlier failure to fetch),
                       ECA_PASS_LOOK (budget spent and not overridden) */
    int limit;      /* the issuance budget now (eca_pass_budget; 0: none) */
    int over;       /* it is spent */
    /* Set by eca_pass_resume(): */
    int resumed;        /* this pass is the take-up, whatever came of it: no run with flags */
    enum eca_step step; /* the step to take up again at the next try when it fails */
};

/* The plan of cc's pass at now (force: the operator's forced renewal, never a take-up). */
struct eca_pass_plan eca_pass_plan(const struct eca_agentconf *g, const struct eca_certconf *cc,
                                   const struct eca_pass_slot *s, int force, time_t now);

/*
 * The take-up, after the agent's look at the installed certificate (looked: its result in rc
 * and res): eca_deploy_resume() of the step s->retry names (targets: the files cc installs,
 * eca_deploy_set_targets() plus the daemon's own), and plan->resumed set. Nothing is taken up
 * (plan->resumed 0, ECA_OK: the agent then runs with plan->flags) when the installed
 * certificate itself needs a new one or the pair that failed is no longer there. A failed look
 * is the take-up's failure. On ECA_OK with plan->resumed, the agent looks again: the state and
 * next check are the new pair's now.
 */
enum eca_rc eca_pass_resume(const struct eca_agentconf *g, const struct eca_certconf *cc,
                            const struct eca_pass_slot *s, struct eca_deploy_set *targets,
                            enum eca_rc looked, struct eca_pass_plan *plan,
                            struct eca_pass_result *res, struct eca_err *err);

/*
 * After the agent's last run (rc, res): res completed for the record (a take-up's step and
 * serial; a new pair's state when it failed at its reload or verify), a certificate the CA
 * issued counted, the installed certificate's lifetime noted in s. Returns 1 when a new
 * certificate was due and the budget did not allow it (rc ECA_OK; see eca_pass_refuse).
 */
int eca_pass_finish(const struct eca_agentconf *g, const struct eca_certconf *cc,
                    struct eca_pass_slot *s, const struct eca_pass_plan *plan, enum eca_rc rc,
                    struct eca_pass_result *res);

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
