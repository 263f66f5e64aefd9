/* SPDX-License-Identifier: MIT */
/* Tests of the newAccount payload and the account response parser (RFC 8555 §7.3). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "acme_account.h"
#include "acme_jws.h"
#include "eca_test.h"
#include "jws_verify.h"

START_TEST(account_payload_has_contact_tos_and_eab)
{
    const char *contact[] = {"mailto:ops@example.org", "mailto:sec@example.org"};
    struct acme_account_req req = {contact, 2, 1, 0,
                                   "{\"protected\":\"e30\",\"payload\":"
                                   "\"e30\",\"signature\":\"c2ln\"}"};
    struct eca_buf out;

    eca_buf_init(&out, 0);
    ck_assert_int_eq(acme_account_build_new(&req, &out, NULL), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&out),
                     "{\"contact\":[\"mailto:ops@example.org\",\"mailto:sec@example.org\"],"
                     "\"termsOfServiceAgreed\":true,\"externalAccountBinding\":{\"protected\":"
                     "\"e30\",\"payload\":\"e30\",\"signature\":\"c2ln\"}}");
    eca_buf_free(&out);
}
END_TEST

START_TEST(account_payload_only_return_existing)
{
    struct acme_account_req req = {NULL, 0, 0, 1, NULL};
    struct eca_buf out;

    eca_buf_init(&out, 0);
    ck_assert_int_eq(acme_account_build_new(&req, &out, NULL), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&out), "{\"onlyReturnExisting\":true}");
    eca_buf_free(&out);
}
END_TEST

START_TEST(account_payload_rejects_broken_eab)
{
    struct acme_account_req req = {NULL, 0, 1, 0, "{\"protected\":"};
    struct eca_buf out;
    struct eca_err err = {0};

    eca_buf_init(&out, 0);
    ck_assert_int_eq(acme_account_build_new(&req, &out, &err), ECA_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "externalAccountBinding"));
    eca_buf_free(&out);
}
END_TEST

static const struct {
    const char *fixture;
    int created;
    enum acme_account_status status;
} good[] = {
    {"acme/account_created.http", 1, ACME_ACCOUNT_VALID},
    {"acme/account_existing.http", 0, ACME_ACCOUNT_VALID},
    {"acme/account_deactivated.http", 0, ACME_ACCOUNT_DEACTIVATED},
};

START_TEST(account_parse_takes_location_as_kid)
{
    struct eca_http_resp resp;
    struct acme_account *a = NULL;
    struct eca_err err = {0};

    fixture_load_http(good[_i].fixture, &resp);
    ck_assert_int_eq(acme_account_parse(&resp, &a, &err), ECA_OK);
    ck_assert_str_eq(a->url, "https://localhost:14000/my-account/1");
    ck_assert_int_eq(a->created, good[_i].created);
    ck_assert_int_eq(a->status, good[_i].status);
    acme_account_free(a);
    fixture_free_http(&resp);
}
END_TEST

static const struct {
    const char *fixture;
    enum eca_rc rc;
    const char *needle;
} bad[] = {
    {"acme/account_no_location.http", ECA_EPROTO, "account: no Location header"},
    {"acme/account_truncated.http", ECA_EPARSE, "account: invalid JSON"},
    {"acme/account_status_wrong_type.http", ECA_EPROTO, "account.status: expected string"},
    {"acme/account_status_unknown.http", ECA_EPROTO, "account.status: unknown value"},
    {"acme/account_eab_required.http", ECA_EAUTH, "server problem externalAccountRequired"},
    {"acme/problem_account_missing.http", ECA_ENOTFOUND, "accountDoesNotExist"},
    {"acme/problem_ratelimited.http", ECA_EAGAIN, "rateLimited"},
    {"acme/dir_html.http", ECA_EPROTO, "unexpected Content-Type"},
};

START_TEST(account_parse_rejects_broken_responses)
{
    struct eca_http_resp resp;
    struct acme_account *a = NULL;
    struct eca_err err = {0};

    fixture_load_http(bad[_i].fixture, &resp);
    ck_assert_int_eq(acme_account_parse(&resp, &a, &err), bad[_i].rc);
    ck_assert_ptr_null(a);
    ck_assert_msg(strstr(err.msg, bad[_i].needle) != NULL, "%s: %s", bad[_i].fixture, err.msg);
    fixture_free_http(&resp);
}
END_TEST

#define KC_URL "https://localhost:14000/rollover-account-key"
#define ACCT   "https://localhost:14000/my-account/1"

static const char *
member_str(const char *json, const char *name, char *out, size_t outlen)
{
    struct json_object *o = json_tokener_parse(json);
    struct json_object *v = json_object_object_get(o, name);

    snprintf(out, outlen, "%s",
             v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE)
               : "(absent)");
    json_object_put(o);
    return out;
}

START_TEST(key_change_inner_jws_is_signed_by_the_new_key)
{
    static const enum eca_key_type types[] = {ECA_KEY_EC_P256, ECA_KEY_EC_P384, ECA_KEY_RSA_2048};
    struct eca_key *old = NULL, *nk = NULL;
    struct eca_buf inner, old_jwk, new_jwk, want;
    char *prot = NULL, *payload = NULL, v[2048];

    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P256, &old, NULL), ECA_OK);
    ck_assert_int_eq(eca_key_generate(types[_i], &nk, NULL), ECA_OK);
    eca_buf_init(&inner, 0);
    eca_buf_init(&old_jwk, 0);
    eca_buf_init(&new_jwk, 0);
    eca_buf_init(&want, 0);
    ck_assert_int_eq(acme_account_build_key_change(ACCT, old, nk, KC_URL, &inner, NULL), ECA_OK);
    ck_assert(jws_verifies(eca_buf_str(&inner), eca_key_pkey(nk), &prot, &payload));
    /* Not by the old key: the inner JWS proves possession of the new one. */
    ck_assert(!jws_verifies(eca_buf_str(&inner), eca_key_pkey(old), NULL, NULL));
    ck_assert_int_eq(acme_jws_jwk(old, &old_jwk, NULL), ECA_OK);
    ck_assert_int_eq(acme_jws_jwk(nk, &new_jwk, NULL), ECA_OK);
    /* RFC 8555 §7.3.5: jwk (the new key) and url, no nonce, no kid. */
    ck_assert_str_eq(member_str(prot, "jwk", v, sizeof v), eca_buf_str(&new_jwk));
    ck_assert_str_eq(member_str(prot, "url", v, sizeof v), "\"" KC_URL "\"");
    ck_assert_str_eq(member_str(prot, "alg", v, sizeof v),
                     types[_i] == ECA_KEY_RSA_2048  ? "\"RS256\""
                     : types[_i] == ECA_KEY_EC_P384 ? "\"ES384\""
                                                    : "\"ES256\"");
    ck_assert_str_eq(member_str(prot, "nonce", v, sizeof v), "(absent)");
    ck_assert_str_eq(member_str(prot, "kid", v, sizeof v), "(absent)");
    eca_buf_printf(&want, NULL, "{\"account\":\"" ACCT "\",\"oldKey\":%s}", eca_buf_str(&old_jwk));
    ck_assert_str_eq(payload, eca_buf_str(&want));
    free(prot);
    free(payload);
    eca_buf_free(&inner);
    eca_buf_free(&old_jwk);
    eca_buf_free(&new_jwk);
    eca_buf_free(&want);
    eca_key_free(old);
    eca_key_free(nk);
}
END_TEST

