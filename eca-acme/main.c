/* SPDX-License-Identifier: MIT */
/*
 * eca-acme: the command line, the configuration (flag > environment > file > default) and the
 * loop: check, decide, act, report, sleep until the earliest due time. TERM/INT stop, HUP
 * re-reads the configuration, USR1 forces renewal. What it calls are mechanisms.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "acme_agent.h"
#include "acme_conf.h"
#include "eca.h"
#include "eca_clock.h"
#include "eca_daemon.h"
#include "eca_deploy.h"
#include "eca_fs.h"
#include "eca_log.h"
#include "eca_metrics.h"
#include "eca_pass.h"
#include "eca_service.h"
#include "eca_status.h"

#define PROG           "eca-acme"
#define BACKOFF_BASE_S 60L   /* the first retry after a failure */
#define BACKOFF_CAP_S  3600L /* the longest (further capped per certificate) */
#define EXIT_FAIL      1     /* a certificate could not be renewed, or `status`: not healthy */
#define EXIT_USAGE     2     /* usage or configuration error */

/* The command line. Strings borrow argv. */
struct args {
    struct eca_agentconf_cli conf; /* --config, --log-format, --force */
    enum eca_log_format fmt;
    int override_budget; /* --override-budget */
    int once, check_config, json, reason;
    const char *command; /* NULL (run), "status", "revoke" or "account" */
    const char *cert;    /* revoke --cert NAME */
    const char *sub;     /* account: "key-change" or "deactivate" */
    int yes;             /* account deactivate --yes */
    int renew;           /* revoke --renew: renew the revoked certificate at once */
};

static void
usage(FILE *f)
{
    fputs("usage: eca-acme [options]                 run: check, renew when due, sleep, repeat\n"
          "       eca-acme [options] status [--json] show each certificate and its next action\n"
          "       eca-acme [options] revoke [--reason N] [--cert NAME] [--renew]\n"
          "                          (the next pass, or with --renew this command, renews it)\n"
          "       eca-acme [options] account key-change     roll the ACME account key over\n"
          "       eca-acme [options] account deactivate --yes  deactivate the account (final)\n"
          "options:\n"
          "  --config FILE       libconfig file (default: one certificate from the environment:\n"
          "                      CA_URL, DOMAIN_NAME, CERT_PATH, KEY_PATH, "
          "HTTP01_LISTEN|WEBROOT...)\n"
          "  --once              one pass, then exit (cron, timers, CI)\n"
          "  --force             renew now, whatever the lifetime left\n"
          "  --override-budget   with a spent issuance budget, let one more certificate\n"
          "                      through per managed certificate (logged)\n"
          "  --check-config      validate the configuration and exit\n"
          "  --log-format F      json (default) or text\n"
          "  --version, --help\n"
          "signals: TERM/INT stop, HUP re-reads the configuration, USR1 forces renewal.\n"
          "exit: 0 ok, 1 a certificate could not be renewed, 2 usage or configuration error;\n"
          "      status: 0 every certificate valid and not due, 1 one is failing, missing,\n"
          "      expired or past its renewal point, 2 configuration error.\n",
          f);
}

static int
bad_arg(const char *arg, const char *problem)
{
    fprintf(stderr, PROG ": %s: %s\n", arg, problem);
    return EXIT_USAGE;
}

/* RFC 5280 §5.3.1 reason code 0..10. */
static int
parse_reason(const char *s, int *out)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 10)
        return -1;
    *out = (int)v;
    return 0;
}

/* The `account` command and its words: 1 when o was one of them. */
static int
account_arg(struct args *a, const char *o)
{
    int account = a->command && strcmp(a->command, "account") == 0;

    if (strcmp(o, "account") == 0 && a->command == NULL)
        a->command = "account";
    else if (account && a->sub == NULL &&
             (strcmp(o, "key-change") == 0 || strcmp(o, "deactivate") == 0))
        a->sub = o;
    else if (account && a->sub && strcmp(a->sub, "deactivate") == 0 && strcmp(o, "--yes") == 0)
        a->yes = 1;
    else
        return 0;
    return 1;
}

