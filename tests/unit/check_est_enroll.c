/* SPDX-License-Identifier: MIT */
/* Tests for est_enroll: request body, /csrattrs parsing, answer mapping, chain completion. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eca_b64.h"
#include "eca_key.h"
#include "eca_test.h"
#include "est_enroll.h"
#include "pki_helpers.h"

START_TEST(enroll_body_is_base64_in_64_columns)
{
    unsigned char csr[200];
    struct eca_buf out, dec;
    struct eca_err err = {0};
    const char *s, *nl;

    for (size_t i = 0; i < sizeof csr; i++)
        csr[i] = (unsigned char)(i * 7);
    eca_buf_init(&out, 0);
    eca_buf_init(&dec, 0);
    ck_assert_int_eq(est_enroll_build_body(csr, sizeof csr, &out, &err), ECA_OK);
    for (s = eca_buf_str(&out); (nl = strchr(s, '\n')) != NULL; s = nl + 1)
        ck_assert_int_le(nl - s, 64);
    ck_assert_str_eq(s, "");
    ck_assert_int_eq((int)(strchr(eca_buf_str(&out), '\n') - eca_buf_str(&out)), 64);
    ck_assert_int_eq(eca_b64_decode((const char *)out.data, out.len, &dec, &err), ECA_OK);
    ck_assert_uint_eq(dec.len, sizeof csr);
    ck_assert_mem_eq(dec.data, csr, sizeof csr);
    ck_assert_int_eq(est_enroll_build_body(NULL, 0, &out, &err), ECA_EINVAL);
    eca_buf_free(&out);
    eca_buf_free(&dec);
}
END_TEST

START_TEST(csrattrs_rfc7030_example)
{
    const char *files[] = {"est/csrattrs_rfc7030.http", "est/csrattrs_trailing_nul.http"};
    struct eca_http_resp r;
    struct est_csrattrs a;
    struct eca_err err = {0};

    fixture_load_http(files[_i], &r);
    ck_assert_msg(est_csrattrs_parse(&r, &a, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(a.challenge_password, 1);
    ck_assert_str_eq(a.ec_curve, "secp384r1");
    ck_assert_uint_eq(a.noids, 2);
    ck_assert_str_eq(a.oids[1], "1.2.840.10045.4.3.3");
    ck_assert_uint_eq(a.nattrs, 2);
    ck_assert_uint_eq(a.nexts, 1);
    ck_assert_str_eq(a.exts[0], "1.3.6.1.1.1.1.22");
    ck_assert_int_eq(a.wants_san, 0);
    fixture_free_http(&r);
}
END_TEST

/* libest's default /csrattrs: bare OIDs only, then a NUL. P-384 and SHA-384 are asked for;
 * macAddress and emailAddress are named as not honoured. */
START_TEST(csrattrs_libest_bare_oids)
{
    struct eca_http_resp r;
    struct est_csrattrs a;
    struct est_csrattrs_plan plan;
    struct eca_err err = {0};

    fixture_load_http("est/csrattrs_libest.http", &r);
    ck_assert_msg(est_csrattrs_parse(&r, &a, &err) == ECA_OK, "%s", err.msg);
    ck_assert_uint_eq(a.noids, 4);
    ck_assert_int_eq(a.key_family, EST_KEY_EC);
    ck_assert_str_eq(a.ec_curve, "secp384r1");
    ck_assert_str_eq(a.sig_md, "SHA384");
    est_csrattrs_plan(&a, ECA_KEY_EC_P256, 0, 0, 0, &plan);
    ck_assert_int_eq(plan.key_type, ECA_KEY_EC_P384);
    ck_assert_str_eq(plan.extra.md, "SHA384");
    ck_assert_msg(strstr(plan.applied, "key_type ec-p384") != NULL, "%s", plan.applied);
    ck_assert_msg(strstr(plan.applied, "signature SHA384") != NULL, "%s", plan.applied);
    ck_assert_msg(strstr(plan.ignored, "macAddress: not honoured") != NULL, "%s", plan.ignored);
    ck_assert_msg(strstr(plan.ignored, "emailAddress: not honoured") != NULL, "%s", plan.ignored);
    ck_assert_ptr_null(strstr(plan.ignored, "1.3.132.0.34"));
    /* A bare hash fits an RSA key as well. */
    est_csrattrs_plan(&a, ECA_KEY_RSA_3072, 1, 0, 0, &plan);
    ck_assert_int_eq(plan.key_type, ECA_KEY_RSA_3072);
    ck_assert_str_eq(plan.extra.md, "SHA384");
    fixture_free_http(&r);
}
END_TEST

