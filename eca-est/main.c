/* SPDX-License-Identifier: MIT */
/* eca-est: command line, signals, and the check -> decide -> act -> sleep loop. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "eca.h"
#include "eca_clock.h"
#include "eca_log.h"
#include "eca_renew.h"
#include "est_agent.h"
#include "est_conf.h"

#define EXIT_FAIL      1
#define EXIT_USAGE     2
#define BACKOFF_BASE_S 30L
#define BACKOFF_CAP_S  3600L

struct args {
    struct est_conf_cli cli;
    int once, check_config, status;
};

/* Set by signal handlers only; read by the loop. */
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
    fputs("usage: eca-est [options]            run: check, renew when due, sleep, repeat\n"
          "       eca-est [options] status     show each certificate and its next action\n"
          "options:\n"
          "  --config FILE       libconfig file (default: one certificate from the environment:\n"
          "                      CA_URL, SUBJECT_DN, CERT_PATH, KEY_PATH, EST_USERNAME,\n"
          "                      BOOTSTRAP_TOKEN[_FILE] or BOOTSTRAP_CERT_PATH/KEY_PATH...)\n"
          "  --once              one pass, then exit (cron, timers, CI)\n"
          "  --force             renew now, whatever the remaining lifetime\n"
          "  --check-config      validate the configuration and exit\n"
          "  --log-format FMT    json (default) or text\n"
          "  --version, --help\n"
          "signals: TERM/INT stop, HUP re-reads the configuration, USR1 renews now\n"
          "exit: 0 ok, 1 a certificate could not be renewed, 2 usage or configuration error\n",
          f);
}

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
        else if (strcmp(s, "--version") == 0) {
            printf("eca-est %s\n", ECA_VERSION);
            exit(0);
        } else if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "eca-est: unknown or incomplete argument '%s'\n", s);
            usage(stderr);
            return -1;
        }
    }
    return 0;
}

static void
signals_setup(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
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
    eca_log_setup("eca-est", (*conf)->log_level, (*conf)->log_format);
    if ((*conf)->insecure)
        eca_log(ECA_LOG_WARN, "insecure_transport", NULL, NULL, 0,
                "insecure = true: http:// URLs are accepted (TLS verification stays on)");
    return 0;
}

/* Per-certificate loop state. */
struct slot {
    time_t due;
    unsigned failures;
};

static int
run_one(const struct est_conf *conf, size_t i, struct slot *s, int force)
{
    const struct est_cert_conf *cc = &conf->certs[i];
    struct est_agent_env env = {should_stop, NULL, NULL, force};
    struct est_agent_result res;
    struct eca_err err = {0};
    time_t now = eca_clock_now();
    long back;

    if (est_agent_run(conf, cc, &env, now, &res, &err) == ECA_OK) {
        s->failures = 0;
        s->due = res.next_check > now ? res.next_check : now + 1;
        return 0;
    }
    s->failures++;
    back = eca_renew_backoff(s->failures, BACKOFF_BASE_S,
                             conf->check_interval_s < BACKOFF_CAP_S ? conf->check_interval_s
                                                                    : BACKOFF_CAP_S,
                             (unsigned)now);
    s->due = now + back;
    eca_log(ECA_LOG_ERROR, "renew_failed", cc->name,
            ECA_LOG_FIELDS(ECA_LS("rc", eca_rc_name(err.rc)), ECA_LI("failures", s->failures),
                           ECA_LI("retry_in", back)),
            "%s", err.msg);
    return -1;
}

/* Sleep until `until` in short slices, so signals are seen within a second. */
static void
sleep_until(time_t until)
{
    struct timespec ts = {0, 250 * 1000 * 1000};

    while (!got_stop && !got_hup && !got_usr1 && eca_clock_now() < until)
        nanosleep(&ts, NULL);
}

static int
loop(const struct args *a, struct est_conf **conf)
{
    struct slot *slots = calloc((*conf)->ncerts, sizeof *slots);
    int failed = 0, force = 0;
    time_t next;

    if (slots == NULL)
        return EXIT_FAIL;
    while (!got_stop) {
        failed = 0;
        next = eca_clock_now() + (*conf)->check_interval_s;
        for (size_t i = 0; i < (*conf)->ncerts && !got_stop; i++) {
            if (slots[i].due <= eca_clock_now() && run_one(*conf, i, &slots[i], force) != 0)
                failed = 1;
            if (slots[i].due < next)
                next = slots[i].due;
        }
        force = 0;
        if (a->once)
            break;
        sleep_until(next);
        if (got_usr1) {
            got_usr1 = 0;
            force = 1;
            memset(slots, 0, (*conf)->ncerts * sizeof *slots);
        }
        if (got_hup) {
            struct est_conf *fresh = NULL;

            got_hup = 0;
            if (load(a, &fresh) == 0) {
                struct slot *ns = calloc(fresh->ncerts, sizeof *ns);

                if (ns != NULL) {
                    est_conf_free(*conf);
                    *conf = fresh;
                    free(slots);
                    slots = ns;
                    eca_log(ECA_LOG_INFO, "config_reloaded", NULL, NULL, 0, NULL);
                } else {
                    est_conf_free(fresh);
                }
            }
        }
    }
    free(slots);
    return failed ? EXIT_FAIL : 0;
}

int
main(int argc, char **argv)
{
    struct args a;
    struct est_conf *conf = NULL;
    struct eca_err err = {0};
    int rc;

    umask(077);
    memset(&a, 0, sizeof a);
    if (parse_args(argc, argv, &a) != 0)
        return EXIT_USAGE;
    eca_log_setup("eca-est", ECA_LOG_INFO, ECA_LOG_JSON);
    if (a.cli.log_format) {
        enum eca_log_format f;

        if (eca_log_format_parse(a.cli.log_format, &f) == 0)
            eca_log_setup("eca-est", ECA_LOG_INFO, f);
    }
    if (eca_init(&err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "init_failed", NULL, NULL, 0, "%s", err.msg);
        return EXIT_FAIL;
    }
    if (load(&a, &conf) != 0) {
        eca_fini();
        return EXIT_USAGE;
    }
    if (a.check_config) {
        eca_log(ECA_LOG_INFO, "config_ok", NULL,
                ECA_LOG_FIELDS(ECA_LS("base_url", conf->base_url),
                               ECA_LI("certificates", conf->ncerts)),
                NULL);
        rc = 0;
    } else if (a.status) {
        for (size_t i = 0; i < conf->ncerts; i++)
            est_agent_status(conf, &conf->certs[i], eca_clock_now(), stdout);
        rc = 0;
    } else {
        signals_setup();
        eca_log(ECA_LOG_INFO, "started", NULL,
                ECA_LOG_FIELDS(ECA_LS("version", ECA_VERSION), ECA_LS("base_url", conf->base_url),
                               ECA_LI("certificates", conf->ncerts), ECA_LB("once", a.once)),
                NULL);
        rc = loop(&a, &conf);
        eca_log(ECA_LOG_INFO, "stopped", NULL, ECA_LOG_FIELDS(ECA_LI("exit", rc)), NULL);
    }
    est_conf_free(conf);
    eca_fini();
    return rc;
}
