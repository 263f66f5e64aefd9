/* SPDX-License-Identifier: MIT */
/* eca-acme: command line, signals, and the check -> decide -> act -> sleep loop. */
#include <stdio.h>
#include <string.h>

#include "acme_agent.h"
#include "acme_conf.h"
#include "eca.h"
#include "eca_cli.h"
#include "eca_daemon.h"
#include "eca_log.h"
#include "eca_loop.h"

#define BACKOFF_BASE_S 60L

/* The shared options and eca-acme's own: revoke [--reason N] [--cert NAME]. */
struct args {
    const struct eca_cli *c;
    int reason;
    const char *cert;
};

static void
usage(FILE *f)
{
    fputs("usage: eca-acme [options]                 run: check, renew when due, sleep, repeat\n"
          "       eca-acme [options] status [--json] show each certificate and its next action\n"
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
is_revoke(const struct eca_cli *c)
{
    return c->command != NULL && strcmp(c->command, "revoke") == 0;
}

/* eca_cli_app.arg: `revoke`, then its --cert NAME and --reason N. */
static int
own_arg(const struct eca_cli_app *app, struct eca_cli *c, const char *o, const char *v)
{
    struct args *a = app->ctx;

    if (strcmp(o, "revoke") == 0 && c->command == NULL) {
        c->command = "revoke";
        return ECA_CLI_TOOK1;
    }
    if (!is_revoke(c) || (strcmp(o, "--cert") != 0 && strcmp(o, "--reason") != 0))
        return ECA_CLI_UNKNOWN;
    if (v == NULL)
        return ECA_CLI_MISSING;
    if (strcmp(o, "--cert") == 0) {
        a->cert = v;
    } else if (eca_cli_int(v, 0, 10, &a->reason) != 0) {
        eca_cli_error(app, "--reason: expected 0..10 (RFC 5280 §5.3.1)");
        return ECA_CLI_BAD;
    }
    return ECA_CLI_TOOK2;
}

static void
log_config(const struct acme_conf *c)
{
    eca_log_setup("eca-acme", c->g.log_level, c->g.log_format);
    if (c->g.insecure)
        eca_log(ECA_LOG_WARN, "insecure_transport", NULL,
                ECA_LOG_FIELDS(ECA_LS("directory_url", c->directory_url)),
                "insecure = true: an http:// directory URL is allowed");
}

static int
load_config(const struct args *a, struct acme_conf **conf, struct acme_agent **agent)
{
    const struct eca_agentconf_cli cli = {a->c->config_path, a->c->log_format, a->c->force};
    struct eca_err err = {0};

    if (acme_conf_load(&cli, conf, &err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "config_invalid", NULL, NULL, 0, "%s", err.msg);
        return ECA_EXIT_USAGE;
    }
    log_config(*conf);
    if (a->c->check_config)
        return 0;
    if (acme_agent_new(*conf, agent, &err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "agent_failed", NULL, NULL, 0, "%s", err.msg);
        acme_conf_free(*conf);
        *conf = NULL;
        return ECA_EXIT_FAIL;
    }
    acme_agent_set_stop(*agent, eca_daemon_stopping);
    return 0;
}

/* The running daemon, as eca_loop_main() sees it. */
struct app {
    const struct args *a;
    struct acme_conf *conf;
    struct acme_agent *agent;
};

static enum eca_rc
run_one(void *ctx, size_t i, int force, struct eca_pass_result *res, struct eca_err *err)
{
    return acme_agent_run(ctx, i, force, res, err);
}

static void
describe(void *ctx, struct eca_loop *l)
{
    const struct app *p = ctx;

    eca_loop_init(l, "eca-acme", &p->conf->g, p->conf->certs, p->conf->ncerts,
                  sizeof(*p->conf->certs), BACKOFF_BASE_S, run_one, p->agent);
}

/* HUP: a new configuration replaces the old only if it is valid. */
static int
reload(void *ctx)
{
    struct app *p = ctx;
    struct acme_conf *nc = NULL;
    struct acme_agent *na = NULL;

    if (load_config(p->a, &nc, &na) != 0) {
        log_config(p->conf);
        return -1;
    }
    acme_agent_free(p->agent);
    acme_conf_free(p->conf);
    p->conf = nc;
    p->agent = na;
    return 0;
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
        return ECA_EXIT_USAGE;
    }
    if (acme_agent_revoke(agent, (size_t)(cc - conf->certs), a->reason, &err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "revoke_failed", cc->base.name,
                ECA_LOG_FIELDS(ECA_LS("rc", eca_rc_name(err.rc))), "%s", err.msg);
        return ECA_EXIT_FAIL;
    }
    return 0;
}

/* eca_cli_app.run: configuration, then --check-config, status, revoke or the loop. */
static int
run(void *ctx, const struct eca_cli *c)
{
    struct args *a = ctx;
    struct acme_conf *conf = NULL;
    struct acme_agent *agent = NULL;
    int rc;

    a->c = c;
    if ((rc = load_config(a, &conf, &agent)) != 0)
        return rc;
    if (c->check_config) {
        printf("configuration OK: %zu certificate(s), directory %s\n", conf->ncerts,
               conf->directory_url);
    } else if (c->command && strcmp(c->command, "status") == 0) {
        struct app p = {a, conf, agent};
        struct eca_loop l;

        describe(&p, &l);
        rc = eca_loop_print_status(&l, c->json);
    } else if (is_revoke(c)) {
        rc = cmd_revoke(a, conf, agent);
    } else {
        struct app p = {a, conf, agent};
        struct eca_loop_app la = {describe, reload, &p};

        rc = eca_loop_main(&la, c->once, conf->g.force);
        conf = p.conf;
        agent = p.agent;
    }
    acme_agent_free(agent);
    acme_conf_free(conf);
    return rc;
}

int
main(int argc, char **argv)
{
    struct args a = {NULL, 0, NULL};
    const struct eca_cli_app app = {"eca-acme", usage, own_arg, run, &a, NULL, NULL};

    return eca_cli_main(&app, argc, argv);
}
