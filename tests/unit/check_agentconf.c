/* SPDX-License-Identifier: MIT */
/* Tests for eca_agentconf and eca_conf: shared certificate and global settings, file and env. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "eca_agentconf.h"
#include "eca_conf.h"
#include "eca_test.h"

static char dir[256], path[512];
static config_t cfg;

static void
setup(void)
{
    test_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.conf", dir);
}

static void
teardown(void)
{
    unsetenv("MAX_AGE_SECONDS");
    unsetenv("VERIFY");
    unsetenv("RELOAD_SIGNAL");
    unsetenv("METRICS_LISTEN");
    test_rmdir(dir);
}

/* The first element of `certificates` in text, parsed into the file's config. */
static const config_setting_t *
first_cert(const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(eca_conf_load(path, &cfg, NULL), ECA_OK);
    return config_setting_get_elem(config_lookup(&cfg, "certificates"), 0);
}

START_TEST(shared_settings_from_file)
{
    struct eca_certconf cc;
    const config_setting_t *g = first_cert(
        "certificates = ( { name = \"w\"; cert_path = \"/c\"; key_path = \"/k\";\n"
        "  max_age_seconds = 86400; verify = \"127.0.0.1:4213\"; verify_name = \"w.test\";\n"
        "  verify_timeout_seconds = 3; reload_signal = \"HUP\"; reload_pid_file = \"/p\"; } );\n");

    eca_certconf_defaults(&cc);
    ck_assert_int_eq(eca_certconf_from_file(g, 0, &cc, NULL), ECA_OK);
    ck_assert_str_eq(cc.name, "w");
    ck_assert_int_eq(cc.max_age_s, 86400);
    ck_assert_str_eq(cc.verify, "127.0.0.1:4213");
    ck_assert_str_eq(cc.verify_name, "w.test");
    ck_assert_int_eq(cc.verify_timeout_s, 3);
    ck_assert_str_eq(cc.reload_pid_file, "/p");
    ck_assert_int_eq(cc.layout, ECA_LAYOUT_PEM);
    eca_certconf_free(&cc);
    config_destroy(&cfg);
}
END_TEST

static const struct {
    const char *text;
    unsigned flags;
    const char *needle;
} bad[] = {
    {"certificates = ( { name = \"w\"; layout = \"pkcs12\"; cert_path = \"/c\";\n"
     " key_path = \"/k\"; } );\n",
     0, "a.conf:1: certificates.[0].layout: unknown layout 'pkcs12' (pem, minio)"},
    {"certificates = ( { name = \"w\"; cert_path = \"/c\"; key_path = \"/k\";\n"
     " verify = \"nohostport\"; } );\n",
     0, "a.conf:2: certificates.[0].verify: 'nohostport': expected host:port"},
    {"certificates = ( { name = \"w\"; cert_path = \"/c\"; key_path = \"/k\";\n"
     " max_age_seconds = -5; } );\n",
     0, "max_age_seconds"},
    {"certificates = ( { name = \"w\"; cert_path = \"/c\"; } );\n", ECA_CERTCONF_PKCS12,
     "key_path: required"},
};

START_TEST(bad_settings_name_file_and_line)
{
    struct eca_certconf cc;
    struct eca_err err = {0};
    const config_setting_t *g = first_cert(bad[_i].text);

    eca_certconf_defaults(&cc);
    ck_assert_int_eq(eca_certconf_from_file(g, bad[_i].flags, &cc, &err), ECA_ECONF);
    ck_assert_msg(strstr(err.msg, bad[_i].needle) != NULL, "'%s' lacks '%s'", err.msg,
                  bad[_i].needle);
    eca_certconf_free(&cc);
    config_destroy(&cfg);
}
END_TEST

START_TEST(pkcs12_layout_when_allowed)
{
    struct eca_certconf cc;
    const config_setting_t *g = first_cert("certificates = ( { name = \"w\"; layout = \"pkcs12\";"
                                           " cert_path = \"/c\"; key_path = \"/k\"; } );\n");

    eca_certconf_defaults(&cc);
    ck_assert_int_eq(eca_certconf_from_file(g, ECA_CERTCONF_PKCS12, &cc, NULL), ECA_OK);
    ck_assert_int_eq(cc.layout, ECA_LAYOUT_PKCS12);
    eca_certconf_free(&cc);
    config_destroy(&cfg);
}
END_TEST

