/* SPDX-License-Identifier: MIT */
/* Tests for est_agent over the fake transport: first enrollment, re-enrollment, fallback to the
 * bootstrap credentials, a refused token, /csrattrs reflected in the CSR, no token in the log,
 * a CRL listing the installed certificate recorded until it is replaced. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eca_b64.h"
#include "eca_clock.h"
#include "eca_fs.h"
#include "eca_key.h"
#include "eca_log.h"
#include "eca_pkcs12.h"
#include "eca_secret.h"
#include "eca_test.h"
#include "est_agent.h"
#include "est_conf.h"
#include "pki_helpers.h"

#define CANARY "canary-Zq9-agent-token-must-not-leak"
#define BASE   "https://ca.test/.well-known/est"

/* The test CA and the fake server behind every transport the agent opens. */
static EVP_PKEY *rk, *ik;
static X509 *root, *inter;
static struct fake_http *fake;
static struct eca_http *server;
static int issue_enroll, issue_reenroll; /* answer that POST with a fresh leaf */
static int issue_other_key;              /* ... certifying a key other than the CSR's */
static int issue_bad; /* ... that is expired (1), signed by another key (2), another subject (3) */
static long next_serial;
static char opened[8][256]; /* the client certificate of each transport opened ("" none) */
static int opened_tls12[8]; /* ... and whether it was capped at TLS 1.2 */
static size_t nopened;

static char dir[256], outdir[300], statedir[300], certp[320], keyp[320];
static struct est_conf conf;
static struct est_cert_conf cc;

/* Issue a leaf for the CSR in a simple(re)enroll body, and queue it as a leaf-only answer. */
static void
issue_for(const struct eca_http_req *req)
{
    struct eca_buf der, b64, raw;
    const unsigned char *p;
    X509_REQ *csr;
    X509 *leaf;
    unsigned char *p7 = NULL;
    int len;

    eca_buf_init(&der, 0);
    eca_buf_init(&b64, 0);
    eca_buf_init(&raw, 0);
    ck_assert_int_eq(eca_b64_decode((const char *)req->body, req->body_len, &der, NULL), ECA_OK);
    p = der.data;
    ck_assert_ptr_nonnull(csr = d2i_X509_REQ(NULL, &p, (long)der.len));
    ck_assert_int_eq(X509_REQ_verify(csr, X509_REQ_get0_pubkey(csr)), 1);
    if (issue_other_key) {
        EVP_PKEY *other = pki_key();

        leaf = pki_cert("device", other, inter, ik, 0, ++next_serial, 86400, NULL);
        EVP_PKEY_free(other);
    } else if (issue_bad != 0) {
        EVP_PKEY *forger = pki_key();

        leaf = pki_cert(issue_bad == 3 ? "someone-else" : "device", X509_REQ_get0_pubkey(csr),
                        inter, issue_bad == 2 ? forger : ik, 0, ++next_serial,
                        issue_bad == 1 ? -30 : 86400, NULL);
        EVP_PKEY_free(forger);
    } else {
        leaf =
            pki_cert("device", X509_REQ_get0_pubkey(csr), inter, ik, 0, ++next_serial, 86400, NULL);
    }
    len = pki_p7_certs(&leaf, 1, &p7);
    ck_assert_int_eq(eca_b64_encode(p7, (size_t)len, &b64, NULL), ECA_OK);
    eca_buf_printf(&raw, NULL,
                   "HTTP/1.1 200 OK\r\nContent-Type: application/pkcs7-mime; "
                   "smime-type=certs-only\r\nContent-Length: %zu\r\n\r\n%s",
                   b64.len, eca_buf_str(&b64));
    fake_http_push_raw(fake, eca_buf_str(&raw));
    OPENSSL_free(p7);
    X509_free(leaf);
    X509_REQ_free(csr);
    eca_buf_free(&der);
    eca_buf_free(&b64);
    eca_buf_free(&raw);
}

static int
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static enum eca_rc
forward(void *ctx, const struct eca_http_req *req, struct eca_http_resp *resp, struct eca_err *err)
{
    (void)ctx;
    if ((issue_enroll && ends_with(req->url, "/simpleenroll")) ||
        (issue_reenroll && ends_with(req->url, "/simplereenroll")))
        issue_for(req);
    return eca_http_perform(server, req, resp, err);
}

static void
forward_free(void *ctx)
{
    (void)ctx;
}

static const struct eca_http_ops forward_ops = {forward, forward_free};

/* The seam est_agent offers: every transport it opens reaches the one fake server. */
static enum eca_rc
http_new(const struct eca_http_opts *o, struct eca_http **out, struct eca_err *err)
{
    ck_assert_uint_lt(nopened, 8);
    opened_tls12[nopened] = o->tls12_max;
    snprintf(opened[nopened++], sizeof opened[0], "%s", o->client_cert ? o->client_cert : "");
    return eca_http_new(&forward_ops, NULL, out, err);
}

