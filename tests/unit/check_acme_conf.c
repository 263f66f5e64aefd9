/* SPDX-License-Identifier: MIT */
/* Tests for eca-acme configuration: file, environment, precedence, validation messages. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acme_conf.h"
#include "eca_fs.h"
#include "eca_test.h"

static const char *const vars[] = {
    "CA_URL",
    "DNS01_HOOK",
    "DNS01_PROPAGATION_SECONDS",
    "DNS01_HOOK_TIMEOUT",
    "ACME_PROVISIONER",
    "CA_BUNDLE",
    "STATE_DIR",
    "EAB_KID",
    "EAB_HMAC_KEY_FILE",
    "HTTP01_LISTEN",
    "WEBROOT",
    "PREFERRED_CHAIN",
    "CHECK_INTERVAL_SECONDS",
    "FORCE_RENEWAL",
    "TOS_AGREED",
    "ACME_CONTACT",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "DOMAIN_NAME",
    "CERT_PATH",
    "KEY_PATH",
    "CHAIN_PATH",
    "KEY_TYPE",
    "RENEWAL_THRESHOLD_PERCENT",
    "RELOAD_COMMAND",
    "ACME_PROFILE",
    "ACME_PROFILE_REQUIRED",
};

static char tmpdir[256];
static char conf_path[512];

static void
setup(void)
{
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    test_mkdtemp(tmpdir, sizeof tmpdir);
    snprintf(conf_path, sizeof conf_path, "%s/acme.conf", tmpdir);
}

static void
teardown(void)
{
    test_rmdir(tmpdir);
}

static void
write_conf(const char *text)
{
    FILE *f = fopen(conf_path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static struct acme_conf *
load_ok(const char *config_path)
{
    struct eca_agentconf_cli cli = {config_path, NULL, 0};
    struct acme_conf *c = NULL;
    struct eca_err err = {0};

    ck_assert_msg(acme_conf_read(&cli, ECA_CONF_NO_HOST, &c, &err) == ECA_OK, "load: %s", err.msg);
    return c;
}

#define BASE_GLOBALS                                                                               \
    "ca_url = \"https://127.0.0.1:14000/dir\";\n"                                                  \
    "http01_listen = \"127.0.0.1:5002\";\n"

static const char full_conf[] =
    "ca_url = \"https://ca.example:9000\";\n"
    "acme_provisioner = \"acme\";\n"
    "ca_bundle = \"/etc/eca/ca.pem\";\n"
    "state_dir = \"/var/lib/x\";\n"
    "contact = [\"mailto:ops@example.com\"];\n"
    "tos_agreed = false;\n"
    "eab_kid = \"kid-1\";\n"
    "eab_hmac_key_file = \"/run/secrets/eab\";\n"
    "webroot = \"/var/www\";\n"
    "check_interval_seconds = 600;\n"
    "log_level = \"debug\";\n"
    "log_format = \"text\";\n"
    "preferred_chain = \"ISRG Root X1\";\n"
    "certificates = (\n"
    "  { name = \"web\"; domains = [\"a.example\", \"b.example\"];\n"
    "    cert_path = \"/c.pem\"; key_path = \"/k.pem\"; chain_path = \"/ch.pem\";\n"
    "    fullchain = false; key_type = \"rsa-3072\"; renewal_threshold_percent = 50;\n"
    "    reload_command = \"systemctl reload nginx\"; reload_timeout_seconds = 9; },\n"
    "  { name = \"s3\"; domains = \"m.example, n.example\"; layout = \"minio\";\n"
    "    directory = \"/root/.minio/certs\";\n"
    "    reload_signal = \"HUP\"; reload_pid_file = \"/run/minio.pid\"; }\n"
    ");\n";

START_TEST(file_sets_every_field)
{
    struct acme_conf *c;
    const struct acme_cert_conf *w, *m;

    write_conf(full_conf);
    c = load_ok(conf_path);
    ck_assert_str_eq(c->directory_url, "https://ca.example:9000/acme/acme/directory");
    ck_assert_str_eq(c->g.ca_bundle, "/etc/eca/ca.pem");
    ck_assert_str_eq(c->g.state_dir, "/var/lib/x");
    ck_assert_uint_eq(c->ncontact, 1);
    ck_assert_str_eq(c->contact[0], "mailto:ops@example.com");
    ck_assert_int_eq(c->tos_agreed, 0);
    ck_assert_str_eq(c->eab_kid, "kid-1");
    ck_assert_str_eq(c->eab_hmac_key_file, "/run/secrets/eab");
    ck_assert_str_eq(c->webroot, "/var/www");
    ck_assert_ptr_null(c->http01_listen);
    ck_assert_int_eq(c->g.check_interval_s, 600);
    ck_assert_int_eq(c->g.log_level, ECA_LOG_DEBUG);
    ck_assert_int_eq(c->g.log_format, ECA_LOG_TEXT);
    ck_assert_str_eq(c->preferred_chain, "ISRG Root X1");
    ck_assert_uint_eq(c->ncerts, 2);
    w = acme_conf_find(c, "web");
    ck_assert_ptr_nonnull(w);
    ck_assert_uint_eq(w->ndomains, 2);
    ck_assert_str_eq(w->domains[1], "b.example");
    ck_assert_str_eq(w->base.chain_path, "/ch.pem");
    ck_assert_int_eq(w->fullchain, 0);
    ck_assert_int_eq(w->base.key_type, ECA_KEY_RSA_3072);
    ck_assert_int_eq(w->base.threshold_pct, 50);
    ck_assert_str_eq(w->base.reload_command, "systemctl reload nginx");
    ck_assert_int_eq(w->base.reload_timeout_s, 9);
    m = acme_conf_find(c, "s3");
    ck_assert_int_eq(m->base.layout, ECA_LAYOUT_MINIO);
    ck_assert_str_eq(m->base.cert_path, "/root/.minio/certs/public.crt");
    ck_assert_str_eq(m->base.key_path, "/root/.minio/certs/private.key");
    ck_assert_str_eq(m->domains[1], "n.example");
    ck_assert_str_eq(m->base.reload_signal, "HUP");
    ck_assert_int_eq(m->base.key_type, ECA_KEY_EC_P256);
    ck_assert_int_eq(m->base.threshold_pct, ACME_CONF_DEFAULT_THRESHOLD);
    ck_assert_ptr_null(acme_conf_find(c, "nope"));
    acme_conf_free(c);
}
END_TEST

START_TEST(file_defaults)
{
    struct acme_conf *c;

    write_conf(BASE_GLOBALS "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                            "  cert_path = \"/c\"; key_path = \"/k\"; } );\n");
    c = load_ok(conf_path);
    ck_assert_str_eq(c->directory_url, "https://127.0.0.1:14000/dir");
    ck_assert_str_eq(c->g.state_dir, ACME_CONF_DEFAULT_STATE_DIR);
    ck_assert_int_eq(c->tos_agreed, 1);
    ck_assert_int_eq(c->g.check_interval_s, ACME_CONF_DEFAULT_INTERVAL);
    ck_assert_int_eq(c->g.log_format, ECA_LOG_JSON);
    ck_assert_int_eq(c->g.force, 0);
    ck_assert_int_eq(c->certs[0].fullchain, 1);
    ck_assert_ptr_null(c->certs[0].base.chain_path);
    acme_conf_free(c);
}
END_TEST

START_TEST(env_mode_describes_one_certificate)
{
    struct acme_conf *c;

    setenv("CA_URL", "https://ca.example/", 1);
    setenv("ACME_PROVISIONER", "acme", 1);
    setenv("DOMAIN_NAME", "svc.example, alt.example", 1);
    setenv("CERT_PATH", "/out/cert.pem", 1);
    setenv("KEY_PATH", "/out/key.pem", 1);
    setenv("CHAIN_PATH", "/out/chain.pem", 1);
    setenv("HTTP01_LISTEN", "127.0.0.1:4212", 1);
    setenv("KEY_TYPE", "ec-p384", 1);
    setenv("RENEWAL_THRESHOLD_PERCENT", "20", 1);
    setenv("RELOAD_COMMAND", "nginx -s reload", 1);
    setenv("FORCE_RENEWAL", "true", 1);
    setenv("EAB_KID", "kid", 1);
    setenv("EAB_HMAC_KEY_FILE", "/run/secrets/hmac", 1);
    c = load_ok(NULL);
    ck_assert_ptr_null(c->g.config_path);
    ck_assert_str_eq(c->directory_url, "https://ca.example/acme/acme/directory");
    ck_assert_uint_eq(c->ncerts, 1);
    ck_assert_str_eq(c->certs[0].base.name, "svc.example");
    ck_assert_uint_eq(c->certs[0].ndomains, 2);
    ck_assert_str_eq(c->certs[0].domains[0], "svc.example");
    ck_assert_str_eq(c->certs[0].domains[1], "alt.example");
    ck_assert_str_eq(c->certs[0].base.cert_path, "/out/cert.pem");
    ck_assert_str_eq(c->certs[0].base.chain_path, "/out/chain.pem");
    ck_assert_int_eq(c->certs[0].base.key_type, ECA_KEY_EC_P384);
    ck_assert_int_eq(c->certs[0].base.threshold_pct, 20);
    ck_assert_str_eq(c->certs[0].base.reload_command, "nginx -s reload");
    ck_assert_int_eq(c->g.force, 1);
    ck_assert_str_eq(c->eab_kid, "kid");
    acme_conf_free(c);
}
END_TEST

START_TEST(precedence_cli_over_env_over_file_over_default)
{
    struct eca_agentconf_cli cli = {conf_path, "json", 1};
    struct acme_conf *c = NULL;
    struct eca_err err = {0};

    write_conf(BASE_GLOBALS "check_interval_seconds = 100;\nlog_format = \"text\";\n"
                            "log_level = \"warn\";\n"
                            "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                            "  cert_path = \"/c\"; key_path = \"/k\"; key_type = \"rsa-2048\";\n"
                            "  renewal_threshold_percent = 40; } );\n");
    setenv("CHECK_INTERVAL_SECONDS", "200", 1);
    setenv("LOG_FORMAT", "text", 1);
    setenv("WEBROOT", "/srv/www", 1);
    setenv("RENEWAL_THRESHOLD_PERCENT", "25", 1);
    ck_assert_msg(acme_conf_read(&cli, ECA_CONF_NO_HOST, &c, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(c->g.check_interval_s, 200);    /* env over file */
    ck_assert_int_eq(c->g.log_format, ECA_LOG_JSON); /* CLI over env and file */
    ck_assert_int_eq(c->g.log_level, ECA_LOG_WARN);  /* file over default */
    ck_assert_str_eq(c->webroot, "/srv/www");        /* env method replaces the file's */
    ck_assert_ptr_null(c->http01_listen);
    ck_assert_int_eq(c->certs[0].base.threshold_pct, 25);
    ck_assert_int_eq(c->certs[0].base.key_type, ECA_KEY_RSA_2048);
    ck_assert_int_eq(c->g.force, 1); /* --force */
    ck_assert_str_eq(c->g.state_dir, ACME_CONF_DEFAULT_STATE_DIR);
    acme_conf_free(c);
}
END_TEST

