/* SPDX-License-Identifier: MIT */
/* Tests for est_conf: environment contract, libconfig file, precedence and error messages. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eca_fs.h"
#include "eca_test.h"
#include "est_conf.h"

static char dir[256];

static const char *const vars[] = {
    "CA_URL",
    "EST_PROVISIONER",
    "CA_BUNDLE",
    "INSECURE",
    "STATE_DIR",
    "EST_USERNAME",
    "BOOTSTRAP_TOKEN",
    "BOOTSTRAP_TOKEN_FILE",
    "BOOTSTRAP_CERT_PATH",
    "BOOTSTRAP_KEY_PATH",
    "SUBJECT_DN",
    "SANS",
    "DOMAIN_NAME",
    "CERT_PATH",
    "KEY_PATH",
    "CHAIN_PATH",
    "CA_CERTS_PATH",
    "PFX_PATH",
    "PFX_PASSWORD_FILE",
    "PFX_PROFILE",
    "CRL_ENABLED",
    "CRL_URL",
    "CRL_MAX_AGE_HOURS",
    "CRL_FAIL_CLOSED",
    "KEY_TYPE",
    "RENEWAL_THRESHOLD_PERCENT",
    "CHECK_INTERVAL_SECONDS",
    "RELOAD_COMMAND",
    "FORCE_RENEWAL",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "CERT_NAME",
    "EST_BASIC_AUTH",
    "EST_POP",
    "MAX_PENDING_HOURS",
};

static void
setup(void)
{
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    test_mkdtemp(dir, sizeof dir);
}

static void
teardown(void)
{
    test_rmdir(dir);
}

static void
env_minimal(void)
{
    setenv("CA_URL", "https://127.0.0.1:4222/", 1);
    setenv("SUBJECT_DN", "CN=edge-client,O=Example", 1);
    setenv("CERT_PATH", "/tmp/x/cert.pem", 1);
    setenv("KEY_PATH", "/tmp/x/key.pem", 1);
    setenv("EST_USERNAME", "estuser", 1);
    setenv("BOOTSTRAP_TOKEN", "canary-token-123", 1);
}

static const char *
write_file(const char *name, const char *text)
{
    static char p[512];
    int fd;

    snprintf(p, sizeof p, "%s/%s", dir, name);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return p;
}

START_TEST(env_mode_minimal_with_defaults)
{
    struct est_conf *c = NULL;
    struct eca_err err = {0};

    env_minimal();
    ck_assert_msg(est_conf_read(NULL, ECA_CONF_NO_HOST, &c, &err) == ECA_OK, "%s", err.msg);
    ck_assert_str_eq(c->base_url, "https://127.0.0.1:4222/.well-known/est");
    ck_assert_str_eq(c->g.state_dir, "/var/lib/eca/eca-est");
    ck_assert_int_eq(c->g.check_interval_s, 21600);
    ck_assert_uint_eq(c->ncerts, 1);
    ck_assert_str_eq(c->certs[0].base.name, "edge-client");
    ck_assert_str_eq(c->certs[0].subject_dn, "CN=edge-client,O=Example");
    ck_assert_int_eq(c->certs[0].base.threshold_pct, 33);
    ck_assert_int_eq(c->certs[0].base.key_type, ECA_KEY_EC_P256);
    ck_assert_str_eq(eca_secret_str(c->token), "canary-token-123");
    ck_assert_int_eq(c->basic_preemptive, 1);
    ck_assert_int_eq(c->pop, 0);
    ck_assert_int_eq(c->crl_enabled, 0);
    ck_assert_int_eq(c->crl_max_age_s, 24 * 3600);
    est_conf_free(c);
}
END_TEST

START_TEST(env_mode_full_contract)
{
    struct est_conf *c = NULL;
    struct eca_err err = {0};
    const char *tok = write_file("token", "file-token-456\n");

    env_minimal();
    unsetenv("BOOTSTRAP_TOKEN");
    setenv("BOOTSTRAP_TOKEN_FILE", tok, 1);
    setenv("EST_PROVISIONER", "devices", 1);
    setenv("SANS", "a.example, b.example", 1);
    setenv("PFX_PATH", "/tmp/x/c.pfx", 1);
    setenv("PFX_PASSWORD_FILE", "/tmp/x/pass", 1);
    setenv("PFX_PROFILE", "legacy", 1);
    setenv("CRL_ENABLED", "true", 1);
    setenv("CRL_MAX_AGE_HOURS", "2", 1);
    setenv("CRL_FAIL_CLOSED", "yes", 1);
    setenv("KEY_TYPE", "rsa-3072", 1);
    setenv("RENEWAL_THRESHOLD_PERCENT", "50", 1);
    setenv("CHECK_INTERVAL_SECONDS", "60", 1);
    setenv("FORCE_RENEWAL", "true", 1);
    setenv("EST_BASIC_AUTH", "challenge", 1);
    setenv("EST_POP", "true", 1);
    setenv("STATE_DIR", dir, 1);
    ck_assert_msg(est_conf_read(NULL, ECA_CONF_NO_HOST, &c, &err) == ECA_OK, "%s", err.msg);
    ck_assert_str_eq(c->base_url, "https://127.0.0.1:4222/.well-known/est/devices");
    ck_assert_str_eq(eca_secret_str(c->token), "file-token-456");
    ck_assert_uint_eq(c->certs[0].nsans, 2);
    ck_assert_str_eq(c->certs[0].sans[1], "b.example");
    ck_assert_int_eq(c->certs[0].pfx_profile, ECA_PKCS12_LEGACY);
    ck_assert_int_eq(c->certs[0].base.key_type, ECA_KEY_RSA_3072);
    ck_assert_int_eq(c->certs[0].base.threshold_pct, 50);
    ck_assert_int_eq(c->crl_enabled, 1);
    ck_assert_int_eq(c->crl_fail_closed, 1);
    ck_assert_int_eq(c->crl_max_age_s, 7200);
    ck_assert_int_eq(c->g.check_interval_s, 60);
    ck_assert_int_eq(c->g.force, 1);
    ck_assert_int_eq(c->basic_preemptive, 0);
    ck_assert_int_eq(c->pop, 1);
    ck_assert_str_eq(c->g.state_dir, dir);
    est_conf_free(c);
    /* P-521 is a certificate key type like the others. */
    setenv("KEY_TYPE", "ec-p521", 1);
    ck_assert_msg(est_conf_read(NULL, ECA_CONF_NO_HOST, &c, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(c->certs[0].base.key_type, ECA_KEY_EC_P521);
    ck_assert_int_eq(c->certs[0].base.key_type_explicit, 1);
    est_conf_free(c);
}
END_TEST

static const struct {
    const char *var, *value, *needle;
} env_bad[] = {
    {"CERT_PATH", NULL, "environment: CERT_PATH: required"},
    {"CA_URL", NULL, "CA_URL): required"},
    {"CA_URL", "http://127.0.0.1:1", "must be an https:// URL"},
    {"EST_USERNAME", NULL, "EST_USERNAME"},
    {"KEY_TYPE", "dsa-1024", "KEY_TYPE: unknown key type 'dsa-1024' (ec-p256, ec-p384, ec-p521,"},
    {"RENEWAL_THRESHOLD_PERCENT", "150", "RENEWAL_THRESHOLD_PERCENT"},
    {"PFX_PATH", "/tmp/x.pfx", "PFX_PATH needs PFX_PASSWORD_FILE"},
    {"BOOTSTRAP_CERT_PATH", "/tmp/b.pem", "go together"},
    {"BOOTSTRAP_TOKEN_FILE", "/", "BOOTSTRAP_TOKEN_FILE"}, /* there, but not a token file */
    {"MAX_PENDING_HOURS", "0", "MAX_PENDING_HOURS"},
    {"LOG_LEVEL", "loud", "LOG_LEVEL: 'loud'"},
    {"SANS", "bad name!", "SANS: 'bad name!' is not a DNS name"},
    /* Checked before any request: control characters, reload commands, directories. */
    {"SUBJECT_DN", "CN=a\nO=b",
     "environment: SUBJECT_DN: contains a control character (0x0a at "
     "byte 4)"},
    {"RELOAD_COMMAND", "systemctl 'reload", "environment: RELOAD_COMMAND: unbalanced ' quote"},
    {"CERT_PATH", "/nonexistent-eca/c.pem",
     "environment: CERT_PATH: directory /nonexistent-eca does not exist"},
};

START_TEST(env_mode_errors_name_the_variable)
{
    struct est_conf *c = NULL;
    struct eca_err err = {0};

    env_minimal();
    if (strcmp(env_bad[_i].var, "BOOTSTRAP_TOKEN_FILE") == 0)
        unsetenv("BOOTSTRAP_TOKEN");
    if (env_bad[_i].value)
        setenv(env_bad[_i].var, env_bad[_i].value, 1);
    else
        unsetenv(env_bad[_i].var);
    ck_assert_int_eq(est_conf_load(NULL, &c, &err), ECA_ECONF);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.msg, env_bad[_i].needle) != NULL, "'%s' lacks '%s'", err.msg,
                  env_bad[_i].needle);
    ck_assert_ptr_null(strstr(err.msg, "canary-token-123"));
}
END_TEST