static void
sleep_none(long ms)
{
    (void)ms;
}

static const struct est_agent_env env = {NULL, http_new, NULL};

/* Queue a 200 answer whose body is the base64 of der (one line, as RFC 8951 §3 has it). */
static void
push_b64(const char *ctype, const unsigned char *der, size_t len)
{
    struct eca_buf b64, raw;

    eca_buf_init(&b64, 0);
    eca_buf_init(&raw, 0);
    ck_assert_int_eq(eca_b64_encode(der, len, &b64, NULL), ECA_OK);
    eca_buf_printf(&raw, NULL,
                   "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s", ctype,
                   b64.len, eca_buf_str(&b64));
    fake_http_push_raw(fake, eca_buf_str(&raw));
    eca_buf_free(&b64);
    eca_buf_free(&raw);
}

static void
push_cacerts(void)
{
    X509 *certs[] = {root, inter};
    unsigned char *p7 = NULL;
    int len = pki_p7_certs(certs, 2, &p7);

    push_b64("application/pkcs7-mime", p7, (size_t)len);
    OPENSSL_free(p7);
}

static void
push_status(int status)
{
    char raw[256];

    snprintf(raw, sizeof raw,
             "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nnope", status);
    fake_http_push_raw(fake, raw);
}

static void
setup(void)
{
    rk = pki_key();
    ik = pki_key();
    root = pki_cert("Test Root", rk, NULL, rk, 1, 1, 86400, NULL);
    inter = pki_cert("Test Issuing", ik, root, rk, 1, 2, 86400, NULL);
    server = fake_http_new(&fake);
    issue_enroll = issue_reenroll = issue_other_key = issue_bad = 0;
    next_serial = 100;
    nopened = 0;
    test_mkdtemp(dir, sizeof dir);
    snprintf(outdir, sizeof outdir, "%s/out", dir);
    snprintf(statedir, sizeof statedir, "%s/state", dir);
    snprintf(certp, sizeof certp, "%s/cert.pem", outdir);
    snprintf(keyp, sizeof keyp, "%s/key.pem", outdir);
    ck_assert_int_eq(mkdir(outdir, 0700), 0);
    memset(&conf, 0, sizeof conf);
    memset(&cc, 0, sizeof cc);
    eca_agentconf_init(&conf.g);
    conf.g.state_dir = statedir;
    conf.base_url = BASE;
    conf.username = "estuser";
    conf.basic_preemptive = 1;
    conf.max_pending_s = 10;
    conf.max_pending_age_s = 72 * 3600;
    ck_assert_int_eq(eca_secret_from_mem(CANARY, strlen(CANARY), &conf.token, NULL), ECA_OK);
    eca_certconf_defaults(&cc.base);
    cc.base.name = "dev";
    cc.base.cert_path = certp;
    cc.base.key_path = keyp;
    cc.subject_dn = "CN=device";
    conf.certs = &cc;
    conf.ncerts = 1;
    eca_clock_set_sleep(sleep_none); /* a 202's Retry-After costs no time */
    logcap_start();
}

static void
teardown(void)
{
    ck_assert_msg(!logcap_contains(CANARY), "token leaked into the log");
    logcap_stop();
    eca_clock_set_sleep(NULL);
    eca_secret_free(conf.token);
    eca_http_free(server);
    test_rmdir(dir);
    EVP_PKEY_free(rk);
    EVP_PKEY_free(ik);
    X509_free(root);
    X509_free(inter);
}

/* The CSR of the idx-th request, parsed. */
static X509_REQ *
sent_csr(size_t idx)
{
    const struct fake_req *r = fake_http_req(fake, idx);
    struct eca_buf der;
    const unsigned char *p;
    X509_REQ *req;

    ck_assert_ptr_nonnull(r);
    eca_buf_init(&der, 0);
    ck_assert_int_eq(eca_b64_decode(r->body, r->body_len, &der, NULL), ECA_OK);
    p = der.data;
    req = d2i_X509_REQ(NULL, &p, (long)der.len);
    ck_assert_ptr_nonnull(req);
    eca_buf_free(&der);
    return req;
}

static void
run_pass(int force, enum eca_rc want, struct eca_pass_result *res, struct eca_err *err)
{
    enum eca_rc rc = est_agent_run(&conf, &cc, &env, NULL, force, res, err);

    ck_assert_msg(rc == want, "rc %d (want %d): %s", rc, want, err->msg);
}

