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

/* ---- checks made before any request ---- */

static const char *const t_global[] = {"ca_url", "state_dir", "certificates", NULL};
static const char *const t_cert[] = {"name", "cert_path", "renewal_threshold_percent", NULL};
static const char *const *const t_root_lists[] = {t_global, NULL};
static const char *const *const t_cert_lists[] = {t_global, t_cert, NULL};

START_TEST(distance_and_closest_name)
{
    ck_assert_uint_eq(eca_conf_distance("renewal_treshold_percent", "renewal_threshold_percent"),
                      1);
    ck_assert_uint_eq(eca_conf_distance("cret_path", "cert_path"), 1); /* transposition */
    ck_assert_uint_eq(eca_conf_distance("CA_URL", "ca_url"), 0);
    ck_assert_uint_eq(eca_conf_distance("", "abc"), 3);
    ck_assert_uint_eq(eca_conf_distance("kitten", "sitting"), 3);
    ck_assert_str_eq(eca_conf_closest("renewal_treshold_percent", t_cert_lists),
                     "renewal_threshold_percent");
    ck_assert_str_eq(eca_conf_closest("STATE_DIR", t_cert_lists), "state_dir");
    ck_assert_str_eq(eca_conf_closest("cert_pth", t_cert_lists), "cert_path");
    /* Far from everything, or so short that anything is near: no guess. */
    ck_assert_ptr_null(eca_conf_closest("webroot", t_cert_lists));
    ck_assert_ptr_null(eca_conf_closest("x", t_cert_lists));
}
END_TEST

START_TEST(unknown_settings_name_file_line_and_suggest)
{
    static const char text[] = "ca_url = \"https://ca\";\n"              /* 1 */
                               "certificates = (\n"                      /* 2 */
                               "  { name = \"web\";\n"                   /* 3 */
                               "    renewal_treshold_percent = 20; },\n" /* 4 */
                               "  { name = \"b\"; frobnicate = 1; }\n"   /* 5 */
                               ");\n"                                    /* 6 */
                               "stat_dir = \"/x\";\n";                   /* 7 */
    config_t cfg;
    struct eca_err err = {0};
    const config_setting_t *certs;

    ck_assert_int_eq(eca_conf_load(write_conf("agent.conf", text), &cfg, &err), ECA_OK);
    ck_assert_int_eq(eca_conf_check_known(config_root_setting(&cfg), t_root_lists, &err),
                     ECA_ECONF);
    assert_msg(&err, "/agent.conf:7: stat_dir: unknown setting (did you mean state_dir?)");
    certs = config_lookup(&cfg, "certificates");
    ck_assert_int_eq(eca_conf_check_known(config_setting_get_elem(certs, 0), t_cert_lists, &err),
                     ECA_ECONF);
    assert_msg(&err, "/agent.conf:4: certificates.[0].renewal_treshold_percent: unknown setting "
                     "(did you mean renewal_threshold_percent?)");
    ck_assert_int_eq(eca_conf_check_known(config_setting_get_elem(certs, 1), t_cert_lists, &err),
                     ECA_ECONF);
    assert_msg(&err, "/agent.conf:5: certificates.[1].frobnicate: unknown setting");
    ck_assert_ptr_null(strstr(err.msg, "did you mean"));
    /* The certificate names are not global ones. */
    ck_assert_int_eq(eca_conf_check_known(config_setting_get_elem(certs, 1), t_root_lists, &err),
                     ECA_ECONF);
    config_destroy(&cfg);

    ck_assert_int_eq(eca_conf_load(write_conf("ok.conf", "ca_url = \"x\";\n"
                                                         "certificates = ( { name = \"a\"; } );\n"),
                                   &cfg, &err),
                     ECA_OK);
    ck_assert_int_eq(eca_conf_check_known(config_root_setting(&cfg), t_root_lists, &err), ECA_OK);
    ck_assert_int_eq(
        eca_conf_check_known(config_lookup(&cfg, "certificates.[0]"), t_cert_lists, &err), ECA_OK);
    config_destroy(&cfg);
}
END_TEST