/* Each file has one defect; the message must name file:line and the setting. */
static const struct {
    const char *text;
    int line;
    const char *setting;
} bad_files[] = {
    {"ca_url = \"http://127.0.0.1/dir\";\nhttp01_listen = \"127.0.0.1:1\";\n"
     "certificates = ( { name = \"w\"; domains = [\"a.example\"]; cert_path = \"/c\";\n"
     "  key_path = \"/k\"; } );\n",
     1, "ca_url"},
    {BASE_GLOBALS "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; key_type = \"dsa-1024\"; } );\n",
     4, "key_type"},
    {BASE_GLOBALS
     "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
     "  cert_path = \"/c\"; key_path = \"/k\"; renewal_threshold_percent = 150; } );\n",
     4, "renewal_threshold_percent"},
    {BASE_GLOBALS "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  layout = \"zip\"; cert_path = \"/c\"; key_path = \"/k\"; } );\n",
     4, "layout"},
    {BASE_GLOBALS "certificates = (\n  { name = \"../w\"; domains = [\"a.example\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; } );\n",
     4, "name"},
    {BASE_GLOBALS "certificates = ( { name = \"w\";\n domains = [\"a b\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; } );\n",
     4, "domains"},
    {BASE_GLOBALS "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; },\n"
                  "  { name = \"w\"; domains = [\"b.example\"];\n"
                  "  cert_path = \"/c2\"; key_path = \"/k2\"; } );\n",
     5, "name"},
    {"ca_url = \"https://127.0.0.1:14000/dir\";\nhttp01_listen = \"localhost\";\n"
     "certificates = ( { name = \"w\"; domains = [\"a.example\"]; cert_path = \"/c\";\n"
     "  key_path = \"/k\"; } );\n",
     2, "http01_listen"},
    {BASE_GLOBALS "check_interval_seconds = 0;\n"
                  "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; } );\n",
     3, "check_interval_seconds"},
    {BASE_GLOBALS "log_level = \"loud\";\n"
                  "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; } );\n",
     3, "log_level"},
    {BASE_GLOBALS "\neab_kid = \"kid-1\";\n"
                  "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; } );\n",
     4, "eab_kid"},
    {BASE_GLOBALS "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; reload_signal = \"HUP\"; } );\n",
     3, "reload_signal"},
    {BASE_GLOBALS "webroot = \"/srv\";\n"
                  "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; } );\n",
     3, "webroot"},
    {BASE_GLOBALS "tos_agreed = \"yes please\";\n"
                  "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; } );\n",
     3, "tos_agreed"},
    {BASE_GLOBALS "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  key_path = \"/k\"; } );\n",
     3, "cert_path"},
    {BASE_GLOBALS "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  cert_path = ; key_path = \"/k\"; } );\n",
     4, "syntax"},
    /* Checked before any request: typos, control characters, reload commands that do not split. */
    {BASE_GLOBALS "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; renewal_treshold_percent = 20; } );\n",
     4,
     "certificates.[0].renewal_treshold_percent: unknown setting (did you mean "
     "renewal_threshold_percent?)"},
    {BASE_GLOBALS "webrot = \"/srv\";\n"
                  "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; } );\n",
     3, "webrot: unknown setting (did you mean webroot?)"},
    {BASE_GLOBALS "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; profile_requried = true; } );\n",
     4, "profile_requried: unknown setting (did you mean profile_required?)"},
    {BASE_GLOBALS "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  cert_path = \"/c\\n.pem\"; key_path = \"/k\"; } );\n",
     4, "certificates.[0].cert_path: contains a control character (0x0a at byte 2)"},
    {BASE_GLOBALS "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\";\n"
                  "  reload_command = \"sh -c 'nginx -s reload\"; } );\n",
     5, "certificates.[0].reload_command: unbalanced ' quote"},
};