/* argv into *a: -1 to go on, else the exit status (--help, --version, a usage error). */
static int
parse_args(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof(*a));
    a->fmt = ECA_LOG_JSON;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int revoke = a->command && strcmp(a->command, "revoke") == 0;
        int valued = strcmp(o, "--config") == 0 || strcmp(o, "--log-format") == 0 ||
                     (revoke && (strcmp(o, "--cert") == 0 || strcmp(o, "--reason") == 0));

        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(o, "--version") == 0) {
            printf(PROG " %s\n", ECA_VERSION);
            return 0;
        }
        if (valued && v == NULL)
            return bad_arg(o, "missing argument");
        if (strcmp(o, "--once") == 0)
            a->once = 1;
        else if (strcmp(o, "--force") == 0)
            a->conf.force = 1;
        else if (strcmp(o, "--check-config") == 0)
            a->check_config = 1;
        else if (strcmp(o, "--override-budget") == 0)
            a->override_budget = 1;
        else if ((strcmp(o, "status") == 0 || strcmp(o, "revoke") == 0) && a->command == NULL)
            a->command = strcmp(o, "status") == 0 ? "status" : "revoke";
        else if (account_arg(a, o))
            continue;
        else if (strcmp(o, "--json") == 0 && a->command && strcmp(a->command, "status") == 0)
            a->json = 1;
        else if (strcmp(o, "--renew") == 0 && revoke)
            a->renew = 1;
        else if (!valued)
            return bad_arg(o, "unknown option or argument (see --help)");
        else if (strcmp(o, "--config") == 0)
            a->conf.config_path = v;
        else if (strcmp(o, "--cert") == 0)
            a->cert = v;
        else if (strcmp(o, "--reason") == 0 && parse_reason(v, &a->reason) != 0)
            return bad_arg(o, "expected 0..10 (RFC 5280 §5.3.1)");
        else if (strcmp(o, "--log-format") == 0 && eca_log_format_parse(v, &a->fmt) != 0)
            return bad_arg(o, "expected json or text");
        else if (strcmp(o, "--log-format") == 0)
            a->conf.log_format = v;
        i += valued;
    }
    if (a->command && strcmp(a->command, "account") == 0 && a->sub == NULL)
        return bad_arg("account", "expected key-change or deactivate");
    return -1;
}

/* The configuration, read in our order (acme_conf_read); logging as it asks. */
static int
load(const struct args *a, unsigned flags, struct acme_conf **conf)
{
    struct eca_err err = {0};

    if (acme_conf_read(&a->conf, flags, conf, &err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "config_invalid", NULL,
                ECA_LOG_FIELDS(ECA_LS("rc", eca_rc_name(err.rc))), "%s", err.msg);
        return -1;
    }
    eca_log_setup(PROG, (*conf)->g.log_level, (*conf)->g.log_format);
    (*conf)->g.budget_override |= a->override_budget;
    if ((*conf)->g.insecure)
        eca_log(ECA_LOG_WARN, "insecure_transport", NULL,
                ECA_LOG_FIELDS(ECA_LS("directory_url", (*conf)->directory_url)),
                "insecure = true: an http:// directory URL is allowed");
    return 0;
}

/* ---- the daemon ---- */

/* One managed certificate as the loop tracks it. */
struct slot {
    struct eca_pass_slot p; /* retry state, issuance budget */
    time_t due;
    int journal; /* an interrupted install still to roll forward */
};

struct daemon {
    struct acme_conf *conf;
    struct acme_agent *agent;
    struct acme_agent **workers; /* [nworkers] with concurrency > 1 (see run_pass) */
    size_t nworkers;
    struct slot *slots;
    struct eca_status_table *status; /* what the status file says, one per certificate */
    struct eca_metrics *metrics;     /* NULL: no metrics */
};

/*
 * Take up d->conf: STATE_DIR, each certificate's retry state, an interrupted install rolled
 * forward (one that cannot be fails alone, at its passes), and what is installed.
 */
