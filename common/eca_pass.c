/* SPDX-License-Identifier: MIT */
/* The retry side of one certificate's pass, shared by both daemons around their agent. */
#include "eca_pass.h"

#include <stdio.h>
#include <string.h>

#include "eca_clock.h"
#include "eca_log.h"

/* The installed certificate's lifetime, from st or (NULL) the files. */
static void
note_lifetime(const struct eca_certconf *cc, struct eca_pass_slot *s,
              const struct eca_certstate *st)
{
    struct eca_certstate read;

    if (st == NULL && eca_certstate_read(cc->cert_path, cc->key_path, &read, NULL) == ECA_OK)
        st = &read;
    s->lifetime = st && st->present && st->not_after > st->not_before
                      ? (long)(st->not_after - st->not_before)
                      : 0;
}

int
eca_pass_budget(const struct eca_agentconf *g, const struct eca_certconf *cc,
                const struct eca_pass_slot *s)
{
    int n = eca_certconf_issuance_budget(cc, g);
    long period = s->lifetime / 100 * (100 - cc->threshold_pct);

    if (n <= 0 || period <= 0)
        return n;
    if (ECA_BUDGET_WINDOW_S / period > ECA_BUDGET_MAX - n)
        return 0;
    return n + (int)(ECA_BUDGET_WINDOW_S / period);
}

void
eca_pass_slot_load(const struct eca_agentconf *g, const struct eca_certconf *cc,
                   struct eca_pass_slot *s)
{
    struct eca_err err = {0};

    if (eca_retry_load(g->state_dir, cc->name, &s->retry, &err) != ECA_OK)
        eca_log(ECA_LOG_WARN, "sched_unreadable", cc->name, NULL, 0, "%s; starting afresh",
                err.msg);
    eca_err_clear(&err);
    if (eca_budget_load(g->state_dir, cc->name, eca_clock_now(), &s->budget, &err) != ECA_OK)
        eca_log(ECA_LOG_WARN, "issuance_record_unreadable", cc->name, NULL, 0,
                "%s; counting from zero", err.msg);
    s->override = g->budget_override;
    note_lifetime(cc, s, NULL);
}

/*
 * The new pair that failed at its reload or verify, again: *resumed = 0 when there is nothing
 * to take up (the pair was replaced, or the installed certificate needs a new one itself).
 */
static enum eca_rc
resume(const struct eca_agentconf *g, const struct eca_certconf *cc, const struct eca_retry *r,
       struct eca_deploy_set *targets, eca_pass_fn run, void *agent, size_t i,
       struct eca_pass_result *res, int *resumed, struct eca_err *err)
{
    enum eca_step step = r->step;
    enum eca_rc rc;

    *resumed = 0;
    if ((rc = run(agent, i, ECA_PASS_LOOK, res, err)) != ECA_OK) {
        /* Still the same step to take up at the next try. */
        res->step = step;
        snprintf(res->serial, sizeof res->serial, "%s", r->serial);
        return rc;
    }
    /* The installed certificate itself due (past its renewal point, names changed): a renewal. */
    if (r->step == ECA_STEP_RELOAD && res->dec.reason != ECA_RENEW_NONE)
        return ECA_OK;
    rc = eca_deploy_resume(g->state_dir, cc, targets, r->step, r->serial, &step, err);
    if (rc == ECA_ENOTFOUND) {
        eca_log(ECA_LOG_WARN, "deploy_resume_dropped", cc->name, NULL, 0, "%s", err->msg);
        eca_err_clear(err);
        return ECA_OK;
    }
    *resumed = 1;
    /* Look again: the state and next check are the new pair's now. */
    if (rc == ECA_OK && (rc = run(agent, i, ECA_PASS_LOOK, res, err)) == ECA_OK)
        res->renewed = 1;
    res->step = rc == ECA_OK ? ECA_STEP_NONE : step;
    snprintf(res->serial, sizeof res->serial, "%s", r->serial);
    return rc;
}

enum eca_rc
eca_pass_run(const struct eca_agentconf *g, const struct eca_certconf *cc, struct eca_pass_slot *s,
             struct eca_deploy_set *targets, int force, eca_pass_fn run, void *agent, size_t i,
             struct eca_pass_result *res, int *refused, struct eca_err *err)
{
    int limit = eca_pass_budget(g, cc, s), resumed = 0, over;
    unsigned flags;
    enum eca_rc rc = ECA_OK;

    *refused = 0;
    memset(res, 0, sizeof(*res));
    if (!force && eca_retry_resumes(&s->retry) &&
        ((rc = resume(g, cc, &s->retry, targets, run, agent, i, res, &resumed, err)) != ECA_OK ||
         resumed)) {
        note_lifetime(cc, s, &res->st);
        return rc;
    }
    over = limit > 0 && eca_budget_remaining(&s->budget, limit, eca_clock_now()) == 0;
    flags = force || eca_retry_refetch(&s->retry) ? ECA_PASS_FORCE : 0;
    flags |= over && !s->override ? ECA_PASS_LOOK : 0;
    rc = run(agent, i, flags, res, err);
    /* A new pair in place: its lifetime sets the backoff (a short one retries sooner). */
    if (rc != ECA_OK && (res->step == ECA_STEP_RELOAD || res->step == ECA_STEP_VERIFY) &&
        eca_certstate_read(cc->cert_path, cc->key_path, &res->st, NULL) != ECA_OK)
        memset(&res->st, 0, sizeof res->st);
    if (res->issued) {
        eca_budget_issued(g->state_dir, cc->name, &s->budget, limit, over, eca_clock_now());
        s->override = s->override && !over;
    }
    *refused = rc == ECA_OK && (flags & ECA_PASS_LOOK) && res->dec.reason != ECA_RENEW_NONE;
    if (res->st.present)
        note_lifetime(cc, s, &res->st);
    return rc;
}

time_t
eca_pass_refuse(const struct eca_agentconf *g, const struct eca_certconf *cc,
                struct eca_pass_slot *s, time_t now, struct eca_err *err)
{
    time_t until =
        eca_budget_refused(&s->budget, eca_certconf_issuance_budget(cc, g), cc->name, now, err);

    return eca_retry_refuse(g->state_dir, cc->name, &s->retry, err, until);
}

time_t
eca_pass_fail(const struct eca_agentconf *g, const char *name, struct eca_pass_slot *s,
              const struct eca_pass_result *res, const struct eca_err *e, long base_s, long cap_s,
              time_t now)
{
    int keep = res->step == ECA_STEP_RELOAD || res->step == ECA_STEP_VERIFY;

    s->retry.step = res->step;
    snprintf(s->retry.serial, sizeof s->retry.serial, "%s", keep ? res->serial : "");
    return eca_retry_fail(g->state_dir, name, &s->retry, &res->st, e, base_s, cap_s,
                          g->check_interval_s, eca_deploy_seed(name), now);
}

int
eca_pass_budget_left(const struct eca_agentconf *g, const struct eca_certconf *cc,
                     const struct eca_pass_slot *s, time_t now)
{
    int limit = eca_pass_budget(g, cc, s);

    return limit > 0 ? eca_budget_remaining(&s->budget, limit, now) : -1;
}