START_TEST(file_errors_name_setting_and_line)
{
    struct eca_agentconf_cli cli = {conf_path, NULL, 0};
    struct acme_conf *c = NULL;
    struct eca_err err = {0};
    char where[600];

    write_conf(bad_files[_i].text);
    ck_assert_int_eq(acme_conf_load(&cli, &c, &err), ECA_ECONF);
    ck_assert_ptr_null(c);
    snprintf(where, sizeof where, "acme.conf:%d", bad_files[_i].line);
    ck_assert_msg(strstr(err.msg, where) != NULL, "case %d: want '%s' in '%s'", _i, where, err.msg);
    ck_assert_msg(strstr(err.msg, bad_files[_i].setting) != NULL, "case %d: want '%s' in '%s'", _i,
                  bad_files[_i].setting, err.msg);
}
END_TEST

static const struct {
    const char *var, *value, *needle;
} bad_env[] = {
    {"KEY_TYPE", "ec-p999", "KEY_TYPE"},
    {"RENEWAL_THRESHOLD_PERCENT", "0", "RENEWAL_THRESHOLD_PERCENT"},
    {"CHECK_INTERVAL_SECONDS", "soon", "CHECK_INTERVAL_SECONDS"},
    {"LOG_LEVEL", "chatty", "LOG_LEVEL"},
    {"FORCE_RENEWAL", "maybe", "FORCE_RENEWAL"},
    {"DOMAIN_NAME", "bad/name", "DOMAIN_NAME"},
    {"CA_URL", "ftp://x", "CA_URL"},
    {"WEBROOT", "/srv", "WEBROOT"},
    {"EAB_KID", "kid", "EAB_KID"},
    {"ACME_PROFILE", "short lived", "ACME_PROFILE: 'short lived' is not a profile name"},
    {"ACME_PROFILE_REQUIRED", "maybe", "ACME_PROFILE_REQUIRED"},
    {"KEY_PATH", "/k\t", "environment: KEY_PATH: contains a control character (0x09 at byte 2)"},
    {"ACME_CONTACT", "mailto:a@b.example\r", "environment: ACME_CONTACT: contains a control"},
    {"RELOAD_COMMAND", "nginx \"-s", "environment: RELOAD_COMMAND: unbalanced \" quote"},
};

