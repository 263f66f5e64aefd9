/* SPDX-License-Identifier: MIT */
/* Tests for the agent's check/decide steps and its failure handling (no CA reachable). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "acme_agent.h"
#include "acme_conf.h"
#include "eca_deploy.h"
#include "eca_clock.h"
#include "eca_log.h"
#include "eca_test.h"

#define CANARY "Q2FuYXJ5LUhNQUMta2V5LW5ldmVyLWxvZ2dlZC0xMjM0NTY3ODk"

static char dir[256];

static void
setup(void)
{
    test_mkdtemp(dir, sizeof dir);
    logcap_start();
}

static void
teardown(void)
{
    logcap_stop();
    test_rmdir(dir);
}

/* A self-signed P-256 certificate for dns, valid from now-1d for `days`, and its key. */
static void
write_cert(const char *dns, int days)
{
    char path[512], san[300];
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    FILE *f;

    ck_assert_ptr_nonnull(k);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400 - 86400);
    X509_set_pubkey(x, k);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)dns, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    snprintf(san, sizeof san, "DNS:%s", dns);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
    snprintf(path, sizeof path, "%s/cert.pem", dir);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    PEM_write_X509(f, x);
    fclose(f);
    snprintf(path, sizeof path, "%s/key.pem", dir);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    chmod(path, 0600);
    X509_free(x);
    EVP_PKEY_free(k);
}

/* A configuration for domain, with a CA nobody listens on (connection refused at once). */
static struct acme_conf *
make_conf(const char *domain, int with_eab)
{
    struct eca_agentconf_cli cli = {NULL, NULL, 0};
    struct acme_conf *c = NULL;
    struct eca_err err = {0};
    char path[512], text[2048];
    FILE *f;

    snprintf(path, sizeof path, "%s/eab.key", dir);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    fputs(CANARY "\n", f);
    fclose(f);
    chmod(path, 0600);
    snprintf(text, sizeof text,
             "ca_url = \"https://127.0.0.1:1/dir\";\nhttp01_listen = \"127.0.0.1:0\";\n"
             "state_dir = \"%s/state\";\n%s"
             "certificates = ( { name = \"t\"; domains = [\"%s\"];\n"
             "  cert_path = \"%s/cert.pem\"; key_path = \"%s/key.pem\"; } );\n",
             dir, with_eab ? "eab_kid = \"kid\";\neab_hmac_key_file = \"eab.key\";\n" : "", domain,
             dir, dir);
    snprintf(path, sizeof path, "%s/acme.conf", dir);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    fputs(text, f);
    fclose(f);
    cli.config_path = path;
    ck_assert_msg(acme_conf_load(&cli, &c, &err) == ECA_OK, "%s", err.msg);
    if (with_eab) {
        free(c->eab_hmac_key_file);
        snprintf(path, sizeof path, "%s/eab.key", dir);
        c->eab_hmac_key_file = strdup(path);
    }
    return c;
}

