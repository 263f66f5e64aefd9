/* SPDX-License-Identifier: MIT */
/*
 * eca-est: the command line, the configuration (flag > environment > file > default) and the
 * loop: check, decide, act, report, sleep until the earliest due time. TERM/INT stop, HUP
 * re-reads the configuration, USR1 forces renewal. What it calls are mechanisms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eca.h"
#include "eca_clock.h"
#include "eca_daemon.h"
#include "eca_deploy.h"
#include "eca_fs.h"
#include "eca_log.h"
#include "eca_metrics.h"
#include "eca_pass.h"
#include "eca_revoked.h"
#include "eca_service.h"
#include "eca_status.h"
#include "est_agent.h"
#include "est_conf.h"

#define PROG           "eca-est"
#define BACKOFF_BASE_S 30L   /* the first retry after a failure */
#define BACKOFF_CAP_S  3600L /* the longest (further capped per certificate) */
#define EXIT_FAIL      1     /* a certificate could not be renewed, or `status`: not healthy */
#define EXIT_USAGE     2     /* usage or configuration error */

/* The command line. Strings borrow argv. */
struct args {
    struct eca_agentconf_cli conf; /* --config, --log-format, --force */
    enum eca_log_format fmt;
    int override_budget; /* --override-budget */
    int once, check_config, json;
    const char *command; /* NULL (run) or "status" */
};

static void
usage(FILE *f)
{
    fputs("usage: eca-est [options]                   run: check, renew when due, sleep, repeat\n"
          "       eca-est [options] status [--json]   show each certificate and its next action\n"
          "options:\n"
          "  --config FILE       libconfig file (default: one certificate from the environment:\n"
          "                      CA_URL, SUBJECT_DN, CERT_PATH, KEY_PATH, EST_USERNAME,\n"
          "                      BOOTSTRAP_TOKEN[_FILE] or BOOTSTRAP_CERT_PATH/KEY_PATH...)\n"
          "  --once              one pass, then exit (cron, timers, CI)\n"
          "  --force             renew now, whatever the remaining lifetime\n"
          "  --override-budget   with a spent issuance budget, let one more certificate\n"
          "                      through per managed certificate (logged)\n"
          "  --check-config      validate the configuration and exit\n"
          "  --log-format FMT    json (default) or text\n"
          "  --version, --help\n"
          "CSR attributes: what the CA asks in /csrattrs (RFC 7030 section 4.5) is applied\n"
          "  unless the operator set it: key type/curve/RSA size unless key_type or KEY_TYPE\n"
          "  is set; the signature digest when it fits the key; a subjectAltName value\n"
          "  unless sans are set; other extension and attribute values as sent.\n"
          "  challengePassword and requests without a value are ignored; the 'csrattrs'\n"
          "  log line lists what was applied and what was ignored, and why.\n"
          "signals: TERM/INT stop, HUP re-reads the configuration, USR1 renews now\n"
          "exit: 0 ok, 1 a certificate could not be renewed, 2 usage or configuration error;\n"
          "      status: 0 every certificate valid and not due, 1 one is failing, missing,\n"
          "      revoked, expired or past its renewal point, 2 configuration error\n",
          f);
}

static int
bad_arg(const char *arg, const char *problem)
{
    fprintf(stderr, PROG ": %s: %s\n", arg, problem);
    return EXIT_USAGE;
}

/* argv into *a: -1 to go on, else the exit status (--help, --version, a usage error). */
static int
parse_args(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof(*a));
    a->fmt = ECA_LOG_JSON;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int valued = strcmp(o, "--config") == 0 || strcmp(o, "--log-format") == 0;

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
        else if (strcmp(o, "status") == 0 && a->command == NULL)
            a->command = "status";
        else if (strcmp(o, "--json") == 0 && a->command && strcmp(a->command, "status") == 0)
            a->json = 1;
        else if (!valued)
            return bad_arg(o, "unknown option or argument (see --help)");
        else if (strcmp(o, "--config") == 0)
            a->conf.config_path = v;
        else if (strcmp(o, "--log-format") == 0 && eca_log_format_parse(v, &a->fmt) != 0)
            return bad_arg(o, "expected json or text");
        else if (strcmp(o, "--log-format") == 0)
            a->conf.log_format = v;
        i += valued;
    }
    return -1;
}