static const char good_file[] =
    "ca_url = \"https://est.example:8443\";\n"
    "est_provisioner = \"iot\";\n"
    "ca_bundle = \"/etc/eca/est-ta.pem\";\n"
    "est_username = \"dev\";\n"
    "bootstrap_token_env = \"MY_TOKEN\";\n"
    "log_level = \"debug\";\n"
    "crl_enabled = true;\n"
    "pop = true;\n"
    "max_pending_hours = 24;\n"
    "certificates = (\n"
    "  { name = \"mqtt\"; subject_dn = \"CN=mqtt-1\"; cert_path = \"/c/m.pem\";\n"
    "    key_path = \"/c/m.key\"; ca_certs_path = \"/c/ca.pem\"; key_type = \"ec-p384\"; },\n"
    "  { name = \"web\"; sans = [\"w.example\", \"x.example\"]; cert_path = \"/c/w.pem\";\n"
    "    key_path = \"/c/w.key\"; pfx_path = \"/c/w.pfx\"; pfx_password_file = \"/c/pw\";\n"
    "    pfx_profile = \"legacy\"; reload_command = \"systemctl reload nginx\"; }\n"
    ");\n";

/* Credentials are for a first enrollment only: none at all loads (the installed certificate
 * re-enrolls; a server may ask for none), and a token file deleted after use is a warning. */
