/* SPDX-License-Identifier: MIT */
/* Tests of ACME Renewal Information (RFC 9773): certID, renewalInfo answers, the chosen time. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "acme_ari.h"
#include "acme_problem.h"
#include "eca_test.h"

/* 2027-01-20T10:00:00Z and 2027-01-22T10:00:00Z: the window of ari_ok.http. */
#define W_START 1800439200
#define W_END   1800612000
/* 2026-12-03T08:00:00Z, the fixtures' Date. */
#define NOW 1796284800

/* A certificate with the given AKI keyIdentifier (NULL: no AKI) and serial (big-endian hex). */
static X509 *
cert_with(const unsigned char *aki, size_t aki_len, const char *serial_hex)
{
    X509 *x = X509_new();
    EVP_PKEY *k = EVP_EC_gen("P-256");
    BIGNUM *bn = NULL;
    AUTHORITY_KEYID *akid;

    ck_assert_ptr_nonnull(k);
    ck_assert_int_gt(BN_hex2bn(&bn, serial_hex), 0);
    ck_assert_ptr_nonnull(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
    BN_free(bn);
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, k);
    if (aki != NULL) {
        akid = AUTHORITY_KEYID_new();
        akid->keyid = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(akid->keyid, aki, (int)aki_len);
        ck_assert_int_eq(X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, 0), 1);
        AUTHORITY_KEYID_free(akid);
    }
    ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
    EVP_PKEY_free(k);
    return x;
}

static const unsigned char rfc_aki[] = {0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
                                        0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4};

START_TEST(cert_id_matches_rfc_example)
{
    /* RFC 9773 §4.1: the serial 0x87654321 is encoded with a leading zero (it is positive). */
    X509 *x = cert_with(rfc_aki, sizeof rfc_aki, "87654321");
    struct eca_buf b;

    eca_buf_init(&b, 0);
    ck_assert_int_eq(acme_ari_cert_id(x, &b, NULL), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&b), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    eca_buf_free(&b);
    X509_free(x);
}
END_TEST

START_TEST(cert_id_keeps_serial_without_sign_byte)
{
    X509 *x = cert_with(rfc_aki, 4, "0102");
    struct eca_buf b;

    eca_buf_init(&b, 0);
    ck_assert_int_eq(acme_ari_cert_id(x, &b, NULL), ECA_OK);
    /* base64url(69885B6B) "." base64url(0102) */
    ck_assert_str_eq(eca_buf_str(&b), "aYhbaw.AQI");
    eca_buf_free(&b);
    X509_free(x);
}
END_TEST

START_TEST(cert_id_without_aki_is_not_found)
{
    X509 *x = cert_with(NULL, 0, "87654321");
    struct eca_buf b;
    struct eca_err err = {0};

    eca_buf_init(&b, 0);
    ck_assert_int_eq(acme_ari_cert_id(x, &b, &err), ECA_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "authorityKeyIdentifier"));
    ck_assert_uint_eq(b.len, 0);
    eca_buf_free(&b);
    X509_free(x);
}
END_TEST

START_TEST(parse_pebble_answer)
{
    struct eca_http_resp resp;
    struct acme_ari *a = NULL;
    struct eca_err err = {0};

    fixture_load_http("acme/ari_ok.http", &resp);
    ck_assert_int_eq(acme_ari_parse(&resp, NOW, &a, &err), ECA_OK);
    ck_assert_int_eq(a->start, W_START);
    ck_assert_int_eq(a->end, W_END);
    ck_assert_int_eq(a->retry_after, 21600);
    ck_assert_ptr_null(a->explanation_url);
    acme_ari_free(a);
    fixture_free_http(&resp);
}
END_TEST

START_TEST(parse_offsets_fractions_leap_second_and_explanation)
{
    struct eca_http_resp resp;
    struct acme_ari *a = NULL;

    fixture_load_http("acme/ari_explanation.http", &resp);
    ck_assert_int_eq(acme_ari_parse(&resp, NOW, &a, NULL), ECA_OK);
    ck_assert_int_eq(a->start, W_START);  /* 12:00:00.123456789+02:00 */
    ck_assert_int_eq(a->end, 1800489599); /* 23:59:60Z counts as 23:59:59 */
    ck_assert_str_eq(a->explanation_url, "https://acme.example/docs/ari-incident-2027");
    ck_assert_int_eq(a->retry_after, 3600);
    acme_ari_free(a);
    fixture_free_http(&resp);
}
END_TEST