/* Bare curve and hash OIDs one at a time: P-256/SHA-512 and P-521/SHA-256 apply. */
START_TEST(csrattrs_bare_curve_and_hash)
{
    /* SEQUENCE { prime256v1, sha512 } and SEQUENCE { secp521r1, sha256 } */
    static const unsigned char p256_512[] = {0x30, 0x15, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
                                             0x3d, 0x03, 0x01, 0x07, 0x06, 0x09, 0x60, 0x86,
                                             0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03};
    static const unsigned char p521_256[] = {0x30, 0x12, 0x06, 0x05, 0x2b, 0x81, 0x04,
                                             0x00, 0x23, 0x06, 0x09, 0x60, 0x86, 0x48,
                                             0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
    struct est_csrattrs a;
    struct est_csrattrs_plan plan;
    struct eca_err err = {0};

    ck_assert_msg(est_csrattrs_parse_body(p256_512, sizeof p256_512, &a, &err) == ECA_OK, "%s",
                  err.msg);
    est_csrattrs_plan(&a, ECA_KEY_RSA_2048, 0, 0, 0, &plan);
    ck_assert_int_eq(plan.key_type, ECA_KEY_EC_P256);
    ck_assert_str_eq(plan.extra.md, "SHA512");
    ck_assert_str_eq(plan.ignored, "");
    ck_assert_msg(est_csrattrs_parse_body(p521_256, sizeof p521_256, &a, &err) == ECA_OK, "%s",
                  err.msg);
    est_csrattrs_plan(&a, ECA_KEY_EC_P256, 0, 0, 0, &plan);
    ck_assert_int_eq(plan.key_type, ECA_KEY_EC_P521);
    ck_assert_str_eq(plan.extra.md, "SHA256");
    ck_assert_str_eq(plan.ignored, "");
}
END_TEST

START_TEST(csrattrs_extension_request_with_real_extensions)
{
    struct eca_http_resp r;
    struct est_csrattrs a;
    struct eca_err err = {0};

    fixture_load_http("est/csrattrs_san.http", &r);
    ck_assert_msg(est_csrattrs_parse(&r, &a, &err) == ECA_OK, "%s", err.msg);
    ck_assert_uint_eq(a.nexts, 1);
    ck_assert_str_eq(a.exts[0], "2.5.29.17");
    ck_assert_int_eq(a.wants_san, 1);
    fixture_free_http(&r);
}
END_TEST

static const char *const empty_ok[] = {"est/csrattrs_empty.http", "est/csrattrs_204.http",
                                       "est/csrattrs_404.http"};

START_TEST(csrattrs_empty_means_nothing_requested)
{
    struct eca_http_resp r;
    struct est_csrattrs a;
    struct eca_err err = {0};

    memset(&a, 0x55, sizeof a);
    fixture_load_http(empty_ok[_i], &r);
    ck_assert_msg(est_csrattrs_parse(&r, &a, &err) == ECA_OK, "%s", err.msg);
    ck_assert_uint_eq(a.noids + a.nattrs + a.nexts, 0);
    ck_assert_int_eq(a.challenge_password, 0);
    fixture_free_http(&r);
}
END_TEST

START_TEST(csrattrs_garbage_is_a_parse_error)
{
    const char *files[] = {"est/csrattrs_garbage.http", "est/csrattrs_bad_der.http"};
    struct eca_http_resp r;
    struct est_csrattrs a;
    struct eca_err err = {0};

    fixture_load_http(files[_i], &r);
    ck_assert_int_eq(est_csrattrs_parse(&r, &a, &err), ECA_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "csrattrs"));
    fixture_free_http(&r);
}
END_TEST