/* The configuration, read in our order (est_conf_read); logging as it asks. */
static int
load(const struct args *a, unsigned flags, struct est_conf **conf)
{
    struct eca_err err = {0};

    if (est_conf_read(&a->conf, flags, conf, &err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "config_invalid", NULL,
                ECA_LOG_FIELDS(ECA_LS("rc", eca_rc_name(err.rc))), "%s", err.msg);
        return -1;
    }
    eca_log_setup(PROG, (*conf)->g.log_level, (*conf)->g.log_format);
    (*conf)->g.budget_override |= a->override_budget;
    if ((*conf)->g.insecure)
        eca_log(ECA_LOG_WARN, "insecure_transport", NULL, NULL, 0,
                "insecure = true: http:// URLs are accepted (TLS verification stays on)");
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
    struct est_conf *conf;
    struct est_agent_env env; /* the stop predicate for long protocol waits */
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
    /* One CRL download per URL for every certificate naming it (none: each check downloads). */
    if (d->conf->crl_enabled)
        d->env.crl_memo = eca_crlmemo_new(d->conf->crl_refresh_s);
    for (size_t i = 0; i < n; i++) {
        const struct eca_certconf *cc = &d->conf->certs[i].base;
        struct slot *s = &d->slots[i];
        struct eca_certstate st;
        struct eca_status_cert sc;
        const char *extra[2];

        eca_err_clear(&err);
        /* The .pfx holds the key too: its leftover temporary copies are swept like the key's. */
        extra[0] = d->conf->certs[i].pfx_path;
        extra[1] = d->conf->certs[i].ca_certs_path;
        if ((s->journal =
                 eca_deploy_recover_memo(g->state_dir, cc, extra, 2, sweep, &err) != ECA_OK))
            eca_log(ECA_LOG_ERROR, "install_recover_failed", cc->name, NULL, 0, "%s", err.msg);
        /* The files are read once here, into the slot's cache: the slot and the first pass
         * reuse what this read saw (a cache that cannot be had reads every time). */
        s->p.cache = eca_certcache_new();
        if (eca_certcache_read(s->p.cache, cc->cert_path, cc->key_path, NULL, 0, &st, NULL) !=
            ECA_OK)
            memset(&st, 0, sizeof st);
        eca_deploy_status_of(cc, &st, g->state_dir, g->check_interval_s, now, &sc);
        eca_revoked_status(g->state_dir, cc->name, now, &sc); /* known before the first pass */
        eca_status_table_set(d->status, i, &sc, NULL);
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
    for (size_t i = 0; d->slots != NULL && i < d->conf->ncerts; i++) {
        eca_certcache_free(d->slots[i].p.cache);
        eca_pass_slot_clear(&d->slots[i].p);
    }
    free(d->slots);
    eca_status_table_free(d->status);
    eca_crlmemo_free(d->env.crl_memo); /* a reload downloads afresh */
    d->env.crl_memo = NULL;
    d->slots = NULL;
    d->status = NULL;
}

/*
 * Certificate i: check, decide, act (est_agent_run), then record; 1 when it failed. A reload or
 * verify that failed is taken up again without fetching another certificate; a spent
 * issuance budget lets the pass look but not fetch (eca_pass).
 */
static int
pass_one(struct daemon *d, size_t i, int force)
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
    /* The files a deploy installs: the pair (eca_deploy_set_build), PKCS#12, CA bundle. */
    eca_deploy_set_targets(&targets, cc);
    eca_deploy_set_add(&targets, d->conf->certs[i].pfx_path, &targets.key, ECA_FS_MODE_PRIVATE);
    eca_deploy_set_add(&targets, d->conf->certs[i].ca_certs_path, &targets.cert,
                       ECA_FS_MODE_PUBLIC);
    if (s->journal && (rc = eca_deploy_recover(g->state_dir, cc, &err)) == ECA_OK)
        s->journal = 0;
    if (rc == ECA_OK) {
        struct eca_pass_plan plan = eca_pass_plan(g, cc, &s->p, force, eca_clock_now());

        if (plan.resume) {
            rc = est_agent_run(d->conf, &d->conf->certs[i], &d->env, s->p.cache, ECA_PASS_LOOK,
                               &res, &err);
            rc = eca_pass_resume(g, cc, &s->p, &targets, rc, &plan, &res, &err);
            if (rc == ECA_OK && plan.resumed) /* the state and next check of the new pair */
                rc = est_agent_run(d->conf, &d->conf->certs[i], &d->env, s->p.cache, ECA_PASS_LOOK,
                                   &res, &err);
        }
        if (rc == ECA_OK && !plan.resumed)
            rc = est_agent_run(d->conf, &d->conf->certs[i], &d->env, s->p.cache, (int)plan.flags,
                               &res, &err);
        refused = eca_pass_finish(g, cc, &s->p, &plan, rc, &res);
    }
    eca_deploy_set_free(&targets);
    now = eca_clock_now();
    if (rc == ECA_ESTOPPED) {
        eca_log(ECA_LOG_INFO, "renew_abandoned", name, NULL, 0, "stop requested");
        return 0;
    }
    if (rc == ECA_EAGAIN) { /* pending approval at the CA: a scheduled wake-up, not a failure */
        eca_retry_ok(g->state_dir, name, &s->p.retry, 0, now);
        s->due = res.dec.next_check;
    } else if (refused) {
        s->due = eca_pass_refuse(g, cc, &s->p, now, &err);
    } else if (rc != ECA_OK) {
        s->due = eca_pass_fail(g, name, &s->p, &res, &err, BACKOFF_BASE_S, BACKOFF_CAP_S, now);
    } else {
        eca_retry_ok(g->state_dir, name, &s->p.retry, res.renewed, now);
        s->due = res.dec.next_check;
        if (res.renewed && d->metrics)
            eca_metrics_renewal_succeeded(d->metrics, name, now, NULL);
    }
    if (d->metrics && ((rc != ECA_OK && rc != ECA_EAGAIN) || refused))
        eca_metrics_renewal_failed(d->metrics, name, eca_rc_name(err.rc), NULL);
    if (d->metrics)
        eca_metrics_set_budget(d->metrics, name, eca_pass_budget_left(g, cc, &s->p, now), NULL);
    if (d->metrics && res.st.present)
        eca_metrics_set_validity(d->metrics, name, res.st.not_before, res.st.not_after, NULL);
    else if (d->metrics && rc == ECA_OK)
        eca_metrics_clear_validity(d->metrics, name);
    eca_deploy_status_fill(&sc, name, &res.st, &res.dec, &s->p.retry, now);
    est_agent_pending_status(d->conf, &d->conf->certs[i], &sc);
    eca_status_table_set(d->status, i, &sc, NULL);
    /* ECA_EAGAIN too: `--once` exits 1 while a request is pending. */
    return rc != ECA_OK || refused;
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

static int
has_cert(const struct est_conf *c, const char *name)
{
    for (size_t i = 0; i < c->ncerts; i++)
        if (strcmp(c->certs[i].base.name, name) == 0)
            return 1;
    return 0;
}

/* HUP: a valid new configuration replaces the old; certificates it drops leave the metrics. */
static int
reload(struct daemon *d, const struct args *a)
{
    struct est_conf *nc = NULL;

    if (load(a, 0, &nc) != 0) {
        eca_log_setup(PROG, d->conf->g.log_level, d->conf->g.log_format);
        eca_log(ECA_LOG_WARN, "config_reload_failed", NULL, NULL, 0,
                "keeping the old configuration");
        return 0;
    }
    for (size_t i = 0; i < d->conf->ncerts; i++)
        if (d->metrics && !has_cert(nc, d->conf->certs[i].base.name))
            eca_metrics_cert_remove(d->metrics, d->conf->certs[i].base.name);
    slots_close(d);
    est_conf_free(d->conf);
    d->conf = nc;
    if (slots_open(d, a->once) != 0)
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

    for (;;) {
        unsigned req = eca_daemon_take();
        time_t now, next;

        if (req & ECA_DAEMON_STOP)
            break;
        if ((req & ECA_DAEMON_RELOAD) && reload(d, a) != 0)
            return EXIT_FAIL;
        if (req & ECA_DAEMON_FORCE) {
            force = 1;
            eca_log(ECA_LOG_INFO, "renew_forced", NULL, NULL, 0, "SIGUSR1");
        }
        now = eca_clock_now();
        failed = 0;
        for (size_t i = 0; i < d->conf->ncerts && !eca_daemon_stopping(); i++)
            if (force || d->slots[i].due <= now)
                failed |= pass_one(d, i, force);
        force = 0;
        eca_crlmemo_clear(d->env.crl_memo); /* asleep, the daemon holds no CRL */
        report(d);
        if (a->once || eca_daemon_stopping())
            break;
        next = eca_clock_now() + d->conf->g.check_interval_s;
        for (size_t i = 0; i < d->conf->ncerts; i++)
            if (d->slots[i].due < next)
                next = d->slots[i].due;
        sleep_until(d, next);
    }
    return failed && !eca_daemon_stopping() ? EXIT_FAIL : 0;
}

/* The daemon's life over conf (taken over): metrics, certificates, the loop. */
static int
run_daemon(const struct args *a, struct est_conf *conf)
{
    struct daemon d = {conf, {eca_daemon_stopping, NULL, NULL}, NULL, NULL, NULL};
    const struct eca_agentconf *g = &conf->g;
    struct eca_err err = {0};
    int rc = EXIT_FAIL;

    if (eca_metrics_open(PROG, ECA_VERSION, g->metrics_textfile, g->metrics_listen,
                         g->metrics_allow_nonloopback, &d.metrics, &err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "metrics_failed", NULL, NULL, 0, "%s", err.msg);
        goto out;
    }
    if (slots_open(&d, a->once) != 0)
        goto out;
    eca_log(ECA_LOG_INFO, "agent_started", NULL,
            ECA_LOG_FIELDS(ECA_LS("version", ECA_VERSION), ECA_LI("certs", conf->ncerts),
                           ECA_LB("once", a->once)),
            NULL);
    rc = serve(&d, a);
    eca_log(ECA_LOG_INFO, "agent_stopped", NULL, NULL, 0, NULL);
out:
    slots_close(&d);
    eca_metrics_free(d.metrics);
    est_conf_free(d.conf);
    return rc;
}

/* ---- the commands that do not loop ---- */

/* `status`: reads what is installed and the retry state; needs no credentials, writes nothing. */
static int
cmd_status(const struct args *a)
{
    struct est_conf *conf = NULL;
    struct eca_status_cert *v;
    struct eca_err err = {0};
    time_t now = eca_clock_now();
    int healthy = 1, rc = EXIT_FAIL;

    if (load(a, ECA_CONF_INSPECT, &conf) != 0)
        return EXIT_USAGE;
    if ((v = calloc(conf->ncerts, sizeof(*v))) != NULL) {
        for (size_t i = 0; i < conf->ncerts; i++) {
            est_agent_status(conf, &conf->certs[i], now, &v[i]);
            healthy &= eca_status_healthy(&v[i], now);
        }
        if (eca_status_print(PROG, ECA_VERSION, v, conf->ncerts, now, a->json, stdout, &err) ==
            ECA_OK)
            rc = healthy ? 0 : EXIT_FAIL;
        else
            fprintf(stderr, PROG ": status: %s\n", err.msg);
    }
    free(v);
    est_conf_free(conf);
    return rc;
}

static int
run(const struct args *a)
{
    struct est_conf *conf = NULL;

    if (a->command && strcmp(a->command, "status") == 0 && !a->check_config)
        return cmd_status(a);
    if (load(a, 0, &conf) != 0)
        return EXIT_USAGE;
    if (!a->check_config)
        return run_daemon(a, conf);
    printf("configuration OK: %zu certificate(s), CA %s\n", conf->ncerts, conf->base_url);
    est_conf_free(conf);
    return 0;
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
