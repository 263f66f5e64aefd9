/* SPDX-License-Identifier: MIT */
/*
 * The driver's account key rollover (RFC 8555 §7.3.5) and deactivation (§7.3.6) against queued
 * wire-exact answers: what goes on the wire is checked as a server would check it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "acme_client.h"
#include "acme_jws.h"
#include "eca_test.h"
#include "jws_verify.h"

#define P      "https://localhost:14000"
#define ACCT   P "/my-account/1"
#define KC_URL P "/rollover-account-key"

static struct eca_key *old_key, *new_key;
static struct fake_http *fake;
static struct eca_http *http;
static struct acme_client_opts opts;

static void
setup(void)
{
    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P256, &old_key, NULL), ECA_OK);
    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P256, &new_key, NULL), ECA_OK);
    http = fake_http_new(&fake);
    memset(&opts, 0, sizeof opts);
    opts.directory_url = P "/dir";
    opts.http = http;
    opts.account_key = old_key;
    opts.account_url = ACCT;
}

static void
teardown(void)
{
    eca_http_free(http);
    eca_key_free(old_key);
    eca_key_free(new_key);
}

/* A client whose server answers the directory, a nonce, then the fixtures listed (NULL-ended). */
static struct acme_client *
client_with(const char *a, const char *b)
{
    struct acme_client *c = NULL;
    struct eca_err err = {0};

    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    if (a != NULL)
        fake_http_push_fixture(fake, a);
    if (b != NULL)
        fake_http_push_fixture(fake, b);
    if (acme_client_new(&opts, &c, &err) != ECA_OK)
        ck_abort_msg("acme_client_new: %s", err.msg);
    return c;
}

/* A string member of a JSON text, or "(absent)". */
static const char *
str_of(const char *json, const char *name, char *out, size_t outlen)
{
    struct json_object *o = json_tokener_parse(json);
    const char *v = json_object_get_string(json_object_object_get(o, name));

    snprintf(out, outlen, "%s", v ? v : "(absent)");
    json_object_put(o);
    return out;
}

/* Request i is a POST to url, verifies with `signer` and not with `other`; header checked. */
static void
assert_signed(size_t i, const char *url, const struct eca_key *signer, const struct eca_key *other,
              char **payload)
{
    const struct fake_req *r = fake_http_req(fake, i);
    char *prot = NULL, v[512];

    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->method, "POST");
    ck_assert_str_eq(r->url, url);
    ck_assert_str_eq(r->content_type, "application/jose+json");
    ck_assert_msg(jws_verifies(r->body, eca_key_pkey(signer), &prot, payload),
                  "request %zu does not verify with the key expected", i);
    ck_assert_msg(!jws_verifies(r->body, eca_key_pkey(other), NULL, NULL),
                  "request %zu also verifies with the other key", i);
    ck_assert_str_eq(str_of(prot, "kid", v, sizeof v), ACCT);
    ck_assert_str_eq(str_of(prot, "url", v, sizeof v), url);
    ck_assert_str_ne(str_of(prot, "nonce", v, sizeof v), "(absent)");
    free(prot);
}

