/* SPDX-License-Identifier: MIT */
/* eca-est: command line, configuration, and the shared agent loop (eca_loop). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eca.h"
#include "eca_daemon.h"
#include "eca_log.h"
#include "eca_loop.h"
#include "eca_service.h"
#include "est_agent.h"
#include "est_conf.h"

#define EXIT_FAIL      1
#define EXIT_USAGE     2
#define BACKOFF_BASE_S 30L

struct args {
    struct est_conf_cli cli;
    int once, check_config, status, json;
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

/* Returns -1 to exit 0 (help/version), 1 on usage error, 0 to go on. */
static int
parse_args(int argc, char **argv, struct args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];

        if (strcmp(s, "--config") == 0 && i + 1 < argc)
            a->cli.config_path = argv[++i];
        else if (strcmp(s, "--log-format") == 0 && i + 1 < argc)
            a->cli.log_format = argv[++i];
        else if (strcmp(s, "--once") == 0)
            a->once = 1;
        else if (strcmp(s, "--force") == 0)
            a->cli.force = 1;
        else if (strcmp(s, "--check-config") == 0)
            a->check_config = 1;
        else if (strcmp(s, "status") == 0)
            a->status = 1;
        else if (strcmp(s, "--json") == 0 && a->status)
            a->json = 1;
        else if (strcmp(s, "--version") == 0)
            return printf("eca-est %s\n", ECA_VERSION) < 0 ? 1 : -1;
        else if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)
            return (usage(stdout), -1);
        else
            return (fprintf(stderr, "eca-est: unknown or incomplete argument '%s'\n", s),
                    usage(stderr), 1);
    }
    return 0;
}

static int
load(const struct args *a, struct est_conf **conf)
{
    struct eca_err err = {0};

    if (est_conf_load(&a->cli, conf, &err) != ECA_OK) {
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
    const struct args *a;
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
dispatch(const struct args *a, struct est_conf **conf)
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
    if (a->status) {
        describe(&p, &l);
        return eca_loop_print_status(&l, a->json);
    }
    rc = eca_loop_main(&la, a->once, (*conf)->g.force);
    *conf = p.conf;
    return rc;
}

int
main(int argc, char **argv)
{
    struct args a;
    struct est_conf *conf = NULL;
    struct eca_err err = {0};
    enum eca_log_format fmt = ECA_LOG_JSON;
    int rc;

    umask(077);
    if ((rc = eca_service_start("eca-est", &argc, &argv)) >= 0)
        return rc;
    memset(&a, 0, sizeof a);
    if ((rc = parse_args(argc, argv, &a)) != 0)
        return rc < 0 ? 0 : EXIT_USAGE;
    if (a.cli.log_format && eca_log_format_parse(a.cli.log_format, &fmt) != 0)
        fmt = ECA_LOG_JSON;
    eca_log_setup("eca-est", ECA_LOG_INFO, fmt);
    if (eca_init(&err) != ECA_OK || eca_daemon_init(&err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "init_failed", NULL, NULL, 0, "%s", err.msg);
        return EXIT_FAIL;
    }
    rc = load(&a, &conf) != 0 ? EXIT_USAGE : dispatch(&a, &conf);
    est_conf_free(conf);
    eca_daemon_fini();
    eca_fini();
    return rc;
}