static const struct {
    const char *fixture, *what;
    enum eca_rc rc;
    long retry;
    const char *needle;
} answers[] = {
    {"est/enroll_202.http", "simpleenroll", ECA_EAGAIN, 3, "pending (HTTP 202)"},
    {"est/enroll_401.http", "simpleenroll", ECA_EAUTH, -1, "check EST_USERNAME/BOOTSTRAP_TOKEN"},
    {"est/enroll_401.http", "simplereenroll", ECA_EAUTH, -1, "refused the client certificate"},
    {"est/enroll_403.http", "simpleenroll", ECA_EAUTH, -1, "HTTP 403"},
    {"est/enroll_404.http", "simpleenroll", ECA_ESERVER, -1,
     "HTTP 404: <html><body>no such label..[31m</body>"},
    {"est/enroll_500.http", "simpleenroll", ECA_ESERVER, -1, "HTTP 500: internal error: AAA"},
    {"est/enroll_503.http", "simplereenroll", ECA_ESERVER, 120, "HTTP 503: try later"},
};

/* 202 and its Retry-After in every form (RFC 9110 §10.2.3): delta-seconds, HTTP-date, none, a
 * value that is neither; libest's 202 has no body and no Content-Length. */
static const struct {
    const char *fixture;
    long retry;
    const char *needle;
} pending[] = {
    {"est/enroll_202_libest.http", 3600, "server asked to retry in 3600 s"},
    {"est/enroll_202_date.http", 3600, "server asked to retry in 3600 s"},
    {"est/enroll_202_none.http", -1, "no usable Retry-After"},
    {"est/enroll_202_garbage.http", -1, "no usable Retry-After"},
};

START_TEST(pending_answers_carry_retry_after)
{
    const time_t now = 1767225600; /* 2026-01-01T00:00:00Z: the date fixture says 01:00:00 */
    struct eca_http_resp r;
    struct eca_chain *c = NULL;
    struct eca_err err = {0};

    fixture_load_http(pending[_i].fixture, &r);
    ck_assert_int_eq(est_enroll_parse_response("simpleenroll", &r, now, &c, &err), ECA_EAGAIN);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(err.retry_after, pending[_i].retry);
    ck_assert_msg(strstr(err.msg, pending[_i].needle) != NULL, "'%s' lacks '%s'", err.msg,
                  pending[_i].needle);
    fixture_free_http(&r);
}
END_TEST

/* A first enrollment sent with no credential: the 401 says what the server challenged for and
 * what to provide (and names a token file that is gone). */
START_TEST(anonymous_refusal_says_what_to_provide)
{
    struct eca_http_resp r;
    struct eca_chain *c = NULL;
    struct eca_err err = {0};

    fixture_load_http("est/enroll_401.http", &r);
    ck_assert_int_eq(est_enroll_parse_response("simpleenroll", &r, 0, &c, &err), ECA_EAUTH);
    est_enroll_no_credentials("simpleenroll", &r, "/run/secrets/token", &err);
    ck_assert_int_eq(err.rc, ECA_EAUTH);
    ck_assert_msg(strstr(err.msg, "server wants authentication (HTTP 401, challenged for Basic)") !=
                      NULL,
                  "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, "no credential is configured"));
    ck_assert_ptr_nonnull(strstr(err.msg, "the token file /run/secrets/token no longer exists"));
    ck_assert_ptr_nonnull(strstr(err.msg, "BOOTSTRAP_CERT_PATH and BOOTSTRAP_KEY_PATH"));
    fixture_free_http(&r);
}
END_TEST

START_TEST(enroll_answers_map_to_errors)
{
    struct eca_http_resp r;
    struct eca_chain *c = NULL;
    struct eca_err err = {0};

    fixture_load_http(answers[_i].fixture, &r);
    ck_assert_int_eq(est_enroll_parse_response(answers[_i].what, &r, time(NULL), &c, &err),
                     answers[_i].rc);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.msg, answers[_i].needle) != NULL, "'%s' lacks '%s'", err.msg,
                  answers[_i].needle);
    ck_assert_ptr_nonnull(strstr(err.msg, answers[_i].what));
    ck_assert_int_eq(err.retry_after, answers[_i].retry);
    ck_assert_uint_lt(strlen(err.msg), 400);
    fixture_free_http(&r);
}
END_TEST

struct pki {
    EVP_PKEY *rk, *ik, *lk;
    X509 *root, *inter, *leaf;
    struct eca_key *key;
};