START_TEST(key_change_wraps_the_new_keys_jws_in_the_old_keys)
{
    struct acme_client *c =
        client_with("acme/keychange_ok_pebble.http", "acme/account_update_deactivated.http");
    struct eca_err err = {0};
    struct eca_buf old_jwk, new_jwk, want;
    char *outer = NULL, *inner = NULL, *iprot = NULL, v[512];

    eca_buf_init(&old_jwk, 0);
    eca_buf_init(&new_jwk, 0);
    eca_buf_init(&want, 0);
    ck_assert_int_eq(acme_client_key_change(c, new_key, &err), ECA_OK);
    assert_signed(2, KC_URL, old_key, new_key, &outer);
    /* The outer payload is the inner JWS: by the new key, with its jwk, no nonce (§7.3.5). */
    ck_assert(jws_verifies(outer, eca_key_pkey(new_key), &iprot, &inner));
    ck_assert(!jws_verifies(outer, eca_key_pkey(old_key), NULL, NULL));
    ck_assert_str_eq(str_of(iprot, "url", v, sizeof v), KC_URL);
    ck_assert_str_eq(str_of(iprot, "nonce", v, sizeof v), "(absent)");
    ck_assert_str_eq(str_of(iprot, "kid", v, sizeof v), "(absent)");
    ck_assert_int_eq(acme_jws_jwk(old_key, &old_jwk, NULL), ECA_OK);
    ck_assert_int_eq(acme_jws_jwk(new_key, &new_jwk, NULL), ECA_OK);
    ck_assert_ptr_nonnull(strstr(iprot, eca_buf_str(&new_jwk)));
    eca_buf_printf(&want, NULL, "{\"account\":\"" ACCT "\",\"oldKey\":%s}", eca_buf_str(&old_jwk));
    ck_assert_str_eq(inner, eca_buf_str(&want));
    free(outer);
    free(inner);
    outer = NULL;
    /* From now on the client signs with the new key: the deactivation shows it. */
    ck_assert_int_eq(acme_client_deactivate(c, &err), ECA_OK);
    assert_signed(3, ACCT, new_key, old_key, &outer);
    ck_assert_str_eq(outer, "{\"status\":\"deactivated\"}");
    ck_assert_uint_eq(fake_http_nreq(fake), 4);
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    free(outer);
    free(iprot);
    eca_buf_free(&old_jwk);
    eca_buf_free(&new_jwk);
    eca_buf_free(&want);
    acme_client_free(c);
}
END_TEST

START_TEST(key_change_badnonce_resends_the_same_inner_jws)
{
    struct acme_client *c =
        client_with("acme/problem_badnonce.http", "acme/keychange_ok_account.http");
    struct eca_err err = {0};
    char *p1 = NULL, *p2 = NULL;

    ck_assert_int_eq(acme_client_key_change(c, new_key, &err), ECA_OK);
    assert_signed(2, KC_URL, old_key, new_key, &p1);
    assert_signed(3, KC_URL, old_key, new_key, &p2);
    ck_assert_str_eq(p1, p2);
    ck_assert_str_ne(fake_http_req(fake, 2)->body, fake_http_req(fake, 3)->body);
    free(p1);
    free(p2);
    acme_client_free(c);
}
END_TEST

/* Refusals: the error names the culprit, and the client keeps signing with the old key. */
static const struct {
    const char *fixture;
    enum eca_rc rc;
    const char *needle;
} refused[] = {
    {"acme/keychange_conflict_pebble.http", ECA_ESERVER,
     "the new key already belongs to account " P "/my-account/7"},
    {"acme/keychange_malformed.http", ECA_ESERVER, "account " ACCT ": keyChange: HTTP 400"},
    {"acme/keychange_unauthorized.http", ECA_EAUTH, "unauthorized: Account has been deactivated"},
    {"acme/keychange_html.http", ECA_EPROTO, "unexpected Content-Type"},
};

START_TEST(key_change_refused_keeps_the_old_key)
{
    struct acme_client *c =
        client_with(refused[_i].fixture, "acme/account_update_deactivated.http");
    struct eca_err err = {0};
    char *p = NULL;

    ck_assert_int_eq(acme_client_key_change(c, new_key, &err), refused[_i].rc);
    ck_assert_msg(strstr(err.msg, refused[_i].needle) != NULL, "%s: %s", refused[_i].fixture,
                  err.msg);
    eca_err_clear(&err);
    ck_assert_int_eq(acme_client_deactivate(c, &err), ECA_OK);
    assert_signed(3, ACCT, old_key, new_key, &p);
    free(p);
    acme_client_free(c);
}
END_TEST

