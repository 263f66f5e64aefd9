/* SPDX-License-Identifier: MIT */
/* Tests for est_client over the fake transport: Basic challenge, 202 polling, leaf-only answers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eca_b64.h"
#include "eca_clock.h"
#include "eca_key.h"
#include "eca_log.h"
#include "eca_secret.h"
#include "eca_test.h"
#include "est_client.h"
#include "pki_helpers.h"

#define CANARY "canary-Zq9-token-must-not-leak"

static EVP_PKEY *rk, *ik, *lk;
static X509 *root, *inter, *leaf;
static struct eca_secret *token;
static unsigned slept;
static int stop_now;
/* Every test talks to one fake server through h, with the options of opts(). */
static struct fake_http *f;
static struct eca_http *h;
static struct est_client_opts o;

/* The test's eca_clock sleep: counts seconds, takes no time. */
static void
sleep_fake(long ms)
{
    slept += (unsigned)(ms / 1000);
}

static int
should_stop(void)
{
    return stop_now;
}

static struct est_client_opts
opts(void)
{
    struct est_client_opts d = {"https://ca.test/.well-known/est", 60, 5, should_stop, NULL, NULL};
    return d;
}

static void
setup(void)
{
    rk = pki_key();
    ik = pki_key();
    lk = pki_key();
    root = pki_cert("Root", rk, NULL, rk, 1, 1, 3600, NULL);
    inter = pki_cert("Issuing", ik, root, rk, 1, 2, 3600, NULL);
    leaf = pki_cert("dev", lk, inter, ik, 0, 3, 3600, NULL);
    ck_assert_int_eq(eca_secret_from_mem(CANARY, strlen(CANARY), &token, NULL), ECA_OK);
    slept = 0;
    stop_now = 0;
    eca_clock_set_sleep(sleep_fake);
    h = fake_http_new(&f);
    o = opts();
    logcap_start();
}

static void
teardown(void)
{
    ck_assert_msg(!logcap_contains(CANARY), "token leaked into the log");
    logcap_stop();
    eca_clock_set_sleep(NULL);
    eca_http_free(h);
    eca_secret_free(token);
    EVP_PKEY_free(rk);
    EVP_PKEY_free(ik);
    EVP_PKEY_free(lk);
    X509_free(root);
    X509_free(inter);
    X509_free(leaf);
}

/* Queue a 200 certs-only answer holding certs[0..n). */
static void
push_certs(struct fake_http *fk, X509 *const *certs, size_t n)
{
    unsigned char *der = NULL;
    int len = pki_p7_certs(certs, n, &der);
    struct eca_buf b64, raw;

    eca_buf_init(&b64, 0);
    eca_buf_init(&raw, 0);
    ck_assert_int_eq(eca_b64_encode(der, (size_t)len, &b64, NULL), ECA_OK);
    eca_buf_printf(&raw, NULL,
                   "HTTP/1.1 200 OK\r\nContent-Type: application/pkcs7-mime; "
                   "smime-type=certs-only\r\nContent-Transfer-Encoding: base64\r\n"
                   "Content-Length: %zu\r\n\r\n%s",
                   b64.len, eca_buf_str(&b64));
    fake_http_push_raw(fk, eca_buf_str(&raw));
    eca_buf_free(&b64);
    eca_buf_free(&raw);
    OPENSSL_free(der);
}

static const unsigned char csr[] = "not really a CSR, the fake does not care";