/* Installed chain: leaf + issuing CA (the root stays out), leaf matching the installed key. */
static void
assert_installed(long serial)
{
    struct eca_chain *c = NULL;
    struct eca_key *k = NULL;

    ck_assert_int_eq(eca_x509_chain_load(certp, &c, NULL), ECA_OK);
    ck_assert_uint_eq(eca_x509_chain_count(c), 2);
    ck_assert_int_eq(ASN1_INTEGER_get(X509_get0_serialNumber(eca_x509_chain_get(c, 0))), serial);
    ck_assert_int_eq(X509_cmp(eca_x509_chain_get(c, 1), inter), 0);
    ck_assert_int_eq(eca_key_load(keyp, &k, NULL), ECA_OK);
    ck_assert(eca_x509_matches_key(eca_x509_chain_get(c, 0), k));
    test_assert_private(keyp);
    eca_key_free(k);
    eca_x509_chain_free(c);
}

static void
first_enrollment(void)
{
    struct eca_pass_result res;
    struct eca_err err = {0};

    push_cacerts();
    push_status(204); /* csrattrs: nothing asked */
    issue_enroll = 1;
    run_pass(0, ECA_OK, &res, &err);
    issue_enroll = 0;
    ck_assert_int_eq(res.renewed, 1);
    assert_installed(101);
}

START_TEST(first_enrollment_with_token_assembles_chain_from_cacerts)
{
    const struct fake_req *r;

    first_enrollment();
    ck_assert_uint_eq(fake_http_nreq(fake), 3);
    ck_assert_str_eq(fake_http_req(fake, 0)->url, BASE "/cacerts");
    ck_assert_str_eq(fake_http_req(fake, 1)->url, BASE "/csrattrs");
    r = fake_http_req(fake, 2);
    ck_assert_str_eq(r->url, BASE "/simpleenroll");
    ck_assert_str_eq(r->basic_user, "estuser");
    ck_assert_str_eq(opened[nopened - 1], ""); /* no client certificate: the token */
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    ck_assert(logcap_contains("\"event\":\"cert_installed\""));
}
END_TEST

/* A reload that fails after the install: the pass names the step and the pair to take up. */
START_TEST(failed_reload_names_its_step_and_the_new_pair)
{
    struct eca_pass_result res;
    struct eca_err err = {0};

    push_cacerts();
    push_status(204);
    issue_enroll = 1;
    cc.base.reload_command = "false";
    run_pass(0, ECA_EIO, &res, &err);
    cc.base.reload_command = NULL;
    issue_enroll = 0;
    ck_assert_int_eq(res.step, ECA_STEP_RELOAD);
    ck_assert_int_eq(res.issued, 1);
    ck_assert_str_eq(res.serial, "65"); /* 101 */
    assert_installed(101);
}
END_TEST

/* A spent issuance budget: decided (missing), nothing asked of the server. */
START_TEST(look_only_pass_enrolls_nothing)
{
    struct eca_pass_result res;
    struct eca_err err = {0};

    run_pass(ECA_PASS_LOOK, ECA_OK, &res, &err);
    ck_assert_int_ne(res.dec.reason, ECA_RENEW_NONE);
    ck_assert_int_eq(res.issued, 0);
    ck_assert_uint_eq(fake_http_nreq(fake), 0);
    ck_assert(!logcap_contains("renew_started"));
}
END_TEST

START_TEST(valid_certificate_is_reenrolled_with_itself)
{
    struct eca_pass_result res;
    struct eca_err err = {0};
    const struct fake_req *r;

    struct stat before, after;
    char kept[400];

    first_enrollment();
    snprintf(kept, sizeof kept, "%s/dev.cacerts.pem", statedir);
    ck_assert_int_eq(stat(kept, &before), 0);
    push_cacerts();
    push_status(404);
    issue_reenroll = 1;
    run_pass(1, ECA_OK, &res, &err);
    /* The same /cacerts answer: the kept copy is not rewritten (a rewrite is a new inode). */
    ck_assert_int_eq(stat(kept, &after), 0);
    ck_assert_uint_eq(before.st_ino, after.st_ino);
    ck_assert_uint_eq(fake_http_nreq(fake), 6);
    r = fake_http_req(fake, 5);
    ck_assert_str_eq(r->url, BASE "/simplereenroll");
    ck_assert_ptr_null(r->basic_user);
    ck_assert_str_eq(opened[nopened - 1], certp); /* mTLS with the certificate renewed */
    assert_installed(102);
    ck_assert(logcap_contains("\"op\":\"simplereenroll\""));
}
END_TEST

START_TEST(reenroll_refused_falls_back_to_bootstrap)
{
    struct eca_pass_result res;
    struct eca_err err = {0};

    first_enrollment();
    push_cacerts();
    push_status(204);
    push_status(403); /* simplereenroll */
    issue_enroll = 1;
    run_pass(1, ECA_OK, &res, &err);
    ck_assert_uint_eq(fake_http_nreq(fake), 7);
    ck_assert_str_eq(fake_http_req(fake, 5)->url, BASE "/simplereenroll");
    ck_assert_str_eq(fake_http_req(fake, 6)->url, BASE "/simpleenroll");
    ck_assert_str_eq(fake_http_req(fake, 6)->basic_user, "estuser");
    ck_assert(logcap_contains("\"event\":\"reenroll_refused\""));
    assert_installed(102);
}
END_TEST

