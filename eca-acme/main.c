/* SPDX-License-Identifier: MIT */
/* eca-acme: command line, signals, and the check -> decide -> act -> sleep loop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>

#include "acme_agent.h"
#include "acme_conf.h"
#include "eca.h"
#include "eca_clock.h"
#include "eca_log.h"

#define EXIT_FAIL  1
#define EXIT_USAGE 2

enum command { CMD_RUN, CMD_STATUS, CMD_REVOKE };

struct args {
    struct acme_conf_cli cli;
    enum command cmd;
    int once, check_config;
    int reason;
    const char *cert;
};

/* Set by signal handlers only; read by the loop (async-signal-safe by construction). */
static volatile sig_atomic_t got_stop, got_hup, got_usr1;

static void
on_signal(int sig)
{
    if (sig == SIGTERM || sig == SIGINT)
        got_stop = 1;
    else if (sig == SIGHUP)
        got_hup = 1;
    else if (sig == SIGUSR1)
        got_usr1 = 1;
}

static int
should_stop(void)
{
    return got_stop != 0;
}

static void
usage(FILE *f)
{
    fputs("usage: eca-acme [options]                 run: check, renew when due, sleep, repeat\n"
          "       eca-acme [options] status          show each certificate and its next action\n"
          "       eca-acme [options] revoke [--reason N] [--cert NAME]\n"
          "options:\n"
          "  --config FILE       libconfig file (default: one certificate from the environment:\n"
          "                      CA_URL, DOMAIN_NAME, CERT_PATH, KEY_PATH, "
          "HTTP01_LISTEN|WEBROOT...)\n"
          "  --once              one pass, then exit (cron, timers, CI)\n"
          "  --force             renew now, whatever the lifetime left\n"
          "  --check-config      validate the configuration and exit\n"
          "  --log-format F      json (default) or text\n"
          "  --version, --help\n"
          "signals: TERM/INT stop, HUP re-reads the configuration, USR1 forces renewal.\n"
          "exit: 0 ok, 1 a certificate could not be renewed, 2 usage or configuration error.\n",
          f);
}

static int
parse_int(const char *s, int lo, int hi, int *out)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* Returns -1 to exit 0 (help/version), 1 on usage error, 0 to go on. */
static int
parse_args(int argc, char **argv, struct args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            usage(stdout);
            return -1;
        } else if (strcmp(o, "--version") == 0) {
            printf("eca-acme %s\n", ECA_VERSION);
            return -1;
        } else if (strcmp(o, "--once") == 0) {
            a->once = 1;
        } else if (strcmp(o, "--force") == 0) {
            a->cli.force = 1;
        } else if (strcmp(o, "--check-config") == 0) {
            a->check_config = 1;
        } else if (strcmp(o, "--config") == 0 && v) {
            a->cli.config_path = argv[++i];
        } else if (strcmp(o, "--log-format") == 0 && v) {
            a->cli.log_format = argv[++i];
        } else if (strcmp(o, "--cert") == 0 && v && a->cmd == CMD_REVOKE) {
            a->cert = argv[++i];
        } else if (strcmp(o, "--reason") == 0 && v && a->cmd == CMD_REVOKE) {
            if (parse_int(argv[++i], 0, 10, &a->reason) != 0) {
                fprintf(stderr, "eca-acme: --reason: expected 0..10 (RFC 5280 §5.3.1)\n");
                return 1;
            }
        } else if (strcmp(o, "status") == 0 && a->cmd == CMD_RUN) {
            a->cmd = CMD_STATUS;
        } else if (strcmp(o, "revoke") == 0 && a->cmd == CMD_RUN) {
            a->cmd = CMD_REVOKE;
        } else {
            fprintf(stderr, "eca-acme: unexpected argument '%s' (see --help)\n", o);
            return 1;
        }
    }
    return 0;
}

static void
install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/*
 * Sleep until `until`, woken early by any of our signals: they are blocked while the flags
 * are checked and unblocked atomically by pselect, so none is lost between check and sleep.
 */
