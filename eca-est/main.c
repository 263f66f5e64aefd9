/* SPDX-License-Identifier: MIT */
/* eca-est: command line, configuration, and the shared agent loop (eca_loop). */
#include <stdio.h>
#include <string.h>

#include "eca.h"
#include "eca_cli.h"
#include "eca_daemon.h"
#include "eca_log.h"
#include "eca_loop.h"
#include "est_agent.h"
#include "est_conf.h"

#define BACKOFF_BASE_S 30L

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
          "exit: 0 ok, 1 a certificate could not be renewed, 2 usage or configuration error\n",
          f);
}

static int
load(const struct eca_cli *a, struct est_conf **conf)
{
    const struct eca_agentconf_cli cli = {a->config_path, a->log_format, a->force};
    struct eca_err err = {0};

    if (est_conf_load(&cli, conf, &err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "config_invalid", NULL,
                ECA_LOG_FIELDS(ECA_LS("rc", eca_rc_name(err.rc))), "%s", err.msg);
        return -1;
    }
    eca_log_setup("eca-est", (*conf)->g.log_level, (*conf)->g.log_format);
    if ((*conf)->g.insecure)
        eca_log(ECA_LOG_WARN, "insecure_transport", NULL, NULL, 0,
                "insecure = true: http:// URLs are accepted (TLS verification stays on)");
    return 0;
}

/* The running daemon, as eca_loop_main() sees it. */
struct app {
    const struct eca_cli *a;
    struct est_conf *conf;
    struct est_agent_env env;
};

static enum eca_rc
run_one(void *ctx, size_t i, int force, struct eca_pass_result *res, struct eca_err *err)
{
    const struct app *p = ctx;

    return est_agent_run(p->conf, &p->conf->certs[i], &p->env, force, res, err);
}

static void
describe(void *ctx, struct eca_loop *l)
{
    struct app *p = ctx;

    eca_loop_init(l, "eca-est", &p->conf->g, p->conf->certs, p->conf->ncerts,
                  sizeof(*p->conf->certs), BACKOFF_BASE_S, run_one, p);
}

/* HUP: a new configuration replaces the old only if it is valid. */
static int
reload(void *ctx)
{
    struct app *p = ctx;
    struct est_conf *fresh = NULL;

    if (load(p->a, &fresh) != 0) {
        eca_log_setup("eca-est", p->conf->g.log_level, p->conf->g.log_format);
        return -1;
    }
    est_conf_free(p->conf);
    p->conf = fresh;
    return 0;
}

static int
dispatch(const struct eca_cli *a, struct est_conf **conf)
{
    struct app p = {a, *conf, {eca_daemon_stopping, NULL, NULL}};
    struct eca_loop_app la = {describe, reload, &p};
    struct eca_loop l;
    int rc;

    if (a->check_config) {
        eca_log(ECA_LOG_INFO, "config_ok", NULL,
                ECA_LOG_FIELDS(ECA_LS("base_url", (*conf)->base_url),
                               ECA_LI("certificates", (*conf)->ncerts)),
                NULL);
        return 0;
    }
    if (a->command != NULL) { /* the one sub-command: status */
        describe(&p, &l);
        return eca_loop_print_status(&l, a->json);
    }
    rc = eca_loop_main(&la, a->once, (*conf)->g.force);
    *conf = p.conf;
    return rc;
}

/* eca_cli_app.run: configuration, then --check-config, status or the loop. */
static int
run(void *ctx, const struct eca_cli *c)
{
    struct est_conf *conf = NULL;
    int rc;

    (void)ctx;
    rc = load(c, &conf) != 0 ? ECA_EXIT_USAGE : dispatch(c, &conf);
    est_conf_free(conf);
    return rc;
}

int
main(int argc, char **argv)
{
    const struct eca_cli_app app = {"eca-est", usage, NULL, run, NULL, NULL, NULL};

    return eca_cli_main(&app, argc, argv);
}