START_TEST(wrong_token_writes_nothing)
{
    struct eca_pass_result res;
    struct eca_err err = {0};
    struct dirent *e;
    DIR *d;

    push_cacerts();
    push_status(204);
    push_status(401);
    run_pass(0, ECA_EAUTH, &res, &err);
    ck_assert_ptr_nonnull(strstr(err.msg, "EST_USERNAME/BOOTSTRAP_TOKEN"));
    ck_assert_ptr_null(strstr(err.msg, CANARY));
    ck_assert_int_eq(res.renewed, 0);
    ck_assert_ptr_nonnull(d = opendir(outdir));
    while ((e = readdir(d)) != NULL)
        ck_assert_msg(e->d_name[0] == '.', "%s written after a refused token", e->d_name);
    closedir(d);
    ck_assert_ptr_nonnull(d = opendir(statedir));
    while ((e = readdir(d)) != NULL)
        /* host.seed: the per-host jitter seed, created at start whatever the CA says. */
        ck_assert_msg(e->d_name[0] == '.' || strcmp(e->d_name, "dev.cacerts.pem") == 0 ||
                          strcmp(e->d_name, "host.seed") == 0,
                      "%s in the state directory after a refused token", e->d_name);
    closedir(d);
}
END_TEST

/* A re-enrollment answered with a certificate for another key fails, naming the problem,
 * and the installed pair stays as it was (same bytes, still matching). */
START_TEST(certificate_for_other_key_keeps_installed_pair)
{
    struct eca_pass_result res;
    struct eca_err err = {0};
    struct eca_buf before, after;

    first_enrollment();
    eca_buf_init(&before, 0);
    eca_buf_init(&after, 0);
    ck_assert_int_eq(eca_fs_read(certp, 1u << 20, &before, NULL), ECA_OK);
    push_cacerts();
    push_status(204);
    issue_reenroll = issue_other_key = 1;
    est_agent_run(&conf, &cc, &env, NULL, 1, &res, &err);
    ck_assert_int_ne(err.rc, ECA_OK);
    ck_assert_int_eq(err.rc, ECA_EPROTO);
    ck_assert_msg(strstr(err.msg, "matches the key we sent") != NULL, "%s", err.msg);
    ck_assert_int_eq(res.renewed, 0);
    assert_installed(101);
    ck_assert_int_eq(eca_fs_read(certp, 1u << 20, &after, NULL), ECA_OK);
    ck_assert_uint_eq(before.len, after.len);
    ck_assert_mem_eq(before.data, after.data, before.len);
    eca_buf_free(&before);
    eca_buf_free(&after);
}
END_TEST

/* An answer that is expired, not signed by the CA /cacerts names, or for another subject
 * fails the pass with the reason; the installed pair keeps its bytes. */
static const char *const bad_reason[] = {"", "expired at", "verify: certificate signature failure",
                                         "its subject 'CN=someone-else' is not the one asked for"};

START_TEST(bad_answer_keeps_installed_pair)
{
    struct eca_pass_result res;
    struct eca_err err = {0};
    struct eca_buf before, after, kbefore, kafter;

    first_enrollment();
    eca_buf_init(&before, 0);
    eca_buf_init(&after, 0);
    eca_buf_init(&kbefore, 0);
    eca_buf_init(&kafter, 0);
    ck_assert_int_eq(eca_fs_read(certp, 1u << 20, &before, NULL), ECA_OK);
    ck_assert_int_eq(eca_fs_read(keyp, 1u << 20, &kbefore, NULL), ECA_OK);
    push_cacerts();
    push_status(204);
    issue_reenroll = 1;
    issue_bad = _i;
    est_agent_run(&conf, &cc, &env, NULL, 1, &res, &err);
    ck_assert_int_ne(err.rc, ECA_OK);
    ck_assert_msg(strstr(err.msg, "issued certificate refused, nothing installed: ") != NULL, "%s",
                  err.msg);
    ck_assert_msg(strstr(err.msg, bad_reason[_i]) != NULL, "%s", err.msg);
    ck_assert_int_eq(res.renewed, 0);
    assert_installed(101);
    ck_assert_int_eq(eca_fs_read(certp, 1u << 20, &after, NULL), ECA_OK);
    ck_assert_int_eq(eca_fs_read(keyp, 1u << 20, &kafter, NULL), ECA_OK);
    ck_assert_uint_eq(before.len, after.len);
    ck_assert_mem_eq(before.data, after.data, before.len);
    ck_assert_uint_eq(kbefore.len, kafter.len);
    ck_assert_mem_eq(kbefore.data, kafter.data, kbefore.len);
    eca_buf_free(&before);
    eca_buf_free(&after);
    eca_buf_free(&kbefore);
    eca_buf_free(&kafter);
}
END_TEST

