/* SPDX-License-Identifier: MIT */
/* The retry side of one certificate's pass, shared by both daemons around their agent. */
#include "eca_pass.h"

#include <stdio.h>
#include <string.h>

#include "eca_clock.h"
#include "eca_log.h"
#include "eca_renew.h"

/* The installed certificate's lifetime, from st or (NULL) the files. */
static void
note_lifetime(const struct eca_certconf *cc, struct eca_pass_slot *s,
              const struct eca_certstate *st)
{
    struct eca_certstate read;

    if (st == NULL &&
        eca_certcache_read(s->cache, cc->cert_path, cc->key_path, NULL, 0, &read, NULL) == ECA_OK)
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
    long need = eca_renew_per_window(s->lifetime, cc->threshold_pct, ECA_BUDGET_WINDOW_S);

    if (n <= 0 || need == 0)
        return n;
    /* More than can be counted (an hour's lifetime needs 250 a week): the backoff alone
     * bounds what a fault costs the CA. */
    if (need > ECA_BUDGET_MAX - n)
        return 0;
    return n + (int)need;
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

void
eca_pass_slot_clear(struct eca_pass_slot *s)
{
    eca_retry_clear(&s->retry);
    eca_budget_clear(&s->budget);
}

struct eca_pass_plan
eca_pass_plan(const struct eca_agentconf *g, const struct eca_certconf *cc,
              const struct eca_pass_slot *s, int force, time_t now)
{
    struct eca_pass_plan p = {0};

    p.resume = !force && eca_retry_resumes(&s->retry);
    p.limit = eca_pass_budget(g, cc, s);
    p.over = p.limit > 0 && eca_budget_remaining(&s->budget, p.limit, now) == 0;
    p.flags = force || eca_retry_refetch(&s->retry) ? ECA_PASS_FORCE : 0;
    p.flags |= p.over && !s->override ? ECA_PASS_LOOK : 0;
    return p;
}

enum eca_rc
eca_pass_resume(const struct eca_agentconf *g, const struct eca_certconf *cc,
                const struct eca_pass_slot *s, struct eca_deploy_set *targets, enum eca_rc looked,
                struct eca_pass_plan *plan, struct eca_pass_result *res, struct eca_err *err)
{
    const struct eca_retry *r = &s->retry;
    enum eca_rc rc;

    plan->step = r->step;
    plan->resumed = 0;
    if (looked != ECA_OK) {
        /* Still the same step to take up at the next try. */
        plan->resumed = 1;
        return looked;
    }
    /* The installed certificate itself due (past its renewal point, names changed): a renewal. */
    if (r->step == ECA_STEP_RELOAD && res->dec.reason != ECA_RENEW_NONE)
        return ECA_OK;
    rc = eca_deploy_resume(g->state_dir, cc, targets, r->step, eca_retry_serial(r), &plan->step,
                           err);
    eca_certcache_forget(s->cache); /* the kept pair may have been installed again */
    if (rc == ECA_ENOTFOUND) {
        eca_log(ECA_LOG_WARN, "deploy_resume_dropped", cc->name, NULL, 0, "%s", err->msg);
        eca_err_clear(err);
        return ECA_OK;
    }
    plan->resumed = 1;
    return rc;
}

int
eca_pass_finish(const struct eca_agentconf *g, const struct eca_certconf *cc,
                struct eca_pass_slot *s, const struct eca_pass_plan *plan, enum eca_rc rc,
                struct eca_pass_result *res)
{
    if (plan->resumed) {
        /* Done, a take-up has put the new pair in service: a renewal, without a fetch. */
        if (rc == ECA_OK)
            res->renewed = 1;
        res->step = rc == ECA_OK ? ECA_STEP_NONE : plan->step;
        snprintf(res->serial, sizeof res->serial, "%s", eca_retry_serial(&s->retry));
        note_lifetime(cc, s, &res->st);
        return 0;
    }
    /* A new pair in place: its lifetime sets the backoff (a short one retries sooner). */
    if (rc != ECA_OK && (res->step == ECA_STEP_RELOAD || res->step == ECA_STEP_VERIFY) &&
        eca_certstate_read(cc->cert_path, cc->key_path, &res->st, NULL) != ECA_OK)
        memset(&res->st, 0, sizeof res->st);
    if (res->issued)
        eca_certcache_forget(s->cache); /* a new pair may be in place, whatever came of it */
    if (res->issued) {
        eca_budget_issued(g->state_dir, cc->name, &s->budget, plan->limit, plan->over,
                          eca_clock_now());
        s->override = s->override && !plan->over;
    }
    if (res->st.present)
        note_lifetime(cc, s, &res->st);
    return rc == ECA_OK && (plan->flags & ECA_PASS_LOOK) && res->dec.reason != ECA_RENEW_NONE;
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
    eca_retry_set_serial(&s->retry, keep ? res->serial : NULL);
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