static const struct {
    const char *fixture;
    long retry;
} retries[] = {
    {"acme/ari_ok.http", 21600},
    {"acme/ari_no_retry_after.http", ACME_ARI_RETRY_DEFAULT},
    {"acme/ari_retry_after_tiny.http", ACME_ARI_RETRY_MIN},
    {"acme/ari_retry_after_huge.http", ACME_ARI_RETRY_MAX},
    {"acme/ari_retry_after_garbage.http", ACME_ARI_RETRY_DEFAULT},
    {"acme/ari_malformed.http", ACME_ARI_RETRY_MIN}, /* 30 s: raised to the floor */
    {"acme/ari_503.http", 120},
};

START_TEST(retry_after_is_clamped)
{
    struct eca_http_resp resp;

    fixture_load_http(retries[_i].fixture, &resp);
    ck_assert_int_eq(acme_ari_retry_after(&resp, NOW), retries[_i].retry);
    fixture_free_http(&resp);
}
END_TEST

START_TEST(retry_after_without_answer_is_default)
{
    ck_assert_int_eq(acme_ari_retry_after(NULL, NOW), ACME_ARI_RETRY_DEFAULT);
}
END_TEST

static const struct {
    const char *fixture;
    enum eca_rc rc;
    const char *needle;
} bad[] = {
    {"acme/ari_end_before_start.http", ECA_EPROTO, "renewalInfo.suggestedWindow.end: before start"},
    {"acme/ari_no_window.http", ECA_EPROTO, "renewalInfo.suggestedWindow: missing"},
    {"acme/ari_no_end.http", ECA_EPROTO, "renewalInfo.suggestedWindow.end: missing"},
    {"acme/ari_window_not_object.http", ECA_EPROTO, "renewalInfo.suggestedWindow: expected"},
    {"acme/ari_start_number.http", ECA_EPROTO, "renewalInfo.suggestedWindow.start: expected"},
    {"acme/ari_bad_time.http", ECA_EPROTO,
     "renewalInfo.suggestedWindow.start: not an RFC 3339 time \"2027-02-30T10:00:00Z\""},
    {"acme/ari_no_zone.http", ECA_EPROTO, "renewalInfo.suggestedWindow.start: not an RFC 3339"},
    {"acme/ari_explanation_wrong_type.http", ECA_EPROTO, "renewalInfo.explanationURL: expected"},
    {"acme/ari_truncated.http", ECA_EPARSE, "renewalInfo: invalid JSON"},
    {"acme/ari_array.http", ECA_EPROTO, "renewalInfo: expected a JSON object"},
    {"acme/ari_html.http", ECA_EPROTO, "renewalInfo: unexpected Content-Type \"text/html\""},
    {"acme/ari_malformed.http", ECA_ESERVER, "renewalInfo: HTTP 400: server problem malformed"},
    {"acme/ari_503.http", ECA_EAGAIN, "renewalInfo: HTTP 503"},
};

START_TEST(parse_rejects_broken_answers)
{
    struct eca_http_resp resp;
    struct acme_ari *a = NULL;
    struct eca_err err = {0};

    fixture_load_http(bad[_i].fixture, &resp);
    ck_assert_int_eq(acme_ari_parse(&resp, NOW, &a, &err), bad[_i].rc);
    ck_assert_ptr_null(a);
    ck_assert_msg(strstr(err.msg, bad[_i].needle) != NULL, "%s: \"%s\" lacks \"%s\"",
                  bad[_i].fixture, err.msg, bad[_i].needle);
    fixture_free_http(&resp);
}
END_TEST

START_TEST(parse_json_refuses_oversized_body)
{
    size_t n = ACME_JSON_MAX + 1;
    char *big = malloc(n);
    struct acme_ari *a = NULL;
    struct eca_err err = {0};

    memset(big, ' ', n);
    ck_assert_int_eq(acme_ari_parse_json(big, n, &a, &err), ECA_ETOOBIG);
    ck_assert_ptr_null(a);
    free(big);
}
END_TEST

