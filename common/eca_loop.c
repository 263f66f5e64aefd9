/* SPDX-License-Identifier: MIT */
/* The agent loop both daemons run: schedule, pass, back off, report, sleep until due. */
#include "eca_loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eca.h"
#include "eca_agent.h"
#include "eca_clock.h"
#include "eca_daemon.h"
#include "eca_log.h"
#include "eca_sched.h"
#include "eca_status.h"

/* Per-certificate loop state. */
struct slot {
    struct eca_sched sched;
    time_t due;
    struct eca_status_cert status;
};

/* The longest backoff after repeated failures (further capped per certificate). */
#define BACKOFF_CAP_S 3600L

void
eca_loop_init(struct eca_loop *l, const char *agent, const struct eca_agentconf *g,
              const void *certs, size_t ncerts, size_t stride, long backoff_base_s,
              eca_loop_run_fn run, void *ctx)
{
    memset(l, 0, sizeof(*l));
    l->agent = agent;
    l->version = ECA_VERSION;
    l->g = g;
    l->certs = certs;
    l->ncerts = ncerts;
    l->stride = stride;
    l->backoff_base_s = backoff_base_s;
    l->backoff_cap_s = BACKOFF_CAP_S;
    l->run = run;
    l->ctx = ctx;
}

static const struct eca_certconf *
cert_at(const struct eca_loop *l, size_t i)
{
    return (const struct eca_certconf *)((const unsigned char *)l->certs + i * l->stride);
}

static void
slots_init(const struct eca_loop *l, struct slot *s, time_t now, int once)
{
    for (size_t i = 0; i < l->ncerts; i++) {
        const struct eca_certconf *cc = cert_at(l, i);
        struct eca_err err = {0};

        if (eca_sched_load(l->g->state_dir, cc->name, &s[i].sched, &err) != ECA_OK)
            eca_log(ECA_LOG_WARN, "sched_unreadable", cc->name, NULL, 0, "%s; starting afresh",
                    err.msg);
        /* A persisted backoff holds across daemon restarts; everything else is looked at now.
         * A --once run is an explicit request (cron, an operator after a fix): it goes now. */
        s[i].due = !once && s[i].sched.failures > 0 && s[i].sched.next_attempt > now
                       ? s[i].sched.next_attempt
                       : now;
        eca_agent_status(cc, l->g->state_dir, l->g->check_interval_s, now, &s[i].status);
        if (l->metrics)
            eca_metrics_cert_add(l->metrics, cc->name, NULL);
    }
}

static void
save_sched(const struct eca_loop *l, const struct eca_certconf *cc, const struct eca_sched *s)
{
    struct eca_err err = {0};

    if (eca_sched_save(l->g->state_dir, cc->name, s, &err) != ECA_OK)
        eca_log(ECA_LOG_WARN, "sched_save_failed", cc->name, NULL, 0, "%s", err.msg);
}

/* Backoff capped by the check interval and by a quarter of what is left of the lifetime. */
static long
backoff_cap(const struct eca_loop *l, const struct eca_certstate *st, time_t now)
{
    long cap =
        l->backoff_cap_s < l->g->check_interval_s ? l->backoff_cap_s : l->g->check_interval_s;

    if (st->present && st->not_after > now && (st->not_after - now) / 4 < cap)
        cap = (long)((st->not_after - now) / 4);
    return cap > 0 ? cap : 1;
}

static int
on_failure(const struct eca_loop *l, const struct eca_certconf *cc, struct slot *s,
           const struct eca_pass_result *res, const struct eca_err *err)
{
    time_t now = eca_clock_now();
    long life = res->st.present ? (long)(res->st.not_after - res->st.not_before) : 0;
    long wait = eca_sched_failed(&s->sched, err, now, l->backoff_base_s,
                                 backoff_cap(l, &res->st, now), life, eca_agent_seed(cc->name));
    char at[32];

    s->due = s->sched.next_attempt;
    save_sched(l, cc, &s->sched);
    eca_log(ECA_LOG_ERROR, "renew_failed", cc->name,
            ECA_LOG_FIELDS(ECA_LS("rc", eca_rc_name(err->rc)),
                           ECA_LI("failures", s->sched.failures), ECA_LI("retry_in", wait),
                           ECA_LS("retry_at", eca_status_time(s->due, at, sizeof at))),
            "%s", err->msg);
    if (l->metrics)
        eca_metrics_renewal_failed(l->metrics, cc->name, eca_rc_name(err->rc), NULL);
    return 1;
}