START_TEST(credentials_are_optional)
{
    struct est_conf *c = NULL;
    struct eca_err err = {0};

    env_minimal();
    unsetenv("BOOTSTRAP_TOKEN");
    unsetenv("EST_USERNAME");
    ck_assert_msg(est_conf_load(NULL, &c, &err) == ECA_OK, "%s", err.msg);
    ck_assert_ptr_null(c->token);
    ck_assert_ptr_null(c->token_gone);
    ck_assert_int_eq(c->max_pending_age_s, 72 * 3600);
    est_conf_free(c);

    setenv("EST_USERNAME", "estuser", 1);
    setenv("BOOTSTRAP_TOKEN_FILE", "/nonexistent/token", 1);
    setenv("MAX_PENDING_HOURS", "5", 1);
    logcap_start();
    ck_assert_msg(est_conf_load(NULL, &c, &err) == ECA_OK, "%s", err.msg);
    ck_assert(logcap_contains("\"event\":\"bootstrap_token_missing\""));
    ck_assert(logcap_contains("/nonexistent/token no longer exists"));
    logcap_stop();
    ck_assert_ptr_null(c->token);
    ck_assert_str_eq(c->token_gone, "/nonexistent/token");
    ck_assert_int_eq(c->max_pending_age_s, 5 * 3600);
    est_conf_free(c);
}
END_TEST