static int
slots_open(struct daemon *d, int once)
{
    const struct eca_agentconf *g = &d->conf->g;
    size_t n = d->conf->ncerts;
    time_t now = eca_clock_now();
    struct eca_err err = {0};
    struct eca_fs_sweep *sweep = eca_fs_sweep_new(); /* each directory listed once */

    d->slots = calloc(n, sizeof(*d->slots));
    d->status = eca_status_table_new(n);
    if (d->slots == NULL || d->status == NULL) {
        eca_fs_sweep_free(sweep);
        return -1;
    }
    if (eca_fs_mkdir_p(g->state_dir, 0700, &err) != ECA_OK)
        eca_log(ECA_LOG_WARN, "state_dir_failed", NULL, NULL, 0, "%s", err.msg);
    for (size_t i = 0; i < n; i++) {
        const struct eca_certconf *cc = &d->conf->certs[i].base;
        struct slot *s = &d->slots[i];
        struct eca_status_cert sc;

        eca_err_clear(&err);
        if ((s->journal =
                 eca_deploy_recover_memo(g->state_dir, cc, NULL, 0, sweep, &err) != ECA_OK))
            eca_log(ECA_LOG_ERROR, "install_recover_failed", cc->name, NULL, 0, "%s", err.msg);
        /* The files are read once here, into the agent's cache: the slot and the first pass
         * reuse what this read saw. */
        acme_agent_look(d->agent, i, now, &sc);
        eca_status_table_set(d->status, i, &sc, NULL);
        s->p.cache = acme_agent_cache(d->agent, i);
        eca_pass_slot_load(g, cc, &s->p);
        s->due = eca_retry_first_due(&s->p.retry, now, once);
        if (d->metrics)
            eca_metrics_set_budget(d->metrics, cc->name, eca_pass_budget_left(g, cc, &s->p, now),
                                   NULL);
    }
    eca_fs_sweep_free(sweep);
    return 0;
}

static void
slots_close(struct daemon *d)
{
    for (size_t i = 0; d->slots != NULL && i < d->conf->ncerts; i++)
        eca_pass_slot_clear(&d->slots[i].p);
    free(d->slots);
    eca_status_table_free(d->status);
    d->slots = NULL;
    d->status = NULL;
}

/*
 * Certificate i: check, decide, act (acme_agent_run), then record; 1 when it failed. A reload or
 * verify that failed is taken up again without fetching another certificate; a spent
 * issuance budget lets the pass look but not fetch (eca_pass).
 */
static int
pass_one(struct daemon *d, struct acme_agent *agent, size_t i, int force)
{
    const struct eca_agentconf *g = &d->conf->g;
    const struct eca_certconf *cc = &d->conf->certs[i].base;
    const char *name = cc->name;
    struct slot *s = &d->slots[i];
    struct eca_deploy_set targets;
    struct eca_pass_result res;
    struct eca_status_cert sc;
    struct eca_err err = {0};
    enum eca_rc rc = ECA_OK;
    int refused = 0;
    time_t now;

    memset(&res, 0, sizeof res);
    eca_deploy_set_targets(&targets, cc);
    if (s->journal && (rc = eca_deploy_recover(g->state_dir, cc, &err)) == ECA_OK)
        s->journal = 0;
    if (rc == ECA_OK) {
        struct eca_pass_plan plan = eca_pass_plan(g, cc, &s->p, force, eca_clock_now());

        if (plan.resume) {
            rc = acme_agent_run(agent, i, ECA_PASS_LOOK, &res, &err);
            rc = eca_pass_resume(g, cc, &s->p, &targets, rc, &plan, &res, &err);
            if (rc == ECA_OK && plan.resumed) /* the state and next check of the new pair */
                rc = acme_agent_run(agent, i, ECA_PASS_LOOK, &res, &err);
        }
        if (rc == ECA_OK && !plan.resumed)
            rc = acme_agent_run(agent, i, (int)plan.flags, &res, &err);
        refused = eca_pass_finish(g, cc, &s->p, &plan, rc, &res);
    }
    eca_deploy_set_free(&targets);
    now = eca_clock_now();
    if (rc == ECA_ESTOPPED) {
        eca_log(ECA_LOG_INFO, "renew_abandoned", name, NULL, 0, "stop requested");
        return 0;
    }
    if (refused)
        s->due = eca_pass_refuse(g, cc, &s->p, now, &err);
    else if (rc != ECA_OK)
        s->due = eca_pass_fail(g, name, &s->p, &res, &err, BACKOFF_BASE_S, BACKOFF_CAP_S, now);
    else {
        eca_retry_ok(g->state_dir, name, &s->p.retry, res.renewed, now);
        s->due = res.dec.next_check;
        if (res.renewed && d->metrics)
            eca_metrics_renewal_succeeded(d->metrics, name, now, NULL);
    }
    if (d->metrics && (rc != ECA_OK || refused))
        eca_metrics_renewal_failed(d->metrics, name, eca_rc_name(err.rc), NULL);
    if (d->metrics)
        eca_metrics_set_budget(d->metrics, name, eca_pass_budget_left(g, cc, &s->p, now), NULL);
    if (d->metrics && res.st.present)
        eca_metrics_set_validity(d->metrics, name, res.st.not_before, res.st.not_after, NULL);
    else if (d->metrics && rc == ECA_OK)
        eca_metrics_clear_validity(d->metrics, name);
    eca_deploy_status_fill(&sc, name, &res.st, &res.dec, &s->p.retry, now);
    acme_agent_profile(agent, i, sc.profile, sizeof sc.profile);
    eca_status_table_set(d->status, i, &sc, NULL);
    return rc != ECA_OK || refused;
}