START_TEST(control_characters_are_refused)
{
    static const char text[] = "a = \"/etc/ssl/x\\n.pem\";\n"      /* 1 */
                               "b = [ \"ok\", \"t\\tab\" ];\n"     /* 2 */
                               "c = \"plain\";\n"                  /* 3 */
                               "d = \"CN=Gr\\xc3\\xbcn,O=ok\";\n"; /* 4: UTF-8 is text */
    config_t cfg;
    struct eca_err err = {0};
    const char *s = NULL;
    char **v = NULL, *dst = NULL;
    size_t n = 0;

    ck_assert_int_eq(eca_conf_control_at("abc"), -1);
    ck_assert_int_eq(eca_conf_control_at("ab\x7f"), 2);
    ck_assert_int_eq(eca_conf_control_at("\tx"), 0);
    ck_assert_int_eq(eca_conf_no_control_chars("environment: SUBJECT_DN", "CN=a\nO=b", &err),
                     ECA_ECONF);
    assert_msg(&err, "environment: SUBJECT_DN: contains a control character (0x0a at byte 4)");
    ck_assert_int_eq(eca_conf_no_control_chars("x", "CN=ü", &err), ECA_OK);

    ck_assert_int_eq(eca_conf_load(write_conf("agent.conf", text), &cfg, &err), ECA_OK);
    ck_assert_int_eq(eca_conf_get_str(config_root_setting(&cfg), "a", 1, &s, &err), ECA_ECONF);
    assert_msg(&err, "/agent.conf:1: a: contains a control character (0x0a at byte 10)");
    ck_assert_ptr_null(s);
    ck_assert_int_eq(eca_conf_str_list(config_root_setting(&cfg), "b", &v, &n, &err), ECA_ECONF);
    assert_msg(&err, "/agent.conf:2: b.[1]: contains a control character (0x09 at byte 1)");
    ck_assert_ptr_null(v);
    ck_assert_int_eq(eca_conf_str(config_root_setting(&cfg), "d", &dst, &err), ECA_OK);
    ck_assert_str_eq(dst, "CN=Gr\xc3\xbcn,O=ok");
    free(dst);
    dst = NULL;
    config_destroy(&cfg);

    setenv("ECA_T_PATH", "/etc/x\r", 1);
    ck_assert_int_eq(eca_conf_env("ECA_T_PATH", &dst, &err), ECA_ECONF);
    assert_msg(&err, "environment: ECA_T_PATH: contains a control character (0x0d at byte 6)");
    ck_assert_ptr_null(dst);
    unsetenv("ECA_T_PATH");
}
END_TEST

START_TEST(where_a_value_came_from)
{
    config_t cfg;
    struct eca_err err = {0};
    const config_setting_t *g;
    char w[256];

    ck_assert_int_eq(eca_conf_load(write_conf("agent.conf", "certificates = (\n"
                                                            "  { key_path = \"/k\"; } );\n"),
                                   &cfg, &err),
                     ECA_OK);
    g = config_lookup(&cfg, "certificates.[0]");
    unsetenv("ECA_T_KEY");
    eca_conf_where_value(g, "key_path", "ECA_T_KEY", "/k", w, sizeof w);
    ck_assert_msg(strstr(w, "/agent.conf:2: certificates.[0].key_path") != NULL, "%s", w);
    setenv("ECA_T_KEY", "/env/k", 1);
    eca_conf_where_value(g, "key_path", "ECA_T_KEY", "/env/k", w, sizeof w);
    ck_assert_str_eq(w, "environment: ECA_T_KEY");
    eca_conf_where_value(NULL, "key_path", "ECA_T_KEY", "/default", w, sizeof w);
    ck_assert_str_eq(w, "key_path (ECA_T_KEY)");
    unsetenv("ECA_T_KEY");
    config_destroy(&cfg);
}
END_TEST