START_TEST(file_mode_with_env_and_cli_precedence)
{
    struct est_conf *c = NULL;
    struct eca_err err = {0};
    struct eca_agentconf_cli cli = {write_file("est.conf", good_file), "text", 1};

    setenv("MY_TOKEN", "file-named-env-token", 1);
    setenv("LOG_LEVEL", "warn", 1);
    setenv("LOG_FORMAT", "json", 1);
    setenv("KEY_TYPE", "rsa-2048", 1);
    ck_assert_msg(est_conf_read(&cli, ECA_CONF_NO_HOST, &c, &err) == ECA_OK, "%s", err.msg);
    ck_assert_str_eq(c->base_url, "https://est.example:8443/.well-known/est/iot");
    ck_assert_str_eq(eca_secret_str(c->token), "file-named-env-token");
    ck_assert_int_eq(c->g.log_level, ECA_LOG_WARN);
    ck_assert_int_eq(c->g.log_format, ECA_LOG_TEXT);
    ck_assert_int_eq(c->g.force, 1);
    ck_assert_uint_eq(c->ncerts, 2);
    ck_assert_int_eq(c->certs[0].base.key_type, ECA_KEY_RSA_2048);
    ck_assert_str_eq(c->certs[0].ca_certs_path, "/c/ca.pem");
    ck_assert_uint_eq(c->certs[1].nsans, 2);
    ck_assert_int_eq(c->certs[1].pfx_profile, ECA_PKCS12_LEGACY);
    ck_assert_str_eq(c->certs[1].base.reload_command, "systemctl reload nginx");
    ck_assert_int_eq(c->pop, 1);
    ck_assert_int_eq(c->max_pending_age_s, 24 * 3600);
    est_conf_free(c);
}
END_TEST