/* The PFX password (a file) protects the .pfx, which is private, and never reaches the log. */
#define PFX_CANARY "canary-pfx-Hk3-password-must-not-leak"
START_TEST(pfx_written_private_and_password_never_logged)
{
    char pfxp[340], pwp[340];
    struct eca_secret *pw = NULL;
    struct eca_key *k = NULL;
    struct eca_chain *c = NULL;
    struct eca_buf der;
    FILE *f;

    snprintf(pfxp, sizeof pfxp, "%s/dev.pfx", outdir);
    snprintf(pwp, sizeof pwp, "%s/pfx.pw", dir);
    ck_assert_ptr_nonnull(f = fopen(pwp, "w"));
    fputs(PFX_CANARY "\n", f);
    fclose(f);
    cc.pfx_path = pfxp;
    cc.pfx_password_file = pwp;
    first_enrollment();
    test_assert_private(pfxp);
    eca_buf_init(&der, 0);
    ck_assert_int_eq(eca_fs_read(pfxp, 1u << 20, &der, NULL), ECA_OK);
    ck_assert_int_eq(eca_secret_from_file(pwp, &pw, NULL), ECA_OK);
    ck_assert_int_eq(eca_pkcs12_parse(der.data, der.len, pw, &k, &c, NULL, NULL), ECA_OK);
    ck_assert(eca_x509_matches_key(eca_x509_chain_get(c, 0), k));
    ck_assert_msg(!logcap_contains(PFX_CANARY), "PFX password leaked into the log");
    eca_key_free(k);
    eca_x509_chain_free(c);
    eca_secret_free(pw);
    eca_buf_free(&der);
}
END_TEST

/* CsrAttrs: ecdsa-with-SHA384 and ecPublicKey on secp384r1 (the RFC 7030 §4.5.2 shape). */
static const unsigned char csrattrs_p384[] = {
    0x30, 0x1e, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03, 0x30, 0x12, 0x06, 0x07,
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x31, 0x07, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};

START_TEST(csrattrs_are_reflected_in_the_csr)
{
    struct eca_pass_result res;
    struct eca_err err = {0};
    X509_REQ *req;

    push_cacerts();
    push_b64("application/csrattrs", csrattrs_p384, sizeof csrattrs_p384);
    issue_enroll = 1;
    run_pass(0, ECA_OK, &res, &err);
    req = sent_csr(2);
    ck_assert_int_eq(EVP_PKEY_get_bits(X509_REQ_get0_pubkey(req)), 384);
    ck_assert_int_eq(X509_REQ_get_signature_nid(req), NID_ecdsa_with_SHA384);
    ck_assert(logcap_contains("\"applied\":\"key_type ec-p384; signature ecdsa-with-SHA384\""));
    X509_REQ_free(req);

    /* With key_type set by the operator, the configured key wins; the digest still applies. */
    cc.base.key_type = ECA_KEY_EC_P256;
    cc.base.key_type_explicit = 1;
    push_cacerts();
    push_b64("application/csrattrs", csrattrs_p384, sizeof csrattrs_p384);
    issue_reenroll = 1;
    run_pass(1, ECA_OK, &res, &err);
    req = sent_csr(5);
    ck_assert_int_eq(EVP_PKEY_get_bits(X509_REQ_get0_pubkey(req)), 256);
    ck_assert_int_eq(X509_REQ_get_signature_nid(req), NID_ecdsa_with_SHA384);
    ck_assert(logcap_contains("configured ec-p256 kept"));
    X509_REQ_free(req);
}
END_TEST

/* One transport (one TLS session) carries /cacerts, /csrattrs and the POST. */
START_TEST(one_session_per_enrollment)
{
    struct eca_pass_result res;
    struct eca_err err = {0};

    first_enrollment();
    ck_assert_uint_eq(nopened, 1);
    push_cacerts();
    push_status(204);
    issue_reenroll = 1;
    run_pass(1, ECA_OK, &res, &err);
    ck_assert_uint_eq(nopened, 2);
    ck_assert_str_eq(opened[1], certp); /* the certificate from the first request on */
    ck_assert_int_eq(opened_tls12[1], 0);
}
END_TEST

/* A 500 on /cacerts says "cacerts" once. */
START_TEST(cacerts_error_reads_once)
{
    struct eca_pass_result res;
    struct eca_err err = {0};

    push_status(500);
    run_pass(0, ECA_ESERVER, &res, &err);
    ck_assert_msg(strncmp(err.msg, "cacerts: server answered HTTP 500", 33) == 0, "%s", err.msg);
    ck_assert_ptr_null(strstr(err.msg, "cacerts: cacerts"));
}
END_TEST

