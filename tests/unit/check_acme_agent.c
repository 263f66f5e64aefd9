/* SPDX-License-Identifier: MIT */
/* Tests for the agent's check/decide steps and its failure handling (no CA reachable). */
#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "acme_agent.h"
#include "acme_conf.h"
#include "eca_deploy.h"
#include "eca_fs.h"
#include "eca_clock.h"
#include "eca_key.h"
#include "eca_log.h"
#include "eca_test.h"
#include "eca_b64.h"
#include "pki_helpers.h"

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
    /* The retry must know it failed before anything was issued. */
    ck_assert_int_eq(res.step, ECA_STEP_OBTAIN);
    ck_assert_int_eq(res.issued, 0);
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

/* A P-521 account key put in STATE_DIR is refused by name before anything is signed. */
START_TEST(p521_account_key_is_refused_by_name)
{
    struct acme_conf *c = make_conf("a.example", 0);
    struct acme_agent *a = NULL;
    struct eca_key *k = NULL;
    struct eca_err err = {0};
    struct eca_pass_result res;
    char path[512];

    ck_assert_int_eq(acme_agent_new(c, &a, &err), ECA_OK);
    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P521, &k, NULL), ECA_OK);
    snprintf(path, sizeof path, "%s/account.key", c->g.state_dir);
    ck_assert_int_eq(eca_key_save(k, path, NULL), ECA_OK);
    eca_key_free(k);
    ck_assert_int_eq(acme_agent_run(a, 0, 0, &res, &err), ECA_EINVAL);
    ck_assert_msg(strstr(err.msg, "account.key: account key type ec-p521 cannot sign") != NULL,
                  "%s", err.msg);
    ck_assert_int_eq(res.issued, 0);
    acme_agent_free(a);
    acme_conf_free(c);
}
END_TEST