/* The transport answers challenges: the client hands it the credentials and the rules. */
START_TEST(enroll_hands_challenge_rules_to_the_transport)
{
    struct est_client_auth a = {h, "estuser", token, 0, NULL, 0, NULL};
    struct eca_chain *issued = NULL;
    struct eca_err err = {0};
    X509 *certs[] = {leaf, inter};
    const struct fake_req *r0;

    push_certs(f, certs, 2);
    ck_assert_msg(est_client_enroll(&o, &a, 0, csr, sizeof csr, &issued, &err) == ECA_OK, "%s",
                  err.msg);
    ck_assert_uint_eq(eca_x509_chain_count(issued), 2);
    ck_assert_uint_eq(fake_http_nreq(f), 1);
    r0 = fake_http_req(f, 0);
    ck_assert_str_eq(r0->basic_user, "estuser");
    ck_assert_int_eq(r0->basic_after_challenge, 1);
    ck_assert_int_eq(r0->digest_ok, 1);
    ck_assert_str_eq(r0->method, "POST");
    ck_assert_str_eq(r0->url, "https://ca.test/.well-known/est/simpleenroll");
    ck_assert_str_eq(r0->content_type, "application/pkcs10");
    ck_assert_ptr_nonnull(strstr(r0->headers, "Content-Transfer-Encoding: base64"));
    eca_x509_chain_free(issued);
    issued = NULL;
    /* Preemptive Basic: at once, and a Digest challenge is still answered. */
    a.basic_preemptive = 1;
    push_certs(f, certs, 2);
    ck_assert_int_eq(est_client_enroll(&o, &a, 0, csr, sizeof csr, &issued, &err), ECA_OK);
    ck_assert_int_eq(fake_http_req(f, 1)->basic_after_challenge, 0);
    ck_assert_int_eq(fake_http_req(f, 1)->digest_ok, 1);
    ck_assert_uint_eq(fake_http_pending(f), 0);
    eca_x509_chain_free(issued);
}
END_TEST

/* A refused Digest answer names the scheme and the server's (sanitised) text. */
START_TEST(enroll_digest_refused_names_scheme_and_text)
{
    struct est_client_auth a = {h, "estuser", token, 0, NULL, 0, NULL};
    struct eca_chain *issued = NULL;
    struct eca_err err = {0};

    fake_http_push_fixture(f, "est/enroll_401_digest.http");
    ck_assert_int_eq(est_client_enroll(&o, &a, 0, csr, sizeof csr, &issued, &err), ECA_EAUTH);
    ck_assert_msg(strstr(err.msg, "HTTP 401, challenged for Digest") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "server says \"bad .digest response\"") != NULL, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, "check EST_USERNAME/BOOTSTRAP_TOKEN"));
    ck_assert_ptr_null(strstr(err.msg, CANARY));
}
END_TEST

/* libest -t: "Proof of Possession Mismatch" says what the server wants, not "credentials". */
START_TEST(enroll_pop_refused_says_pop)
{
    struct est_client_auth a = {h, "estuser", token, 1, NULL, 0, NULL};
    struct eca_http_conn_info bound = {0, "TLSv1.2", {1, 2, 3}, 3}, other = bound;
    struct eca_chain *issued = NULL;
    struct eca_err err = {0};

    fake_http_push_fixture(f, "est/enroll_401_pop.http");
    ck_assert_int_eq(est_client_enroll(&o, &a, 0, csr, sizeof csr, &issued, &err), ECA_EAUTH);
    ck_assert_msg(strstr(err.msg, "server wants proof-of-possession (HTTP 401, challenged for "
                                  "Digest); server says \"Proof of Possession Mismatch\"") != NULL,
                  "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, "EST_POP=true"));
    ck_assert_ptr_null(strstr(err.msg, "check EST_USERNAME"));
    /* PoP sent, but the POST went over another connection than the one the CSR is bound to. */
    a.pop = &bound;
    other.tls_unique[0] = 9;
    other.new_connections = 1;
    fake_http_set_conn(f, &other);
    fake_http_push_fixture(f, "est/enroll_401_pop.http");
    ck_assert_int_eq(est_client_enroll(&o, &a, 0, csr, sizeof csr, &issued, &err), ECA_EAUTH);
    ck_assert_msg(strstr(err.msg, "carried proof-of-possession (tls-unique) but the POST went "
                                  "over a new TLS connection") != NULL,
                  "%s", err.msg);
    /* Same connection: no such claim. */
    fake_http_set_conn(f, &bound);
    fake_http_push_fixture(f, "est/enroll_401_pop.http");
    ck_assert_int_eq(est_client_enroll(&o, &a, 0, csr, sizeof csr, &issued, &err), ECA_EAUTH);
    ck_assert_msg(strstr(err.msg, "carried proof-of-possession (tls-unique);") == NULL &&
                      strstr(err.msg, "new TLS connection") == NULL,
                  "%s", err.msg);
    ck_assert_ptr_null(issued);
}
END_TEST

START_TEST(enroll_preemptive_basic_refused_is_eauth)
{
    struct est_client_auth a = {h, "estuser", token, 1, NULL, 0, NULL};
    struct eca_chain *issued = NULL;
    struct eca_err err = {0};

    fake_http_push_fixture(f, "est/enroll_401.http");
    ck_assert_int_eq(est_client_enroll(&o, &a, 0, csr, sizeof csr, &issued, &err), ECA_EAUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "check EST_USERNAME/BOOTSTRAP_TOKEN"));
    ck_assert_ptr_null(strstr(err.msg, CANARY));
    ck_assert_uint_eq(fake_http_nreq(f), 1);
    ck_assert_str_eq(fake_http_req(f, 0)->basic_user, "estuser");
    eca_log(ECA_LOG_ERROR, "enroll_failed", "t", NULL, 0, "%s (token %s)", err.msg, CANARY);
}
END_TEST