/* challengePassword in the CSR: base64 of the connection's tls-unique (RFC 7030 §3.5). */
static void
assert_pop_csr(size_t idx, const char *want_b64)
{
    X509_REQ *req = sent_csr(idx);
    int loc = X509_REQ_get_attr_by_NID(req, NID_pkcs9_challengePassword, -1);
    ASN1_TYPE *v;

    ck_assert_int_ge(loc, 0);
    v = X509_ATTRIBUTE_get0_type(X509_REQ_get_attr(req, loc), 0);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(v->type, V_ASN1_PRINTABLESTRING);
    ck_assert_str_eq((const char *)ASN1_STRING_get0_data(v->value.printablestring), want_b64);
    X509_REQ_free(req);
}

START_TEST(pop_configured_binds_the_csr_over_tls12)
{
    struct eca_http_conn_info tls12 = {0, "TLSv1.2", "0123456789ab", 12};
    struct eca_pass_result res;
    struct eca_err err = {0};

    conf.pop = 1;
    fake_http_set_conn(fake, &tls12);
    first_enrollment();
    ck_assert_uint_eq(nopened, 1);
    ck_assert_int_eq(opened_tls12[0], 1);
    assert_pop_csr(2, "MDEyMzQ1Njc4OWFi");
    ck_assert(logcap_contains("\"pop\":true,\"tls\":\"TLSv1.2\""));
    /* Re-enrollment: bound to its own session too. */
    push_cacerts();
    push_status(204);
    issue_reenroll = 1;
    run_pass(1, ECA_OK, &res, &err);
    assert_pop_csr(5, "MDEyMzQ1Njc4OWFi");
}
END_TEST

/* SEQUENCE { challengePassword } */
static const unsigned char csrattrs_pop[] = {0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48,
                                             0x86, 0xf7, 0x0d, 0x01, 0x09, 0x07};

/* /csrattrs asks for challengePassword over TLS 1.3: a TLS 1.2 session is opened and asked
 * again; a server that still speaks TLS 1.3 only gets an error naming the reason. */
START_TEST(pop_asked_over_tls13_reconnects_at_tls12)
{
    struct eca_http_conn_info tls13 = {0, "TLSv1.3", {0}, 0};
    struct eca_pass_result res;
    struct eca_err err = {0};

    fake_http_set_conn(fake, &tls13);
    push_cacerts();
    push_b64("application/csrattrs", csrattrs_pop, sizeof csrattrs_pop);
    push_b64("application/csrattrs", csrattrs_pop, sizeof csrattrs_pop);
    run_pass(0, ECA_ETLS, &res, &err);
    ck_assert_uint_eq(nopened, 2);
    ck_assert_int_eq(opened_tls12[0], 0);
    ck_assert_int_eq(opened_tls12[1], 1);
    ck_assert_str_eq(fake_http_req(fake, 2)->url, BASE "/csrattrs");
    ck_assert_msg(strstr(err.msg, "connection (TLSv1.3) has no tls-unique") != NULL, "%s", err.msg);
    ck_assert(logcap_contains("\"event\":\"pop_tls12\""));
    ck_assert(logcap_contains("\"challenge_password\":true"));
    ck_assert_uint_eq(fake_http_pending(fake), 0);
}
END_TEST

static const char pending_3600[] = "HTTP/1.1 202 Accepted\r\nRetry-After: 3600\r\n\r\n";

static void
state_file(const char *suffix, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/dev.pending%s", statedir, suffix);
}

/* A 202 with a long Retry-After ends the pass as a scheduled wake-up with key and CSR kept;
 * a pass before that time asks nothing; the next (forced) sends the same CSR and installs the
 * answer with the kept key. */