START_TEST(env_errors_name_the_variable)
{
    struct acme_conf *c = NULL;
    struct eca_err err = {0};

    setenv("CA_URL", "https://ca.example/dir", 1);
    setenv("DOMAIN_NAME", "a.example", 1);
    setenv("CERT_PATH", "/c", 1);
    setenv("KEY_PATH", "/k", 1);
    setenv("HTTP01_LISTEN", "127.0.0.1:1", 1);
    setenv(bad_env[_i].var, bad_env[_i].value, 1);
    ck_assert_int_eq(acme_conf_load(NULL, &c, &err), ECA_ECONF);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.msg, bad_env[_i].needle) != NULL, "want '%s' in '%s'",
                  bad_env[_i].needle, err.msg);
}
END_TEST

START_TEST(env_mode_requires_domain_and_paths)
{
    struct acme_conf *c = NULL;
    struct eca_err err = {0};

    setenv("CA_URL", "https://ca.example/dir", 1);
    setenv("HTTP01_LISTEN", "127.0.0.1:1", 1);
    ck_assert_int_eq(acme_conf_load(NULL, &c, &err), ECA_ECONF);
    ck_assert_ptr_nonnull(strstr(err.msg, "DOMAIN_NAME"));
    setenv("DOMAIN_NAME", "a.example", 1);
    ck_assert_int_eq(acme_conf_load(NULL, &c, &err), ECA_ECONF);
    ck_assert_ptr_nonnull(strstr(err.msg, "CERT_PATH"));
    setenv("CERT_PATH", "/c", 1);
    ck_assert_int_eq(acme_conf_load(NULL, &c, &err), ECA_ECONF);
    ck_assert_ptr_nonnull(strstr(err.msg, "KEY_PATH"));
}
END_TEST

START_TEST(missing_file_is_config_error)
{
    struct eca_agentconf_cli cli = {"/nonexistent/eca-acme.conf", NULL, 0};
    struct acme_conf *c = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(acme_conf_load(&cli, &c, &err) != ECA_OK, 1);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/eca-acme.conf"));
}
END_TEST

START_TEST(example_file_in_docs_loads)
{
    struct acme_conf *c = load_ok("docs/eca-acme.conf.example");

    ck_assert_uint_ge(c->ncerts, 2);
    acme_conf_free(c);
}
END_TEST

START_TEST(profile_per_certificate_and_from_env)
{
    struct eca_agentconf_cli cli = {conf_path, NULL, 0};
    struct acme_conf *c;
    struct eca_err err = {0};

    write_conf(BASE_GLOBALS "certificates = (\n"
                            "  { name = \"a\"; domains = [\"a.example\"]; cert_path = \"/a.pem\";\n"
                            "    key_path = \"/a.key\"; profile = \"shortlived\";\n"
                            "    profile_required = true; },\n"
                            "  { name = \"b\"; domains = [\"b.example\"]; cert_path = \"/b.pem\";\n"
                            "    key_path = \"/b.key\"; }\n"
                            ");\n");
    c = load_ok(conf_path);
    ck_assert_str_eq(c->certs[0].profile, "shortlived");
    ck_assert_int_eq(c->certs[0].profile_required, 1);
    ck_assert_ptr_null(c->certs[1].profile);
    ck_assert_int_eq(c->certs[1].profile_required, 0);
    acme_conf_free(c);
    /* The environment overrides every certificate (env > file). */
    setenv("ACME_PROFILE", "tlsserver", 1);
    setenv("ACME_PROFILE_REQUIRED", "false", 1);
    c = load_ok(conf_path);
    ck_assert_str_eq(c->certs[0].profile, "tlsserver");
    ck_assert_str_eq(c->certs[1].profile, "tlsserver");
    ck_assert_int_eq(c->certs[0].profile_required, 0);
    acme_conf_free(c);
    unsetenv("ACME_PROFILE");
    unsetenv("ACME_PROFILE_REQUIRED");
    write_conf(BASE_GLOBALS "certificates = (\n"
                            "  { name = \"a\"; domains = [\"a.example\"]; cert_path = \"/a.pem\";\n"
                            "    key_path = \"/a.key\";\n"
                            "    profile = \"short lived\"; }\n"
                            ");\n");
    c = NULL;
    ck_assert_int_eq(acme_conf_load(&cli, &c, &err), ECA_ECONF);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.msg, "acme.conf:6") && strstr(err.msg, "profile") &&
                      strstr(err.msg, "'short lived' is not a profile name"),
                  "%s", err.msg);
}
END_TEST