/* A spent issuance budget: the pass decides (missing) but asks the CA for nothing. */
START_TEST(look_only_pass_decides_and_orders_nothing)
{
    struct acme_conf *c = make_conf("a.example", 0);
    struct acme_agent *a = NULL;
    struct eca_err err = {0};
    struct eca_pass_result res;
    char path[512];

    ck_assert_int_eq(acme_agent_new(c, &a, &err), ECA_OK);
    ck_assert_int_eq(acme_agent_run(a, 0, ECA_PASS_FORCE | ECA_PASS_LOOK, &res, &err), ECA_OK);
    ck_assert_int_ne(res.dec.reason, ECA_RENEW_NONE);
    ck_assert_int_eq(res.renewed, 0);
    ck_assert_int_eq(res.issued, 0);
    ck_assert(logcap_contains("\"event\":\"cert_checked\""));
    ck_assert(!logcap_contains("renew_started"));
    snprintf(path, sizeof path, "%s/account.key", c->g.state_dir);
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

START_TEST(a_serial_recorded_as_revoked_is_renewed_and_unhealthy)
{
    struct acme_conf *c = make_conf("a.example", 0);
    struct acme_agent *a = NULL;
    struct eca_status_cert st;
    struct eca_pass_result res;
    struct eca_err err = {0};
    char path[512];
    time_t now = time(NULL);
    FILE *f;

    write_cert("a.example", 90); /* serial 4242 = 0x1092, no CRL distribution point */
    ck_assert_int_eq(acme_agent_new(c, &a, &err), ECA_OK);
    snprintf(path, sizeof path, "%s/t.revoked", c->g.state_dir);
    /* Another certificate's serial: this one is fine. */
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    fputs("1093", f);
    fclose(f);
    acme_agent_status(c, 0, now, &st);
    ck_assert_int_eq(st.revoked, 0);
    ck_assert_int_eq(eca_status_healthy(&st, now), 1);
    ck_assert_int_eq(acme_agent_run(a, 0, ECA_PASS_LOOK, &res, &err), ECA_OK);
    ck_assert_int_eq(res.dec.reason, ECA_RENEW_NONE);
    /* The installed one, as `revoke` records it. */
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    fputs("1092", f);
    fclose(f);
    acme_agent_status(c, 0, now, &st);
    ck_assert_int_eq(st.revoked, 1);
    ck_assert_str_eq(st.next_reason, "revoked");
    ck_assert_int_eq(eca_status_healthy(&st, now), 0);
    ck_assert_int_eq(acme_agent_run(a, 0, ECA_PASS_LOOK, &res, &err), ECA_OK);
    ck_assert_int_eq(res.dec.reason, ECA_RENEW_REVOKED);
    ck_assert(logcap_contains("\"decision\":\"revoked\""));
    /* No distribution point: no CRL request, nothing said about CRLs. */
    ck_assert(!logcap_contains("\"event\":\"crl_"));
    acme_agent_free(a);
    acme_conf_free(c);
}
END_TEST

/* ---- Revocation through the installed certificate's CRL (fake transport) ---- */

#define DP "http://crl.test/ca.crl"

static EVP_PKEY *crl_ca_key;
static X509 *crl_ca;

/* A leaf for a.example (serial 0x77) under a throwaway CA, with DP; cert_path gets leaf + CA. */
static void
write_dp_cert(void)
{
    EVP_PKEY *lk = pki_key();
    X509 *leaf;
    char path[512];
    FILE *f;

    crl_ca_key = pki_key();
    crl_ca = pki_cert("CRL test CA", crl_ca_key, NULL, crl_ca_key, 1, 1, 90 * 86400, NULL);
    leaf = pki_cert("a.example", lk, crl_ca, crl_ca_key, 0, 0x77, 90 * 86400, DP);
    pki_ext(leaf, crl_ca, NID_subject_alt_name, "DNS:a.example");
    ck_assert_int_gt(X509_sign(leaf, crl_ca_key, EVP_sha256()), 0);
    snprintf(path, sizeof path, "%s/cert.pem", dir);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    PEM_write_X509(f, leaf);
    PEM_write_X509(f, crl_ca);
    fclose(f);
    snprintf(path, sizeof path, "%s/key.pem", dir);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    PEM_write_PrivateKey(f, lk, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    chmod(path, 0600);
    X509_free(leaf);
    EVP_PKEY_free(lk);
}

/* Queue a 200 carrying the CRL (PEM) signed by crl_ca: serials listed, fresh or stale. */
static void
push_ca_crl(struct fake_http *f, const long *serials, size_t n, int stale)
{
    X509_CRL *x = stale ? pki_crl(crl_ca, crl_ca_key, serials, n, -7200, -3600)
                        : pki_crl(crl_ca, crl_ca_key, serials, n, -60, 3600);
    char *raw = pki_crl_response(x);

    fake_http_push_raw(f, raw);
    free(raw);
}

START_TEST(crl_listing_the_certificate_renews_it_and_fail_closed_counts)
{
    struct acme_conf *c = make_conf("a.example", 0);
    struct fake_http *fake;
    struct eca_http *http = fake_http_new(&fake);
    struct acme_agent *a = NULL;
    struct eca_status_cert st;
    struct eca_pass_result res;
    struct eca_err err = {0};
    const long ours[] = {5, 0x77};
    char path[512];
    size_t n;

    write_dp_cert();
    c->crl_refresh_s = 0; /* the CA republishes between passes: each pass downloads */
    ck_assert_int_eq(acme_agent_new(c, &a, &err), ECA_OK);
    acme_agent_set_transport(a, http);
    snprintf(path, sizeof path, "%s/t.revoked", c->g.state_dir);
    /* Not listed: nothing to do; the request went to the distribution point. */
    push_ca_crl(fake, ours, 1, 0);
    ck_assert_int_eq(acme_agent_run(a, 0, ECA_PASS_LOOK, &res, &err), ECA_OK);
    ck_assert_int_eq(res.dec.reason, ECA_RENEW_NONE);
    ck_assert_str_eq(fake_http_req(fake, 0)->url, DP);
    ck_assert(logcap_contains("\"revoked\":false"));
    /* Stale, listing it: fail open (logged), or revoked with crl_fail_closed, but never
     * recorded as revoked (the CRL did not say so). */
    push_ca_crl(fake, ours, 2, 1);
    ck_assert_int_eq(acme_agent_run(a, 0, ECA_PASS_LOOK, &res, &err), ECA_OK);
    ck_assert_int_eq(res.dec.reason, ECA_RENEW_NONE);
    ck_assert(logcap_contains("\"event\":\"crl_unavailable\""));
    ck_assert(logcap_contains("\"fail_closed\":false"));
    c->crl_fail_closed = 1;
    push_ca_crl(fake, ours, 2, 1);
    ck_assert_int_eq(acme_agent_run(a, 0, ECA_PASS_LOOK, &res, &err), ECA_OK);
    ck_assert_int_eq(res.dec.reason, ECA_RENEW_REVOKED);
    ck_assert(!eca_fs_exists(path));
    c->crl_fail_closed = 0;
    /* Listed: revoked, recorded for status and restarts. */
    push_ca_crl(fake, ours, 2, 0);
    ck_assert_int_eq(acme_agent_run(a, 0, ECA_PASS_LOOK, &res, &err), ECA_OK);
    ck_assert_int_eq(res.dec.reason, ECA_RENEW_REVOKED);
    ck_assert(logcap_contains("\"revoked\":true"));
    ck_assert(eca_fs_exists(path));
    acme_agent_status(c, 0, time(NULL), &st);
    ck_assert_int_eq(st.revoked, 1);
    ck_assert_int_eq(eca_status_healthy(&st, time(NULL)), 0);
    /* Recorded: the next pass needs no CRL to know it. */
    n = fake_http_nreq(fake);
    ck_assert_int_eq(acme_agent_run(a, 0, ECA_PASS_LOOK, &res, &err), ECA_OK);
    ck_assert_int_eq(res.dec.reason, ECA_RENEW_REVOKED);
    ck_assert_uint_eq(fake_http_nreq(fake), n);
    /* crl_enabled = false: no request at all. */
    eca_fs_remove(path, NULL);
    c->crl_enabled = 0;
    ck_assert_int_eq(acme_agent_run(a, 0, ECA_PASS_LOOK, &res, &err), ECA_OK);
    ck_assert_int_eq(res.dec.reason, ECA_RENEW_NONE);
    ck_assert_uint_eq(fake_http_nreq(fake), n);
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    acme_agent_free(a);
    eca_http_free(http);
    acme_conf_free(c);
    X509_free(crl_ca);
    EVP_PKEY_free(crl_ca_key);
}
END_TEST

/* ---- ACME Renewal Information (RFC 9773) and profiles, over the fake transport ---- */

/* 2026-12-03T08:00:00Z; ari_ok.http's window opens 2027-01-20T10:00:00Z (48 days later). */
#define NOW     1796284800
#define W_START 1800439200
#define W_END   1800612000
/* certID of the certificate write_ari_cert() makes: AKI 69885B6B..., serial 0x87654321. */
#define CERT_ID "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"
#define ARI_URL "https://localhost:14000/draft-ietf-acme-ari-03/renewalInfo/" CERT_ID

static time_t fake_now = NOW;

static time_t
test_clock(void)
{
    return fake_now;
}

static uint64_t rnd_value;

static uint64_t
test_rnd(void *ctx)
{
    (void)ctx;
    return rnd_value;
}

/* A 90-day certificate (NOW-1d .. NOW+89d) for dns with the RFC 9773 example's AKI and serial. */
/* The lifetime of the next write_ari_cert(), half of it gone at NOW; 0: 90 days, 1 gone. */
static long ari_cert_life_s;

static void
write_ari_cert(const char *dns)
{
    static const unsigned char aki[] = {0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
                                        0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4};
    char path[512], san[300];
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    FILE *f;

    ck_assert_ptr_nonnull(k);
    X509_set_version(x, 2);
    ASN1_INTEGER_set_int64(X509_get_serialNumber(x), 0x87654321LL);
    if (ari_cert_life_s > 0) {
        X509_time_adj_ex(X509_getm_notBefore(x), 0, -ari_cert_life_s / 2, &(time_t){NOW});
        X509_time_adj_ex(X509_getm_notAfter(x), 0, ari_cert_life_s / 2, &(time_t){NOW});
    } else {
        X509_time_adj_ex(X509_getm_notBefore(x), -1, 0, &(time_t){NOW});
        X509_time_adj_ex(X509_getm_notAfter(x), 89, 0, &(time_t){NOW});
    }
    X509_set_pubkey(x, k);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)dns, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    snprintf(san, sizeof san, "DNS:%s", dns);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    akid->keyid = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(akid->keyid, aki, sizeof aki);
    ck_assert_int_eq(X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, 0), 1);
    AUTHORITY_KEYID_free(akid);
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

/* An agent over a fake transport answering the fixtures given (NULL-ended), at fake_now. */
static struct acme_agent *
ari_agent(struct acme_conf *c, struct eca_http **http, struct fake_http **fake, ...)
{
    struct acme_agent *a = NULL;
    struct eca_err err = {0};
    const char *fx;
    va_list ap;

    *http = fake_http_new(fake);
    va_start(ap, fake);
    while ((fx = va_arg(ap, const char *)) != NULL)
        fake_http_push_fixture(*fake, fx);
    va_end(ap);
    ck_assert_int_eq(acme_agent_new(c, &a, &err), ECA_OK);
    acme_agent_set_transport(a, *http);
    acme_agent_set_random(a, test_rnd, NULL);
    return a;
}

static void
ari_setup(void)
{
    setup();
    fake_now = NOW;
    rnd_value = 4242;
    eca_clock_set(test_clock);
}

static void
ari_teardown(void)
{
    eca_clock_set(NULL);
    teardown();
}

static void
read_state(const struct acme_conf *c, const char *suffix, char *out, size_t outlen)
{
    char path[512];
    FILE *f;
    size_t n;

    snprintf(path, sizeof path, "%s/t%s", c->g.state_dir, suffix);
    out[0] = '\0';
    if ((f = fopen(path, "r")) == NULL)
        return;
    n = fread(out, 1, outlen - 1, f);
    out[n] = '\0';
    fclose(f);
}

START_TEST(ari_future_window_schedules_and_persists_the_choice)
{
    struct acme_conf *c = make_conf("a.example", 0);
    struct eca_http *http;
    struct fake_http *fake;
    struct acme_agent *a;
    struct eca_pass_result res;
    struct eca_err err = {0};
    char state[256];
    time_t at = 0;

    write_ari_cert("a.example");
    a = ari_agent(c, &http, &fake, "acme/dir_pebble_ari.http", "acme/ari_ok.http", NULL);
    ck_assert_int_eq(acme_agent_run(a, 0, 0, &res, &err), ECA_OK);
    ck_assert_int_eq(res.dec.reason, ECA_RENEW_NONE);
    /* ARI's time (48 days away) is earlier than the threshold's (about 59 days). */
    ck_assert_int_eq(res.dec.renew_at, W_START + 4242);
    ck_assert_int_le(res.dec.next_check, NOW + c->g.check_interval_s);
    ck_assert_uint_eq(fake_http_nreq(fake), 2);
    ck_assert_str_eq(fake_http_req(fake, 1)->method, "GET");
    ck_assert_str_eq(fake_http_req(fake, 1)->url, ARI_URL);
    read_state(c, ".ari", state, sizeof state);
    ck_assert_str_eq(state, "eca-ari 1 " CERT_ID " 1800439200 1800612000 1800443442\n");
    ck_assert_int_eq(acme_agent_ari_renew_at(a, 0, &at), 1);
    ck_assert_int_eq(at, W_START + 4242);
    ck_assert(logcap_contains("\"event\":\"ari_window\""));
    ck_assert(logcap_contains("\"renew_at\":\"2027-01-20T11:10:42Z\""));
    /* A resident daemon asks again only after Retry-After (21600 s). */
    fake_now = NOW + 21599;
    ck_assert_int_eq(acme_agent_run(a, 0, 0, &res, &err), ECA_OK);
    ck_assert_uint_eq(fake_http_nreq(fake), 2);
    ck_assert_int_eq(res.dec.renew_at, W_START + 4242);
    ck_assert_int_le(res.dec.next_check, NOW + 21600);
    fake_now = NOW + 21600;
    fake_http_push_fixture(fake, "acme/ari_ok.http");
    ck_assert_int_eq(acme_agent_run(a, 0, 0, &res, &err), ECA_OK);
    ck_assert_uint_eq(fake_http_nreq(fake), 3);
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    acme_agent_free(a);
    eca_http_free(http);
    /* A restart (another random draw) keeps the time chosen for this certificate and window. */
    rnd_value = 99999;
    a = ari_agent(c, &http, &fake, "acme/dir_pebble_ari.http", "acme/ari_ok.http", NULL);
    ck_assert_int_eq(acme_agent_run(a, 0, 0, &res, &err), ECA_OK);
    ck_assert_int_eq(res.dec.renew_at, W_START + 4242);
    read_state(c, ".ari", state, sizeof state);
    ck_assert_str_eq(state, "eca-ari 1 " CERT_ID " 1800439200 1800612000 1800443442\n");
    acme_agent_free(a);
    eca_http_free(http);
    acme_conf_free(c);
}
END_TEST

START_TEST(ari_past_window_renews_now_with_replaces)
{
    struct acme_conf *c = make_conf("a.example", 0);
    struct eca_http *http;
    struct fake_http *fake;
    struct acme_agent *a;
    struct eca_pass_result res;
    struct eca_err err = {0};
    const struct fake_req *r;
    struct json_object *jws, *payload;
    struct eca_buf b;
    const char *p64;

    write_ari_cert("a.example");
    a = ari_agent(c, &http, &fake, "acme/dir_pebble_ari.http", "acme/ari_revoked_past.http",
                  "acme/nonce.http", "acme/account_existing.http", NULL);
    /* The order itself finds no answer: the fake transport fails it. */
    ck_assert_int_eq(acme_agent_run(a, 0, 0, &res, &err), ECA_ENET);
    ck_assert_int_eq(res.dec.reason, ECA_RENEW_SUGGESTED);
    ck_assert(logcap_contains("\"decision\":\"suggested\""));
    ck_assert(logcap_contains("\"reason\":\"suggested\""));
    ck_assert(logcap_contains("\"replaces\":\"" CERT_ID "\""));
    ck_assert_uint_eq(fake_http_nreq(fake), 5);
    r = fake_http_req(fake, 4);
    ck_assert_str_eq(r->url, "https://localhost:14000/order-plz");
    jws = json_tokener_parse(r->body);
    p64 = json_object_get_string(json_object_object_get(jws, "payload"));
    eca_buf_init(&b, 0);
    ck_assert_int_eq(eca_b64url_decode(p64, strlen(p64), &b, NULL), ECA_OK);
    payload = json_tokener_parse(eca_buf_str(&b));
    ck_assert_str_eq(json_object_get_string(json_object_object_get(payload, "replaces")), CERT_ID);
    ck_assert_ptr_null(json_object_object_get(payload, "profile"));
    json_object_put(payload);
    json_object_put(jws);
    eca_buf_free(&b);
    acme_agent_free(a);
    eca_http_free(http);
    acme_conf_free(c);
}
END_TEST

#define P_ORDER "https://localhost:14000/my-order/Tj3aNd9iPYFxVHgCbN2LgwN2X7oVtZXnlAcEz2Vqsds"
#define P_FINAL "https://localhost:14000/finalize-order/Tj3aNd9iPYFxVHgCbN2LgwN2X7oVtZXnlAcEz2Vqsds"

/* The public key of the CSR in request i (a finalize). */
static EVP_PKEY *
finalize_csr_key(struct fake_http *fake, size_t i)
{
    const struct fake_req *r = fake_http_req(fake, i);
    struct json_object *jws, *payload;
    struct eca_buf b, der;
    const char *p64, *csr64;
    const unsigned char *p;
    X509_REQ *req;
    EVP_PKEY *k;

    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->url, P_FINAL);
    jws = json_tokener_parse(r->body);
    p64 = json_object_get_string(json_object_object_get(jws, "payload"));
    eca_buf_init(&b, 0);
    eca_buf_init(&der, 0);
    ck_assert_int_eq(eca_b64url_decode(p64, strlen(p64), &b, NULL), ECA_OK);
    payload = json_tokener_parse(eca_buf_str(&b));
    csr64 = json_object_get_string(json_object_object_get(payload, "csr"));
    ck_assert_int_eq(eca_b64url_decode(csr64, strlen(csr64), &der, NULL), ECA_OK);
    p = der.data;
    ck_assert_ptr_nonnull(req = d2i_X509_REQ(NULL, &p, (long)der.len));
    k = X509_REQ_get_pubkey(req);
    X509_REQ_free(req);
    json_object_put(payload);
    json_object_put(jws);
    eca_buf_free(&b);
    eca_buf_free(&der);
    return k;
}