START_TEST(env_policy_overrides_and_checks)
{
    struct eca_certconf cc;
    struct eca_err err = {0};

    eca_certconf_defaults(&cc);
    setenv("MAX_AGE_SECONDS", "3600", 1);
    setenv("VERIFY", "[::1]:443", 1);
    ck_assert_int_eq(eca_certconf_policy_from_env(&cc, &err), ECA_OK);
    ck_assert_int_eq(cc.max_age_s, 3600);
    ck_assert_str_eq(cc.verify, "[::1]:443");
    setenv("RELOAD_SIGNAL", "HUP", 1);
    ck_assert_int_eq(eca_certconf_policy_from_env(&cc, &err), ECA_ECONF);
    ck_assert_ptr_nonnull(strstr(err.msg, "RELOAD_SIGNAL and RELOAD_PID_FILE go together"));
    eca_certconf_free(&cc);
}
END_TEST

START_TEST(globals_metrics_listen_checked)
{
    struct eca_agentconf ac;
    struct eca_err err = {0};

    eca_agentconf_init(&ac);
    setenv("METRICS_LISTEN", "127.0.0.1", 1);
    ck_assert_int_eq(eca_agentconf_from_env(&ac, &err), ECA_OK);
    ck_assert_int_eq(eca_conf_set_str(&ac.ca_url, "https://ca.test/", &err), ECA_OK);
    ck_assert_int_eq(eca_agentconf_finish(&ac, "/var/lib/x", &err), ECA_ECONF);
    ck_assert_ptr_nonnull(strstr(err.msg, "metrics_listen (METRICS_LISTEN): '127.0.0.1'"));
    eca_agentconf_free(&ac);
    unsetenv("METRICS_LISTEN");
}
END_TEST

/* Containers publish metrics on 0.0.0.0 only with the explicit opt-in; it defaults to off. */
START_TEST(metrics_nonloopback_is_opt_in)
{
    struct eca_agentconf ac;
    struct eca_err err = {0};

    eca_agentconf_init(&ac);
    ck_assert_int_eq(eca_agentconf_from_env(&ac, &err), ECA_OK);
    ck_assert_int_eq(ac.metrics_allow_nonloopback, 0);
    setenv("METRICS_ALLOW_NONLOOPBACK", "true", 1);
    ck_assert_int_eq(eca_agentconf_from_env(&ac, &err), ECA_OK);
    ck_assert_int_eq(ac.metrics_allow_nonloopback, 1);
    setenv("METRICS_ALLOW_NONLOOPBACK", "maybe", 1);
    ck_assert_int_eq(eca_agentconf_from_env(&ac, &err), ECA_ECONF);
    ck_assert_ptr_nonnull(strstr(err.msg, "METRICS_ALLOW_NONLOOPBACK"));
    unsetenv("METRICS_ALLOW_NONLOOPBACK");
    eca_agentconf_free(&ac);
}
END_TEST

/* A CA URL with "user:pass@" is refused at load, naming the setting, never echoing the secret. */
START_TEST(ca_url_secrets_not_echoed)
{
    static const char *const urls[] = {"https://bob:canary-PW-77@ca.test/dir",
                                       "http://bob:canary-PW-77@ca.test/dir",
                                       "ftp://bob:canary-PW-77@ca.test/dir?canary-PW-77"};
    struct eca_agentconf ac;
    struct eca_err err = {0};
    size_t i;

    for (i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        eca_agentconf_init(&ac);
        ck_assert_int_eq(eca_conf_set_str(&ac.ca_url, urls[i], &err), ECA_OK);
        ck_assert_int_eq(eca_agentconf_finish(&ac, "/var/lib/x", &err), ECA_ECONF);
        ck_assert_int_eq(err.rc, ECA_ECONF);
        ck_assert_ptr_nonnull(strstr(err.msg, "ca_url (CA_URL)"));
        ck_assert_ptr_nonnull(strstr(err.msg, "ca.test"));
        ck_assert_ptr_null(strstr(err.msg, "canary-PW-77"));
        eca_agentconf_free(&ac);
    }
}
END_TEST