START_TEST(unknown_key_is_looked_up_never_registered)
{
    struct acme_client *c;
    struct eca_err err = {0};

    opts.account_url = NULL;
    opts.tos_agreed = 1;
    c = client_with("acme/problem_account_missing.http", NULL);
    if (_i == 0)
        ck_assert_int_eq(acme_client_key_change(c, new_key, &err), ECA_ENOTFOUND);
    else
        ck_assert_int_eq(acme_client_deactivate(c, &err), ECA_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "accountDoesNotExist"));
    /* One lookup, and no newAccount that would create an account. */
    ck_assert_uint_eq(fake_http_nreq(fake), 3);
    ck_assert_ptr_nonnull(strstr(fake_http_req(fake, 2)->url, "/sign-me-up"));
    ck_assert_ptr_null(acme_client_account_url(c));
    acme_client_free(c);
}
END_TEST

START_TEST(known_key_is_found_then_rolled)
{
    struct acme_client *c;
    struct eca_err err = {0};

    opts.account_url = NULL;
    c = client_with("acme/account_existing.http", "acme/keychange_ok_pebble.http");
    ck_assert_int_eq(acme_client_key_change(c, new_key, &err), ECA_OK);
    ck_assert_str_eq(acme_client_account_url(c), ACCT);
    assert_signed(3, KC_URL, old_key, new_key, NULL);
    acme_client_free(c);
}
END_TEST

START_TEST(directory_without_key_change_sends_nothing)
{
    struct acme_client *c = NULL;
    struct eca_err err = {0};
    static const char dir[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        "Content-Length: 196\r\n\r\n"
        "{\"newAccount\":\"" P "/sign-me-up\",\"newNonce\":\"" P "/nonce-plz\",\"newOrder\":\"" P
        "/order-plz\",\"revokeCert\":\"" P "/revoke-cert\"}";

    fake_http_push_raw(fake, dir);
    ck_assert_int_eq(acme_client_new(&opts, &c, &err), ECA_OK);
    ck_assert_int_eq(acme_client_key_change(c, new_key, &err), ECA_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "keyChange: the directory offers none"));
    ck_assert_uint_eq(fake_http_nreq(fake), 1);
    acme_client_free(c);
}
END_TEST

static const struct {
    const char *fixture;
    enum eca_rc rc;
    const char *needle;
} deact_bad[] = {
    {"acme/account_update_still_valid.http", ECA_EPROTO, "still valid after the deactivation"},
    {"acme/account_update_other.http", ECA_EPROTO, "names another account"},
    {"acme/problem_unauthorized.http", ECA_EAUTH, "unauthorized"},
    {"acme/keychange_html.http", ECA_EPROTO, "unexpected Content-Type"},
};

START_TEST(deactivation_must_be_confirmed)
{
    struct acme_client *c = client_with(deact_bad[_i].fixture, NULL);
    struct eca_err err = {0};

    ck_assert_int_eq(acme_client_deactivate(c, &err), deact_bad[_i].rc);
    ck_assert_msg(strstr(err.msg, deact_bad[_i].needle) != NULL, "%s: %s", deact_bad[_i].fixture,
                  err.msg);
    acme_client_free(c);
}
END_TEST

static Suite *
acme_keychange_suite(void)
{
    Suite *s = suite_create("acme_keychange");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, key_change_wraps_the_new_keys_jws_in_the_old_keys);
    tcase_add_test(tc, key_change_badnonce_resends_the_same_inner_jws);
    tcase_add_loop_test(tc, key_change_refused_keeps_the_old_key, 0,
                        sizeof refused / sizeof refused[0]);
    tcase_add_loop_test(tc, unknown_key_is_looked_up_never_registered, 0, 2);
    tcase_add_test(tc, known_key_is_found_then_rolled);
    tcase_add_test(tc, directory_without_key_change_sends_nothing);
    tcase_add_loop_test(tc, deactivation_must_be_confirmed, 0,
                        sizeof deact_bad / sizeof deact_bad[0]);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(acme_keychange_suite)