/*
 * The workers for d->agent: concurrency of them (no more than there are certificates), or
 * none with concurrency 1, where every pass runs on d->agent in turn, as it always did.
 */
static int
workers_open(struct daemon *d)
{
    size_t n = d->conf->concurrency > 1 ? (size_t)d->conf->concurrency : 0;
    struct eca_err err = {0};

    if (n > d->conf->ncerts)
        n = d->conf->ncerts;
    if (n == 0)
        return 0;
    if ((d->workers = calloc(n, sizeof *d->workers)) == NULL)
        return -1;
    for (; d->nworkers < n; d->nworkers++)
        if (acme_agent_new_worker(d->agent, &d->workers[d->nworkers], &err) != ECA_OK) {
            eca_log(ECA_LOG_ERROR, "agent_failed", NULL, NULL, 0, "%s", err.msg);
            return -1;
        }
    return 0;
}

static void
workers_close(struct daemon *d)
{
    for (size_t k = 0; k < d->nworkers; k++)
        acme_agent_free(d->workers[k]);
    free(d->workers);
    d->workers = NULL;
    d->nworkers = 0;
}

/* The certificates of one pass, taken in order by the workers; failed: any pass_one() did. */
struct queue {
    struct daemon *d;
    const size_t *due;
    size_t ndue, next;
    int force, failed;
    pthread_mutex_t mu;
};

struct lane {
    struct queue *q;
    struct acme_agent *agent;
};

/* One worker: the next due certificate until none is left or a stop is requested. */
static void *
lane_main(void *arg)
{
    struct lane *l = arg;
    struct queue *q = l->q;

    for (;;) {
        size_t i;
        int failed;

        pthread_mutex_lock(&q->mu);
        if (q->next >= q->ndue || eca_daemon_stopping()) {
            pthread_mutex_unlock(&q->mu);
            return NULL;
        }
        i = q->due[q->next++];
        pthread_mutex_unlock(&q->mu);
        failed = pass_one(q->d, l->agent, i, q->force);
        pthread_mutex_lock(&q->mu);
        q->failed |= failed;
        pthread_mutex_unlock(&q->mu);
    }
}

/*
 * The passes of the certificates due[0..ndue): one after another on d->agent, or on up to
 * d->nworkers threads at once (this one among them). A certificate's pass stays on one
 * worker; its failure is its own. 1 when one failed.
 */
