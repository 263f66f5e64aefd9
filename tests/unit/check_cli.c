/* SPDX-License-Identifier: MIT */
/* eca_cli tests: each shared option, a daemon's own arguments, usage errors and their wording. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eca.h"
#include "eca_cli.h"
#include "eca_test.h"

/* Output of one parse: what went to out and err. */
struct run {
    int rc;
    char out[2048], err[1024];
};

static void
test_usage(FILE *f)
{
    fputs("usage: test [--config FILE]\n", f);
}

static const char *own_cert;

/* A daemon's own sub-command `frob [--cert NAME]`, as eca-acme's revoke. */
static int
own_arg(const struct eca_cli_app *app, struct eca_cli *c, const char *o, const char *v)
{
    if (strcmp(o, "frob") == 0 && c->command == NULL) {
        c->command = "frob";
        return ECA_CLI_TOOK1;
    }
    if (c->command == NULL || strcmp(c->command, "frob") != 0 || strcmp(o, "--cert") != 0)
        return ECA_CLI_UNKNOWN;
    if (v == NULL)
        return ECA_CLI_MISSING;
    if (strcmp(v, "bad") == 0) {
        eca_cli_error(app, "--cert: '%s' is not a certificate", v);
        return ECA_CLI_BAD;
    }
    own_cert = v;
    return ECA_CLI_TOOK2;
}