static void
sleep_until(time_t until)
{
    sigset_t block, orig;
    time_t now = eca_clock_now();
    struct timespec ts = {until > now ? until - now : 1, 0};

    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &orig);
    if (!got_stop && !got_hup && !got_usr1)
        pselect(0, NULL, NULL, NULL, &ts, &orig);
    sigprocmask(SIG_SETMASK, &orig, NULL);
}

static void
log_config(const struct acme_conf *c)
{
    eca_log_setup("eca-acme", c->log_level, c->log_format);
    if (c->insecure)
        eca_log(ECA_LOG_WARN, "insecure_transport", NULL,
                ECA_LOG_FIELDS(ECA_LS("directory_url", c->directory_url)),
                "insecure = true: an http:// directory URL is allowed");
}

static int
load_config(const struct args *a, struct acme_conf **conf, struct acme_agent **agent)
{
    struct eca_err err = {0};

    if (acme_conf_load(&a->cli, conf, &err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "config_invalid", NULL, NULL, 0, "%s", err.msg);
        return EXIT_USAGE;
    }
    log_config(*conf);
    if (a->check_config)
        return 0;
    if (acme_agent_new(*conf, agent, &err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "agent_failed", NULL, NULL, 0, "%s", err.msg);
        acme_conf_free(*conf);
        *conf = NULL;
        return EXIT_FAIL;
    }
    acme_agent_set_stop(*agent, should_stop);
    return 0;
}

/* HUP: a new configuration replaces the old only if it is valid. */
static void
reload_config(const struct args *a, struct acme_conf **conf, struct acme_agent **agent)
{
    struct acme_conf *nc = NULL;
    struct acme_agent *na = NULL;

    if (load_config(a, &nc, &na) != 0) {
        log_config(*conf);
        eca_log(ECA_LOG_WARN, "config_reload_failed", NULL, NULL, 0,
                "keeping the old configuration");
        return;
    }
    acme_agent_free(*agent);
    acme_conf_free(*conf);
    *conf = nc;
    *agent = na;
    eca_log(ECA_LOG_INFO, "config_reloaded", NULL, ECA_LOG_FIELDS(ECA_LI("certs", nc->ncerts)),
            NULL);
}

/* One pass over every certificate; returns 1 if any failed, and the earliest next check. */
static int
run_pass(struct acme_agent *agent, const struct acme_conf *conf, int force, time_t *earliest)
{
    int failed = 0;

    *earliest = eca_clock_now() + conf->check_interval_s;
    for (size_t i = 0; i < conf->ncerts && !got_stop; i++) {
        struct eca_err err = {0};
        time_t next = *earliest;

        if (acme_agent_run(agent, i, force, &next, &err) != ECA_OK)
            failed = 1;
        if (next < *earliest)
            *earliest = next;
    }
    return failed;
}

static int
cmd_run(const struct args *a, struct acme_conf **conf, struct acme_agent **agent)
{
    int force = (*conf)->force, failed = 0;
    time_t next;

    eca_log(ECA_LOG_INFO, "agent_started", NULL,
            ECA_LOG_FIELDS(ECA_LS("version", ECA_VERSION), ECA_LI("certs", (*conf)->ncerts),
                           ECA_LB("once", a->once)),
            NULL);
    while (!got_stop) {
        if (got_hup) {
            got_hup = 0;
            reload_config(a, conf, agent);
        }
        if (got_usr1) {
            got_usr1 = 0;
            force = 1;
            eca_log(ECA_LOG_INFO, "renew_forced", NULL, NULL, 0, "SIGUSR1");
        }
        failed = run_pass(*agent, *conf, force, &next);
        force = 0; /* --force / FORCE_RENEWAL apply to the first pass only */
        if (a->once)
            break;
        sleep_until(next);
    }
    eca_log(ECA_LOG_INFO, "agent_stopped", NULL, NULL, 0, NULL);
    return failed ? EXIT_FAIL : 0;
}