static void
pki_make(struct pki *p)
{
    p->rk = pki_key();
    p->ik = pki_key();
    p->lk = pki_key();
    p->root = pki_cert("Root", p->rk, NULL, p->rk, 1, 1, 3600, NULL);
    p->inter = pki_cert("Issuing", p->ik, p->root, p->rk, 1, 2, 3600, NULL);
    p->leaf = pki_cert("dev", p->lk, p->inter, p->ik, 0, 3, 3600, NULL);
    EVP_PKEY_up_ref(p->lk);
    ck_assert_int_eq(eca_key_wrap(p->lk, &p->key, NULL), ECA_OK);
}

static void
pki_free(struct pki *p)
{
    EVP_PKEY_free(p->rk);
    EVP_PKEY_free(p->ik);
    EVP_PKEY_free(p->lk);
    X509_free(p->root);
    X509_free(p->inter);
    X509_free(p->leaf);
    eca_key_free(p->key);
}

static struct eca_chain *
chain_of(X509 *a, X509 *b, X509 *c)
{
    struct eca_chain *ch = NULL;
    X509 *v[] = {a, b, c};

    ck_assert_int_eq(eca_x509_chain_new(&ch, NULL), ECA_OK);
    for (size_t i = 0; i < 3; i++)
        if (v[i])
            ck_assert_int_eq(eca_x509_chain_push(ch, v[i], NULL), ECA_OK);
    return ch;
}

START_TEST(full_chain_from_leaf_only_answer_and_cacerts)
{
    struct pki p;
    struct eca_chain *issued, *ca, *full = NULL;
    struct eca_err err = {0};

    pki_make(&p);
    issued = chain_of(p.leaf, NULL, NULL);
    ca = chain_of(p.root, p.inter, NULL);
    ck_assert_msg(est_enroll_full_chain(issued, ca, p.key, &full, &err) == ECA_OK, "%s", err.msg);
    ck_assert_uint_eq(eca_x509_chain_count(full), 2);
    ck_assert_int_eq(X509_cmp(eca_x509_chain_get(full, 0), p.leaf), 0);
    ck_assert_int_eq(X509_cmp(eca_x509_chain_get(full, 1), p.inter), 0);
    eca_x509_chain_free(full);
    eca_x509_chain_free(issued);
    /* Out of order, leaf not first, with the root: the root is left out. */
    issued = chain_of(p.root, p.inter, p.leaf);
    full = NULL;
    ck_assert_int_eq(est_enroll_full_chain(issued, NULL, p.key, &full, &err), ECA_OK);
    ck_assert_uint_eq(eca_x509_chain_count(full), 2);
    ck_assert_int_eq(X509_cmp(eca_x509_chain_get(full, 0), p.leaf), 0);
    eca_x509_chain_free(full);
    full = NULL;
    ck_assert_int_eq(est_enroll_full_chain(ca, NULL, p.key, &full, &err), ECA_EPROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "matches the key"));
    ck_assert_ptr_null(full);
    eca_x509_chain_free(issued);
    eca_x509_chain_free(ca);
    pki_free(&p);
}
END_TEST

static Suite *
enroll_suite(void)
{
    Suite *s = suite_create("est_enroll");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, enroll_body_is_base64_in_64_columns);
    tcase_add_loop_test(tc, csrattrs_rfc7030_example, 0, 2);
    tcase_add_test(tc, csrattrs_extension_request_with_real_extensions);
    tcase_add_test(tc, csrattrs_libest_bare_oids);
    tcase_add_test(tc, csrattrs_bare_curve_and_hash);
    tcase_add_loop_test(tc, csrattrs_empty_means_nothing_requested, 0, 3);
    tcase_add_loop_test(tc, csrattrs_garbage_is_a_parse_error, 0, 2);
    tcase_add_loop_test(tc, pending_answers_carry_retry_after, 0,
                        (int)(sizeof pending / sizeof pending[0]));
    tcase_add_test(tc, anonymous_refusal_says_what_to_provide);
    tcase_add_loop_test(tc, enroll_answers_map_to_errors, 0, sizeof answers / sizeof answers[0]);
    tcase_add_test(tc, full_chain_from_leaf_only_answer_and_cacerts);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(enroll_suite)
