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

#include "acme_agent.h"
#include "acme_client.h"
#include "acme_conf.h"
#include "acme_jws.h"
#include "eca_fs.h"
#include "eca_log.h"
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

    logcap_start();
    ck_assert_int_eq(acme_client_key_change(c, new_key, &err), ECA_OK);
    ck_assert(logcap_contains("keyChange: badNonce, retrying"));
    logcap_stop();
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

/* A directory without keyChange (it is optional, RFC 8555 §7.1.1). */
static const char dir_no_kc[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    "Content-Length: 196\r\n\r\n"
    "{\"newAccount\":\"" P "/sign-me-up\",\"newNonce\":\"" P "/nonce-plz\",\"newOrder\":\"" P
    "/order-plz\",\"revokeCert\":\"" P "/revoke-cert\"}";

START_TEST(directory_without_key_change_sends_nothing)
{
    struct acme_client *c = NULL;
    struct eca_err err = {0};

    fake_http_push_raw(fake, dir_no_kc);
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

/* ---- the agent: STATE_DIR files around the rollover and the deactivation ---- */

static char dir[256];
static char state[300];
static struct acme_conf *conf;

static void
state_file(const char *name, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", state, name);
}

static void
agent_setup(void)
{
    struct eca_agentconf_cli cli = {NULL, NULL, 0};
    struct eca_err err = {0};
    char path[512], text[2048], p[512];
    FILE *f;

    setup();
    test_mkdtemp(dir, sizeof dir);
    snprintf(state, sizeof state, "%s/state", dir);
    snprintf(text, sizeof text,
             "ca_url = \"" P "/dir\";\nhttp01_listen = \"127.0.0.1:0\";\nstate_dir = \"%s\";\n"
             "certificates = ( { name = \"t\"; domains = [\"a.example\"];\n"
             "  cert_path = \"%s/cert.pem\"; key_path = \"%s/key.pem\"; } );\n",
             state, dir, dir);
    snprintf(path, sizeof path, "%s/acme.conf", dir);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    fputs(text, f);
    fclose(f);
    cli.config_path = path;
    ck_assert_msg(acme_conf_load(&cli, &conf, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(eca_fs_mkdir_p(state, 0700, NULL), ECA_OK);
    state_file("account.key", p, sizeof p);
    ck_assert_int_eq(eca_key_save(old_key, p, NULL), ECA_OK);
    state_file("account.url", p, sizeof p);
    ck_assert_int_eq(eca_fs_write_atomic(p, ACCT, strlen(ACCT), 0600, NULL), ECA_OK);
    logcap_start();
}

static void
agent_teardown(void)
{
    logcap_stop();
    acme_conf_free(conf);
    test_rmdir(dir);
    teardown();
}

static struct acme_agent *
agent(void)
{
    struct acme_agent *a = NULL;

    ck_assert_int_eq(acme_agent_new(conf, &a, NULL), ECA_OK);
    acme_agent_set_transport(a, http);
    return a;
}

/* 1 if STATE_DIR/name holds the public key of k. */
static int
holds(const char *name, const struct eca_key *k)
{
    char p[512];
    struct eca_key *f = NULL;
    int same;

    state_file(name, p, sizeof p);
    if (eca_key_load(p, &f, NULL) != ECA_OK)
        return 0;
    same = EVP_PKEY_eq(eca_key_pkey(f), eca_key_pkey(k)) == 1;
    eca_key_free(f);
    return same;
}

static int
exists(const char *name)
{
    char p[512];

    state_file(name, p, sizeof p);
    return eca_fs_exists(p);
}

START_TEST(agent_key_change_keeps_the_old_key_as_prev)
{
    struct acme_agent *a = agent();
    struct eca_err err = {0};
    struct eca_key *now = NULL;
    char p[512], *outer = NULL;

    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/keychange_ok_pebble.http");
    ck_assert_msg(acme_agent_key_change(a, &err) == ECA_OK, "%s", err.msg);
    ck_assert(!holds("account.key", old_key));
    ck_assert(holds("account.key.prev", old_key));
    ck_assert(!exists("account.key.new"));
    state_file("account.key", p, sizeof p);
    test_assert_private(p);
    state_file("account.key.prev", p, sizeof p);
    test_assert_private(p);
    /* What the CA was told is the key now stored: the inner JWS verifies with it. */
    state_file("account.key", p, sizeof p);
    ck_assert_int_eq(eca_key_load(p, &now, NULL), ECA_OK);
    ck_assert(jws_verifies(fake_http_req(fake, 2)->body, eca_key_pkey(old_key), NULL, &outer));
    ck_assert(jws_verifies(outer, eca_key_pkey(now), NULL, NULL));
    ck_assert(logcap_contains("\"event\":\"account_key_changed\""));
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    free(outer);
    eca_key_free(now);
    acme_agent_free(a);
}
END_TEST

START_TEST(agent_key_change_refused_removes_the_new_key)
{
    struct acme_agent *a = agent();
    struct eca_err err = {0};

    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/keychange_malformed.http");
    /* The CA is asked with the new key whether it took it after all: it did not. */
    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/problem_account_missing.http");
    ck_assert_int_eq(acme_agent_key_change(a, &err), ECA_ESERVER);
    ck_assert_ptr_nonnull(strstr(err.msg, "wrong old key"));
    ck_assert(holds("account.key", old_key));
    ck_assert(!exists("account.key.new"));
    ck_assert(!exists("account.key.prev"));
    ck_assert(logcap_contains("\"event\":\"account_key_rollover_undone\""));
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    acme_agent_free(a);
}
END_TEST

START_TEST(agent_key_change_with_a_lost_answer_asks_the_ca)
{
    struct acme_agent *a = agent();
    struct eca_err err = {0};

    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_error(fake, ECA_ENET, "connection reset after the request was sent");
    /* The CA knows the account under the new key: the rollover is finished, not undone. */
    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/account_existing.http");
    ck_assert_msg(acme_agent_key_change(a, &err) == ECA_OK, "%s", err.msg);
    ck_assert(!holds("account.key", old_key));
    ck_assert(holds("account.key.prev", old_key));
    ck_assert(!exists("account.key.new"));
    ck_assert(logcap_contains("\"event\":\"account_key_rollover_finished\""));
    /* The lookup was signed by the new key, now account.key. */
    ck_assert(!jws_verifies(fake_http_req(fake, 5)->body, eca_key_pkey(old_key), NULL, NULL));
    acme_agent_free(a);
}
END_TEST

START_TEST(agent_key_change_unreachable_keeps_the_new_key_for_later)
{
    struct acme_agent *a = agent();
    struct eca_err err = {0};

    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_error(fake, ECA_ENET, "connection reset");
    fake_http_push_error(fake, ECA_ENET, "connection refused");
    ck_assert_int_eq(acme_agent_key_change(a, &err), ECA_ENET);
    ck_assert_ptr_nonnull(strstr(err.msg, "unfinished account key rollover"));
    /* Neither guessed: the old key stays in use, the new one waits for the next start. */
    ck_assert(holds("account.key", old_key));
    ck_assert(exists("account.key.new"));
    acme_agent_free(a);
}
END_TEST

START_TEST(agent_start_with_a_stray_new_key_then_deactivation)
{
    struct acme_agent *a = agent();
    struct eca_pass_result res;
    struct eca_err err = {0};
    char p[512];
    size_t n;

    state_file("account.key.new", p, sizeof p);
    ck_assert_int_eq(eca_key_save(new_key, p, NULL), ECA_OK);
    /* The CA does not know .new: removed. Then the deactivation, with the old key. */
    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/problem_account_missing.http");
    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/account_update_deactivated.http");
    ck_assert_msg(acme_agent_deactivate(a, &err) == ECA_OK, "%s", err.msg);
    ck_assert(!exists("account.key.new"));
    ck_assert(holds("account.key", old_key));
    ck_assert(logcap_contains("\"event\":\"account_key_rollover_undone\""));
    ck_assert(jws_verifies(fake_http_req(fake, 5)->body, eca_key_pkey(old_key), NULL, NULL));
    ck_assert(!exists("account.url"));
    ck_assert(exists("account.deactivated"));
    ck_assert(logcap_contains("\"event\":\"account_deactivated\""));
    /* A renewal with that key now fails at once, saying why, and signs nothing. */
    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    n = fake_http_nreq(fake);
    ck_assert_int_eq(acme_agent_run(a, 0, 1, &res, &err), ECA_EAUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "was deactivated"));
    for (size_t i = n; i < fake_http_nreq(fake); i++)
        ck_assert_str_ne(fake_http_req(fake, i)->method, "POST");
    acme_agent_free(a);
    /* Another account key: the stale marker goes, and the account is looked up anew. */
    state_file("account.key", p, sizeof p);
    ck_assert_int_eq(eca_key_save(new_key, p, NULL), ECA_OK);
    a = agent();
    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/problem_account_missing.http");
    ck_assert_int_eq(acme_agent_deactivate(a, &err), ECA_ENOTFOUND);
    ck_assert(!exists("account.deactivated"));
    acme_agent_free(a);
}
END_TEST

START_TEST(agent_without_key_change_in_the_directory_writes_nothing)
{
    struct acme_agent *a = agent();
    struct eca_err err = {0};

    fake_http_push_raw(fake, dir_no_kc);
    ck_assert_int_eq(acme_agent_key_change(a, &err), ECA_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "offers no keyChange"));
    ck_assert(!exists("account.key.new"));
    ck_assert(holds("account.key", old_key));
    ck_assert_uint_eq(fake_http_nreq(fake), 1);
    acme_agent_free(a);
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
    tc = tcase_create("agent");
    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, agent_setup, agent_teardown);
    tcase_add_test(tc, agent_key_change_keeps_the_old_key_as_prev);
    tcase_add_test(tc, agent_key_change_refused_removes_the_new_key);
    tcase_add_test(tc, agent_key_change_with_a_lost_answer_asks_the_ca);
    tcase_add_test(tc, agent_key_change_unreachable_keeps_the_new_key_for_later);
    tcase_add_test(tc, agent_start_with_a_stray_new_key_then_deactivation);
    tcase_add_test(tc, agent_without_key_change_in_the_directory_writes_nothing);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(acme_keychange_suite)
