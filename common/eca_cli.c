/* SPDX-License-Identifier: MIT */
/* The command line and start-up sequence both daemons share (protocol-free). */
#include "eca_cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eca.h"
#include "eca_daemon.h"
#include "eca_service.h"

static FILE *
out_of(const struct eca_cli_app *app)
{
    return app->out ? app->out : stdout;
}

static FILE *
err_of(const struct eca_cli_app *app)
{
    return app->err ? app->err : stderr;
}

void
eca_cli_error(const struct eca_cli_app *app, const char *fmt, ...)
{
    FILE *f = err_of(app);
    va_list ap;

    fprintf(f, "%s: ", app->prog);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
}

int
eca_cli_int(const char *s, int lo, int hi, int *out)
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

/* The shared options taking a value: same answers as the daemon's callback. */
static int
shared_value(const struct eca_cli_app *app, struct eca_cli *c, const char *o, const char *v)
{
    if (strcmp(o, "--config") == 0 && v) {
        c->config_path = v;
    } else if (strcmp(o, "--log-format") == 0 && v) {
        if (eca_log_format_parse(v, &c->fmt) != 0) {
            eca_cli_error(app, "--log-format: expected json or text");
            return ECA_CLI_BAD;
        }
        c->log_format = v;
    } else if (strcmp(o, "--config") == 0 || strcmp(o, "--log-format") == 0) {
        return ECA_CLI_MISSING;
    } else {
        return ECA_CLI_UNKNOWN;
    }
    return ECA_CLI_TOOK2;
}

/* The shared flags and `status [--json]`. */
static int
shared_flag(struct eca_cli *c, const char *o)
{
    if (strcmp(o, "--once") == 0)
        c->once = 1;
    else if (strcmp(o, "--force") == 0)
        c->force = 1;
    else if (strcmp(o, "--check-config") == 0)
        c->check_config = 1;
    else if (strcmp(o, "status") == 0 && c->command == NULL)
        c->command = "status";
    else if (strcmp(o, "--json") == 0 && c->command && strcmp(c->command, "status") == 0)
        c->json = 1;
    else
        return ECA_CLI_UNKNOWN;
    return ECA_CLI_TOOK1;
}

/* One argument: the shared ones first, then the daemon's. */
static int
one_arg(const struct eca_cli_app *app, struct eca_cli *c, const char *o, const char *v)
{
    int r = shared_value(app, c, o, v);

    if (r == ECA_CLI_UNKNOWN)
        r = shared_flag(c, o);
    if (r == ECA_CLI_UNKNOWN && app->arg)
        r = app->arg(app, c, o, v);
    if (r == ECA_CLI_UNKNOWN)
        eca_cli_error(app, "%s: unknown option or argument (see --help)", o);
    else if (r == ECA_CLI_MISSING)
        eca_cli_error(app, "%s: missing argument", o);
    return r;
}

int
eca_cli_parse(const struct eca_cli_app *app, int argc, char **argv, struct eca_cli *c)
{
    memset(c, 0, sizeof(*c));
    c->fmt = ECA_LOG_JSON;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        int r;

        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            app->usage(out_of(app));
            return ECA_EXIT_OK;
        }
        if (strcmp(o, "--version") == 0) {
            fprintf(out_of(app), "%s %s\n", app->prog, ECA_VERSION);
            return ECA_EXIT_OK;
        }
        r = one_arg(app, c, o, i + 1 < argc ? argv[i + 1] : NULL);
        if (r != ECA_CLI_TOOK1 && r != ECA_CLI_TOOK2)
            return ECA_EXIT_USAGE;
        i += r - 1;
    }
    return ECA_CLI_GO;
}

int
eca_cli_main(const struct eca_cli_app *app, int argc, char **argv)
{
    struct eca_cli c;
    struct eca_err err = {0};
    int rc;

    /* Keys, state and journals are created private; public files set their mode explicitly. */
    umask(077);
    if ((rc = eca_service_start(app->prog, &argc, &argv)) >= 0)
        return rc;
    if ((rc = eca_cli_parse(app, argc, argv, &c)) != ECA_CLI_GO)
        return rc;
    eca_log_setup(app->prog, ECA_LOG_INFO, c.fmt);
    if (eca_init(&err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "init_failed", NULL, NULL, 0, "%s", err.msg);
        return ECA_EXIT_FAIL;
    }
    if (eca_daemon_init(&err) != ECA_OK) {
        eca_log(ECA_LOG_ERROR, "init_failed", NULL, NULL, 0, "%s", err.msg);
        eca_fini();
        return ECA_EXIT_FAIL;
    }
    rc = app->run(app->ctx, &c);
    eca_daemon_fini();
    eca_fini();
    return rc;
}