/* A state_dir too long for the state-file buffers is an error, not a truncated path. */
START_TEST(state_dir_too_long)
{
    struct eca_agentconf ac;
    struct eca_err err = {0};
    char longdir[ECA_AGENTCONF_STATE_DIR_MAX + 2];

    memset(longdir, 'd', sizeof longdir - 1);
    longdir[0] = '/';
    longdir[sizeof longdir - 1] = '\0';
    eca_agentconf_init(&ac);
    ck_assert_int_eq(eca_conf_set_str(&ac.ca_url, "https://ca.test/", &err), ECA_OK);
    ck_assert_int_eq(eca_conf_set_str(&ac.state_dir, longdir, &err), ECA_OK);
    ck_assert_int_eq(eca_agentconf_finish(&ac, "/var/lib/x", &err), ECA_ECONF);
    ck_assert_ptr_nonnull(strstr(err.msg, "state_dir (STATE_DIR): longer than"));
    longdir[ECA_AGENTCONF_STATE_DIR_MAX] = '\0';
    ck_assert_int_eq(eca_agentconf_finish(&ac, "/var/lib/x", &err), ECA_ECONF);
    free(ac.state_dir);
    ac.state_dir = NULL;
    ck_assert_int_eq(eca_conf_set_str(&ac.state_dir, longdir, &err), ECA_OK);
    ck_assert_int_eq(eca_agentconf_finish(&ac, "/var/lib/x", &err), ECA_OK);
    eca_agentconf_free(&ac);
}
END_TEST

START_TEST(cfg_helpers)
{
    char **v = NULL;
    size_t n = 0;

    ck_assert_int_eq(eca_conf_split_csv(" a, ,b ,c", &v, &n, NULL), ECA_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(v[1], "b");
    eca_conf_vec_free(v, n);
    ck_assert(eca_conf_name_is_safe("web-1.x_y"));
    ck_assert(!eca_conf_name_is_safe("../w"));
    ck_assert(eca_conf_dns_is_valid("*.a.example"));
    ck_assert(!eca_conf_dns_is_valid("a b"));
}
END_TEST

/* The pieces both daemon loaders share: one environment certificate, trailing slashes. */
START_TEST(list_one_and_url_len)
{
    struct eca_err err = {0};
    struct {
        struct eca_certconf base;
        int extra;
    } *one = calloc(1, sizeof(*one));
    size_t n = 1;

    ck_assert_ptr_nonnull(one);
    eca_certconf_defaults(&one->base);
    (void)err;
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(one->base.threshold_pct, ECA_AGENTCONF_DEFAULT_THRESHOLD);
    ck_assert_int_eq(one->extra, 0);
    eca_certconf_free(&one->base);
    free(one);
    ck_assert_int_eq(eca_conf_url_len("https://ca.example//"), 18);
    ck_assert_int_eq(eca_conf_url_len("https://ca.example"), 18);
    ck_assert_int_eq(eca_conf_url_len("///"), 0);
}
END_TEST

static Suite *
agentconf_suite(void)
{
    Suite *s = suite_create("agentconf");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, shared_settings_from_file);
    tcase_add_loop_test(tc, bad_settings_name_file_and_line, 0, sizeof bad / sizeof bad[0]);
    tcase_add_test(tc, pkcs12_layout_when_allowed);
    tcase_add_test(tc, env_policy_overrides_and_checks);
    tcase_add_test(tc, globals_metrics_listen_checked);
    tcase_add_test(tc, metrics_nonloopback_is_opt_in);
    tcase_add_test(tc, cfg_helpers);
    tcase_add_test(tc, ca_url_secrets_not_echoed);
    tcase_add_test(tc, state_dir_too_long);
    tcase_add_test(tc, list_one_and_url_len);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(agentconf_suite)