START_TEST(paths_are_checked_against_the_host)
{
    struct eca_err err = {0};
    char p[512], q[512];

    /* An output file: its directory must exist; the path itself may be absent or a file. */
    snprintf(p, sizeof p, "%s/ssl/web.key", dir);
    ck_assert_int_eq(eca_conf_check_out_file("key_path", p, &err), ECA_ECONF);
    assert_msg(&err, "key_path: directory ");
    assert_msg(&err, "/ssl does not exist (create it, or fix the path)");
    snprintf(q, sizeof q, "%s/ssl", dir);
    ck_assert_int_eq(eca_fs_mkdir_p(q, 0700, &err), ECA_OK);
    ck_assert_int_eq(eca_conf_check_out_file("key_path", p, &err), ECA_OK);
    write_conf("ssl/web.key", "x");
    ck_assert_int_eq(eca_conf_check_out_file("key_path", p, &err), ECA_OK);
    /* A directory where the key goes. */
    ck_assert_int_eq(eca_conf_check_out_file("key_path", q, &err), ECA_ECONF);
    assert_msg(&err, "/ssl exists and is not a regular file (a directory)");
    /* The "directory" is a file. */
    snprintf(q, sizeof q, "%s/ssl/web.key/x.pem", dir);
    ck_assert_int_eq(eca_conf_check_out_file("cert_path", q, &err), ECA_ECONF);
    assert_msg(&err, "cert_path: ");

    /* A directory the agent creates: an existing one, or one whose ancestor it may write. */
    ck_assert_int_eq(eca_conf_check_dir_writable("state_dir", dir, &err), ECA_OK);
    snprintf(q, sizeof q, "%s/state/deeper", dir);
    ck_assert_int_eq(eca_conf_check_dir_writable("state_dir", q, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_exists(q), 0); /* a check creates nothing */
    ck_assert_int_eq(eca_conf_check_dir_writable("state_dir", p, &err), ECA_ECONF);
    assert_msg(&err, "state_dir: directory ");
    assert_msg(&err, "/ssl/web.key is not a directory");
    snprintf(q, sizeof q, "%s/ssl/web.key/sub/deeper", dir);
    ck_assert_int_eq(eca_conf_check_dir_writable("state_dir", q, &err), ECA_ECONF);
    assert_msg(&err, "/ssl/web.key/sub/deeper cannot be created: ");
    assert_msg(&err, "/ssl/web.key is not a directory");

    /* A file the agent reads. */
    ck_assert_int_eq(eca_conf_check_in_file("ca_bundle", p, 1, &err), ECA_OK);
    snprintf(q, sizeof q, "%s/absent.pem", dir);
    ck_assert_int_eq(eca_conf_check_in_file("ca_bundle", q, 0, &err), ECA_OK);
    ck_assert_int_eq(eca_conf_check_in_file("ca_bundle", q, 1, &err), ECA_ECONF);
    assert_msg(&err, "ca_bundle: ");
    assert_msg(&err, "/absent.pem: ");
    ck_assert_int_eq(eca_conf_check_in_file("ca_bundle", dir, 0, &err), ECA_ECONF);
    assert_msg(&err, "is not a regular file (a directory)");
}
END_TEST

START_TEST(reload_commands_parse_and_their_program_is_looked_up)
{
    struct eca_err err = {0}, warn = {0};

    ck_assert_int_eq(eca_conf_check_cmdline("x.conf:3: certificates.[0].reload_command",
                                            "sh -c 'nginx -s reload", &err),
                     ECA_ECONF);
    assert_msg(&err, "x.conf:3: certificates.[0].reload_command: unbalanced ' quote");
    ck_assert_int_eq(eca_conf_check_cmdline("r", "a \"b c\" 'd'", &err), ECA_OK);
    ck_assert_int_eq(eca_conf_check_command("r", "x \"y", &warn, &err), ECA_ECONF);
    assert_msg(&err, "r: unbalanced \" quote");
    ck_assert_int_eq(eca_conf_check_command("r", "   ", &warn, &err), ECA_ECONF);
    assert_msg(&err, "r: empty");
    /* An absolute program that is not there: an error. */
    ck_assert_int_eq(
        eca_conf_check_command("reload_command", "/nonexistent/eca-reload --now", &warn, &err),
        ECA_ECONF);
    assert_msg(&err, "reload_command: /nonexistent/eca-reload");
    ck_assert_int_eq(warn.rc, ECA_OK);
    /* A bare name not in PATH now: a warning only (PATH may differ when the reload runs). */
    ck_assert_int_eq(
        eca_conf_check_command("reload_command", "eca-no-such-program-7 reload", &warn, &err),
        ECA_OK);
    ck_assert_int_ne(warn.rc, ECA_OK);
    ck_assert_msg(strstr(warn.msg, "reload_command: 'eca-no-such-program-7' is not in PATH") !=
                      NULL,
                  "%s", warn.msg);
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
    tcase_add_test(tc, distance_and_closest_name);
    tcase_add_test(tc, unknown_settings_name_file_line_and_suggest);
    tcase_add_test(tc, control_characters_are_refused);
    tcase_add_test(tc, where_a_value_came_from);
    tcase_add_test(tc, paths_are_checked_against_the_host);
    tcase_add_test(tc, reload_commands_parse_and_their_program_is_looked_up);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(conf_suite)