static void
slurp(FILE *f, char *buf, size_t len)
{
    size_t n;

    rewind(f);
    n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Parse a NULL-terminated argument list (argv[0] is added). */
static struct eca_cli
parse(struct run *r, const char *a0, ...)
{
    char *argv[16] = {"test"};
    int argc = 1;
    struct eca_cli c;
    struct eca_cli_app app = {"test", test_usage, own_arg, NULL, NULL, tmpfile(), tmpfile()};
    va_list ap;

    ck_assert_ptr_nonnull(app.out);
    ck_assert_ptr_nonnull(app.err);
    va_start(ap, a0);
    for (const char *s = a0; s != NULL && argc < 15; s = va_arg(ap, const char *))
        argv[argc++] = (char *)s;
    va_end(ap);
    own_cert = NULL;
    r->rc = eca_cli_parse(&app, argc, argv, &c);
    slurp(app.out, r->out, sizeof r->out);
    slurp(app.err, r->err, sizeof r->err);
    return c;
}

START_TEST(no_arguments_run_with_defaults)
{
    struct run r;
    struct eca_cli c = parse(&r, NULL);

    ck_assert_int_eq(r.rc, ECA_CLI_GO);
    ck_assert_ptr_null(c.config_path);
    ck_assert_ptr_null(c.log_format);
    ck_assert_int_eq(c.fmt, ECA_LOG_JSON);
    ck_assert_int_eq(c.force + c.once + c.check_config + c.json, 0);
    ck_assert_ptr_null(c.command);
    ck_assert_str_eq(r.err, "");
}
END_TEST

START_TEST(each_shared_option_is_taken)
{
    struct run r;
    struct eca_cli c = parse(&r, "--config", "/etc/x.conf", "--once", "--force", "--check-config",
                             "--log-format", "text", NULL);

    ck_assert_int_eq(r.rc, ECA_CLI_GO);
    ck_assert_str_eq(c.config_path, "/etc/x.conf");
    ck_assert_str_eq(c.log_format, "text");
    ck_assert_int_eq(c.fmt, ECA_LOG_TEXT);
    ck_assert_int_eq(c.once, 1);
    ck_assert_int_eq(c.force, 1);
    ck_assert_int_eq(c.check_config, 1);
    ck_assert_str_eq(r.err, "");
}
END_TEST

START_TEST(status_and_json)
{
    struct run r;
    struct eca_cli c = parse(&r, "--once", "status", "--json", NULL);

    ck_assert_int_eq(r.rc, ECA_CLI_GO);
    ck_assert_str_eq(c.command, "status");
    ck_assert_int_eq(c.json, 1);
}
END_TEST

/* Usage errors: exit 2 and one line "<prog>: <argument>: <problem>" on err, nothing on out. */
static const struct {
    const char *argv[4], *want;
} usage_errors[] = {
    {{"--config", "x", "--frobnicate"},
     "test: --frobnicate: unknown option or argument (see --help)\n"},
    {{"status", "status"}, "test: status: unknown option or argument (see --help)\n"},
    {{"--json"}, "test: --json: unknown option or argument (see --help)\n"},
    {{"--config"}, "test: --config: missing argument\n"},
    {{"--log-format"}, "test: --log-format: missing argument\n"},
    {{"--log-format", "xml"}, "test: --log-format: expected json or text\n"},
    {{"frob", "--cert"}, "test: --cert: missing argument\n"},
    {{"frob", "--cert", "bad"}, "test: --cert: 'bad' is not a certificate\n"},
    /* Before its sub-command, --cert is not an option. */
    {{"--cert", "web"}, "test: --cert: unknown option or argument (see --help)\n"},
};

START_TEST(usage_error_names_the_argument_and_exits_2)
{
    const char *const *v = usage_errors[_i].argv;
    struct run r;

    parse(&r, v[0], v[1], v[2], v[3], NULL);
    ck_assert_int_eq(r.rc, ECA_EXIT_USAGE);
    ck_assert_str_eq(r.err, usage_errors[_i].want);
    ck_assert_str_eq(r.out, "");
}
END_TEST

START_TEST(log_format_must_be_json_or_text)
{
    struct run r;
    struct eca_cli c = parse(&r, "--log-format", "json", NULL);

    ck_assert_int_eq(r.rc, ECA_CLI_GO);
    ck_assert_int_eq(c.fmt, ECA_LOG_JSON);
}
END_TEST

START_TEST(version_and_help_exit_0)
{
    struct run r;
    char want[64];

    parse(&r, "--version", "--frobnicate", NULL);
    ck_assert_int_eq(r.rc, ECA_EXIT_OK);
    snprintf(want, sizeof want, "test %s\n", ECA_VERSION);
    ck_assert_str_eq(r.out, want);
    ck_assert_str_eq(r.err, "");
    parse(&r, "--help", NULL);
    ck_assert_int_eq(r.rc, ECA_EXIT_OK);
    ck_assert_str_eq(r.out, "usage: test [--config FILE]\n");
    parse(&r, "-h", NULL);
    ck_assert_int_eq(r.rc, ECA_EXIT_OK);
    ck_assert_str_eq(r.out, "usage: test [--config FILE]\n");
}
END_TEST

START_TEST(daemon_own_arguments)
{
    struct run r;
    struct eca_cli c = parse(&r, "frob", "--cert", "web", "--force", NULL);

    ck_assert_int_eq(r.rc, ECA_CLI_GO);
    ck_assert_str_eq(c.command, "frob");
    ck_assert_str_eq(own_cert, "web");
    ck_assert_int_eq(c.force, 1);
}
END_TEST

START_TEST(int_parser_bounds)
{
    int v = -1;

    ck_assert_int_eq(eca_cli_int("7", 0, 10, &v), 0);
    ck_assert_int_eq(v, 7);
    ck_assert_int_eq(eca_cli_int("11", 0, 10, &v), -1);
    ck_assert_int_eq(eca_cli_int("-1", 0, 10, &v), -1);
    ck_assert_int_eq(eca_cli_int("3x", 0, 10, &v), -1);
    ck_assert_int_eq(eca_cli_int("", 0, 10, &v), -1);
    ck_assert_int_eq(v, 7);
}
END_TEST

static Suite *
cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, no_arguments_run_with_defaults);
    tcase_add_test(tc, each_shared_option_is_taken);
    tcase_add_test(tc, status_and_json);
    tcase_add_loop_test(tc, usage_error_names_the_argument_and_exits_2, 0,
                        sizeof usage_errors / sizeof usage_errors[0]);
    tcase_add_test(tc, log_format_must_be_json_or_text);
    tcase_add_test(tc, version_and_help_exit_0);
    tcase_add_test(tc, daemon_own_arguments);
    tcase_add_test(tc, int_parser_bounds);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(cli_suite)