START_TEST(enroll_polls_after_202_then_succeeds)
{
    struct est_client_auth a = {h, NULL, NULL, 1, NULL, 0, NULL};
    struct eca_chain *issued = NULL;
    struct eca_err err = {0};
    X509 *certs[] = {leaf};

    fake_http_push_fixture(f, "est/enroll_202.http");
    fake_http_push_fixture(f, "est/enroll_202.http");
    push_certs(f, certs, 1);
    ck_assert_msg(est_client_enroll(&o, &a, 1, csr, sizeof csr, &issued, &err) == ECA_OK, "%s",
                  err.msg);
    ck_assert_uint_eq(slept, 6);
    ck_assert_uint_eq(fake_http_nreq(f), 3);
    ck_assert_str_eq(fake_http_req(f, 2)->url, "https://ca.test/.well-known/est/simplereenroll");
    ck_assert_str_eq(fake_http_req(f, 0)->body, fake_http_req(f, 2)->body);
    eca_x509_chain_free(issued);
}
END_TEST

/* "Retry-After: 0" (or a date gone by) is not a licence to loop: the default wait instead;
 * the caller is told of each 202 and of the wait that follows. */
static long told_ra[4], told_wait[4];
static size_t ntold;

static void
tell(void *ctx, long retry_after, long wait_s)
{
    (void)ctx;
    ck_assert_uint_lt(ntold, 4);
    told_ra[ntold] = retry_after;
    told_wait[ntold++] = wait_s;
}

START_TEST(enroll_retry_after_zero_waits_the_default)
{
    struct est_client_auth a = {h, NULL, NULL, 1, NULL, 0, NULL};
    struct eca_chain *issued = NULL;
    struct eca_err err = {0};
    X509 *certs[] = {leaf};

    o.pending = tell;
    ntold = 0;
    fake_http_push_raw(f, "HTTP/1.1 202 Accepted\r\nRetry-After: 0\r\n\r\n");
    push_certs(f, certs, 1);
    ck_assert_msg(est_client_enroll(&o, &a, 0, csr, sizeof csr, &issued, &err) == ECA_OK, "%s",
                  err.msg);
    ck_assert_msg(slept == 5, "slept %u, told %zu, nreq %zu", slept, ntold, fake_http_nreq(f));
    ck_assert_uint_eq(ntold, 1);
    ck_assert_int_eq(told_ra[0], 0);
    ck_assert_int_eq(told_wait[0], 5);
    /* beyond the cap: told with no wait, then ECA_EAGAIN */
    o.max_pending_s = 1;
    fake_http_push_fixture(f, "est/enroll_202_libest.http");
    ck_assert_int_eq(est_client_enroll(&o, &a, 0, csr, sizeof csr, &issued, &err), ECA_EAGAIN);
    ck_assert_uint_eq(ntold, 2);
    ck_assert_int_eq(told_ra[1], 3600);
    ck_assert_int_eq(told_wait[1], 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "server asked to retry in 3600 s"));
    eca_x509_chain_free(issued);
}
END_TEST