static const struct {
    const char *text;
    long long t; /* -1: rejected */
} times[] = {
    {"1970-01-01T00:00:00Z", 0},
    {"2027-01-20T10:00:00Z", W_START},
    {"2027-01-20t10:00:00z", W_START},
    {"2027-01-20T11:30:00+01:30", W_START},
    {"2027-01-20T05:00:00-05:00", W_START},
    {"2027-01-20T10:00:00.5Z", W_START},
    {"2024-02-29T00:00:00Z", 1709164800},
    {"2000-03-01T00:00:00Z", 951868800},
    {"2023-02-29T00:00:00Z", -1},
    {"2027-13-01T00:00:00Z", -1},
    {"2027-01-20T24:00:00Z", -1},
    {"2027-01-20T10:60:00Z", -1},
    {"2027-01-20T10:00:61Z", -1},
    {"2027-01-20T10:00:00.Z", -1},
    {"2027-01-20T10:00:00+1:00", -1},
    {"2027-01-20T10:00:00+01:00x", -1},
    {"2027-01-20T10:00:00ZZ", -1},
    {"2027-01-20", -1},
    {"27-01-20T10:00:00Z", -1},
    {"", -1},
};

START_TEST(time_parse_accepts_rfc3339_only)
{
    time_t t = 12345;
    int r = acme_ari_time_parse(times[_i].text, &t);

    if (times[_i].t < 0) {
        ck_assert_msg(r == -1, "%s accepted", times[_i].text);
        ck_assert_int_eq(t, 12345);
    } else {
        ck_assert_msg(r == 0, "%s rejected", times[_i].text);
        ck_assert_int_eq((long long)t, times[_i].t);
    }
}
END_TEST

static const struct acme_ari window = {W_START, W_END, NULL, 21600};

START_TEST(choose_is_uniform_in_a_future_window)
{
    struct acme_ari_choice c;

    acme_ari_choose(&window, "id.AQ", NULL, 0, NOW, &c);
    ck_assert_int_eq(c.at, W_START);
    acme_ari_choose(&window, "id.AQ", NULL, W_END - W_START, NOW, &c);
    ck_assert_int_eq(c.at, W_END);
    acme_ari_choose(&window, "id.AQ", NULL, W_END - W_START + 1, NOW, &c);
    ck_assert_int_eq(c.at, W_START);
    acme_ari_choose(&window, "id.AQ", NULL, 1000, NOW, &c);
    ck_assert_int_eq(c.at, W_START + 1000);
    ck_assert_str_eq(c.cert_id, "id.AQ");
    ck_assert_int_eq(c.start, W_START);
    ck_assert_int_eq(c.end, W_END);
}
END_TEST

START_TEST(choose_renews_now_when_window_started)
{
    struct acme_ari_choice c;
    const struct acme_ari past = {NOW - 3600, NOW - 3599, NULL, 21600};

    /* pebble's answer for a revoked certificate: one second, an hour ago. */
    acme_ari_choose(&past, "id.AQ", NULL, 777, NOW, &c);
    ck_assert_int_eq(c.at, NOW);
    acme_ari_choose(&window, "id.AQ", NULL, 777, W_START + 5, &c);
    ck_assert_int_eq(c.at, W_START + 5);
}
END_TEST

START_TEST(choose_keeps_previous_choice_for_same_certificate_and_window)
{
    struct acme_ari_choice prev, c;

    acme_ari_choose(&window, "id.AQ", NULL, 4242, NOW, &prev);
    acme_ari_choose(&window, "id.AQ", &prev, 99999, NOW, &c);
    ck_assert_int_eq(c.at, W_START + 4242);
    /* Still kept once the window has started: the time was chosen in it. */
    acme_ari_choose(&window, "id.AQ", &prev, 99999, W_START + 10, &c);
    ck_assert_int_eq(c.at, W_START + 4242);
    /* Another certificate or a moved window: chosen again. */
    acme_ari_choose(&window, "id.AG", &prev, 99999, NOW, &c);
    ck_assert_int_eq(c.at, W_START + 99999);
    {
        const struct acme_ari moved = {W_START - 86400, W_END, NULL, 21600};

        acme_ari_choose(&moved, "id.AQ", &prev, 5, NOW, &c);
        ck_assert_int_eq(c.at, W_START - 86400 + 5);
    }
}
END_TEST