/* One certificate; returns 1 when it failed. */
static int
pass_one(const struct eca_loop *l, size_t i, struct slot *s, int force)
{
    const struct eca_certconf *cc = cert_at(l, i);
    struct eca_pass_result res;
    struct eca_err err = {0};
    enum eca_rc rc;
    int failed = 0;

    memset(&res, 0, sizeof res);
    /* After a failure the retry is a renewal, not just a look (e.g. after a rollback). */
    rc = l->run(l->ctx, i, force || s->sched.failures > 0, &res, &err);
    if (rc == ECA_ESTOPPED) {
        eca_log(ECA_LOG_INFO, "renew_abandoned", cc->name, NULL, 0, "stop requested");
        return 0;
    }
    if (rc != ECA_OK) {
        failed = on_failure(l, cc, s, &res, &err);
    } else {
        if (s->sched.failures > 0 || res.renewed) {
            eca_sched_succeeded(&s->sched, res.renewed, eca_clock_now());
            save_sched(l, cc, &s->sched);
        }
        s->due = res.dec.next_check;
        if (res.renewed && l->metrics)
            eca_metrics_renewal_succeeded(l->metrics, cc->name, eca_clock_now(), NULL);
    }
    if (l->metrics && res.st.present)
        eca_metrics_set_validity(l->metrics, cc->name, res.st.not_before, res.st.not_after, NULL);
    else if (l->metrics && rc == ECA_OK)
        eca_metrics_clear_validity(l->metrics, cc->name);
    eca_agent_status_fill(&s->status, cc->name, &res.st, &res.dec, &s->sched, eca_clock_now());
    return failed;
}

static void
report(const struct eca_loop *l, const struct slot *s)
{
    struct eca_status_cert *v = calloc(l->ncerts ? l->ncerts : 1, sizeof(*v));
    struct eca_err err = {0};
    time_t now = eca_clock_now();

    for (size_t i = 0; v && i < l->ncerts; i++)
        v[i] = s[i].status;
    if (v &&
        eca_status_write(l->g->state_dir, l->agent, l->version, v, l->ncerts, now, &err) != ECA_OK)
        eca_log(ECA_LOG_WARN, "status_write_failed", NULL, NULL, 0, "%s", err.msg);
    free(v);
    eca_err_clear(&err);
    if (l->metrics && l->g->metrics_textfile &&
        eca_metrics_write_textfile(l->metrics, l->g->metrics_textfile, now, &err) != ECA_OK)
        eca_log(ECA_LOG_WARN, "metrics_write_failed", NULL, NULL, 0, "%s", err.msg);
}

/* Sleep until the earliest due time; metrics requests are answered without a pass. */
static void
sleep_until(const struct eca_loop *l, time_t next)
{
    char at[32];

    eca_log(ECA_LOG_DEBUG, "sleeping", NULL,
            ECA_LOG_FIELDS(ECA_LS("until", eca_status_time(next, at, sizeof at))), NULL);
    for (;;) {
        unsigned bits = eca_daemon_wait(next, l->metrics ? eca_metrics_fd(l->metrics) : -1);

        if (!(bits & ECA_DAEMON_FD_READY))
            return;
        eca_metrics_handle_ready(l->metrics, NULL);
    }
}

static int
one_pass(const struct eca_loop *l, struct slot *s, int force)
{
    time_t now = eca_clock_now();
    int failed = 0;

    for (size_t i = 0; i < l->ncerts && !eca_daemon_stopping(); i++)
        if (force || s[i].due <= now)
            failed |= pass_one(l, i, &s[i], force);
    return failed;
}

enum eca_loop_end
eca_loop_run(const struct eca_loop *l, int once, int force, int *failed)
{
    struct slot *s = calloc(l->ncerts ? l->ncerts : 1, sizeof(*s));
    enum eca_loop_end end = ECA_LOOP_DONE;

    *failed = 0;
    if (s == NULL) {
        *failed = 1;
        return ECA_LOOP_DONE;
    }
    slots_init(l, s, eca_clock_now(), once);
    for (;;) {
        unsigned bits = eca_daemon_take();
        time_t next;

        if (bits & ECA_DAEMON_STOP)
            break;
        if (bits & ECA_DAEMON_RELOAD) {
            end = ECA_LOOP_RELOAD;
            break;
        }
        if (bits & ECA_DAEMON_FORCE) {
            force = 1;
            eca_log(ECA_LOG_INFO, "renew_forced", NULL, NULL, 0, "SIGUSR1");
        }
        *failed = one_pass(l, s, force);
        force = 0;
        report(l, s);
        if (once || eca_daemon_stopping())
            break;
        next = eca_clock_now() + l->g->check_interval_s;
        for (size_t i = 0; i < l->ncerts; i++)
            if (s[i].due < next)
                next = s[i].due;
        sleep_until(l, next);
    }
    free(s);
    return end;
}