static const struct {
    const char *text, *needle;
} file_bad[] = {
    {"ca_url = \"https://x\";\nest_username = \"u\";\nbootstrap_token_env = \"MY_TOKEN\";\n"
     "certificates = ( { name = \"a\"; subject_dn = \"CN=a\";\n cert_path = \"/c\"; key_path = "
     "\"/k\";\n key_type = \"ec-p999\"; } );\n",
     "est.conf:6: certificates.[0].key_type: unknown key type 'ec-p999'"},
    {"ca_url = \"https://x\";\nest_username = \"u\";\nbootstrap_token_env = \"MY_TOKEN\";\n"
     "certificates = ( { name = \"a\"; subject_dn = \"CN=a\"; cert_path = \"/c\";\n"
     "key_path = \"/k\"; pfx_path = \"/p\"; } );\n",
     "est.conf:5: certificates.[0].pfx_path: needs pfx_password_file"},
    {"ca_url = \"https://x\";\nest_username = \"u\";\nbootstrap_token_env = \"MY_TOKEN\";\n"
     "certificates = ( { name = \"a\"; subject_dn = \"CN=a\"; cert_path = \"/c\"; key_path = "
     "\"/k\"; },\n { name = \"a\"; subject_dn = \"CN=b\"; cert_path = \"/c\"; key_path = \"/k\"; "
     "} );\n",
     "duplicate certificate name 'a'"},
    {"ca_url = \"https://x\";\nest_username = \"u\";\nbootstrap_token_env = \"MY_TOKEN\";\n",
     "certificates: at least one certificate is required"},
    {"ca_url = \"https://x\"\nthis is not libconfig\n", "est.conf:2"},
    {"ca_url = \"https://x\";\nest_username = \"u\";\nbootstrap_token_env = \"MY_TOKEN\";\n"
     "basic_auth = \"sometimes\";\n"
     "certificates = ( { name = \"a\"; subject_dn = \"CN=a\"; cert_path = \"/c\"; key_path = "
     "\"/k\"; } );\n",
     "est.conf:4: basic_auth: 'sometimes'"},
    {"ca_url = \"https://x\";\nmax_pending_hours = 0;\n"
     "certificates = ( { name = \"a\"; subject_dn = \"CN=a\"; cert_path = \"/c\"; key_path = "
     "\"/k\"; } );\n",
     "est.conf:2: max_pending_hours"},
    {"ca_url = \"https://x\";\nest_username = \"u\";\nbootstrap_token_env = \"MY_TOKEN\";\n"
     "bootstrap_token_fil = \"/t\";\n"
     "certificates = ( { name = \"a\"; subject_dn = \"CN=a\"; cert_path = \"/c\"; key_path = "
     "\"/k\"; } );\n",
     "est.conf:4: bootstrap_token_fil: unknown setting (did you mean bootstrap_token_file?)"},
    {"ca_url = \"https://x\";\nest_username = \"u\";\nbootstrap_token_env = \"MY_TOKEN\";\n"
     "certificates = ( { name = \"a\"; subject_dn = \"CN=a\"; cert_path = \"/c\";\n"
     "key_path = \"/k\"; pfx_pasword_file = \"/p\"; } );\n",
     "est.conf:5: certificates.[0].pfx_pasword_file: unknown setting (did you mean "
     "pfx_password_file?)"},
    {"ca_url = \"https://x\";\nest_username = \"u\";\nbootstrap_token_env = \"MY_TOKEN\";\n"
     "certificates = ( { name = \"a\";\n subject_dn = \"CN=a,\\tO=b\"; cert_path = \"/c\";\n"
     "key_path = \"/k\"; } );\n",
     "est.conf:5: certificates.[0].subject_dn: contains a control character (0x09 at byte 5)"},
    {"ca_url = \"https://x\";\nest_username = \"u\";\nbootstrap_token_env = \"MY_TOKEN\";\n"
     "certificates = ( { name = \"a\"; subject_dn = \"CN=a\"; cert_path = \"/c\";\n"
     "key_path = \"/k\"; reload_command = \"mosquitto_ctrl \\\"reload\"; } );\n",
     "est.conf:5: certificates.[0].reload_command: unbalanced \" quote"},
};