START_TEST(key_change_refuses_the_same_key_and_missing_urls)
{
    struct eca_key *k = NULL, *k2 = NULL;
    struct eca_buf out;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P256, &k, NULL), ECA_OK);
    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P256, &k2, NULL), ECA_OK);
    eca_buf_init(&out, 0);
    ck_assert_int_eq(acme_account_build_key_change(ACCT, k, k, KC_URL, &out, &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "the new key is the old key"));
    ck_assert_int_eq(acme_account_build_key_change(NULL, k, k2, KC_URL, &out, &err), ECA_EINVAL);
    ck_assert_int_eq(acme_account_build_key_change(ACCT, k, k2, NULL, &out, &err), ECA_EINVAL);
    ck_assert_uint_eq(out.len, 0);
    eca_buf_free(&out);
    eca_key_free(k);
    eca_key_free(k2);
}
END_TEST

START_TEST(key_change_accepts_200_with_or_without_the_account)
{
    static const char *const ok[] = {"acme/keychange_ok_pebble.http",
                                     "acme/keychange_ok_account.http"};
    struct eca_http_resp resp;
    struct eca_err err = {0};
    char *conflict = (char *)"untouched";

    fixture_load_http(ok[_i], &resp);
    ck_assert_int_eq(acme_account_parse_key_change(&resp, &conflict, &err), ECA_OK);
    ck_assert_ptr_null(conflict);
    fixture_free_http(&resp);
}
END_TEST

