/* SPDX-License-Identifier: MIT */
/* eca_conf tests: file:line messages naming the setting path, ranges, syntax errors, env. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eca_conf.h"
#include "eca_fs.h"
#include "eca_test.h"

static char dir[256];

static const char conf_text[] = "agent = {\n"             /* 1 */
                                "  name = \"edge\";\n"    /* 2 */
                                "  interval = 300;\n"     /* 3 */
                                "  threshold = 150;\n"    /* 4 */
                                "  big = 5000000000L;\n"  /* 5 */
                                "  insecure = true;\n"    /* 6 */
                                "  level = 3;\n"          /* 7 */
                                "  ratio = 0.5;\n"        /* 8 */
                                "};\n"                    /* 9 */
                                "certificates = (\n"      /* 10 */
                                "  { name = \"mqtt\";\n"  /* 11 */
                                "    key_type = 42; },\n" /* 12 */
                                "  { name = \"web\"; }\n" /* 13 */
                                ");\n";

static void
setup(void)
{
    const char *t = getenv("TMPDIR");

    snprintf(dir, sizeof dir, "%s/check_conf_XXXXXX", t && *t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
    char cmd[300];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", dir);
}

static const char *
write_conf(const char *name, const char *text)
{
    static char path[512];
    struct eca_err err = {0};

    snprintf(path, sizeof path, "%s/%s", dir, name);
    ck_assert_int_eq(eca_fs_write_atomic(path, text, strlen(text), 0600, &err), ECA_OK);
    return path;
}

static void
assert_msg(const struct eca_err *err, const char *needle)
{
    ck_assert_msg(strstr(err->msg, needle) != NULL, "'%s' lacks '%s'", err->msg, needle);
}

START_TEST(typed_getters_read_values)
{
    config_t cfg;
    struct eca_err err = {0};
    const config_setting_t *agent;
    const char *s = NULL;
    long long n = 0;
    int b = 0;

    ck_assert_int_eq(eca_conf_load(write_conf("agent.conf", conf_text), &cfg, &err), ECA_OK);
    agent = config_lookup(&cfg, "agent");
    ck_assert_int_eq(eca_conf_get_str(agent, "name", 1, &s, &err), ECA_OK);
    ck_assert_str_eq(s, "edge");
    ck_assert_int_eq(eca_conf_get_int(agent, "interval", 1, 1, 86400, &n, &err), ECA_OK);
    ck_assert_int_eq(n, 300);
    ck_assert_int_eq(eca_conf_get_int(agent, "big", 1, 0, LLONG_MAX, &n, &err), ECA_OK);
    ck_assert(n == 5000000000LL);
    ck_assert_int_eq(eca_conf_get_bool(agent, "insecure", 1, &b, &err), ECA_OK);
    ck_assert_int_eq(b, 1);
    /* Optional and absent: untouched. */
    s = "default";
    n = 7;
    b = 2;
    ck_assert_int_eq(eca_conf_get_str(agent, "url", 0, &s, &err), ECA_OK);
    ck_assert_int_eq(eca_conf_get_int(agent, "url", 0, 0, 1, &n, &err), ECA_OK);
    ck_assert_int_eq(eca_conf_get_bool(agent, "url", 0, &b, &err), ECA_OK);
    ck_assert_str_eq(s, "default");
    ck_assert_int_eq(n, 7);
    ck_assert_int_eq(b, 2);
    config_destroy(&cfg);
}
END_TEST

START_TEST(errors_name_file_line_and_path)
{
    config_t cfg;
    struct eca_err err = {0};
    const config_setting_t *agent, *certs;
    const char *s = "untouched";
    long long n = 7;
    int b = 2;

    ck_assert_int_eq(eca_conf_load(write_conf("agent.conf", conf_text), &cfg, &err), ECA_OK);
    agent = config_lookup(&cfg, "agent");
    ck_assert_int_eq(eca_conf_get_str(agent, "interval", 1, &s, &err), ECA_ECONF);
    assert_msg(&err, "/agent.conf:3: agent.interval: expected string");
    ck_assert_int_eq(eca_conf_get_int(agent, "threshold", 1, 1, 99, &n, &err), ECA_ECONF);
    assert_msg(&err, "/agent.conf:4: agent.threshold: 150 is out of range [1, 99]");
    ck_assert_int_eq(eca_conf_get_int(agent, "ratio", 1, 0, 1, &n, &err), ECA_ECONF);
    assert_msg(&err, "/agent.conf:8: agent.ratio: expected integer");
    ck_assert_int_eq(eca_conf_get_bool(agent, "level", 1, &b, &err), ECA_ECONF);
    assert_msg(&err, "/agent.conf:7: agent.level: expected boolean");
    ck_assert_int_eq(eca_conf_get_str(agent, "url", 1, &s, &err), ECA_ECONF);
    assert_msg(&err, "/agent.conf:1: agent.url: missing");
    ck_assert_int_eq(eca_conf_get_str(agent, "name", 1, &s, &err), ECA_OK);
    ck_assert_int_eq(eca_conf_get_str(config_setting_get_member(agent, "name"), "x", 1, &s, &err),
                     ECA_ECONF);
    assert_msg(&err, ":2: agent.name: expected a group");

    certs = config_lookup(&cfg, "certificates");
    ck_assert_int_eq(eca_conf_get_str(config_setting_get_elem(certs, 0), "key_type", 1, &s, &err),
                     ECA_ECONF);
    assert_msg(&err, "/agent.conf:12: certificates.[0].key_type: expected string");
    ck_assert_int_eq(eca_conf_get_str(config_setting_get_elem(certs, 1), "key_type", 1, &s, &err),
                     ECA_ECONF);
    assert_msg(&err, "/agent.conf:13: certificates.[1].key_type: missing");
    ck_assert_int_eq(n, 7);
    ck_assert_int_eq(b, 2);
    config_destroy(&cfg);
}
END_TEST

START_TEST(setting_path_for_messages)
{
    config_t cfg;
    struct eca_err err = {0};
    char path[64];

    ck_assert_int_eq(eca_conf_load(write_conf("agent.conf", conf_text), &cfg, &err), ECA_OK);
    eca_conf_path(config_lookup(&cfg, "certificates.[1].name"), path, sizeof path);
    ck_assert_str_eq(path, "certificates.[1].name");
    eca_conf_path(config_lookup(&cfg, "agent"), path, sizeof path);
    ck_assert_str_eq(path, "agent");
    eca_conf_path(config_root_setting(&cfg), path, sizeof path);
    ck_assert_str_eq(path, "");
    eca_conf_path(config_lookup(&cfg, "certificates.[1].name"), path, 8);
    ck_assert_uint_lt(strlen(path), 8);
    config_destroy(&cfg);
}
END_TEST

START_TEST(load_reports_syntax_errors_and_missing_files)
{
    config_t cfg;
    struct eca_err err = {0};
    const char *inc;

    ck_assert_int_eq(eca_conf_load(write_conf("bad.conf", "a = 1;\nb = ;\n"), &cfg, &err),
                     ECA_ECONF);
    assert_msg(&err, "/bad.conf:2: syntax error");
    ck_assert_int_eq(eca_conf_load("/nonexistent/eca.conf", &cfg, &err), ECA_ENOTFOUND);
    assert_msg(&err, "/nonexistent/eca.conf: cannot read");

    /* Errors inside an included file name that file; includes are relative to the includer. */
    write_conf("inner.conf", "x = 1;\ny = ;\n");
    inc = write_conf("outer.conf", "@include \"inner.conf\"\n");
    ck_assert_int_eq(eca_conf_load(inc, &cfg, &err), ECA_ECONF);
    assert_msg(&err, "inner.conf:2: syntax error");
}
END_TEST

START_TEST(env_helpers)
{
    struct eca_err err = {0};
    long long n = 33;
    int b = 0;

    unsetenv("ECA_T_INT");
    ck_assert_ptr_null(eca_env_str("ECA_T_INT"));
    ck_assert_int_eq(eca_env_int("ECA_T_INT", 1, 99, &n, &err), ECA_OK);
    ck_assert_int_eq(n, 33);
    setenv("ECA_T_INT", "", 1);
    ck_assert_ptr_null(eca_env_str("ECA_T_INT"));
    ck_assert_int_eq(eca_env_int("ECA_T_INT", 1, 99, &n, &err), ECA_OK);
    ck_assert_int_eq(n, 33);
    setenv("ECA_T_INT", "25", 1);
    ck_assert_str_eq(eca_env_str("ECA_T_INT"), "25");
    ck_assert_int_eq(eca_env_int("ECA_T_INT", 1, 99, &n, &err), ECA_OK);
    ck_assert_int_eq(n, 25);
    setenv("ECA_T_INT", "150", 1);
    ck_assert_int_eq(eca_env_int("ECA_T_INT", 1, 99, &n, &err), ECA_ECONF);
    assert_msg(&err, "ECA_T_INT: 150 is out of range [1, 99]");
    setenv("ECA_T_INT", "12abc", 1);
    ck_assert_int_eq(eca_env_int("ECA_T_INT", 1, 99, &n, &err), ECA_ECONF);
    assert_msg(&err, "ECA_T_INT: '12abc' is not an integer");
    setenv("ECA_T_INT", "99999999999999999999", 1);
    ck_assert_int_eq(eca_env_int("ECA_T_INT", 1, 99, &n, &err), ECA_ECONF);
    ck_assert_int_eq(n, 25);

    setenv("ECA_T_BOOL", "Yes", 1);
    ck_assert_int_eq(eca_env_bool("ECA_T_BOOL", &b, &err), ECA_OK);
    ck_assert_int_eq(b, 1);
    setenv("ECA_T_BOOL", "maybe", 1);
    ck_assert_int_eq(eca_env_bool("ECA_T_BOOL", &b, &err), ECA_ECONF);
    assert_msg(&err, "ECA_T_BOOL: 'maybe' is not a boolean");
    ck_assert_int_eq(b, 1);
}
END_TEST

START_TEST(parse_bool_words)
{
    static const struct {
        const char *s;
        int v;
    } t[] = {
        {"true", 1}, {"TRUE", 1}, {"yes", 1}, {"1", 1},  {"on", 1}, {"false", 0},  {"No", 0},
        {"0", 0},    {"OFF", 0},  {"", -1},   {"2", -1}, {"y", -1}, {"truex", -1}, {" true", -1},
    };
    size_t i;

    for (i = 0; i < sizeof t / sizeof t[0]; i++)
        ck_assert_msg(eca_conf_parse_bool(t[i].s) == t[i].v, "'%s'", t[i].s);
    ck_assert_int_eq(eca_conf_parse_bool(NULL), -1);
}
END_TEST

static Suite *
conf_suite(void)
{
    Suite *s = suite_create("conf");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, typed_getters_read_values);
    tcase_add_test(tc, errors_name_file_line_and_path);
    tcase_add_test(tc, setting_path_for_messages);
    tcase_add_test(tc, load_reports_syntax_errors_and_missing_files);
    tcase_add_test(tc, env_helpers);
    tcase_add_test(tc, parse_bool_words);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(conf_suite)