static void
print_status(const struct acme_cert_conf *cc, const struct acme_cert_status *s)
{
    struct tm tm;
    char na[32] = "-", nc[32] = "-";

    if (s->state.present && gmtime_r(&s->state.not_after, &tm))
        strftime(na, sizeof na, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (gmtime_r(&s->decision.renew_at, &tm))
        strftime(nc, sizeof nc, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%s:\n", cc->name);
    if (!s->state.present) {
        printf("  state:     not installed (%s)\n", s->state.problem);
    } else {
        printf("  subject:   %s\n  serial:    %s\n  not after: %s\n", s->state.subject,
               s->state.serial, na);
        printf("  left:      %ldd %02ldh (%d%% of the lifetime)\n", s->lifetime_left_s / 86400,
               s->lifetime_left_s % 86400 / 3600, s->lifetime_left_pct);
    }
    if (s->decision.reason != ECA_RENEW_NONE)
        printf("  next:      renew now (%s)\n", eca_renew_reason_name(s->decision.reason));
    else
        printf("  next:      renew at %s\n", nc);
}

static int
cmd_status(struct acme_conf *conf, struct acme_agent *agent)
{
    int rc = 0;

    for (size_t i = 0; i < conf->ncerts; i++) {
        struct acme_cert_status st;
        struct eca_err err = {0};

        if (acme_agent_status(agent, i, &st, &err) != ECA_OK) {
            printf("%s: error: %s\n", conf->certs[i].name, err.msg);
            rc = EXIT_FAIL;
            continue;
        }
        print_status(&conf->certs[i], &st);
    }
    return rc;
}

static int
cmd_revoke(const struct args *a, struct acme_conf *conf, struct acme_agent *agent)
{
    const struct acme_cert_conf *cc = NULL;
    struct eca_err err = {0};

    if (a->cert)
        cc = acme_conf_find(conf, a->cert);
    else if (conf->ncerts == 1)
        cc = &conf->certs[0];
    if (cc == NULL) {
        fprintf(stderr, "eca-acme: revoke: %s\n",
                a->cert ? "no certificate of that name"
                        : "several certificates: name one with --cert");
        return EXIT_USAGE;
    }
    if (acme_agent_revoke(agent, (size_t)(cc - conf->certs), a->reason, &err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "revoke_failed", cc->name,
                ECA_LOG_FIELDS(ECA_LS("rc", eca_rc_name(err.rc))), "%s", err.msg);
        return EXIT_FAIL;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct args a;
    struct acme_conf *conf = NULL;
    struct acme_agent *agent = NULL;
    struct eca_err err = {0};
    enum eca_log_format fmt = ECA_LOG_JSON;
    int rc;

    umask(077);
    memset(&a, 0, sizeof a);
    if ((rc = parse_args(argc, argv, &a)) != 0)
        return rc < 0 ? 0 : EXIT_USAGE;
    if (a.cli.log_format && eca_log_format_parse(a.cli.log_format, &fmt) != 0) {
        fprintf(stderr, "eca-acme: --log-format: expected json or text\n");
        return EXIT_USAGE;
    }
    eca_log_setup("eca-acme", ECA_LOG_INFO, fmt);
    if (eca_init(&err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "init_failed", NULL, NULL, 0, "%s", err.msg);
        return EXIT_FAIL;
    }
    install_signals();
    if ((rc = load_config(&a, &conf, &agent)) != 0)
        goto out;
    if (a.check_config) {
        printf("configuration OK: %zu certificate(s), directory %s\n", conf->ncerts,
               conf->directory_url);
        rc = 0;
    } else if (a.cmd == CMD_STATUS) {
        rc = cmd_status(conf, agent);
    } else if (a.cmd == CMD_REVOKE) {
        rc = cmd_revoke(&a, conf, agent);
    } else {
        rc = cmd_run(&a, &conf, &agent);
    }
out:
    acme_agent_free(agent);
    acme_conf_free(conf);
    eca_fini();
    return rc;
}