static const struct {
    const char *fixture;
    enum eca_rc rc;
    const char *needle;
    const char *conflict;
} kc_bad[] = {
    {"acme/keychange_conflict_pebble.http", ECA_ESERVER,
     "the new key already belongs to account https://localhost:14000/my-account/7: keyChange: "
     "HTTP 409",
     "https://localhost:14000/my-account/7"},
    {"acme/keychange_conflict_problem.http", ECA_ESERVER,
     "already belongs to account https://localhost:14000/my-account/7: keyChange: HTTP 409: "
     "server problem malformed: New key is already in use",
     "https://localhost:14000/my-account/7"},
    {"acme/keychange_malformed.http", ECA_ESERVER, "keyChange: HTTP 400: server problem malformed",
     NULL},
    {"acme/keychange_unauthorized.http", ECA_EAUTH,
     "keyChange: HTTP 403: server problem unauthorized: Account has been deactivated", NULL},
    {"acme/problem_badnonce.http", ECA_ESERVER, "badNonce", NULL},
    {"acme/problem_ratelimited.http", ECA_EAGAIN, "rateLimited", NULL},
    {"acme/keychange_account_deactivated.http", ECA_EPROTO, "keyChange: the account is deactivated",
     NULL},
    {"acme/keychange_html.http", ECA_EPROTO, "keyChange: unexpected Content-Type", NULL},
    {"acme/keychange_accepted.http", ECA_EPROTO, "keyChange: HTTP 202, expected 200", NULL},
    {"acme/keychange_truncated.http", ECA_EPARSE, "keyChange: invalid JSON", NULL},
};

START_TEST(key_change_rejects_broken_and_refused_answers)
{
    struct eca_http_resp resp;
    struct eca_err err = {0};
    char *conflict = NULL;

    fixture_load_http(kc_bad[_i].fixture, &resp);
    ck_assert_int_eq(acme_account_parse_key_change(&resp, &conflict, &err), kc_bad[_i].rc);
    ck_assert_msg(strstr(err.msg, kc_bad[_i].needle) != NULL, "%s: %s", kc_bad[_i].fixture,
                  err.msg);
    if (kc_bad[_i].conflict != NULL)
        ck_assert_str_eq(conflict, kc_bad[_i].conflict);
    else
        ck_assert_ptr_null(conflict);
    free(conflict);
    fixture_free_http(&resp);
}
END_TEST

START_TEST(account_update_takes_the_posted_url)
{
    struct eca_http_resp resp;
    struct acme_account *a = NULL;
    struct eca_err err = {0};

    fixture_load_http("acme/account_update_deactivated.http", &resp);
    ck_assert_int_eq(acme_account_parse_update(&resp, ACCT, &a, &err), ECA_OK);
    ck_assert_str_eq(a->url, ACCT);
    ck_assert_int_eq(a->status, ACME_ACCOUNT_DEACTIVATED);
    acme_account_free(a);
    a = NULL;
    /* The same answer without a URL to fall back on is the newAccount case: Location needed. */
    ck_assert_int_eq(acme_account_parse(&resp, &a, &err), ECA_EPROTO);
    ck_assert_ptr_null(a);
    fixture_free_http(&resp);

    fixture_load_http("acme/account_update_other.http", &resp);
    ck_assert_int_eq(acme_account_parse_update(&resp, ACCT, &a, &err), ECA_EPROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "names another account"));
    ck_assert_ptr_null(a);
    fixture_free_http(&resp);

    fixture_load_http("acme/problem_unauthorized.http", &resp);
    ck_assert_int_eq(acme_account_parse_update(&resp, ACCT, &a, &err), ECA_EAUTH);
    ck_assert_ptr_null(a);
    fixture_free_http(&resp);
}
END_TEST

static Suite *
acme_account_suite(void)
{
    Suite *s = suite_create("acme_account");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, account_payload_has_contact_tos_and_eab);
    tcase_add_test(tc, account_payload_only_return_existing);
    tcase_add_test(tc, account_payload_rejects_broken_eab);
    tcase_add_loop_test(tc, account_parse_takes_location_as_kid, 0, sizeof good / sizeof good[0]);
    tcase_add_loop_test(tc, account_parse_rejects_broken_responses, 0, sizeof bad / sizeof bad[0]);
    tcase_add_loop_test(tc, key_change_inner_jws_is_signed_by_the_new_key, 0, 3);
    tcase_add_test(tc, key_change_refuses_the_same_key_and_missing_urls);
    tcase_add_loop_test(tc, key_change_accepts_200_with_or_without_the_account, 0, 2);
    tcase_add_loop_test(tc, key_change_rejects_broken_and_refused_answers, 0,
                        sizeof kc_bad / sizeof kc_bad[0]);
    tcase_add_test(tc, account_update_takes_the_posted_url);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(acme_account_suite)