START_TEST(enroll_pending_is_capped_and_stoppable)
{
    struct est_client_auth a = {h, NULL, NULL, 1, NULL, 0, NULL};
    struct eca_chain *issued = NULL;
    struct eca_err err = {0};

    o.max_pending_s = 5;
    fake_http_push_fixture(f, "est/enroll_202.http");
    fake_http_push_fixture(f, "est/enroll_202.http");
    ck_assert_int_eq(est_client_enroll(&o, &a, 0, csr, sizeof csr, &issued, &err), ECA_EAGAIN);
    ck_assert_msg(strstr(err.msg, "pending approval (HTTP 202) after 3 s; server asked to retry "
                                  "in 3 s") != NULL,
                  "%s", err.msg);
    ck_assert_int_eq(err.retry_after, 3);
    ck_assert_uint_eq(slept, 3);
    stop_now = 1;
    fake_http_push_fixture(f, "est/enroll_202.http");
    ck_assert_int_eq(est_client_enroll(&o, &a, 0, csr, sizeof csr, &issued, &err), ECA_ESTOPPED);
    ck_assert_uint_eq(slept, 3);
    ck_assert_ptr_null(issued);
}
END_TEST

START_TEST(leaf_only_answer_is_completed_from_cacerts)
{
    struct est_client_auth a = {h, "estuser", token, 1, NULL, 0, NULL};
    struct eca_chain *ca = NULL, *issued = NULL, *full = NULL;
    struct eca_key *key = NULL;
    struct eca_err err = {0};
    X509 *cas[] = {root, inter}, *leaves[] = {leaf};

    push_certs(f, cas, 2);
    push_certs(f, leaves, 1);
    ck_assert_int_eq(est_client_cacerts(&o, h, &ca, &err), ECA_OK);
    ck_assert_str_eq(fake_http_req(f, 0)->url, "https://ca.test/.well-known/est/cacerts");
    ck_assert_str_eq(fake_http_req(f, 0)->method, "GET");
    ck_assert_ptr_null(fake_http_req(f, 0)->basic_user);
    ck_assert_int_eq(est_client_enroll(&o, &a, 0, csr, sizeof csr, &issued, &err), ECA_OK);
    ck_assert_uint_eq(eca_x509_chain_count(issued), 1);
    EVP_PKEY_up_ref(lk);
    ck_assert_int_eq(eca_key_wrap(lk, &key, NULL), ECA_OK);
    ck_assert_int_eq(est_enroll_full_chain(issued, ca, key, &full, &err), ECA_OK);
    ck_assert_uint_eq(eca_x509_chain_count(full), 2);
    ck_assert_int_eq(X509_cmp(eca_x509_chain_get(full, 1), inter), 0);
    eca_x509_chain_free(ca);
    eca_x509_chain_free(issued);
    eca_x509_chain_free(full);
    eca_key_free(key);
}
END_TEST

START_TEST(csrattrs_and_transport_errors)
{
    struct est_csrattrs attrs;
    struct eca_chain *ca = NULL;
    struct eca_err err = {0};

    fake_http_push_fixture(f, "est/csrattrs_204.http");
    ck_assert_int_eq(est_client_csrattrs(&o, h, &attrs, NULL, &err), ECA_OK);
    ck_assert_uint_eq(attrs.nattrs, 0);
    fake_http_push_error(f, ECA_ETLS, "certificate verify failed");
    ck_assert_int_eq(est_client_cacerts(&o, h, &ca, &err), ECA_ETLS);
    ck_assert_ptr_nonnull(strstr(err.msg, "GET https://ca.test/.well-known/est/cacerts: "));
}
END_TEST

static Suite *
client_suite(void)
{
    Suite *s = suite_create("est_client");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, enroll_hands_challenge_rules_to_the_transport);
    tcase_add_test(tc, enroll_digest_refused_names_scheme_and_text);
    tcase_add_test(tc, enroll_pop_refused_says_pop);
    tcase_add_test(tc, enroll_preemptive_basic_refused_is_eauth);
    tcase_add_test(tc, enroll_polls_after_202_then_succeeds);
    tcase_add_test(tc, enroll_pending_is_capped_and_stoppable);
    tcase_add_test(tc, enroll_retry_after_zero_waits_the_default);
    tcase_add_test(tc, leaf_only_answer_is_completed_from_cacerts);
    tcase_add_test(tc, csrattrs_and_transport_errors);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(client_suite)