START_TEST(profile_from_env_mode)
{
    struct acme_conf *c;

    setenv("CA_URL", "https://ca.example/dir", 1);
    setenv("DOMAIN_NAME", "a.example", 1);
    setenv("CERT_PATH", "/c", 1);
    setenv("KEY_PATH", "/k", 1);
    setenv("HTTP01_LISTEN", "127.0.0.1:1", 1);
    c = load_ok(NULL);
    ck_assert_ptr_null(c->certs[0].profile);
    acme_conf_free(c);
    setenv("ACME_PROFILE", "shortlived", 1);
    setenv("ACME_PROFILE_REQUIRED", "true", 1);
    c = load_ok(NULL);
    ck_assert_str_eq(c->certs[0].profile, "shortlived");
    ck_assert_int_eq(c->certs[0].profile_required, 1);
    acme_conf_free(c);
}
END_TEST

/* Bounded passes: pass_timeout_seconds, 300 by default, 5..3600, PASS_TIMEOUT_SECONDS wins. */
START_TEST(pass_timeout_from_file_and_env)
{
    static const char certs[] = "certificates = ( { name = \"a\"; domains = [\"a.example\"];\n"
                                "  cert_path = \"/a.pem\"; key_path = \"/a.key\"; } );\n";
    struct eca_agentconf_cli cli = {conf_path, NULL, 0};
    struct acme_conf *c;
    struct eca_err err = {0};
    char text[1024];

    snprintf(text, sizeof text, "%s%s", BASE_GLOBALS, certs);
    write_conf(text);
    c = load_ok(conf_path);
    ck_assert_int_eq(c->pass_timeout_s, 300);
    acme_conf_free(c);
    snprintf(text, sizeof text, "%spass_timeout_seconds = 45;\n%s", BASE_GLOBALS, certs);
    write_conf(text);
    c = load_ok(conf_path);
    ck_assert_int_eq(c->pass_timeout_s, 45);
    acme_conf_free(c);
    setenv("PASS_TIMEOUT_SECONDS", "20", 1);
    c = load_ok(conf_path);
    ck_assert_int_eq(c->pass_timeout_s, 20);
    acme_conf_free(c);
    setenv("PASS_TIMEOUT_SECONDS", "2", 1);
    c = NULL;
    ck_assert_int_eq(acme_conf_load(&cli, &c, &err), ECA_ECONF);
    ck_assert_msg(strstr(err.msg, "PASS_TIMEOUT_SECONDS") != NULL, "%s", err.msg);
    unsetenv("PASS_TIMEOUT_SECONDS");
    snprintf(text, sizeof text, "%spass_timeout_seconds = 7200;\n%s", BASE_GLOBALS, certs);
    write_conf(text);
    ck_assert_int_eq(acme_conf_load(&cli, &c, &err), ECA_ECONF);
    ck_assert_msg(strstr(err.msg, "acme.conf:3") && strstr(err.msg, "pass_timeout_seconds"), "%s",
                  err.msg);
}
END_TEST

/* CRL checking: on by default, 24 h, fail open; eca-est's names in the file and environment. */
START_TEST(crl_settings_from_file_and_env)
{
    static const char certs[] = "certificates = ( { name = \"a\"; domains = [\"a.example\"];\n"
                                "  cert_path = \"/a.pem\"; key_path = \"/a.key\"; } );\n";
    struct eca_agentconf_cli cli = {conf_path, NULL, 0};
    struct acme_conf *c;
    struct eca_err err = {0};
    char text[1024];

    snprintf(text, sizeof text, "%s%s", BASE_GLOBALS, certs);
    write_conf(text);
    c = load_ok(conf_path);
    ck_assert_int_eq(c->crl_enabled, 1);
    ck_assert_int_eq(c->crl_max_age_s, 24 * 3600);
    ck_assert_int_eq(c->crl_fail_closed, 0);
    acme_conf_free(c);
    snprintf(text, sizeof text,
             "%scrl_enabled = false;\ncrl_max_age_hours = 6;\ncrl_fail_closed = true;\n%s",
             BASE_GLOBALS, certs);
    write_conf(text);
    c = load_ok(conf_path);
    ck_assert_int_eq(c->crl_enabled, 0);
    ck_assert_int_eq(c->crl_max_age_s, 6 * 3600);
    ck_assert_int_eq(c->crl_fail_closed, 1);
    acme_conf_free(c);
    setenv("CRL_ENABLED", "true", 1);
    setenv("CRL_MAX_AGE_HOURS", "2", 1);
    c = load_ok(conf_path);
    ck_assert_int_eq(c->crl_enabled, 1);
    ck_assert_int_eq(c->crl_max_age_s, 2 * 3600);
    acme_conf_free(c);
    setenv("CRL_MAX_AGE_HOURS", "0", 1);
    c = NULL;
    ck_assert_int_eq(acme_conf_load(&cli, &c, &err), ECA_ECONF);
    ck_assert_msg(strstr(err.msg, "CRL_MAX_AGE_HOURS") != NULL, "%s", err.msg);
    unsetenv("CRL_MAX_AGE_HOURS");
    unsetenv("CRL_ENABLED");
}
END_TEST

