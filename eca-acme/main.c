/* SPDX-License-Identifier: MIT */
/* eca-acme: command line, signals, and the check -> decide -> act -> sleep loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "acme_agent.h"
#include "acme_conf.h"
#include "eca.h"
#include "eca_daemon.h"
#include "eca_log.h"
#include "eca_loop.h"
#include "eca_service.h"

#define EXIT_FAIL      1
#define EXIT_USAGE     2
#define BACKOFF_BASE_S 60L

enum command { CMD_RUN, CMD_STATUS, CMD_REVOKE };

struct args {
    struct acme_conf_cli cli;
    enum command cmd;
    int once, check_config, json;
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
        } else if (strcmp(o, "--json") == 0 && a->cmd == CMD_STATUS) {
            a->json = 1;
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
        return EXIT_USAGE;
    }
    if (acme_agent_revoke(agent, (size_t)(cc - conf->certs), a->reason, &err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "revoke_failed", cc->base.name,
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
    if ((rc = eca_service_start("eca-acme", &argc, &argv)) >= 0)
        return rc;
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
    if (eca_daemon_init(&err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "init_failed", NULL, NULL, 0, "%s", err.msg);
        eca_fini();
        return EXIT_FAIL;
    }
    if ((rc = load_config(&a, &conf, &agent)) != 0)
        goto out;
    if (a.check_config) {
        printf("configuration OK: %zu certificate(s), directory %s\n", conf->ncerts,
               conf->directory_url);
        rc = 0;
    } else if (a.cmd == CMD_STATUS) {
        struct app p = {&a, conf, agent};
        struct eca_loop l;

        describe(&p, &l);
        rc = eca_loop_print_status(&l, a.json);
    } else if (a.cmd == CMD_REVOKE) {
        rc = cmd_revoke(&a, conf, agent);
    } else {
        struct app p = {&a, conf, agent};
        struct eca_loop_app la = {describe, reload, &p};

        rc = eca_loop_main(&la, a.once, conf->g.force);
        conf = p.conf;
        agent = p.agent;
    }
out:
    acme_agent_free(agent);
    acme_conf_free(conf);
    eca_daemon_fini();
    eca_fini();
    return rc;
}