static int
run_pass(struct daemon *d, const size_t *due, size_t ndue, int force)
{
    struct queue q = {d, due, ndue, 0, force, 0, PTHREAD_MUTEX_INITIALIZER};
    struct lane lanes[64];
    pthread_t th[64];
    size_t n = d->nworkers < ndue ? d->nworkers : ndue, started = 0;
    int failed = 0;

    if (n > sizeof lanes / sizeof lanes[0])
        n = sizeof lanes / sizeof lanes[0];
    if (ndue == 0)
        return 0;
    if (d->nworkers == 0) {
        for (size_t k = 0; k < ndue && !eca_daemon_stopping(); k++)
            failed |= pass_one(d, d->agent, due[k], force);
        acme_agent_rest(d->agent);
        return failed;
    }
    for (size_t k = 0; k < n; k++)
        lanes[k] = (struct lane){&q, d->workers[k]};
    /* A thread that cannot be started leaves its share to the others (this one at least). */
    for (size_t k = 1; k < n; k++)
        if (pthread_create(&th[started], NULL, lane_main, &lanes[k]) == 0)
            started++;
    lane_main(&lanes[0]);
    for (size_t k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    pthread_mutex_destroy(&q.mu);
    for (size_t k = 0; k < n; k++)
        acme_agent_rest(d->workers[k]);
    acme_agent_rest(d->agent);
    return q.failed;
}

/* After every pass: the status file and the metrics textfile. */
static void
report(const struct daemon *d)
{
    const struct eca_agentconf *g = &d->conf->g;
    struct eca_err err = {0};
    time_t now = eca_clock_now();

    if (eca_status_table_write(d->status, g->state_dir, PROG, ECA_VERSION, now, &err) != ECA_OK)
        eca_log(ECA_LOG_WARN, "status_write_failed", NULL, NULL, 0, "%s", err.msg);
    eca_err_clear(&err);
    for (size_t i = 0; d->metrics && i < d->conf->ncerts; i++) {
        struct eca_status_cert sc;

        eca_status_table_get(d->status, i, &sc);
        eca_metrics_set_healthy(d->metrics, d->conf->certs[i].base.name,
                                eca_status_healthy(&sc, now), NULL);
    }
    if (d->metrics && g->metrics_textfile &&
        eca_metrics_write_textfile(d->metrics, g->metrics_textfile, now, &err) != ECA_OK)
        eca_log(ECA_LOG_WARN, "metrics_write_failed", NULL, NULL, 0, "%s", err.msg);
}

/* Sleep until `next`; metrics requests are answered without a pass. */
static void
sleep_until(const struct daemon *d, time_t next)
{
    char at[32];

    eca_log(ECA_LOG_DEBUG, "sleeping", NULL,
            ECA_LOG_FIELDS(ECA_LS("until", eca_status_time(next, at, sizeof at))), NULL);
    while (eca_daemon_wait(next, d->metrics ? eca_metrics_fd(d->metrics) : -1) &
           ECA_DAEMON_FD_READY)
        eca_metrics_handle_ready(d->metrics, NULL);
}

/* HUP: a valid new configuration replaces the old; certificates it drops leave the metrics. */
static int
reload(struct daemon *d, const struct args *a)
{
    struct acme_conf *nc = NULL;
    struct acme_agent *na = NULL;
    struct eca_err err = {0};

    if (load(a, 0, &nc) != 0 || acme_agent_new(nc, &na, &err) != ECA_OK) {
        if (nc != NULL)
            eca_log(ECA_LOG_ERROR, "agent_failed", NULL, NULL, 0, "%s", err.msg);
        acme_conf_free(nc);
        eca_log_setup(PROG, d->conf->g.log_level, d->conf->g.log_format);
        eca_log(ECA_LOG_WARN, "config_reload_failed", NULL, NULL, 0,
                "keeping the old configuration");
        return 0;
    }
    acme_agent_set_stop(na, eca_daemon_stopping);
    for (size_t i = 0; i < d->conf->ncerts; i++)
        if (d->metrics && acme_conf_find(nc, d->conf->certs[i].base.name) == NULL)
            eca_metrics_cert_remove(d->metrics, d->conf->certs[i].base.name);
    slots_close(d);
    workers_close(d);
    acme_agent_free(d->agent);
    acme_conf_free(d->conf);
    d->conf = nc;
    d->agent = na;
    if (workers_open(d) != 0 || slots_open(d, a->once) != 0)
        return -1;
    eca_log(ECA_LOG_INFO, "config_reloaded", NULL, ECA_LOG_FIELDS(ECA_LI("certs", nc->ncerts)),
            NULL);
    return 0;
}

/* The loop. Returns 1 when the last pass had a failure (a stop request always gives 0). */
static int
serve(struct daemon *d, const struct args *a)
{
    int force = d->conf->g.force, failed = 0;
    size_t *due = NULL;

    for (;;) {
        unsigned req = eca_daemon_take();
        time_t now, next;
        size_t ndue = 0;

        if (req & ECA_DAEMON_STOP)
            break;
        if ((req & ECA_DAEMON_RELOAD) && reload(d, a) != 0) {
            free(due);
            return EXIT_FAIL;
        }
        if (req & ECA_DAEMON_FORCE) {
            force = 1;
            eca_log(ECA_LOG_INFO, "renew_forced", NULL, NULL, 0, "SIGUSR1");
        }
        now = eca_clock_now();
        free(due);
        if ((due = calloc(d->conf->ncerts + 1, sizeof *due)) == NULL)
            return EXIT_FAIL;
        for (size_t i = 0; i < d->conf->ncerts; i++)
            if (force || d->slots[i].due <= now)
                due[ndue++] = i;
        failed = run_pass(d, due, ndue, force);
        force = 0;
        report(d);
        if (a->once || eca_daemon_stopping())
            break;
        next = eca_clock_now() + d->conf->g.check_interval_s;
        for (size_t i = 0; i < d->conf->ncerts; i++)
            if (d->slots[i].due < next)
                next = d->slots[i].due;
        sleep_until(d, next);
    }
    free(due);
    return failed && !eca_daemon_stopping() ? EXIT_FAIL : 0;
}

/* The daemon's life over conf (taken over): metrics, certificates, the loop. */
static int
run_daemon(const struct args *a, struct acme_conf *conf)
{
    struct daemon d = {conf, NULL, NULL, 0, NULL, NULL, NULL};
    const struct eca_agentconf *g = &conf->g;
    struct eca_err err = {0};
    int rc = EXIT_FAIL;

    if (acme_agent_new(conf, &d.agent, &err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "agent_failed", NULL, NULL, 0, "%s", err.msg);
        goto out;
    }
    acme_agent_set_stop(d.agent, eca_daemon_stopping);
    /* A profile the CA does not offer is a configuration error, found before any order; a CA
     * out of reach now is not (each order checks again). */
    if (acme_agent_check_profiles(d.agent, &err) != ECA_OK) {
        if (err.rc == ECA_ECONF) {
            eca_log(ECA_LOG_ERROR, "config_invalid", NULL, NULL, 0, "%s", err.msg);
            rc = EXIT_USAGE;
            goto out;
        }
        eca_log(ECA_LOG_WARN, "profile_check_deferred", NULL, NULL, 0, "%s", err.msg);
        eca_err_clear(&err);
    }
    if (eca_metrics_open(PROG, ECA_VERSION, g->metrics_textfile, g->metrics_listen,
                         g->metrics_allow_nonloopback, &d.metrics, &err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "metrics_failed", NULL, NULL, 0, "%s", err.msg);
        goto out;
    }
    if (workers_open(&d) != 0 || slots_open(&d, a->once) != 0)
        goto out;
    eca_log(ECA_LOG_INFO, "agent_started", NULL,
            ECA_LOG_FIELDS(ECA_LS("version", ECA_VERSION), ECA_LI("certs", conf->ncerts),
                           ECA_LB("once", a->once), ECA_LI("concurrency", conf->concurrency)),
            NULL);
    rc = serve(&d, a);
    eca_log(ECA_LOG_INFO, "agent_stopped", NULL, NULL, 0, NULL);
out:
    slots_close(&d);
    workers_close(&d);
    eca_metrics_free(d.metrics);
    acme_agent_free(d.agent);
    acme_conf_free(d.conf);
    return rc;
}

/* ---- the commands that do not loop ---- */

/* `status`: reads what is installed and the retry state; needs no credentials, writes nothing. */
static int
cmd_status(const struct args *a)
{
    struct acme_conf *conf = NULL;
    struct eca_status_cert *v;
    struct eca_err err = {0};
    time_t now = eca_clock_now();
    int healthy = 1, rc = EXIT_FAIL;

    if (load(a, ECA_CONF_INSPECT, &conf) != 0)
        return EXIT_USAGE;
    if ((v = calloc(conf->ncerts, sizeof(*v))) != NULL) {
        for (size_t i = 0; i < conf->ncerts; i++) {
            acme_agent_status(conf, i, now, &v[i]); /* the lifetime, and the CA's ARI window */
            healthy &= eca_status_healthy(&v[i], now);
        }
        if (eca_status_print(PROG, ECA_VERSION, v, conf->ncerts, now, a->json, stdout, &err) ==
            ECA_OK)
            rc = healthy ? 0 : EXIT_FAIL;
        else
            fprintf(stderr, PROG ": status: %s\n", err.msg);
    }
    free(v);
    acme_conf_free(conf);
    return rc;
}

static int
cmd_revoke(const struct args *a, const struct acme_conf *conf)
{
    const struct acme_cert_conf *cc = NULL;
    struct acme_agent *agent = NULL;
    struct eca_err err = {0};
    int rc = 0;

    if (a->cert)
        cc = acme_conf_find(conf, a->cert);
    else if (conf->ncerts == 1)
        cc = &conf->certs[0];
    if (cc == NULL) {
        fprintf(stderr, PROG ": revoke: %s\n",
                a->cert ? "no certificate of that name"
                        : "several certificates: name one with --cert");
        return EXIT_USAGE;
    }
    if (acme_agent_new(conf, &agent, &err) != ECA_OK ||
        acme_agent_revoke(agent, (size_t)(cc - conf->certs), a->reason, &err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "revoke_failed", cc->base.name,
                ECA_LOG_FIELDS(ECA_LS("rc", eca_rc_name(err.rc))), "%s", err.msg);
        rc = EXIT_FAIL;
    }
    acme_agent_free(agent);
    return rc;
}

/* `account key-change` and `account deactivate`: one request each, logged, no loop. */
static int
cmd_account(const struct args *a, const struct acme_conf *conf)
{
    int key_change = strcmp(a->sub, "key-change") == 0;
    struct acme_agent *agent = NULL;
    struct eca_err err = {0};
    enum eca_rc rc;
    int ret = 0;

    if (!key_change && !a->yes) {
        fprintf(stderr,
                PROG ": account deactivate: deactivation is final (RFC 8555 §7.3.6): the "
                     "CA refuses this account from then on, and renewals fail until another "
                     "account key is used; add --yes to go ahead\n");
        return EXIT_USAGE;
    }
    rc = acme_agent_new(conf, &agent, &err);
    if (rc == ECA_OK)
        rc = key_change ? acme_agent_key_change(agent, &err) : acme_agent_deactivate(agent, &err);
    if (rc != ECA_OK) {
        eca_log(ECA_LOG_ERROR,
                key_change ? "account_key_change_failed" : "account_deactivate_failed", NULL,
                ECA_LOG_FIELDS(ECA_LS("rc", eca_rc_name(err.rc))), "%s", err.msg);
        ret = EXIT_FAIL;
    }
    acme_agent_free(agent);
    return ret;
}

static int
run(const struct args *a)
{
    struct acme_conf *conf = NULL;
    int rc = 0;

    if (a->command && strcmp(a->command, "status") == 0 && !a->check_config)
        return cmd_status(a);
    if (load(a, 0, &conf) != 0)
        return EXIT_USAGE;
    if (a->check_config)
        printf("configuration OK: %zu certificate(s), CA %s\n", conf->ncerts, conf->directory_url);
    else if (a->command && strcmp(a->command, "revoke") == 0) {
        /* Without --renew the next pass renews it; with it, one pass now, as --once would. */
        if ((rc = cmd_revoke(a, conf)) == 0 && a->renew) {
            struct args once = *a;

            once.once = 1;
            return run_daemon(&once, conf);
        }
    } else if (a->command && strcmp(a->command, "account") == 0)
        rc = cmd_account(a, conf);
    else
        return run_daemon(a, conf);
    acme_conf_free(conf);
    return rc;
}

int
main(int argc, char **argv)
{
    struct args a;
    struct eca_err err = {0};
    int rc;

    /* Keys, state and journals are created private; public files set their mode explicitly. */
    umask(077);
    /* Windows: `service install|uninstall|renew|reload` end here, `service run` goes on. */
    if ((rc = eca_service_start(PROG, &argc, &argv)) >= 0)
        return rc;
    if ((rc = parse_args(argc, argv, &a)) >= 0)
        return rc;
    eca_log_setup(PROG, ECA_LOG_INFO, a.fmt);
    if (eca_init(&err) != ECA_OK || eca_daemon_init(&err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "init_failed", NULL, NULL, 0, "%s", err.msg);
        eca_fini();
        return EXIT_FAIL;
    }
    rc = run(&a);
    eca_daemon_fini();
    eca_fini();
    return rc;
}