START_TEST(pending_request_survives_and_is_collected_with_its_key)
{
    struct eca_pass_result res;
    struct eca_err err = {0};
    struct eca_key *kept = NULL, *installed = NULL;
    char keyf[400], csrf[400], statef[400];
    time_t t0 = time(NULL);
    size_t n;

    push_cacerts();
    push_status(204);
    fake_http_push_raw(fake, pending_3600);
    run_pass(0, ECA_EAGAIN, &res, &err);
    ck_assert_msg(strstr(err.msg, "certificate pending approval since ") != NULL, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, "(server asked to retry in 3600 s)"));
    ck_assert_int_ge(res.dec.next_check, t0 + 3600);
    ck_assert_int_le(res.dec.next_check, time(NULL) + 3600);
    ck_assert(!eca_fs_exists(certp));
    state_file(".key", keyf, sizeof keyf);
    state_file(".csr", csrf, sizeof csrf);
    state_file("", statef, sizeof statef);
    test_assert_private(keyf);
    test_assert_private(csrf);
    test_assert_private(statef);
    ck_assert(logcap_contains("\"event\":\"enroll_pending\""));
    ck_assert(logcap_contains("\"scheduled\":true"));
    ck_assert_int_eq(eca_key_load(keyf, &kept, NULL), ECA_OK);

    /* Before the time the server asked for: no request at all. */
    n = fake_http_nreq(fake);
    run_pass(0, ECA_EAGAIN, &res, &err);
    ck_assert_uint_eq(fake_http_nreq(fake), n);
    ck_assert_int_ge(res.dec.next_check, t0 + 3600);

    /* Forced (or due): the same CSR again, without /csrattrs, then installed with that key. */
    push_cacerts();
    issue_enroll = 1;
    run_pass(1, ECA_OK, &res, &err);
    ck_assert_uint_eq(fake_http_nreq(fake), n + 2);
    ck_assert_str_eq(fake_http_req(fake, n + 1)->url, BASE "/simpleenroll");
    ck_assert_str_eq(fake_http_req(fake, n + 1)->body, fake_http_req(fake, 2)->body);
    ck_assert_int_eq(eca_key_load(keyp, &installed, NULL), ECA_OK);
    ck_assert_int_eq(EVP_PKEY_eq(eca_key_pkey(kept), eca_key_pkey(installed)), 1);
    assert_installed(101);
    ck_assert(!eca_fs_exists(keyf) && !eca_fs_exists(csrf) && !eca_fs_exists(statef));
    eca_key_free(kept);
    eca_key_free(installed);
}
END_TEST

/* A request pending longer than max_pending_hours is given up: a new key, a new CSR. */
START_TEST(pending_request_is_given_up_after_max_age)
{
    struct eca_pass_result res;
    struct eca_err err = {0};
    char statef[400], text[128];
    X509_REQ *first, *second;

    conf.max_pending_age_s = 3600;
    push_cacerts();
    push_status(204);
    fake_http_push_raw(fake, pending_3600);
    run_pass(0, ECA_EAGAIN, &res, &err);
    /* the server's time has come, but the request is older than the cap */
    state_file("", statef, sizeof statef);
    snprintf(text, sizeof text, "eca-est-pending 1 enroll %lld %lld 3600\n",
             (long long)time(NULL) - 7200, (long long)time(NULL) - 1);
    ck_assert_int_eq(eca_fs_write_atomic(statef, text, strlen(text), 0600, NULL), ECA_OK);
    push_cacerts();
    push_status(204);
    issue_enroll = 1;
    run_pass(0, ECA_OK, &res, &err);
    ck_assert(logcap_contains("\"event\":\"pending_dropped\""));
    ck_assert(logcap_contains("still pending after max_pending_hours (1 h)"));
    first = sent_csr(2);
    second = sent_csr(5);
    ck_assert_int_ne(EVP_PKEY_eq(X509_REQ_get0_pubkey(first), X509_REQ_get0_pubkey(second)), 1);
    ck_assert(!eca_fs_exists(statef));
    X509_REQ_free(first);
    X509_REQ_free(second);
}
END_TEST

/* No credential configured: the first enrollment goes out without any (a server may need
 * none); a 401 then says what the server challenged for and what to provide. */
START_TEST(no_credentials_first_enrollment)
{
    struct eca_pass_result res;
    struct eca_err err = {0};
    struct eca_secret *token = conf.token;

    conf.token = NULL;
    conf.username = NULL;
    push_cacerts();
    push_status(204);
    issue_enroll = 1;
    run_pass(0, ECA_OK, &res, &err);
    ck_assert_ptr_null(fake_http_req(fake, 2)->basic_user);
    ck_assert(logcap_contains("\"auth\":\"none\""));
    assert_installed(101);
    /* expired now, say: the refusal names what to provide */
    ck_assert_int_eq(eca_fs_remove(certp, NULL), ECA_OK);
    issue_enroll = 0;
    push_cacerts();
    push_status(204);
    fake_http_push_fixture(fake, "est/enroll_401.http");
    run_pass(0, ECA_EAUTH, &res, &err);
    ck_assert_msg(strstr(err.msg, "no credential is configured") != NULL, "%s", err.msg);
    conf.token = token;
}
END_TEST

/* Queue the issuing CA's CRL (fresh) listing serials, as the CRL server answers. */
static void
push_crl(const long *serials, size_t n)
{
    char *raw = pki_crl_response(pki_crl(inter, ik, serials, n, -60, 3600));

    fake_http_push_raw(fake, raw);
    free(raw);
}

/*
 * A CRL listing the installed certificate: recorded in STATE_DIR/dev.revoked, so that
 * `status` (files only) shows it revoked and unhealthy and a restart knows it without asking
 * the CRL again; the replacement is not taken for it (the record is keyed by serial).
 */