/* Concurrent orders: concurrency, 4 by default, 1..64, ACME_CONCURRENCY wins. */
START_TEST(concurrency_from_file_and_env)
{
    static const char certs[] = "certificates = ( { name = \"a\"; domains = [\"a.example\"];\n"
                                "  cert_path = \"/a.pem\"; key_path = \"/a.key\"; } );\n";
    struct eca_agentconf_cli cli = {conf_path, NULL, 0};
    struct acme_conf *c;
    struct eca_err err = {0};
    char text[1024];

    snprintf(text, sizeof text, "%s%s", BASE_GLOBALS, certs);
    write_conf(text);
    c = load_ok(conf_path);
    ck_assert_int_eq(c->concurrency, 4);
    acme_conf_free(c);
    snprintf(text, sizeof text, "%sconcurrency = 1;\n%s", BASE_GLOBALS, certs);
    write_conf(text);
    c = load_ok(conf_path);
    ck_assert_int_eq(c->concurrency, 1);
    acme_conf_free(c);
    setenv("ACME_CONCURRENCY", "8", 1);
    c = load_ok(conf_path);
    ck_assert_int_eq(c->concurrency, 8);
    acme_conf_free(c);
    setenv("ACME_CONCURRENCY", "0", 1);
    c = NULL;
    ck_assert_int_eq(acme_conf_load(&cli, &c, &err), ECA_ECONF);
    ck_assert_msg(strstr(err.msg, "ACME_CONCURRENCY") != NULL, "%s", err.msg);
    unsetenv("ACME_CONCURRENCY");
    snprintf(text, sizeof text, "%sconcurrency = 65;\n%s", BASE_GLOBALS, certs);
    write_conf(text);
    ck_assert_int_eq(acme_conf_load(&cli, &c, &err), ECA_ECONF);
    ck_assert_msg(strstr(err.msg, "acme.conf:3") && strstr(err.msg, "concurrency"), "%s", err.msg);
}
END_TEST

/* A file for this host: every path under tmpdir; %s are tmpdir, in order of appearance. */
static void
write_host_conf(const char *cert_extra)
{
    char text[4096];

    snprintf(text, sizeof text,
             BASE_GLOBALS "state_dir = \"%s/state/acme\";\n"                              /* 3 */
                          "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n" /* 4 */
                          "  cert_path = \"%s/ssl/c.pem\";\n"                             /* 5 */
                          "  key_path = \"%s/ssl/k.pem\";\n"                              /* 6 */
                          "  %s } );\n",                                                  /* 7 */
             tmpdir, tmpdir, tmpdir, cert_extra);
    write_conf(text);
}

/* acme_conf_load: the host checked too. */
static struct acme_conf *
load_host_ok(void)
{
    struct eca_agentconf_cli cli = {conf_path, NULL, 0};
    struct acme_conf *c = NULL;
    struct eca_err err = {0};

    ck_assert_msg(acme_conf_load(&cli, &c, &err) == ECA_OK, "load: %s", err.msg);
    return c;
}

static void
load_fails(const char *needle)
{
    struct eca_agentconf_cli cli = {conf_path, NULL, 0};
    struct acme_conf *c = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(acme_conf_load(&cli, &c, &err), ECA_ECONF);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "want '%s' in '%s'", needle, err.msg);
}

START_TEST(host_is_checked_before_any_request)
{
    struct eca_agentconf_cli cli = {conf_path, NULL, 0};
    struct acme_conf *c = NULL;
    struct eca_err err = {0};
    char p[600], want[700], text[1024];

    /* The certificate directory does not exist: named with file:line, not created. */
    write_host_conf("");
    snprintf(want, sizeof want,
             "acme.conf:5: certificates.[0].cert_path: directory %s/ssl does "
             "not exist",
             tmpdir);
    load_fails(want);
    snprintf(p, sizeof p, "%s/ssl", tmpdir);
    ck_assert_int_eq(eca_fs_exists(p), 0);
    /* `status` (and tests of parsing) do not look at the host. */
    ck_assert_int_eq(acme_conf_read(&cli, ECA_CONF_INSPECT, &c, &err), ECA_OK);
    acme_conf_free(c);
    c = NULL;

    ck_assert_int_eq(eca_fs_mkdir_p(p, 0700, &err), ECA_OK);
    c = load_host_ok();
    acme_conf_free(c);
    snprintf(p, sizeof p, "%s/state", tmpdir);
    ck_assert_int_eq(eca_fs_exists(p), 0); /* checking creates nothing */

    /* A directory or a FIFO at the key path is that certificate's trouble, not the
     * configuration's: a warning naming it, and the certificate fails alone at its passes. */
    snprintf(p, sizeof p, "%s/ssl/k.pem", tmpdir);
    ck_assert_int_eq(eca_fs_mkdir_p(p, 0700, &err), ECA_OK);
    logcap_start();
    c = load_host_ok();
    acme_conf_free(c);
    ck_assert(logcap_contains("\"event\":\"config_warning\""));
    ck_assert(logcap_contains("acme.conf:6: certificates.[0].key_path: "));
    ck_assert(logcap_contains("/ssl/k.pem exists and is not a regular file"));
    logcap_stop();
    ck_assert_int_eq(rmdir(p), 0);
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    logcap_start();
    c = load_host_ok();
    acme_conf_free(c);
    ck_assert(logcap_contains("/ssl/k.pem exists and is not a regular file"));
    logcap_stop();
    ck_assert_int_eq(unlink(p), 0);

    /* The state directory cannot be created under a file. */
    snprintf(p, sizeof p, "%s/state", tmpdir);
    ck_assert_int_eq(eca_fs_write_atomic(p, "x", 1, 0600, &err), ECA_OK);
    snprintf(want, sizeof want,
             "acme.conf:3: state_dir: %s/state/acme cannot be created: %s/state is not a "
             "directory",
             tmpdir, tmpdir);
    load_fails(want);
    ck_assert_int_eq(unlink(p), 0);

    /* minio: both paths come from `directory`, which the message names. */
    snprintf(text, sizeof text,
             BASE_GLOBALS
             "state_dir = \"%s\";\n"                                             /* 3 */
             "certificates = ( { name = \"m\"; domains = [\"a.example\"];\n"     /* 4 */
             "  layout = \"minio\"; directory = \"/nonexistent/minio/certs\";\n" /* 5 */
             "} );\n",
             tmpdir);
    write_conf(text);
    load_fails("acme.conf:5: certificates.[0].directory: directory /nonexistent/minio/certs does "
               "not exist");

    /* An absolute reload program that is not there is an error; a bare name, a warning. */
    write_host_conf("reload_command = \"/nonexistent/bin/nginx -s reload\";");
    load_fails("acme.conf:7: certificates.[0].reload_command: /nonexistent/bin/nginx");
    write_host_conf("reload_command = \"eca-no-such-reloader -s reload\";");
    logcap_start();
    c = load_host_ok();
    ck_assert(logcap_contains("\"event\":\"config_warning\""));
    ck_assert(logcap_contains("'eca-no-such-reloader' is not in PATH"));
    logcap_stop();
    acme_conf_free(c);
    write_host_conf("reload_command = \"/bin/sh -c 'exit 0'\";");
    logcap_start();
    c = load_host_ok();
    ck_assert(!logcap_contains("config_warning"));
    logcap_stop();
    acme_conf_free(c);
}
END_TEST