/* This host's paths (all under dir): a missing directory, a directory at the key path. */
START_TEST(host_is_checked_before_any_request)
{
    struct est_conf *c = NULL;
    struct eca_err err = {0};
    struct eca_agentconf_cli cli = {NULL, NULL, 0};
    char text[2048], p[600], want[800], conf[600];

    setenv("MY_TOKEN", "file-named-env-token", 1);
    snprintf(text, sizeof text,
             "ca_url = \"https://x\";\nest_username = \"u\";\n"                  /* 1, 2 */
             "bootstrap_token_env = \"MY_TOKEN\";\n"                             /* 3 */
             "state_dir = \"%s/state\";\n"                                       /* 4 */
             "certificates = ( { name = \"a\"; subject_dn = \"CN=a\";\n"         /* 5 */
             "  cert_path = \"%s/c.pem\"; key_path = \"%s/k.pem\";\n"            /* 6 */
             "  ca_certs_path = \"%s/trust/ca.pem\";\n"                          /* 7 */
             "  pfx_path = \"%s/a.pfx\"; pfx_password_file = \"%s/pw\"; } );\n", /* 8 */
             dir, dir, dir, dir, dir, dir);
    snprintf(conf, sizeof conf, "%s", write_file("est.conf", text));
    cli.config_path = conf;
    snprintf(want, sizeof want,
             "est.conf:7: certificates.[0].ca_certs_path: directory %s/trust does not exist", dir);
    ck_assert_int_eq(est_conf_load(&cli, &c, &err), ECA_ECONF);
    ck_assert_msg(strstr(err.msg, want) != NULL, "'%s' lacks '%s'", err.msg, want);
    snprintf(p, sizeof p, "%s/trust", dir);
    ck_assert_int_eq(eca_fs_mkdir_p(p, 0700, &err), ECA_OK);
    /* The PKCS#12 password is read at every renewal: it must be there. */
    snprintf(want, sizeof want, "est.conf:8: certificates.[0].pfx_password_file: %s/pw: ", dir);
    ck_assert_int_eq(est_conf_load(&cli, &c, &err), ECA_ECONF);
    ck_assert_msg(strstr(err.msg, want) != NULL, "'%s' lacks '%s'", err.msg, want);
    write_file("pw", "secret\n");
    ck_assert_msg(est_conf_load(&cli, &c, &err) == ECA_OK, "%s", err.msg);
    est_conf_free(c);
    c = NULL;
    snprintf(p, sizeof p, "%s/state", dir);
    ck_assert_int_eq(eca_fs_exists(p), 0); /* checking creates nothing */
    snprintf(p, sizeof p, "%s/k.pem", dir);
    ck_assert_int_eq(eca_fs_mkdir_p(p, 0700, &err), ECA_OK);
    snprintf(want, sizeof want,
             "est.conf:6: certificates.[0].key_path: %s/k.pem exists and is not a regular file",
             dir);
    /* That certificate's trouble, not the configuration's: a warning, it fails alone. */
    logcap_start();
    ck_assert_msg(est_conf_load(&cli, &c, &err) == ECA_OK, "%s", err.msg);
    est_conf_free(c);
    c = NULL;
    ck_assert_msg(logcap_contains(want), "no warning '%s'", want);
    logcap_stop();
    /* `status` does not look at the host. */
    ck_assert_int_eq(est_conf_read(&cli, ECA_CONF_INSPECT, &c, &err), ECA_OK);
    est_conf_free(c);
}
END_TEST

START_TEST(file_mode_errors_name_file_and_line)
{
    struct est_conf *c = NULL;
    struct eca_err err = {0};
    struct eca_agentconf_cli cli = {write_file("est.conf", file_bad[_i].text), NULL, 0};

    setenv("MY_TOKEN", "file-named-env-token", 1);
    ck_assert_int_eq(est_conf_load(&cli, &c, &err), ECA_ECONF);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.msg, file_bad[_i].needle) != NULL, "'%s' lacks '%s'", err.msg,
                  file_bad[_i].needle);
}
END_TEST

/* Every name in the annotated example is a setting (the host is another one: not looked at). */
START_TEST(example_file_in_docs_loads)
{
    struct est_conf *c = NULL;
    struct eca_err err = {0};
    struct eca_agentconf_cli cli = {"docs/eca-est.conf.example", NULL, 0};

    ck_assert_msg(est_conf_read(&cli, ECA_CONF_INSPECT, &c, &err) == ECA_OK, "%s", err.msg);
    ck_assert_uint_ge(c->ncerts, 1);
    est_conf_free(c);
}
END_TEST

static Suite *
conf_suite(void)
{
    Suite *s = suite_create("est_conf");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, env_mode_minimal_with_defaults);
    tcase_add_test(tc, env_mode_full_contract);
    tcase_add_loop_test(tc, env_mode_errors_name_the_variable, 0,
                        sizeof env_bad / sizeof env_bad[0]);
    tcase_add_test(tc, credentials_are_optional);
    tcase_add_test(tc, file_mode_with_env_and_cli_precedence);
    tcase_add_loop_test(tc, file_mode_errors_name_file_and_line, 0,
                        sizeof file_bad / sizeof file_bad[0]);
    tcase_add_test(tc, host_is_checked_before_any_request);
    tcase_add_test(tc, example_file_in_docs_loads);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(conf_suite)