START_TEST(choice_round_trips_through_state_text)
{
    struct acme_ari_choice c, back;
    struct eca_buf b;

    acme_ari_choose(&window, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", NULL, 17, NOW, &c);
    eca_buf_init(&b, 0);
    ck_assert_int_eq(acme_ari_choice_build(&c, &b, NULL), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&b),
                     "eca-ari 1 aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE 1800439200 1800612000 "
                     "1800439217\n");
    ck_assert_int_eq(acme_ari_choice_parse(b.data, b.len, &back, NULL), ECA_OK);
    ck_assert_int_eq(memcmp(&c, &back, sizeof c), 0);
    eca_buf_free(&b);
}
END_TEST

static const char *const bad_states[] = {
    "",
    "eca-ari 2 a.b 1 2 1\n",
    "eca-ari 1 a.b 10 5 7\n",     /* end before start */
    "eca-ari 1 a.b 10 20 30\n",   /* choice outside its window */
    "eca-ari 1 a/b 10 20 15\n",   /* not a certID */
    "eca-ari 1 a.b 10 20 15 x\n", /* trailing garbage */
    "eca-ari 1 a.b 10 20\n",
};

START_TEST(choice_parse_rejects_garbage)
{
    struct acme_ari_choice c;
    struct eca_err err = {0};

    ck_assert_int_eq(acme_ari_choice_parse(bad_states[_i], strlen(bad_states[_i]), &c, &err),
                     ECA_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "renewal state"));
}
END_TEST

static const struct {
    const char *fixture;
    int refused;
} refusals[] = {
    {"acme/problem_already_replaced.http", 1},
    {"acme/problem_replaces_unauthorized.http", 1},
    {"acme/problem_replaces_malformed.http", 1},
    {"acme/problem_unauthorized.http", 0}, /* a deactivated account: not about replaces */
    {"acme/problem_malformed_other.http", 0},
    {"acme/problem_invalid_profile.http", 0},
    {"acme/problem_ratelimited.http", 0},
};

START_TEST(replaces_refusal_is_recognised)
{
    struct eca_http_resp resp;
    struct acme_problem *p;

    fixture_load_http(refusals[_i].fixture, &resp);
    p = acme_problem_of(&resp);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(acme_ari_replaces_refused(p), refusals[_i].refused);
    acme_problem_free(p);
    fixture_free_http(&resp);
    ck_assert_int_eq(acme_ari_replaces_refused(NULL), 0);
}
END_TEST

static Suite *
acme_ari_suite(void)
{
    Suite *s = suite_create("acme_ari");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, cert_id_matches_rfc_example);
    tcase_add_test(tc, cert_id_keeps_serial_without_sign_byte);
    tcase_add_test(tc, cert_id_without_aki_is_not_found);
    tcase_add_test(tc, parse_pebble_answer);
    tcase_add_test(tc, parse_offsets_fractions_leap_second_and_explanation);
    tcase_add_loop_test(tc, retry_after_is_clamped, 0, sizeof retries / sizeof retries[0]);
    tcase_add_test(tc, retry_after_without_answer_is_default);
    tcase_add_loop_test(tc, parse_rejects_broken_answers, 0, sizeof bad / sizeof bad[0]);
    tcase_add_test(tc, parse_json_refuses_oversized_body);
    tcase_add_loop_test(tc, time_parse_accepts_rfc3339_only, 0, sizeof times / sizeof times[0]);
    tcase_add_test(tc, choose_is_uniform_in_a_future_window);
    tcase_add_test(tc, choose_renews_now_when_window_started);
    tcase_add_test(tc, choose_keeps_previous_choice_for_same_certificate_and_window);
    tcase_add_test(tc, choice_round_trips_through_state_text);
    tcase_add_loop_test(tc, choice_parse_rejects_garbage, 0,
                        sizeof bad_states / sizeof bad_states[0]);
    tcase_add_loop_test(tc, replaces_refusal_is_recognised, 0,
                        sizeof refusals / sizeof refusals[0]);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(acme_ari_suite)