START_TEST(host_is_checked_in_environment_mode)
{
    struct acme_conf *c = NULL;
    struct eca_err err = {0};
    char p[600];

    setenv("CA_URL", "https://ca.example/dir", 1);
    setenv("DOMAIN_NAME", "a.example", 1);
    setenv("HTTP01_LISTEN", "127.0.0.1:1", 1);
    setenv("STATE_DIR", tmpdir, 1);
    snprintf(p, sizeof p, "%s/c.pem", tmpdir);
    setenv("CERT_PATH", p, 1);
    snprintf(p, sizeof p, "%s/nodir/k.pem", tmpdir);
    setenv("KEY_PATH", p, 1);
    ck_assert_int_eq(acme_conf_load(NULL, &c, &err), ECA_ECONF);
    ck_assert_msg(strstr(err.msg, "environment: KEY_PATH: directory ") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "/nodir does not exist") != NULL, "%s", err.msg);
    snprintf(p, sizeof p, "%s/k.pem", tmpdir);
    setenv("KEY_PATH", p, 1);
    ck_assert_int_eq(acme_conf_load(NULL, &c, &err), ECA_OK);
    acme_conf_free(c);
    c = NULL;
    /* A webroot is the web server's: it must exist (the challenge directory is made in it). */
    unsetenv("HTTP01_LISTEN");
    snprintf(p, sizeof p, "%s/www", tmpdir);
    setenv("WEBROOT", p, 1);
    ck_assert_int_eq(acme_conf_load(NULL, &c, &err), ECA_ECONF);
    ck_assert_msg(strstr(err.msg, "environment: WEBROOT: directory ") != NULL, "%s", err.msg);
    ck_assert_int_eq(eca_fs_mkdir_p(p, 0755, &err), ECA_OK);
    ck_assert_int_eq(acme_conf_load(NULL, &c, &err), ECA_OK);
    acme_conf_free(c);
}
END_TEST

/* ---- dns-01 hook, wildcards, IP identifiers ---- */

START_TEST(dns01_settings_global_per_certificate_and_env)
{
    struct acme_conf *c;

    /* No http01_listen: every certificate has a hook and no address. */
    write_conf("ca_url = \"https://127.0.0.1:14000/dir\";\n"
               "dns01_hook = \"/usr/local/bin/dns-hook --zone example\";\n"
               "dns01_propagation_seconds = 30;\n"
               "certificates = (\n"
               "  { name = \"wild\"; domains = [\"*.w.example\", \"w.example\"];\n"
               "    cert_path = \"/c\"; key_path = \"/k\"; },\n"
               "  { name = \"own\"; domains = [\"o.example\"]; cert_path = \"/c2\";\n"
               "    key_path = \"/k2\"; dns01_hook = \"/bin/other\";\n"
               "    dns01_propagation_seconds = 5; dns01_hook_timeout = 9; }\n"
               ");\n");
    c = load_ok(conf_path);
    ck_assert_ptr_null(c->http01_listen);
    ck_assert_str_eq(c->certs[0].dns01_hook, "/usr/local/bin/dns-hook --zone example");
    ck_assert_int_eq(c->certs[0].dns01_propagation_s, 30);
    ck_assert_int_eq(c->certs[0].dns01_hook_timeout_s, 120);
    ck_assert_str_eq(c->certs[1].dns01_hook, "/bin/other");
    ck_assert_int_eq(c->certs[1].dns01_propagation_s, 5);
    ck_assert_int_eq(c->certs[1].dns01_hook_timeout_s, 9);
    ck_assert(!acme_conf_needs_http01(&c->certs[0]));
    acme_conf_free(c);
    /* The variables override every certificate. */
    setenv("DNS01_HOOK", "/env/hook", 1);
    setenv("DNS01_PROPAGATION_SECONDS", "7", 1);
    setenv("DNS01_HOOK_TIMEOUT", "60", 1);
    c = load_ok(conf_path);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_str_eq(c->certs[i].dns01_hook, "/env/hook");
        ck_assert_int_eq(c->certs[i].dns01_propagation_s, 7);
        ck_assert_int_eq(c->certs[i].dns01_hook_timeout_s, 60);
    }
    acme_conf_free(c);
}
END_TEST