enum eca_rc
eca_loop_status(const struct eca_loop *l, int json, struct eca_buf *out, struct eca_err *err)
{
    struct eca_status_cert *v = calloc(l->ncerts ? l->ncerts : 1, sizeof(*v));
    time_t now = eca_clock_now();
    enum eca_rc rc;

    if (v == NULL)
        return eca_err_set(err, ECA_ENOMEM, "status: out of memory");
    for (size_t i = 0; i < l->ncerts; i++)
        eca_agent_status(cert_at(l, i), l->g->state_dir, l->g->check_interval_s, now, &v[i]);
    if (json)
        rc = eca_status_render_json(l->agent, l->version, v, l->ncerts, now, out, err);
    else
        rc = eca_status_render_text(v, l->ncerts, now, out, err);
    free(v);
    return rc;
}

enum eca_rc
eca_loop_metrics_open(const struct eca_agentconf *g, const char *agent, const char *version,
                      struct eca_metrics **out, struct eca_err *err)
{
    struct eca_metrics *m;
    enum eca_rc rc;

    *out = NULL;
    if (g->metrics_textfile == NULL && g->metrics_listen == NULL)
        return ECA_OK;
    if ((m = eca_metrics_new(agent, version)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "metrics: out of memory");
    if ((rc = eca_metrics_declare_rc_causes(m, err)) != ECA_OK ||
        (g->metrics_listen &&
         (rc = eca_metrics_serve(m, g->metrics_listen,
                                 g->metrics_allow_nonloopback ? ECA_METRICS_ALLOW_NONLOOPBACK : 0,
                                 err)) != ECA_OK)) {
        eca_err_prefix(err, "metrics: ");
        eca_metrics_free(m);
        return rc;
    }
    if (g->metrics_listen)
        eca_log(ECA_LOG_INFO, "metrics_listening", NULL,
                ECA_LOG_FIELDS(ECA_LS("listen", g->metrics_listen),
                               ECA_LI("port", eca_metrics_port(m))),
                NULL);
    *out = m;
    return ECA_OK;
}

int
eca_loop_print_status(const struct eca_loop *l, int json)
{
    struct eca_buf b;
    struct eca_err err = {0};
    int rc = 0;

    eca_buf_init(&b, 0);
    if (eca_loop_status(l, json, &b, &err) != ECA_OK) {
        fprintf(stderr, "%s: status: %s\n", l->agent, err.msg);
        rc = 1;
    } else {
        fwrite(b.data, 1, b.len, stdout);
    }
    eca_buf_free(&b);
    return rc;
}

static int
metrics_start(const struct eca_loop *l, struct eca_metrics **m)
{
    struct eca_err err = {0};

    if (eca_loop_metrics_open(l->g, l->agent, l->version, m, &err) == ECA_OK)
        return 0;
    eca_log(ECA_LOG_ERROR, "metrics_failed", NULL, NULL, 0, "%s", err.msg);
    return -1;
}

int
eca_loop_main(const struct eca_loop_app *a, int once, int force)
{
    struct eca_loop l;
    struct eca_metrics *m = NULL;
    int failed = 0;

    a->describe(a->app, &l);
    if (metrics_start(&l, &m) != 0)
        return 1;
    eca_log(ECA_LOG_INFO, "agent_started", NULL,
            ECA_LOG_FIELDS(ECA_LS("version", l.version), ECA_LI("certs", l.ncerts),
                           ECA_LB("once", once)),
            NULL);
    for (;;) {
        l.metrics = m;
        if (eca_loop_run(&l, once, force, &failed) != ECA_LOOP_RELOAD)
            break;
        force = 0;
        if (a->reload(a->app) != 0) {
            eca_log(ECA_LOG_WARN, "config_reload_failed", NULL, NULL, 0,
                    "keeping the old configuration");
        } else {
            a->describe(a->app, &l);
            eca_log(ECA_LOG_INFO, "config_reloaded", NULL,
                    ECA_LOG_FIELDS(ECA_LI("certs", l.ncerts)), NULL);
        }
    }
    eca_log(ECA_LOG_INFO, "agent_stopped", NULL, NULL, 0, NULL);
    eca_metrics_free(m);
    return failed && !eca_daemon_stopping() ? 1 : 0;
}