START_TEST(revoked_by_crl_is_recorded_until_replaced)
{
    struct eca_pass_result res;
    struct eca_err err = {0};
    struct eca_status_cert sc;
    const long listed[] = {101};
    char marker[400];
    struct eca_buf b;

    first_enrollment();
    conf.crl_enabled = 1;
    conf.crl_url = "http://crl.test/issuing.crl";
    snprintf(marker, sizeof marker, "%s/dev.revoked", statedir);
    est_agent_status(&conf, &cc, eca_clock_now(), &sc);
    ck_assert_int_eq(sc.revoked, 0);
    ck_assert_int_eq(eca_status_healthy(&sc, eca_clock_now()), 1);

    push_crl(listed, 1);
    run_pass(ECA_PASS_LOOK, ECA_OK, &res, &err);
    ck_assert_uint_eq(fake_http_nreq(fake), 4);
    ck_assert_str_eq(fake_http_req(fake, 3)->url, "http://crl.test/issuing.crl");
    ck_assert_int_eq(res.dec.reason, ECA_RENEW_REVOKED);
    eca_buf_init(&b, 0);
    ck_assert_int_eq(eca_fs_read(marker, 256, &b, NULL), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&b), "65"); /* 101 */
    eca_buf_free(&b);
    est_agent_status(&conf, &cc, eca_clock_now(), &sc);
    ck_assert_int_eq(sc.revoked, 1);
    ck_assert_str_eq(sc.next_reason, "revoked");
    ck_assert_int_eq(eca_status_healthy(&sc, eca_clock_now()), 0);

    /* A new process: known without the CRL (nothing queued, nothing asked). */
    run_pass(ECA_PASS_LOOK, ECA_OK, &res, &err);
    ck_assert_int_eq(res.dec.reason, ECA_RENEW_REVOKED);
    ck_assert_uint_eq(fake_http_nreq(fake), 4);

    /* Replaced (with the bootstrap credentials: the revoked one authenticates nothing). */
    push_cacerts();
    push_status(204);
    issue_enroll = 1;
    run_pass(0, ECA_OK, &res, &err);
    issue_enroll = 0;
    ck_assert_str_eq(fake_http_req(fake, 6)->url, BASE "/simpleenroll");
    assert_installed(102);
    ck_assert(!eca_fs_exists(marker));

    /* A record of the old serial left behind does not make the new certificate revoked. */
    ck_assert_int_eq(eca_fs_write_atomic(marker, "65", 2, ECA_FS_MODE_PUBLIC, NULL), ECA_OK);
    est_agent_status(&conf, &cc, eca_clock_now(), &sc);
    ck_assert_int_eq(sc.revoked, 0);
    ck_assert_int_eq(eca_status_healthy(&sc, eca_clock_now()), 1);
    push_crl(listed, 1);
    run_pass(ECA_PASS_LOOK, ECA_OK, &res, &err);
    ck_assert_uint_eq(fake_http_nreq(fake), 8); /* its CRL asked: 102 is not listed */
    ck_assert_int_eq(res.dec.reason, ECA_RENEW_NONE);
    conf.crl_enabled = 0;
    conf.crl_url = NULL;
}
END_TEST

static Suite *
est_agent_suite(void)
{
    Suite *s = suite_create("est_agent");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, first_enrollment_with_token_assembles_chain_from_cacerts);
    tcase_add_test(tc, failed_reload_names_its_step_and_the_new_pair);
    tcase_add_test(tc, look_only_pass_enrolls_nothing);
    tcase_add_test(tc, valid_certificate_is_reenrolled_with_itself);
    tcase_add_test(tc, reenroll_refused_falls_back_to_bootstrap);
    tcase_add_test(tc, wrong_token_writes_nothing);
    tcase_add_test(tc, csrattrs_are_reflected_in_the_csr);
    tcase_add_test(tc, certificate_for_other_key_keeps_installed_pair);
    tcase_add_loop_test(tc, bad_answer_keeps_installed_pair, 1, 4);
    tcase_add_test(tc, pfx_written_private_and_password_never_logged);
    tcase_add_test(tc, one_session_per_enrollment);
    tcase_add_test(tc, cacerts_error_reads_once);
    tcase_add_test(tc, pop_configured_binds_the_csr_over_tls12);
    tcase_add_test(tc, pop_asked_over_tls13_reconnects_at_tls12);
    tcase_add_test(tc, pending_request_survives_and_is_collected_with_its_key);
    tcase_add_test(tc, pending_request_is_given_up_after_max_age);
    tcase_add_test(tc, no_credentials_first_enrollment);
    tcase_add_test(tc, revoked_by_crl_is_recorded_until_replaced);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(est_agent_suite)