START_TEST(ip_addresses_need_http01_beside_the_hook)
{
    struct eca_agentconf_cli cli = {conf_path, NULL, 0};
    struct acme_conf *c = NULL;
    struct eca_err err = {0};

    write_conf("ca_url = \"https://127.0.0.1:14000/dir\";\n"
               "dns01_hook = \"/bin/hook\";\n"
               "certificates = ( { name = \"ip\"; domains = [\"a.example\", \"192.0.2.7\",\n"
               "  \"2001:db8::7\"]; cert_path = \"/c\"; key_path = \"/k\"; } );\n");
    ck_assert_int_eq(acme_conf_load(&cli, &c, &err), ECA_ECONF);
    ck_assert_msg(strstr(err.msg, "http01_listen (HTTP01_LISTEN) or webroot (WEBROOT)") != NULL,
                  "%s", err.msg);
    setenv("HTTP01_LISTEN", "127.0.0.1:5002", 1);
    c = load_ok(conf_path);
    ck_assert_str_eq(c->certs[0].domains[2], "2001:db8::7");
    ck_assert(acme_conf_needs_http01(&c->certs[0]));
    acme_conf_free(c);
}
END_TEST

static const struct {
    const char *text;
    const char *needle;
    const char *absent;
} bad_dns01[] = {
    {BASE_GLOBALS "certificates = ( { name = \"w\"; domains = [\"*.w.example\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; } );\n",
     "certificate 'w': '*.w.example' is a wildcard, which only dns-01 can validate: set "
     "dns01_hook (DNS01_HOOK)",
     NULL},
    {BASE_GLOBALS "dns01_hook = \"/bin/hook 'api-secret\";\n"
                  "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; } );\n",
     "certificate 'w': dns01_hook (DNS01_HOOK): not a command", "api-secret"},
    {BASE_GLOBALS "dns01_propagation_seconds = -1;\n"
                  "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; } );\n",
     "acme.conf:3", NULL},
    {BASE_GLOBALS "certificates = ( { name = \"w\"; domains = [\"a.example\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; dns01_hook_timeout = 0; } );\n",
     "dns01_hook_timeout", NULL},
    {BASE_GLOBALS "certificates = ( { name = \"w\"; domains = [\"[::1]\"];\n"
                  "  cert_path = \"/c\"; key_path = \"/k\"; } );\n",
     "'[::1]' is not a DNS name or IP address", NULL},
};

START_TEST(dns01_errors_name_the_setting)
{
    struct eca_agentconf_cli cli = {conf_path, NULL, 0};
    struct acme_conf *c = NULL;
    struct eca_err err = {0};

    write_conf(bad_dns01[_i].text);
    ck_assert_int_eq(acme_conf_load(&cli, &c, &err), ECA_ECONF);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.msg, bad_dns01[_i].needle) != NULL, "want '%s' in '%s'",
                  bad_dns01[_i].needle, err.msg);
    if (bad_dns01[_i].absent != NULL)
        ck_assert_ptr_null(strstr(err.msg, bad_dns01[_i].absent));
}
END_TEST

START_TEST(dns01_env_mode_wildcard)
{
    struct acme_conf *c;

    setenv("CA_URL", "https://ca.example/dir", 1);
    setenv("DOMAIN_NAME", "*.w.example,w.example", 1);
    setenv("CERT_PATH", "/c", 1);
    setenv("KEY_PATH", "/k", 1);
    setenv("DNS01_HOOK", "/bin/hook", 1);
    c = load_ok(NULL);
    ck_assert_str_eq(c->certs[0].base.name, "default");
    ck_assert_str_eq(c->certs[0].domains[0], "*.w.example");
    ck_assert_str_eq(c->certs[0].dns01_hook, "/bin/hook");
    ck_assert_int_eq(c->certs[0].dns01_propagation_s, 0);
    acme_conf_free(c);
}
END_TEST

/* ---- end of dns-01 hook, wildcards, IP identifiers ---- */

static Suite *
acme_conf_suite(void)
{
    Suite *s = suite_create("acme_conf");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, profile_per_certificate_and_from_env);
    tcase_add_test(tc, profile_from_env_mode);
    tcase_add_test(tc, file_sets_every_field);
    tcase_add_test(tc, file_defaults);
    tcase_add_test(tc, env_mode_describes_one_certificate);
    tcase_add_test(tc, precedence_cli_over_env_over_file_over_default);
    tcase_add_loop_test(tc, file_errors_name_setting_and_line, 0,
                        sizeof bad_files / sizeof bad_files[0]);
    tcase_add_loop_test(tc, env_errors_name_the_variable, 0, sizeof bad_env / sizeof bad_env[0]);
    tcase_add_test(tc, env_mode_requires_domain_and_paths);
    tcase_add_test(tc, missing_file_is_config_error);
    tcase_add_test(tc, example_file_in_docs_loads);
    tcase_add_test(tc, pass_timeout_from_file_and_env);
    tcase_add_test(tc, crl_settings_from_file_and_env);
    tcase_add_test(tc, concurrency_from_file_and_env);
    tcase_add_test(tc, host_is_checked_before_any_request);
    tcase_add_test(tc, host_is_checked_in_environment_mode);
    tcase_add_test(tc, dns01_settings_global_per_certificate_and_env);
    tcase_add_test(tc, ip_addresses_need_http01_beside_the_hook);
    tcase_add_loop_test(tc, dns01_errors_name_the_setting, 0,
                        sizeof bad_dns01 / sizeof bad_dns01[0]);
    tcase_add_test(tc, dns01_env_mode_wildcard);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(acme_conf_suite)