/*
 * A CA that asks for an hour: the pass ends cleanly (ECA_OK, next check then), the order kept
 * with its key; the next pass (a restarted agent, a certificate not due) resumes that order
 * and finalizes it with the kept key.
 */
/* A 10-minute certificate with 5 minutes left: the CA's hour would outlive it; the next look
 * comes within a quarter of what is left, and resumes the order then. */
START_TEST(retry_after_is_capped_by_a_short_certificate)
{
    struct acme_conf *c = make_conf("a.example", 0);
    struct eca_http *http;
    struct fake_http *fake;
    struct acme_agent *a;
    struct eca_pass_result res;
    struct eca_err err = {0};

    ari_cert_life_s = 600;
    write_ari_cert("a.example");
    a = ari_agent(c, &http, &fake, "acme/dir_pebble.http", "acme/nonce.http",
                  "acme/account_existing.http", "acme/order_new_pending.http",
                  "acme/authz_valid.http", "acme/order_ready.http",
                  "acme/order_processing_retry_3600.http", NULL);
    ck_assert_msg(acme_agent_run(a, 0, 1, &res, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(res.renewed, 0);
    ck_assert_int_eq(res.dec.next_check, NOW + 300 / 4);
    ck_assert(logcap_contains("\"event\":\"order_pending\""));
    acme_agent_free(a);
    eca_http_free(http);
    acme_conf_free(c);
}
END_TEST

START_TEST(retry_after_past_the_deadline_keeps_the_order_and_the_next_pass_resumes_it)
{
    struct acme_conf *c = make_conf("a.example", 0);
    struct eca_http *http;
    struct fake_http *fake;
    struct acme_agent *a;
    struct eca_pass_result res;
    struct eca_err err = {0};
    char state[512], path[512];
    struct stat sb;
    EVP_PKEY *kept, *sent;
    FILE *f;

    write_ari_cert("a.example");
    a = ari_agent(c, &http, &fake, "acme/dir_pebble.http", "acme/nonce.http",
                  "acme/account_existing.http", "acme/order_new_pending.http",
                  "acme/authz_valid.http", "acme/order_ready.http",
                  "acme/order_processing_retry_3600.http", NULL);
    ck_assert_msg(acme_agent_run(a, 0, 1, &res, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(res.renewed, 0);
    ck_assert_int_eq(res.dec.next_check, NOW + 3600);
    ck_assert(logcap_contains("\"event\":\"order_pending\""));
    ck_assert(logcap_contains("server asked to retry in 3600 s"));
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    read_state(c, ".order", state, sizeof state);
    ck_assert_str_eq(state, P_ORDER "\na.example\n");
    snprintf(path, sizeof path, "%s/t.order.key", c->g.state_dir);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    ck_assert_ptr_nonnull(f = fopen(path, "r"));
    ck_assert_ptr_nonnull(kept = PEM_read_PrivateKey(f, NULL, NULL, NULL));
    fclose(f);
    sent = finalize_csr_key(fake, 6);
    ck_assert_int_eq(EVP_PKEY_eq(kept, sent), 1);
    EVP_PKEY_free(sent);
    acme_agent_free(a);
    eca_http_free(http);

    /* Restarted, not forced, the installed certificate far from due: the order is resumed. */
    logcap_stop();
    logcap_start();
    a = ari_agent(c, &http, &fake, "acme/dir_pebble.http", "acme/nonce.http",
                  "acme/order_ready.http", NULL);
    ck_assert_int_eq(acme_agent_run(a, 0, 0, &res, &err), ECA_ENET); /* the finalize: no answer */
    ck_assert(logcap_contains("\"event\":\"acme_order_resumed\""));
    ck_assert_str_eq(fake_http_req(fake, 2)->url, P_ORDER);
    sent = finalize_csr_key(fake, 3);
    ck_assert_int_eq(EVP_PKEY_eq(kept, sent), 1);
    EVP_PKEY_free(sent);
    /* Still open (the network failed, not the order): kept for the retry. */
    read_state(c, ".order", state, sizeof state);
    ck_assert_str_eq(state, P_ORDER "\na.example\n");
    EVP_PKEY_free(kept);
    acme_agent_free(a);
    eca_http_free(http);
    acme_conf_free(c);
}
END_TEST

/* A kept order for other names (the configuration changed) is dropped, not resumed. */
START_TEST(a_kept_order_for_other_names_is_dropped)
{
    struct acme_conf *c = make_conf("a.example", 0);
    struct eca_http *http;
    struct fake_http *fake;
    struct acme_agent *a;
    struct eca_pass_result res;
    struct eca_err err = {0};
    struct eca_key *k = NULL;
    char path[512], kpath[512];
    FILE *f;

    a = ari_agent(c, &http, &fake, "acme/dir_pebble.http", NULL);
    snprintf(path, sizeof path, "%s/t.order", c->g.state_dir);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    fputs(P_ORDER "\nb.example\n", f);
    fclose(f);
    write_ari_cert("a.example");
    /* The kept order is not for these names: dropped, not resumed (a new order is tried). */
    ck_assert_int_eq(acme_agent_run(a, 0, 0, &res, &err), ECA_ENET);
    ck_assert(logcap_contains("\"event\":\"order_pending_dropped\""));
    ck_assert(!logcap_contains("acme_order_resumed"));
    ck_assert_int_eq(access(path, F_OK), -1);
    acme_agent_free(a);
    eca_http_free(http);

    /* For these names, but its key is P-384 where the configuration now says P-256: dropped. */
    logcap_stop();
    logcap_start();
    a = ari_agent(c, &http, &fake, "acme/dir_pebble.http", NULL);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    fputs(P_ORDER "\na.example\n", f);
    fclose(f);
    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P384, &k, NULL), ECA_OK);
    snprintf(kpath, sizeof kpath, "%s/t.order.key", c->g.state_dir);
    ck_assert_int_eq(eca_key_save(k, kpath, NULL), ECA_OK);
    eca_key_free(k);
    ck_assert_int_eq(acme_agent_run(a, 0, 0, &res, &err), ECA_ENET);
    ck_assert(logcap_contains("\"event\":\"order_pending_dropped\""));
    ck_assert(!logcap_contains("acme_order_resumed"));
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_int_eq(access(kpath, F_OK), -1);
    acme_agent_free(a);
    eca_http_free(http);
    acme_conf_free(c);
}
END_TEST

static const char *const ari_garbage[] = {
    "acme/ari_end_before_start.http", "acme/ari_truncated.http", "acme/ari_html.http",
    "acme/ari_malformed.http",        "acme/ari_503.http",       "acme/ari_no_window.http",
};

START_TEST(ari_garbage_falls_back_to_the_threshold)
{
    struct acme_conf *c = make_conf("a.example", 0);
    struct eca_http *http;
    struct fake_http *fake;
    struct acme_agent *a;
    struct eca_pass_result res, plain;
    struct eca_err err = {0};
    char state[256];

    write_ari_cert("a.example");
    a = ari_agent(c, &http, &fake, "acme/dir_pebble.http", NULL);
    /* The threshold decision alone: a directory without renewalInfo is never asked. */
    ck_assert_int_eq(acme_agent_run(a, 0, 0, &plain, &err), ECA_OK);
    ck_assert_uint_eq(fake_http_nreq(fake), 1);
    acme_agent_free(a);
    eca_http_free(http);
    a = ari_agent(c, &http, &fake, "acme/dir_pebble_ari.http", ari_garbage[_i], NULL);
    ck_assert_int_eq(acme_agent_run(a, 0, 0, &res, &err), ECA_OK);
    ck_assert_uint_eq(fake_http_nreq(fake), 2);
    ck_assert_int_eq(res.dec.reason, ECA_RENEW_NONE);
    ck_assert_int_eq(res.dec.renew_at, plain.dec.renew_at);
    ck_assert_int_eq(res.dec.next_check, plain.dec.next_check);
    ck_assert(logcap_contains("\"event\":\"ari_failed\""));
    ck_assert(logcap_contains("the lifetime threshold applies"));
    read_state(c, ".ari", state, sizeof state);
    ck_assert_str_eq(state, "");
    acme_agent_free(a);
    eca_http_free(http);
    acme_conf_free(c);
}
END_TEST

START_TEST(status_folds_in_the_ari_time_and_shows_the_profile)
{
    struct acme_conf *c = make_conf("a.example", 0);
    struct eca_http *http;
    struct fake_http *fake;
    struct acme_agent *a;
    struct eca_pass_result res;
    struct eca_status_cert st;
    struct eca_err err = {0};
    char profile[65], path[512];
    FILE *f;

    write_ari_cert("a.example");
    a = ari_agent(c, &http, &fake, "acme/dir_pebble_ari.http", "acme/ari_ok.http", NULL);
    acme_agent_status(c, 0, NOW, &st);
    ck_assert_str_eq(st.next_reason, "check");
    ck_assert_int_gt(st.renew_at, W_END); /* the threshold's time: no ARI answer yet */
    ck_assert_int_eq(acme_agent_profile(a, 0, profile, sizeof profile), 0);
    ck_assert_int_eq(acme_agent_run(a, 0, 0, &res, &err), ECA_OK);
    acme_agent_status(c, 0, NOW, &st);
    ck_assert_int_eq(st.renew_at, W_START + 4242);
    ck_assert_str_eq(st.next_reason, "check");
    /* Once the chosen time has come, status says so without asking the CA. */
    acme_agent_status(c, 0, W_START + 5000, &st);
    ck_assert_str_eq(st.next_reason, "suggested");
    ck_assert_int_eq(st.next_action, W_START + 5000);
    ck_assert_uint_eq(fake_http_nreq(fake), 2);
    snprintf(path, sizeof path, "%s/t.profile", c->g.state_dir);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    fputs("shortlived", f);
    fclose(f);
    ck_assert_int_eq(acme_agent_profile(a, 0, profile, sizeof profile), 1);
    ck_assert_str_eq(profile, "shortlived");
    acme_agent_status(c, 0, NOW, &st);
    ck_assert_str_eq(st.profile, "shortlived");
    acme_agent_free(a);
    eca_http_free(http);
    acme_conf_free(c);
}
END_TEST

START_TEST(profile_unknown_to_the_ca_names_what_it_offers)
{
    struct acme_conf *c = make_conf("a.example", 0);
    struct eca_http *http;
    struct fake_http *fake;
    struct acme_agent *a;
    struct eca_err err = {0};

    c->certs[0].profile = strdup("tlsserver");
    a = ari_agent(c, &http, &fake, "acme/dir_pebble_ari.http", NULL);
    ck_assert_int_eq(acme_agent_check_profiles(a, &err), ECA_ECONF);
    ck_assert_str_eq(err.msg, "certificate t: profile 'tlsserver' is not offered by the CA (it "
                              "offers: default, shortlived)");
    acme_agent_free(a);
    eca_http_free(http);
    free(c->certs[0].profile);
    c->certs[0].profile = strdup("shortlived");
    a = ari_agent(c, &http, &fake, "acme/dir_pebble_ari.http", NULL);
    ck_assert_int_eq(acme_agent_check_profiles(a, &err), ECA_OK);
    acme_agent_free(a);
    eca_http_free(http);
    acme_conf_free(c);
}
END_TEST

START_TEST(profile_at_a_ca_without_profiles_warns_or_fails_when_required)
{
    struct acme_conf *c = make_conf("a.example", 0);
    struct eca_http *http;
    struct fake_http *fake;
    struct acme_agent *a;
    struct eca_err err = {0};

    c->certs[0].profile = strdup("shortlived");
    a = ari_agent(c, &http, &fake, "acme/dir_pebble.http", NULL);
    ck_assert_int_eq(acme_agent_check_profiles(a, &err), ECA_OK);
    ck_assert(logcap_contains("\"event\":\"profile_unsupported\""));
    acme_agent_free(a);
    eca_http_free(http);
    c->certs[0].profile_required = 1;
    a = ari_agent(c, &http, &fake, "acme/dir_pebble.http", NULL);
    ck_assert_int_eq(acme_agent_check_profiles(a, &err), ECA_ECONF);
    ck_assert_ptr_nonnull(strstr(err.msg, "the CA offers no profiles (profile_required = true)"));
    acme_agent_free(a);
    eca_http_free(http);
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
    tcase_add_test(tc, look_only_pass_decides_and_orders_nothing);
    tcase_add_test(tc, p521_account_key_is_refused_by_name);
    tcase_add_test(tc, missing_certificate_is_renewed_and_hmac_never_logged);
    tcase_add_test(tc, status_reports_lifetime_left);
    tcase_add_test(tc, a_serial_recorded_as_revoked_is_renewed_and_unhealthy);
    tcase_add_test(tc, crl_listing_the_certificate_renews_it_and_fail_closed_counts);
    suite_add_tcase(s, tc);
    tc = tcase_create("ari");
    tcase_set_timeout(tc, 20);
    tcase_add_checked_fixture(tc, ari_setup, ari_teardown);
    tcase_add_test(tc, ari_future_window_schedules_and_persists_the_choice);
    tcase_add_test(tc, ari_past_window_renews_now_with_replaces);
    tcase_add_loop_test(tc, ari_garbage_falls_back_to_the_threshold, 0,
                        sizeof ari_garbage / sizeof ari_garbage[0]);
    tcase_add_test(tc, status_folds_in_the_ari_time_and_shows_the_profile);
    tcase_add_test(tc, retry_after_past_the_deadline_keeps_the_order_and_the_next_pass_resumes_it);
    tcase_add_test(tc, retry_after_is_capped_by_a_short_certificate);
    tcase_add_test(tc, a_kept_order_for_other_names_is_dropped);
    tcase_add_test(tc, profile_unknown_to_the_ca_names_what_it_offers);
    tcase_add_test(tc, profile_at_a_ca_without_profiles_warns_or_fails_when_required);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(acme_agent_suite)
