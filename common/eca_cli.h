/* SPDX-License-Identifier: MIT */
/* The command line and start-up sequence both daemons share (protocol-free). */
#ifndef ECA_CLI_H
#define ECA_CLI_H

#include <stdio.h>

#include "eca_log.h"

/* Exit statuses (docs/man): 0 ok, 1 a certificate could not be renewed, 2 usage or config. */
#define ECA_EXIT_OK    0
#define ECA_EXIT_FAIL  1
#define ECA_EXIT_USAGE 2

/* eca_cli_parse(): the command line is fine, go on. */
#define ECA_CLI_GO (-1)

/* What a daemon's own-argument callback answers (any other value > 0 is not allowed). */
#define ECA_CLI_UNKNOWN 0    /* not one of the daemon's arguments */
#define ECA_CLI_TOOK1   1    /* took arg alone */
#define ECA_CLI_TOOK2   2    /* took arg and its value (next) */
#define ECA_CLI_MISSING (-2) /* arg needs a value and next is NULL: the parser says so */
#define ECA_CLI_BAD     (-3) /* already reported with eca_cli_error() */

/* The shared options, as parsed. Strings borrow argv. */
struct eca_cli {
    const char *config_path; /* --config FILE */
    const char *log_format;  /* --log-format F, validated into fmt */
    enum eca_log_format fmt; /* ECA_LOG_JSON unless --log-format text */
    int force;               /* --force */
    int once;                /* --once */
    int check_config;        /* --check-config */
    const char *command;     /* NULL (run), "status" or a daemon's own sub-command */
    int json;                /* status --json */
};

struct eca_cli_app;

/* A daemon as eca_cli_main() drives it. */
struct eca_cli_app {
    const char *prog;       /* the daemon's name: messages, --version, logs */
    void (*usage)(FILE *f); /* the full usage text (--help) */
    /*
     * The daemon's own arguments (may be NULL): arg is argv[i], next argv[i + 1] or NULL.
     * Answers ECA_CLI_UNKNOWN, _TOOK1, _TOOK2, _MISSING or _BAD (see above); app->ctx is its.
     */
    int (*arg)(const struct eca_cli_app *app, struct eca_cli *c, const char *arg, const char *next);
    /* After start-up (logs, eca_init, eca_daemon_init): load, act; the exit status. */
    int (*run)(void *ctx, const struct eca_cli *c);
    void *ctx;
    FILE *out, *err; /* NULL: stdout, stderr (tests pass their own) */
};

/*
 * Parse argv into *c (zeroed first). Returns ECA_CLI_GO to go on, else the exit status:
 * 0 after --help/--version, ECA_EXIT_USAGE after a usage error reported on app->err as
 * "<prog>: <argument>: <problem>".
 */
int eca_cli_parse(const struct eca_cli_app *app, int argc, char **argv, struct eca_cli *c);

/* Report a usage error on app->err as "<prog>: <message>\n". */
void eca_cli_error(const struct eca_cli_app *app, const char *fmt, ...) ECA_PRINTF(2, 3);

/* Whole decimal number lo..hi into *out: 0, else -1. */
int eca_cli_int(const char *s, int lo, int hi, int *out);

/*
 * The daemon's main(): umask 077, eca_service_start(), eca_cli_parse(), logs (prog, info,
 * --log-format), eca_init(), eca_daemon_init(), app->run(), then the matching cleanup.
 * Returns the exit status (ECA_EXIT_FAIL when start-up fails).
 */
int eca_cli_main(const struct eca_cli_app *app, int argc, char **argv);

#endif