START_TEST(new_creates_private_state_dir)
{
    struct acme_conf *c = make_conf("a.example", 0);
    struct acme_agent *a = NULL;
    struct eca_err err = {0};
    struct stat st;

    ck_assert_int_eq(acme_agent_new(c, &a, &err), ECA_OK);
    ck_assert_int_eq(stat(c->g.state_dir, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    acme_agent_free(a);
    acme_conf_free(c);
}
END_TEST

START_TEST(valid_certificate_needs_nothing)
{
    struct acme_conf *c = make_conf("a.example", 0);
    struct acme_agent *a = NULL;
    struct eca_err err = {0};
    char path[512];
    struct eca_pass_result res;
    time_t now = time(NULL);

    write_cert("a.example", 90);
    ck_assert_int_eq(acme_agent_new(c, &a, &err), ECA_OK);
    ck_assert_int_eq(acme_agent_run(a, 0, 0, &res, &err), ECA_OK);
    ck_assert_int_gt(res.dec.next_check, now);
    ck_assert_int_le(res.dec.next_check, now + c->g.check_interval_s + 1);
    ck_assert_int_eq(res.renewed, 0);
    ck_assert_int_eq(res.st.present, 1);
    ck_assert(logcap_contains("\"event\":\"cert_checked\""));
    ck_assert(logcap_contains("\"decision\":\"none\""));
    ck_assert(!logcap_contains("renew_started"));
    /* The account is set up lazily: nothing to renew, no key created. */
    snprintf(path, sizeof path, "%s/account.key", c->g.state_dir);
    ck_assert_int_eq(access(path, F_OK), -1);
    acme_agent_free(a);
    acme_conf_free(c);
}
END_TEST

START_TEST(changed_names_force_renewal_and_failure_leaves_pair)
{
    struct acme_conf *c = make_conf("b.example", 0);
    struct acme_agent *a = NULL;
    struct eca_err err = {0};
    struct stat st;
    char path[512];
    struct eca_pass_result res;

    write_cert("a.example", 90);
    ck_assert_int_eq(acme_agent_new(c, &a, &err), ECA_OK);
    ck_assert_int_eq(acme_agent_run(a, 0, 0, &res, &err), ECA_ENET);
    ck_assert(logcap_contains("\"reason\":\"forced\""));
    ck_assert_int_eq(res.dec.reason, ECA_RENEW_FORCED);
    ck_assert_int_eq(res.renewed, 0);
    /* The account key exists, private, although the CA was unreachable. */
    snprintf(path, sizeof path, "%s/account.key", c->g.state_dir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    /* The installed pair is untouched. */
    snprintf(path, sizeof path, "%s/cert.pem.new", dir);
    ck_assert_int_eq(access(path, F_OK), -1);
    acme_agent_free(a);
    acme_conf_free(c);
}
END_TEST

START_TEST(missing_certificate_is_renewed_and_hmac_never_logged)
{
    struct acme_conf *c = make_conf("a.example", 1);
    struct acme_agent *a = NULL;
    struct eca_err err = {0};
    struct eca_pass_result res;

    ck_assert_int_eq(acme_agent_new(c, &a, &err), ECA_OK);
    ck_assert_int_ne(acme_agent_run(a, 0, 0, &res, &err), ECA_OK);
    ck_assert(logcap_contains("\"reason\":\"missing\""));
    ck_assert_ptr_nonnull(strstr(err.msg, "127.0.0.1"));
    ck_assert(!logcap_contains(CANARY));
    ck_assert_ptr_null(strstr(err.msg, CANARY));
    acme_agent_free(a);
    acme_conf_free(c);
}
END_TEST

START_TEST(status_reports_lifetime_left)
{
    struct acme_conf *c = make_conf("a.example", 0);
    struct acme_agent *a = NULL;
    struct eca_status_cert st;
    struct eca_err err = {0};
    time_t now = time(NULL);

    write_cert("a.example", 10);
    ck_assert_int_eq(acme_agent_new(c, &a, &err), ECA_OK);
    eca_deploy_status(&c->certs[0].base, c->g.state_dir, c->g.check_interval_s, now, &st);
    ck_assert_int_eq(st.present, 1);
    ck_assert_str_eq(st.serial, "1092");
    ck_assert_int_ge(eca_status_left_pct(&st, now), 89);
    ck_assert_int_le(eca_status_left_pct(&st, now), 90);
    ck_assert_int_gt(st.not_after - now, 8 * 86400);
    ck_assert_str_eq(st.next_reason, "check");
    acme_agent_free(a);
    acme_conf_free(c);
}
END_TEST

static Suite *
acme_agent_suite(void)
{
    Suite *s = suite_create("acme_agent");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 20);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, new_creates_private_state_dir);
    tcase_add_test(tc, valid_certificate_needs_nothing);
    tcase_add_test(tc, changed_names_force_renewal_and_failure_leaves_pair);
    tcase_add_test(tc, missing_certificate_is_renewed_and_hmac_never_logged);
    tcase_add_test(tc, status_reports_lifetime_left);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(acme_agent_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
