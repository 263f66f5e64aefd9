/* SPDX-License-Identifier: MIT */
/* Tests of the ACME driver against queued wire-exact responses on the fake transport. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "acme_client.h"
#include "acme_jws.h"
#include "eca_b64.h"
#include "eca_clock.h"
#include "eca_log.h"
#include "eca_test.h"

#define P       "https://localhost:14000"
#define ORDER   P "/my-order/Tj3aNd9iPYFxVHgCbN2LgwN2X7oVtZXnlAcEz2Vqsds"
#define AUTHZ_A P "/authZ/Mq8W1rCXHjTnYQpCLfZ1nN0w3vZkqZsH4WbqHGA7N0E"
#define CHAL_A  P "/chalZ/k3Xm9Qvz7r2WcJt5pLhN8yBd4FgS6aEo1uRiTwYxHq0"
#define FINAL   P "/finalize-order/Tj3aNd9iPYFxVHgCbN2LgwN2X7oVtZXnlAcEz2Vqsds"
#define CERT    P "/certZ/4b1b3c0e6a2f9d87"
#define TOKEN_A "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define CANARY  "CANARY-eab-hmac-key-must-not-leak-7f3a"

/* The stub http-01 responder: records what it was asked to publish and unpublish. */
struct stub {
    int npub, nunpub;
    char tok[4][300];
    char ka[4][400];
    char unpub[4][300];
};

static enum eca_rc
stub_publish(void *ctx, const char *token, const char *key_authz, struct eca_err *err)
{
    struct stub *s = ctx;

    (void)err;
    ck_assert_int_lt(s->npub, 4);
    ck_assert_int_eq(s->nunpub, 0);
    snprintf(s->tok[s->npub], sizeof s->tok[0], "%s", token);
    snprintf(s->ka[s->npub], sizeof s->ka[0], "%s", key_authz);
    s->npub++;
    return ECA_OK;
}

static void
stub_unpublish(void *ctx, const char *token)
{
    struct stub *s = ctx;

    ck_assert_int_lt(s->nunpub, 4);
    snprintf(s->unpub[s->nunpub++], sizeof s->unpub[0], "%s", token);
}

static long slept_ms;
static long sleeps[16]; /* each wait, in order */
static size_t nsleeps;
static int stop_after_sleep;
static int stop_now;

/* The test's eca_clock sleep: records each wait, takes no time. */
static void
fake_sleep(long ms)
{
    slept_ms += ms;
    if (nsleeps < sizeof sleeps / sizeof sleeps[0])
        sleeps[nsleeps++] = ms;
    if (stop_after_sleep)
        stop_now = 1;
}

static int
should_stop(void)
{
    return stop_now;
}

/* Per-test environment: a key, a fake transport and client options. */
static struct eca_key *key;
static struct fake_http *fake;
static struct eca_http *http;
static struct acme_client_opts opts;
static const char *const contact[] = {"mailto:ops@example.org"};

static void
setup(void)
{
    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P256, &key, NULL), ECA_OK);
    http = fake_http_new(&fake);
    memset(&opts, 0, sizeof opts);
    opts.directory_url = P "/dir";
    opts.http = http;
    opts.account_key = key;
    opts.contact = contact;
    opts.ncontact = 1;
    opts.tos_agreed = 1;
    opts.should_stop = should_stop;
    slept_ms = 0;
    nsleeps = 0;
    stop_after_sleep = stop_now = 0;
    eca_clock_set_sleep(fake_sleep);
}

static void
teardown(void)
{
    eca_clock_set_sleep(NULL);
    eca_http_free(http);
    eca_key_free(key);
}

static struct acme_client *
client(void)
{
    struct acme_client *c = NULL;
    struct eca_err err = {0};

    if (acme_client_new(&opts, &c, &err) != ECA_OK)
        ck_abort_msg("acme_client_new: %s", err.msg);
    return c;
}

/* A client whose server answers the directory, a nonce, then the fixtures listed (NULL-ended). */
static struct acme_client *
client_with(const char *fixture, ...)
{
    va_list ap;

    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    va_start(ap, fixture);
    for (; fixture != NULL; fixture = va_arg(ap, const char *))
        fake_http_push_fixture(fake, fixture);
    va_end(ap);
    return client();
}

/* Decode part ("protected" or "payload") of the JWS in request i. */
static char *
jws_part(size_t i, const char *part)
{
    const struct fake_req *r = fake_http_req(fake, i);
    struct json_object *o;
    struct eca_buf b;
    const char *s;

    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->content_type, "application/jose+json");
    o = json_tokener_parse(r->body);
    ck_assert_ptr_nonnull(o);
    s = json_object_get_string(json_object_object_get(o, part));
    eca_buf_init(&b, 0);
    ck_assert_int_eq(eca_b64url_decode(s, strlen(s), &b, NULL), ECA_OK);
    json_object_put(o);
    return b.data ? eca_buf_steal(&b) : strdup("");
}

/* Assert request i: method, URL, and for POSTs the header's nonce and kid (NULL: jwk). */
static void
assert_req(size_t i, const char *method, const char *url, const char *nonce, const char *kid)
{
    const struct fake_req *r = fake_http_req(fake, i);
    struct json_object *h;
    char *prot;

    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->method, method);
    ck_assert_str_eq(r->url, url);
    if (strcmp(method, "POST") != 0)
        return;
    prot = jws_part(i, "protected");
    h = json_tokener_parse(prot);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(h, "url")), url);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(h, "nonce")), nonce);
    if (kid != NULL)
        ck_assert_str_eq(json_object_get_string(json_object_object_get(h, "kid")), kid);
    else
        ck_assert_ptr_nonnull(json_object_object_get(h, "jwk"));
    json_object_put(h);
    free(prot);
}

/* A PEM certificate with the given subject and issuer CNs (signature by a throwaway key). */
static void
mkcert(const char *subject, const char *issuer, struct eca_buf *pem)
{
    struct eca_key *k = NULL;
    X509 *x = X509_new();
    X509_NAME *sn = X509_NAME_new(), *in = X509_NAME_new();
    BIO *bio = BIO_new(BIO_s_mem());
    char *p;
    long n;

    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P256, &k, NULL), ECA_OK);
    X509_NAME_add_entry_by_txt(sn, "CN", MBSTRING_ASC, (const unsigned char *)subject, -1, -1, 0);
    X509_NAME_add_entry_by_txt(in, "CN", MBSTRING_ASC, (const unsigned char *)issuer, -1, -1, 0);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
    X509_set_subject_name(x, sn);
    X509_set_issuer_name(x, in);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, eca_key_pkey(k));
    ck_assert_int_gt(X509_sign(x, eca_key_pkey(k), EVP_sha256()), 0);
    PEM_write_bio_X509(bio, x);
    n = BIO_get_mem_data(bio, &p);
    eca_buf_append(pem, p, (size_t)n, NULL);
    BIO_free(bio);
    X509_NAME_free(sn);
    X509_NAME_free(in);
    X509_free(x);
    eca_key_free(k);
}

static void
push_chain(const char *nonce, const char *link, const struct eca_buf *pem)
{
    struct eca_buf raw;

    eca_buf_init(&raw, 0);
    eca_buf_printf(&raw, NULL,
                   "HTTP/1.1 200 OK\r\nCache-Control: public, max-age=0, no-cache\r\n"
                   "Content-Type: application/pem-certificate-chain; charset=utf-8\r\n"
                   "Link: <" P "/dir>;rel=\"index\"\r\n%s%s%sReplay-Nonce: %s\r\n"
                   "Content-Length: %zu\r\n\r\n%s",
                   link ? "Link: <" : "", link ? link : "", link ? ">;rel=\"alternate\"\r\n" : "",
                   nonce, pem->len, eca_buf_str(pem));
    fake_http_push_raw(fake, eca_buf_str(&raw));
    eca_buf_free(&raw);
}

/* Everything up to the certificate download for one name. */
static void
queue_issue_flow(void)
{
    static const char *const seq[] = {
        "acme/dir_pebble.http",
        "acme/nonce.http",
        "acme/problem_account_missing.http",
        "acme/account_created.http",
        "acme/order_new_pending.http",
        "acme/authz_pending.http",
        "acme/challenge_processing.http",
        "acme/authz_valid.http",
        "acme/order_ready.http",
        "acme/order_processing.http",
        "acme/order_valid.http",
    };

    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        fake_http_push_fixture(fake, seq[i]);
}

static const char *const names1[] = {"a.example"};
static const unsigned char csr[] = {0x30, 0x03, 0x02, 0x01, 0x00};

START_TEST(client_issues_through_the_whole_order_flow)
{
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct eca_buf chain, leaf, ka;
    struct eca_err err = {0};
    char *payload;

    eca_buf_init(&chain, 0);
    eca_buf_init(&leaf, 0);
    eca_buf_init(&ka, 0);
    mkcert("a.example", "Test Intermediate", &leaf);
    mkcert("Test Intermediate", "Test Root A", &leaf);
    queue_issue_flow();
    push_chain("nonce-cert-0001", NULL, &leaf);
    c = client();
    ck_assert_int_eq(acme_client_issue(c, names1, 1, &r, csr, sizeof csr, &chain, &err), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&chain), eca_buf_str(&leaf));
    ck_assert_str_eq(acme_client_account_url(c), P "/my-account/1");

    assert_req(0, "GET", P "/dir", NULL, NULL);
    assert_req(1, "HEAD", P "/nonce-plz", NULL, NULL);
    assert_req(2, "POST", P "/sign-me-up", "nonce-HEAD-0a1b2c3d4e5f", NULL);
    assert_req(3, "POST", P "/sign-me-up", "nonce-nacct-0006", NULL);
    assert_req(4, "POST", P "/order-plz", "nonce-acct-1111", P "/my-account/1");
    assert_req(5, "POST", AUTHZ_A, "nonce-order-0001", P "/my-account/1");
    assert_req(6, "POST", CHAL_A, "nonce-authz-0001", P "/my-account/1");
    assert_req(7, "POST", AUTHZ_A, "nonce-chal-0001", P "/my-account/1");
    assert_req(8, "POST", ORDER, "nonce-authz-0004", P "/my-account/1");
    assert_req(9, "POST", FINAL, "nonce-order-0005", P "/my-account/1");
    assert_req(10, "POST", ORDER, "nonce-order-0006", P "/my-account/1");
    assert_req(11, "POST", CERT, "nonce-order-0007", P "/my-account/1");
    ck_assert_uint_eq(fake_http_nreq(fake), 12);
    ck_assert_uint_eq(fake_http_pending(fake), 0);

    payload = jws_part(2, "payload");
    ck_assert_str_eq(payload, "{\"onlyReturnExisting\":true}");
    free(payload);
    payload = jws_part(3, "payload");
    ck_assert_str_eq(payload, "{\"contact\":[\"mailto:ops@example.org\"],"
                              "\"termsOfServiceAgreed\":true}");
    free(payload);
    payload = jws_part(4, "payload");
    ck_assert_str_eq(payload, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example\"}]}");
    free(payload);
    payload = jws_part(5, "payload"); /* POST-as-GET */
    ck_assert_str_eq(payload, "");
    free(payload);
    payload = jws_part(6, "payload");
    ck_assert_str_eq(payload, "{}");
    free(payload);
    payload = jws_part(9, "payload");
    ck_assert_str_eq(payload, "{\"csr\":\"MAMCAQA\"}");
    free(payload);

    ck_assert_int_eq(st.npub, 1);
    ck_assert_str_eq(st.tok[0], TOKEN_A);
    ck_assert_int_eq(acme_jws_key_authz(key, TOKEN_A, &ka, NULL), ECA_OK);
    ck_assert_str_eq(st.ka[0], eca_buf_str(&ka));
    ck_assert_int_eq(st.nunpub, 1);
    ck_assert_str_eq(st.unpub[0], TOKEN_A);
    /*
     * Two polls: the first backoff step after the challenge (no Retry-After: 2 ms on a
     * loopback CA), and the processing order's Retry-After: 1, honoured.
     */
    ck_assert_int_eq(slept_ms, 2 + 1000);
    acme_client_free(c);
    eca_buf_free(&chain);
    eca_buf_free(&leaf);
    eca_buf_free(&ka);
}
END_TEST

/* What the client told the agent about its account URL (NULL: dropped). */
static char changed[4][200];
static int nchanged;

static void
record_change(void *ctx, const char *url)
{
    (void)ctx;
    ck_assert_int_lt(nchanged, 4);
    snprintf(changed[nchanged++], sizeof changed[0], "%s", url ? url : "(dropped)");
}

/* A CA that lost its database (pebble restarted): newOrder says accountDoesNotExist for the
 * stored URL; the lookup misses, the account is created again, and the same pass orders. */
START_TEST(client_recovers_a_lost_account_within_the_pass)
{
    static const char *const seq[] = {
        "acme/dir_pebble.http",
        "acme/nonce.http",
        "acme/order_account_missing.http",   /* newOrder with the old kid */
        "acme/problem_account_missing.http", /* onlyReturnExisting: unknown */
        "acme/account_recreated.http",
        "acme/order_new_pending.http",
        "acme/authz_pending.http",
        "acme/challenge_processing.http",
        "acme/authz_valid.http",
        "acme/order_ready.http",
        "acme/order_processing.http",
        "acme/order_valid.http",
    };
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct eca_buf chain, leaf;
    struct eca_err err = {0};
    char *payload;

    eca_buf_init(&chain, 0);
    eca_buf_init(&leaf, 0);
    mkcert("a.example", "Test Intermediate", &leaf);
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        fake_http_push_fixture(fake, seq[i]);
    push_chain("nonce-cert-0001", NULL, &leaf);
    opts.account_url = P "/my-account/1";
    opts.account_changed = record_change;
    nchanged = 0;
    logcap_start();
    c = client();
    ck_assert_msg(acme_client_issue(c, names1, 1, &r, csr, sizeof csr, &chain, &err) == ECA_OK,
                  "%s", err.msg);
    ck_assert_str_eq(eca_buf_str(&chain), eca_buf_str(&leaf));
    ck_assert_str_eq(acme_client_account_url(c), P "/my-account/7");
    assert_req(2, "POST", P "/order-plz", "nonce-HEAD-0a1b2c3d4e5f", P "/my-account/1");
    assert_req(3, "POST", P "/sign-me-up", "nonce-lost-0001", NULL);
    assert_req(4, "POST", P "/sign-me-up", "nonce-nacct-0006", NULL);
    assert_req(5, "POST", P "/order-plz", "nonce-acct-7777", P "/my-account/7");
    assert_req(12, "POST", CERT, "nonce-order-0007", P "/my-account/7");
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    payload = jws_part(3, "payload");
    ck_assert_str_eq(payload, "{\"onlyReturnExisting\":true}");
    free(payload);
    ck_assert_int_eq(nchanged, 2);
    ck_assert_str_eq(changed[0], "(dropped)");
    ck_assert_str_eq(changed[1], P "/my-account/7");
    ck_assert(logcap_contains("\"event\":\"acme_account_lost\""));
    ck_assert(logcap_contains("\"event\":\"acme_account_recovered\""));
    logcap_stop();
    acme_client_free(c);
    eca_buf_free(&chain);
    eca_buf_free(&leaf);
}
END_TEST

/* With EAB configured, the account re-created after the loss is bound again (EAB payload). */
START_TEST(client_recreates_a_lost_account_with_eab)
{
    struct acme_client *c;
    struct eca_secret *sec = NULL;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct eca_buf chain;
    struct eca_err err = {0};
    char *payload;

    eca_buf_init(&chain, 0);
    ck_assert_int_eq(eca_secret_from_mem(CANARY, strlen(CANARY), &sec, NULL), ECA_OK);
    fake_http_push_fixture(fake, "acme/dir_eab_required.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/order_account_missing.http");
    fake_http_push_fixture(fake, "acme/problem_account_missing.http");
    fake_http_push_fixture(fake, "acme/account_recreated.http");
    fake_http_push_fixture(fake, "acme/problem_unauthorized.http"); /* ends the order early */
    opts.account_url = P "/my-account/1";
    opts.eab_kid = "eab-kid-1";
    opts.eab_hmac = sec;
    c = client();
    ck_assert_int_eq(acme_client_issue(c, names1, 1, &r, csr, sizeof csr, &chain, &err), ECA_EAUTH);
    payload = jws_part(4, "payload");
    ck_assert_ptr_nonnull(strstr(payload, "\"externalAccountBinding\":{\"protected\":\""));
    ck_assert_ptr_null(strstr(payload, CANARY));
    free(payload);
    /* The second newOrder went out under the new account, once: no recovery loop. */
    assert_req(5, "POST", P "/order-plz", "nonce-acct-7777", P "/my-account/7");
    ck_assert_uint_eq(fake_http_nreq(fake), 6);
    acme_client_free(c);
    eca_secret_free(sec);
    eca_buf_free(&chain);
}
END_TEST

/* unauthorized while the lookup finds the very same, valid account: not an account problem;
 * the refusal stands, nothing is dropped, the order is not sent again. */
START_TEST(client_keeps_an_account_the_server_still_knows)
{
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct eca_buf chain;
    struct eca_err err = {0};

    eca_buf_init(&chain, 0);
    opts.account_url = P "/my-account/1";
    opts.account_changed = record_change;
    nchanged = 0;
    c = client_with("acme/problem_unauthorized.http", "acme/account_existing.http", NULL);
    ck_assert_int_eq(acme_client_issue(c, names1, 1, &r, csr, sizeof csr, &chain, &err), ECA_EAUTH);
    ck_assert_msg(strstr(err.msg, "has status") != NULL, "%s", err.msg);
    ck_assert_uint_eq(fake_http_nreq(fake), 4);
    assert_req(3, "POST", P "/sign-me-up", "nonce-unauth-0005", NULL);
    ck_assert_int_eq(nchanged, 1); /* the same URL, confirmed: nothing dropped */
    ck_assert_str_eq(changed[0], P "/my-account/1");
    ck_assert_str_eq(acme_client_account_url(c), P "/my-account/1");
    ck_assert_uint_eq(chain.len, 0);
    acme_client_free(c);
    eca_buf_free(&chain);
}
END_TEST

/* The lookup itself fails (CA down again): the dead URL is still dropped, the error says both. */
START_TEST(client_drops_a_lost_account_even_when_recovery_fails)
{
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct eca_buf chain;
    struct eca_err err = {0};

    eca_buf_init(&chain, 0);
    opts.account_url = P "/my-account/1";
    opts.account_changed = record_change;
    nchanged = 0;
    c = client_with("acme/order_account_missing.http", NULL);
    fake_http_push_error(fake, ECA_ENET, "connection refused");
    ck_assert_int_eq(acme_client_issue(c, names1, 1, &r, csr, sizeof csr, &chain, &err), ECA_ENET);
    ck_assert_msg(strstr(err.msg, "account recovery after") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "connection refused") != NULL, "%s", err.msg);
    ck_assert_int_eq(nchanged, 1);
    ck_assert_str_eq(changed[0], "(dropped)");
    ck_assert_ptr_null(acme_client_account_url(c));
    /* The next pass finds the account: the agent is told, to store it again. */
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/account_existing.http");
    ck_assert_msg(acme_client_account(c, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(nchanged, 2);
    ck_assert_str_eq(changed[1], P "/my-account/1");
    acme_client_free(c);
    eca_buf_free(&chain);
}
END_TEST

START_TEST(client_prefers_the_alternate_chain_by_top_issuer)
{
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct eca_buf chain, dflt, alt;
    struct eca_err err = {0};

    eca_buf_init(&chain, 0);
    eca_buf_init(&dflt, 0);
    eca_buf_init(&alt, 0);
    mkcert("a.example", "Test Intermediate", &dflt);
    mkcert("Test Intermediate", "Test Root A", &dflt);
    mkcert("a.example", "Test Intermediate", &alt);
    mkcert("Test Intermediate", "Test Root B", &alt);
    queue_issue_flow();
    push_chain("nonce-cert-0001", CERT "/1", &dflt);
    push_chain("nonce-cert-0002", NULL, &alt);
    opts.preferred_chain = "Root B";
    c = client();
    ck_assert_int_eq(acme_client_issue(c, names1, 1, &r, csr, sizeof csr, &chain, &err), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&chain), eca_buf_str(&alt));
    assert_req(12, "POST", CERT "/1", "nonce-cert-0001", P "/my-account/1");
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    acme_client_free(c);
    eca_buf_free(&chain);
    eca_buf_free(&dflt);
    eca_buf_free(&alt);
}
END_TEST

START_TEST(client_retries_bad_nonce_with_the_fresh_nonce)
{
    struct acme_client *c;
    struct eca_err err = {0};

    c = client_with("acme/problem_badnonce.http", "acme/account_existing.http", NULL);
    ck_assert_int_eq(acme_client_account(c, &err), ECA_OK);
    assert_req(2, "POST", P "/sign-me-up", "nonce-HEAD-0a1b2c3d4e5f", NULL);
    assert_req(3, "POST", P "/sign-me-up", "nonce-fresh-after-bad", NULL);
    ck_assert_uint_eq(fake_http_nreq(fake), 4);
    ck_assert_str_eq(acme_client_account_url(c), P "/my-account/1");
    acme_client_free(c);
}
END_TEST

START_TEST(client_gives_up_after_ten_bad_nonces)
{
    struct acme_client *c;
    struct eca_err err = {0};

    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    for (int i = 0; i < 11; i++)
        fake_http_push_fixture(fake, "acme/problem_badnonce.http");
    c = client();
    ck_assert_int_eq(acme_client_account(c, &err), ECA_ESERVER);
    ck_assert_ptr_nonnull(strstr(err.msg, "server problem badNonce"));
    ck_assert_uint_eq(fake_http_nreq(fake), 13);
    acme_client_free(c);
}
END_TEST

START_TEST(client_waits_out_503_retry_after)
{
    struct acme_client *c;
    struct eca_err err = {0};

    c = client_with("acme/problem_503.http", "acme/account_existing.http", NULL);
    ck_assert_int_eq(acme_client_account(c, &err), ECA_OK);
    ck_assert_int_eq(slept_ms, 1000);
    assert_req(3, "POST", P "/sign-me-up", "nonce-busy-0003", NULL);
    acme_client_free(c);
}
END_TEST

START_TEST(client_waits_out_short_rate_limit)
{
    struct acme_client *c;
    struct eca_err err = {0};

    c = client_with("acme/problem_ratelimited_short.http", "acme/account_existing.http", NULL);
    ck_assert_int_eq(acme_client_account(c, &err), ECA_OK);
    ck_assert_int_eq(slept_ms, 2000);
    acme_client_free(c);
}
END_TEST

START_TEST(client_rate_limit_beyond_cap_is_eagain)
{
    struct acme_client *c;
    struct eca_err err = {0};

    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/problem_ratelimited.http");
    opts.max_wait_s = 60;
    c = client();
    ck_assert_int_eq(acme_client_account(c, &err), ECA_EAGAIN);
    ck_assert_int_eq(err.retry_after, 3600);
    ck_assert_ptr_nonnull(strstr(err.msg, "account: HTTP 429: server problem rateLimited"));
    ck_assert_msg(strstr(err.msg, "; server asked to retry in 3600 s") != NULL, "%s", err.msg);
    ck_assert_int_eq(slept_ms, 0);
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    acme_client_free(c);
}
END_TEST

START_TEST(client_stops_while_waiting)
{
    struct acme_client *c;
    struct eca_err err = {0};

    c = client_with("acme/problem_503.http", NULL);
    stop_after_sleep = 1;
    ck_assert_int_eq(acme_client_account(c, &err), ECA_ESTOPPED);
    ck_assert_uint_eq(fake_http_nreq(fake), 3);
    acme_client_free(c);
}
END_TEST

START_TEST(client_reports_invalid_order_per_identifier)
{
    static const char *const names2[] = {"a.example", "b.example"};
    static const char *const seq[] = {
        "acme/dir_pebble.http",
        "acme/nonce.http",
        "acme/account_existing.http",
        "acme/order_new_pending_two.http",
        "acme/authz_pending.http",
        "acme/authz_pending_b.http",
        "acme/challenge_processing.http",
        "acme/challenge_pending_b.http",
        "acme/authz_valid.http",
        "acme/authz_valid_b.http",
        "acme/order_invalid_subproblems.http",
    };
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct eca_buf chain;
    struct eca_err err = {0};

    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        fake_http_push_fixture(fake, seq[i]);
    eca_buf_init(&chain, 0);
    c = client();
    ck_assert_int_eq(acme_client_issue(c, names2, 2, &r, csr, sizeof csr, &chain, &err),
                     ECA_ESERVER);
    ck_assert_msg(strstr(err.msg, "dns:a.example: unauthorized: Invalid response from "
                                  "http://a.example/") != NULL,
                  "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "dns:b.example: dns: DNS problem: NXDOMAIN") != NULL, "%s",
                  err.msg);
    ck_assert_int_eq(st.npub, 2);
    ck_assert_int_eq(st.nunpub, 2);
    ck_assert_uint_eq(chain.len, 0);
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    acme_client_free(c);
    eca_buf_free(&chain);
}
END_TEST

START_TEST(client_fetches_a_nonce_when_a_response_had_none)
{
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct eca_buf chain;
    struct eca_err err = {0};

    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/account_existing.http");
    fake_http_push_fixture(fake, "acme/order_no_nonce.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/authz_wildcard.http");
    eca_buf_init(&chain, 0);
    c = client();
    ck_assert_int_eq(acme_client_issue(c, names1, 1, &r, csr, sizeof csr, &chain, &err),
                     ECA_EPROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "no http-01 challenge offered"));
    assert_req(4, "HEAD", P "/nonce-plz", NULL, NULL);
    assert_req(5, "POST", AUTHZ_A, "nonce-HEAD-0a1b2c3d4e5f", P "/my-account/1");
    ck_assert_int_eq(st.npub, 0);
    ck_assert_int_eq(st.nunpub, 0);
    acme_client_free(c);
    eca_buf_free(&chain);
}
END_TEST

START_TEST(client_rejects_wrong_certificate_content_type)
{
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct eca_buf chain;
    struct eca_err err = {0};

    queue_issue_flow();
    fake_http_push_fixture(fake, "acme/cert_wrong_ct.http");
    eca_buf_init(&chain, 0);
    c = client();
    ck_assert_int_eq(acme_client_issue(c, names1, 1, &r, csr, sizeof csr, &chain, &err),
                     ECA_EPROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "certificate: unexpected Content-Type"));
    ck_assert_int_eq(st.nunpub, 1);
    acme_client_free(c);
    eca_buf_free(&chain);
}
END_TEST

START_TEST(client_polling_is_bounded_by_max_wait)
{
    static const char *const seq[] = {
        "acme/dir_pebble.http",
        "acme/nonce.http",
        "acme/account_existing.http",
        "acme/order_new_pending.http",
        "acme/authz_pending.http",
        "acme/challenge_processing.http",
        "acme/authz_pending_processing.http",
    };
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct eca_buf chain;
    struct eca_err err = {0};

    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        fake_http_push_fixture(fake, seq[i]);
    eca_buf_init(&chain, 0);
    opts.max_wait_s = 2;
    c = client();
    ck_assert_int_eq(acme_client_issue(c, names1, 1, &r, csr, sizeof csr, &chain, &err),
                     ECA_EAGAIN);
    /* 2 ms backoff, then Retry-After: 2 would pass the 2 s budget: the pass ends, resumable. */
    ck_assert_msg(strstr(err.msg, "a.example still pending: server asked to retry in 2 s") != NULL,
                  "%s", err.msg);
    ck_assert_int_eq(err.retry_after, 2);
    ck_assert_int_eq(slept_ms, 2);
    ck_assert_int_eq(st.nunpub, 1);
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    acme_client_free(c);
    eca_buf_free(&chain);
}
END_TEST

START_TEST(client_revokes_with_kid_and_reason)
{
    struct acme_client *c;
    struct eca_err err = {0};
    const unsigned char der[] = {0x30, 0x01, 0x00};
    char *payload;

    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/revoke_ok.http");
    fake_http_push_fixture(fake, "acme/revoke_already.http");
    opts.account_url = P "/my-account/9";
    c = client();
    ck_assert_int_eq(acme_client_revoke(c, der, sizeof der, 4, &err), ECA_OK);
    assert_req(2, "POST", P "/revoke-cert", "nonce-HEAD-0a1b2c3d4e5f", P "/my-account/9");
    payload = jws_part(2, "payload");
    ck_assert_str_eq(payload, "{\"certificate\":\"MAEA\",\"reason\":4}");
    free(payload);
    ck_assert_int_eq(acme_client_revoke(c, der, sizeof der, 1, &err), ECA_ESERVER);
    ck_assert_ptr_nonnull(strstr(err.msg, "revokeCert: HTTP 400: server problem alreadyRevoked"));
    assert_req(3, "POST", P "/revoke-cert", "nonce-revoke-0001", P "/my-account/9");
    acme_client_free(c);
}
END_TEST

START_TEST(client_eab_never_logs_the_hmac_key)
{
    struct acme_client *c;
    struct eca_secret *sec = NULL;
    struct eca_err err = {0};
    struct eca_buf enc;
    char *payload;

    logcap_start();
    eca_buf_init(&enc, 0);
    eca_b64url_encode(CANARY, strlen(CANARY), &enc, NULL);
    ck_assert_int_eq(eca_secret_from_mem(CANARY, strlen(CANARY), &sec, NULL), ECA_OK);
    fake_http_push_fixture(fake, "acme/dir_eab_required.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/problem_account_missing.http");
    fake_http_push_fixture(fake, "acme/account_created.http");
    opts.eab_kid = "eab-kid-1";
    opts.eab_hmac = sec;
    c = client();
    ck_assert_int_eq(acme_client_account(c, &err), ECA_OK);
    payload = jws_part(2, "payload");
    ck_assert_str_eq(payload, "{\"onlyReturnExisting\":true}");
    free(payload);
    payload = jws_part(3, "payload");
    ck_assert_ptr_nonnull(strstr(payload, "\"externalAccountBinding\":{\"protected\":\""));
    ck_assert_ptr_null(strstr(payload, CANARY));
    ck_assert_ptr_null(strstr(payload, eca_buf_str(&enc)));
    ck_assert_ptr_nonnull(strstr(logcap_text(), "acme_account"));
    ck_assert_ptr_null(strstr(logcap_text(), CANARY));
    ck_assert_ptr_null(strstr(logcap_text(), eca_buf_str(&enc)));
    free(payload);
    acme_client_free(c);
    eca_secret_free(sec);
    eca_buf_free(&enc);
    logcap_stop();
}
END_TEST

START_TEST(client_requires_eab_when_the_directory_says_so)
{
    struct acme_client *c;
    struct eca_err err = {0};

    fake_http_push_fixture(fake, "acme/dir_eab_required.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/problem_account_missing.http");
    c = client();
    /* The lookup needs no EAB; creating the account does. */
    ck_assert_int_eq(acme_client_account(c, &err), ECA_ECONF);
    ck_assert_ptr_nonnull(strstr(err.msg, "external account binding"));
    ck_assert_uint_eq(fake_http_nreq(fake), 3);
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    acme_client_free(c);
}
END_TEST

static const struct {
    const char *fixture;
    enum eca_rc rc;
    const char *needle;
} bad_dirs[] = {
    {"acme/dir_html.http", ECA_EPROTO, "directory: unexpected Content-Type"},
    {"acme/dir_truncated.http", ECA_EPARSE, "directory: invalid JSON"},
    {"acme/problem_html_500.http", ECA_ESERVER, "directory: HTTP 500"},
};

START_TEST(client_new_names_the_directory_url_on_failure)
{
    struct acme_client *c = NULL;
    struct eca_err err = {0};

    fake_http_push_fixture(fake, bad_dirs[_i].fixture);
    ck_assert_int_eq(acme_client_new(&opts, &c, &err), bad_dirs[_i].rc);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(strstr(err.msg, P "/dir"));
    ck_assert_msg(strstr(err.msg, bad_dirs[_i].needle) != NULL, "%s", err.msg);
}
END_TEST

START_TEST(client_new_reports_missing_nonce_header)
{
    struct acme_client *c;
    struct eca_err err = {0};

    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce_missing.http");
    c = client();
    ck_assert_int_eq(acme_client_account(c, &err), ECA_EPROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "no valid Replay-Nonce"));
    acme_client_free(c);
}
END_TEST

/* Assert that request i is a newAccount signed with the JWK, and its payload. */
static void
assert_new_account(size_t i, const char *nonce, const char *want_payload)
{
    char *payload;

    assert_req(i, "POST", P "/sign-me-up", nonce, NULL);
    payload = jws_part(i, "payload");
    ck_assert_str_eq(payload, want_payload);
    free(payload);
}

START_TEST(account_lookup_finds_the_existing_account)
{
    struct acme_client *c;
    struct eca_err err = {0};

    logcap_start();
    c = client_with("acme/account_existing.http", NULL);
    ck_assert_int_eq(acme_client_account(c, &err), ECA_OK);
    ck_assert_str_eq(acme_client_account_url(c), P "/my-account/1");
    assert_new_account(2, "nonce-HEAD-0a1b2c3d4e5f", "{\"onlyReturnExisting\":true}");
    ck_assert_uint_eq(fake_http_nreq(fake), 3);
    ck_assert(logcap_contains("\"created\":false"));
    ck_assert(logcap_contains("existing account found"));
    /* Known now: no more account requests. */
    ck_assert_int_eq(acme_client_account(c, &err), ECA_OK);
    ck_assert_uint_eq(fake_http_nreq(fake), 3);
    acme_client_free(c);
    logcap_stop();
}
END_TEST

START_TEST(account_lookup_miss_creates_the_account)
{
    struct acme_client *c;
    struct eca_err err = {0};

    logcap_start();
    c = client_with("acme/problem_account_missing.http", "acme/account_created.http", NULL);
    ck_assert_int_eq(acme_client_account(c, &err), ECA_OK);
    ck_assert_str_eq(acme_client_account_url(c), P "/my-account/1");
    assert_new_account(2, "nonce-HEAD-0a1b2c3d4e5f", "{\"onlyReturnExisting\":true}");
    /* The problem document's nonce signs the creation (RFC 8555 §6.5). */
    assert_new_account(3, "nonce-nacct-0006",
                       "{\"contact\":[\"mailto:ops@example.org\"],\"termsOfServiceAgreed\":true}");
    ck_assert_uint_eq(fake_http_nreq(fake), 4);
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    ck_assert(logcap_contains("\"created\":true"));
    ck_assert(logcap_contains("account created"));
    ck_assert_int_eq(err.rc, ECA_OK);
    acme_client_free(c);
    logcap_stop();
}
END_TEST

/* A failed lookup creates nothing; a deactivated account is final (RFC 8555 §7.3.6). */
static const struct {
    const char *fixture, *needle;
} lookup_refused[] = {
    {"acme/problem_unauthorized.http", "unauthorized"},
    {"acme/account_deactivated.http", "is deactivated"},
};

START_TEST(account_lookup_refused_creates_nothing)
{
    struct acme_client *c;
    struct eca_err err = {0};

    c = client_with(lookup_refused[_i].fixture, NULL);
    ck_assert_int_eq(acme_client_account(c, &err), ECA_EAUTH);
    ck_assert_msg(strstr(err.msg, lookup_refused[_i].needle) != NULL, "%s", err.msg);
    ck_assert_ptr_null(acme_client_account_url(c));
    ck_assert_uint_eq(fake_http_nreq(fake), 3);
    acme_client_free(c);
}
END_TEST

START_TEST(account_new_key_skips_the_lookup)
{
    struct acme_client *c;
    struct eca_err err = {0};

    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/account_created.http");
    opts.account_key_new = 1;
    c = client();
    ck_assert_int_eq(acme_client_account(c, &err), ECA_OK);
    assert_new_account(2, "nonce-HEAD-0a1b2c3d4e5f",
                       "{\"contact\":[\"mailto:ops@example.org\"],\"termsOfServiceAgreed\":true}");
    ck_assert_uint_eq(fake_http_nreq(fake), 3);
    acme_client_free(c);
}
END_TEST

START_TEST(client_polls_with_a_doubling_backoff_without_retry_after)
{
    static const char *const seq[] = {
        "acme/dir_pebble.http",           "acme/nonce.http",
        "acme/order_new_pending.http",    "acme/authz_pending.http",
        "acme/challenge_processing.http", "acme/authz_pending.http",
        "acme/authz_pending.http",        "acme/authz_pending.http",
        "acme/authz_valid.http",          "acme/order_ready.http",
        "acme/order_valid.http",
    };
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct eca_buf chain, leaf;
    struct eca_err err = {0};

    eca_buf_init(&chain, 0);
    eca_buf_init(&leaf, 0);
    mkcert("a.example", "Test Root A", &leaf);
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        fake_http_push_fixture(fake, seq[i]);
    push_chain("nonce-cert-0001", NULL, &leaf);
    opts.account_url = P "/my-account/1";
    c = client();
    ck_assert_int_eq(acme_client_issue(c, names1, 1, &r, csr, sizeof csr, &chain, &err), ECA_OK);
    /* 2, 4, 8, 16 ms on the authorization (a loopback CA); the fresh order is fetched at once. */
    ck_assert_uint_eq(nsleeps, 4);
    ck_assert_int_eq(sleeps[0], 2);
    ck_assert_int_eq(sleeps[1], 4);
    ck_assert_int_eq(sleeps[2], 8);
    ck_assert_int_eq(sleeps[3], 16);
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    acme_client_free(c);
    eca_buf_free(&chain);
    eca_buf_free(&leaf);
}
END_TEST

/* A CA across a network gets the floor: 100, 200, 400 ms, never 2 ms. */
START_TEST(client_polls_a_remote_ca_no_faster_than_the_floor)
{
    static const char *const seq[] = {
        "acme/dir_pebble.http",           "acme/nonce.http",
        "acme/order_new_pending.http",    "acme/authz_pending.http",
        "acme/challenge_processing.http", "acme/authz_pending.http",
        "acme/authz_pending.http",        "acme/authz_valid.http",
        "acme/order_ready.http",          "acme/order_valid.http",
    };
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct eca_buf chain, leaf;
    struct eca_err err = {0};

    eca_buf_init(&chain, 0);
    eca_buf_init(&leaf, 0);
    mkcert("a.example", "Test Root A", &leaf);
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        fake_http_push_fixture(fake, seq[i]);
    push_chain("nonce-cert-0001", NULL, &leaf);
    opts.directory_url = "https://acme.example.org/directory";
    opts.account_url = P "/my-account/1";
    c = client();
    ck_assert_int_eq(acme_client_issue(c, names1, 1, &r, csr, sizeof csr, &chain, &err), ECA_OK);
    ck_assert_uint_eq(nsleeps, 3);
    ck_assert_int_eq(sleeps[0], 100);
    ck_assert_int_eq(sleeps[1], 200);
    ck_assert_int_eq(sleeps[2], 400);
    acme_client_free(c);
    eca_buf_free(&chain);
    eca_buf_free(&leaf);
}
END_TEST

/* A resource that stays pending without Retry-After: at most 40 polls, then the pass ends
 * with the order open (to be resumed), never an endless loop. */
START_TEST(client_poll_count_is_capped_and_the_order_stays_open)
{
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct acme_issue_info info;
    struct eca_buf chain;
    struct eca_err err = {0};

    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/order_new_pending.http");
    fake_http_push_fixture(fake, "acme/authz_pending.http");
    fake_http_push_fixture(fake, "acme/challenge_processing.http");
    for (int i = 0; i < 40; i++)
        fake_http_push_fixture(fake, "acme/authz_pending.http");
    eca_buf_init(&chain, 0);
    opts.account_url = P "/my-account/1";
    opts.max_wait_s = 3600;
    c = client();
    ck_assert_int_eq(
        acme_client_issue_ex(c, names1, 1, &r, csr, sizeof csr, NULL, &chain, &info, &err),
        ECA_ETIMEOUT);
    ck_assert_msg(strstr(err.msg, "a.example still pending after 40 polls") != NULL, "%s", err.msg);
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    ck_assert_uint_eq(fake_http_nreq(fake), 2 + 3 + 40);
    ck_assert_ptr_nonnull(info.pending);
    ck_assert_str_eq(info.pending, ORDER);
    ck_assert_int_eq(st.nunpub, 1);
    free(info.pending);
    acme_client_free(c);
    eca_buf_free(&chain);
}
END_TEST

/* A Retry-After longer than the pass has left ends the pass at once, cleanly: ECA_EAGAIN with
 * what the server asked for, and the order to resume. */
START_TEST(client_retry_after_beyond_the_deadline_keeps_the_order_open)
{
    static const char *const seq[] = {
        "acme/dir_pebble.http",  "acme/nonce.http",       "acme/order_new_pending.http",
        "acme/authz_valid.http", "acme/order_ready.http", "acme/order_processing_retry_3600.http",
    };
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct acme_issue_info info;
    struct eca_buf chain;
    struct eca_err err = {0};

    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        fake_http_push_fixture(fake, seq[i]);
    eca_buf_init(&chain, 0);
    opts.account_url = P "/my-account/1";
    opts.pass_timeout_s = 300;
    opts.max_wait_s = 86400; /* the deadline alone decides */
    c = client();
    ck_assert_int_eq(
        acme_client_issue_ex(c, names1, 1, &r, csr, sizeof csr, NULL, &chain, &info, &err),
        ECA_EAGAIN);
    ck_assert_msg(strstr(err.msg, "still processing: server asked to retry in 3600 s") != NULL,
                  "%s", err.msg);
    ck_assert_int_eq(err.retry_after, 3600);
    ck_assert_uint_eq(nsleeps, 0); /* no wait at all, no error storm */
    ck_assert_uint_eq(fake_http_nreq(fake), 6);
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    ck_assert_str_eq(info.pending, ORDER);
    free(info.pending);
    acme_client_free(c);
    eca_buf_free(&chain);
}
END_TEST

/* Resume: the order (POST-as-GET) and on from its state; no newOrder. The first fixture
 * answers the order URL; expect_finalize: a finalize (with our CSR) comes next. */
static void
resume_case(const char *order_fixture, int expect_finalize)
{
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct acme_issue_opts io = {NULL, NULL, ORDER};
    struct acme_issue_info info;
    struct eca_buf chain, leaf;
    struct eca_err err = {0};
    char *payload;
    size_t k = 2;

    eca_buf_init(&chain, 0);
    eca_buf_init(&leaf, 0);
    mkcert("a.example", "Test Root A", &leaf);
    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, order_fixture);
    if (expect_finalize)
        fake_http_push_fixture(fake, "acme/order_valid.http");
    push_chain("nonce-cert-0001", NULL, &leaf);
    opts.account_url = P "/my-account/1";
    c = client();
    ck_assert_int_eq(
        acme_client_issue_ex(c, names1, 1, &r, csr, sizeof csr, &io, &chain, &info, &err), ECA_OK);
    ck_assert_int_eq(info.resumed, 1);
    ck_assert_ptr_null(info.pending);
    assert_req(k, "POST", ORDER, "nonce-HEAD-0a1b2c3d4e5f", P "/my-account/1");
    payload = jws_part(k++, "payload");
    ck_assert_str_eq(payload, ""); /* POST-as-GET */
    free(payload);
    if (expect_finalize) {
        ck_assert_str_eq(fake_http_req(fake, k)->url, FINAL);
        payload = jws_part(k++, "payload");
        ck_assert_str_eq(payload, "{\"csr\":\"MAMCAQA\"}");
        free(payload);
    }
    ck_assert_str_eq(fake_http_req(fake, k++)->url, CERT);
    ck_assert_uint_eq(fake_http_nreq(fake), k);
    ck_assert_int_eq(st.npub, 0); /* nothing to answer again */
    ck_assert_str_eq(eca_buf_str(&chain), eca_buf_str(&leaf));
    free(info.profile);
    acme_client_free(c);
    eca_buf_free(&chain);
    eca_buf_free(&leaf);
}

START_TEST(client_resumes_a_ready_order_by_finalizing_it)
{
    resume_case("acme/order_ready.http", 1);
}
END_TEST

START_TEST(client_resumes_a_valid_order_by_downloading_it)
{
    resume_case("acme/order_valid.http", 0);
}
END_TEST

/* A pending order is resumed where it stands: its authorization fetched, answered, polled. */
START_TEST(client_resumes_a_pending_order_from_its_authorizations)
{
    static const char *const seq[] = {
        "acme/dir_pebble.http",           "acme/nonce.http",
        "acme/order_pending.http",        "acme/authz_pending.http",
        "acme/challenge_processing.http", "acme/authz_valid.http",
        "acme/order_ready.http",          "acme/order_valid.http",
    };
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct acme_issue_opts io = {NULL, NULL, ORDER};
    struct acme_issue_info info;
    struct eca_buf chain, leaf;
    struct eca_err err = {0};

    eca_buf_init(&chain, 0);
    eca_buf_init(&leaf, 0);
    mkcert("a.example", "Test Root A", &leaf);
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        fake_http_push_fixture(fake, seq[i]);
    push_chain("nonce-cert-0001", NULL, &leaf);
    opts.account_url = P "/my-account/1";
    c = client();
    ck_assert_int_eq(
        acme_client_issue_ex(c, names1, 1, &r, csr, sizeof csr, &io, &chain, &info, &err), ECA_OK);
    ck_assert_int_eq(info.resumed, 1);
    ck_assert_str_eq(fake_http_req(fake, 2)->url, ORDER);
    ck_assert_str_eq(fake_http_req(fake, 3)->url, AUTHZ_A);
    ck_assert_str_eq(fake_http_req(fake, 4)->url, CHAL_A);
    ck_assert_int_eq(st.npub, 1);
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    free(info.profile);
    acme_client_free(c);
    eca_buf_free(&chain);
    eca_buf_free(&leaf);
}
END_TEST

/* Resumed while the CA validates: the token is served again (it came down with the earlier
 * pass), the challenge is not answered twice, and the authorization is polled. */
START_TEST(client_resume_serves_the_token_of_a_challenge_in_validation)
{
    static const char *const seq[] = {
        "acme/dir_pebble.http",    "acme/nonce.http",
        "acme/order_pending.http", "acme/authz_pending_processing.http",
        "acme/authz_valid.http",   "acme/order_ready.http",
        "acme/order_valid.http",
    };
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct acme_issue_opts io = {NULL, NULL, ORDER};
    struct acme_issue_info info;
    struct eca_buf chain, leaf, ka;
    struct eca_err err = {0};

    eca_buf_init(&chain, 0);
    eca_buf_init(&leaf, 0);
    eca_buf_init(&ka, 0);
    mkcert("a.example", "Test Root A", &leaf);
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        fake_http_push_fixture(fake, seq[i]);
    push_chain("nonce-cert-0001", NULL, &leaf);
    opts.account_url = P "/my-account/1";
    c = client();
    ck_assert_int_eq(
        acme_client_issue_ex(c, names1, 1, &r, csr, sizeof csr, &io, &chain, &info, &err), ECA_OK);
    ck_assert_int_eq(st.npub, 1);
    ck_assert_str_eq(st.tok[0], TOKEN_A);
    ck_assert_int_eq(acme_jws_key_authz(key, TOKEN_A, &ka, NULL), ECA_OK);
    ck_assert_str_eq(st.ka[0], eca_buf_str(&ka));
    ck_assert_int_eq(st.nunpub, 1);
    for (size_t i = 0; i < fake_http_nreq(fake); i++)
        ck_assert_str_ne(fake_http_req(fake, i)->url, CHAL_A);
    ck_assert_str_eq(fake_http_req(fake, 4)->url, AUTHZ_A); /* polled after Retry-After */
    ck_assert_int_eq(slept_ms, 2000);
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    free(info.profile);
    acme_client_free(c);
    eca_buf_free(&chain);
    eca_buf_free(&leaf);
    eca_buf_free(&ka);
}
END_TEST

/* An invalid (or expired, or gone) order is dropped: a new order goes in the same call. */
START_TEST(client_drops_an_invalid_order_and_orders_afresh)
{
    static const char *const seq[] = {
        "acme/dir_pebble.http",
        "acme/nonce.http",
        "acme/order_invalid_subproblems.http",
        "acme/order_new_pending.http",
        "acme/authz_valid.http",
        "acme/order_ready.http",
        "acme/order_valid.http",
    };
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct acme_issue_opts io = {NULL, NULL, ORDER};
    struct acme_issue_info info;
    struct eca_buf chain, leaf;
    struct eca_err err = {0};

    eca_buf_init(&chain, 0);
    eca_buf_init(&leaf, 0);
    mkcert("a.example", "Test Root A", &leaf);
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        fake_http_push_fixture(fake, seq[i]);
    push_chain("nonce-cert-0001", NULL, &leaf);
    opts.account_url = P "/my-account/1";
    c = client();
    ck_assert_int_eq(
        acme_client_issue_ex(c, names1, 1, &r, csr, sizeof csr, &io, &chain, &info, &err), ECA_OK);
    ck_assert_int_eq(info.resumed, 0);
    ck_assert_str_eq(fake_http_req(fake, 2)->url, ORDER);
    ck_assert_str_eq(fake_http_req(fake, 3)->url, P "/order-plz");
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    free(info.profile);
    acme_client_free(c);
    eca_buf_free(&chain);
    eca_buf_free(&leaf);
}
END_TEST

/* An order that cannot be reached now is kept for the next pass, not dropped. */
START_TEST(client_keeps_an_order_it_could_not_reach)
{
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct acme_issue_opts io = {NULL, NULL, ORDER};
    struct acme_issue_info info;
    struct eca_buf chain;
    struct eca_err err = {0};

    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/order_truncated.http");
    eca_buf_init(&chain, 0);
    opts.account_url = P "/my-account/1";
    c = client();
    ck_assert_int_ne(
        acme_client_issue_ex(c, names1, 1, &r, csr, sizeof csr, &io, &chain, &info, &err), ECA_OK);
    ck_assert_ptr_nonnull(info.pending);
    ck_assert_str_eq(info.pending, ORDER);
    ck_assert_uint_eq(fake_http_nreq(fake), 3); /* no newOrder */
    free(info.pending);
    acme_client_free(c);
    eca_buf_free(&chain);
}
END_TEST

#define CERT_ID "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"
#define ARI_URL P "/draft-ietf-acme-ari-03/renewalInfo/" CERT_ID

START_TEST(client_gets_renewal_info_unsigned)
{
    struct acme_client *c;
    struct acme_ari *a = NULL;
    struct eca_err err = {0};
    long retry = 0;

    fake_http_push_fixture(fake, "acme/dir_pebble_ari.http");
    fake_http_push_fixture(fake, "acme/ari_ok.http");
    c = client();
    ck_assert_uint_eq(acme_client_dir(c)->nprofiles, 2);
    ck_assert_int_eq(acme_client_renewal_info(c, CERT_ID, &a, &retry, &err), ECA_OK);
    ck_assert_int_eq(a->start, 1800439200);
    ck_assert_int_eq(a->end, 1800612000);
    ck_assert_int_eq(retry, 21600);
    /* RFC 9773 §4.1: a plain GET of <renewalInfo>/<certID>; no nonce, no JWS. */
    assert_req(1, "GET", ARI_URL, NULL, NULL);
    ck_assert_uint_eq(fake_http_req(fake, 1)->body_len, 0);
    ck_assert_uint_eq(fake_http_nreq(fake), 2);
    acme_ari_free(a);
    acme_client_free(c);
}
END_TEST

static const struct {
    const char *fixture;
    enum eca_rc rc;
    long retry;
    const char *needle;
} ari_failures[] = {
    {"acme/ari_malformed.http", ECA_ESERVER, 60, "server problem malformed"},
    /* A busy CA is not waited for: the threshold decides this pass. */
    {"acme/ari_503.http", ECA_EAGAIN, 120, "HTTP 503"},
    {"acme/ari_end_before_start.http", ECA_EPROTO, 21600, "suggestedWindow.end: before start"},
    {"acme/ari_truncated.http", ECA_EPARSE, ACME_ARI_RETRY_DEFAULT, "invalid JSON"},
};

START_TEST(client_renewal_info_failure_names_url_and_next_try)
{
    struct acme_client *c;
    struct acme_ari *a = NULL;
    struct eca_err err = {0};
    long retry = 0;

    fake_http_push_fixture(fake, "acme/dir_pebble_ari.http");
    fake_http_push_fixture(fake, ari_failures[_i].fixture);
    c = client();
    ck_assert_int_eq(acme_client_renewal_info(c, CERT_ID, &a, &retry, &err), ari_failures[_i].rc);
    ck_assert_ptr_null(a);
    ck_assert_int_eq(retry, ari_failures[_i].retry);
    ck_assert_msg(strstr(err.msg, ARI_URL) != NULL && strstr(err.msg, ari_failures[_i].needle),
                  "%s", err.msg);
    ck_assert_uint_eq(fake_http_nreq(fake), 2);
    ck_assert_uint_eq(nsleeps, 0);
    acme_client_free(c);
}
END_TEST

START_TEST(client_renewal_info_needs_the_directory_entry)
{
    struct acme_client *c;
    struct acme_ari *a = NULL;
    struct eca_err err = {0};

    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    c = client();
    ck_assert_int_eq(acme_client_renewal_info(c, CERT_ID, &a, NULL, &err), ECA_ENOTFOUND);
    ck_assert_uint_eq(fake_http_nreq(fake), 1);
    acme_client_free(c);
}
END_TEST

/* The order flow after newOrder, for the order of order_new_pending/order_new_profile. */
static void
queue_after_new_order(void)
{
    static const char *const seq[] = {
        "acme/authz_pending.http", "acme/challenge_processing.http", "acme/authz_valid.http",
        "acme/order_ready.http",   "acme/order_processing.http",     "acme/order_valid.http",
    };

    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        fake_http_push_fixture(fake, seq[i]);
}

static const char *const replaces_refusals[] = {
    "acme/problem_already_replaced.http",
    "acme/problem_replaces_unauthorized.http",
    "acme/problem_replaces_malformed.http",
};

START_TEST(client_orders_again_without_replaces_when_refused)
{
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct acme_issue_opts io = {"shortlived", CERT_ID, NULL};
    struct acme_issue_info info;
    struct eca_buf chain, leaf;
    struct eca_err err = {0};
    char *payload;

    eca_buf_init(&chain, 0);
    eca_buf_init(&leaf, 0);
    mkcert("a.example", "Test Root A", &leaf);
    fake_http_push_fixture(fake, "acme/dir_pebble_ari.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, replaces_refusals[_i]);
    fake_http_push_fixture(fake, "acme/order_new_profile.http");
    queue_after_new_order();
    push_chain("nonce-cert-0001", NULL, &leaf);
    opts.account_url = P "/my-account/1";
    logcap_start();
    c = client();
    ck_assert_int_eq(
        acme_client_issue_ex(c, names1, 1, &r, csr, sizeof csr, &io, &chain, &info, &err), ECA_OK);
    ck_assert_str_eq(info.profile, "shortlived");
    ck_assert_int_eq(info.replaces_dropped, 1);
    assert_req(2, "POST", P "/order-plz", "nonce-HEAD-0a1b2c3d4e5f", P "/my-account/1");
    payload = jws_part(2, "payload");
    ck_assert_str_eq(payload, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example\"}],"
                              "\"profile\":\"shortlived\",\"replaces\":\"" CERT_ID "\"}");
    free(payload);
    payload = jws_part(3, "payload");
    ck_assert_str_eq(payload, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example\"}],"
                              "\"profile\":\"shortlived\"}");
    free(payload);
    ck_assert(logcap_contains("\"event\":\"acme_replaces_refused\""));
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    logcap_stop();
    free(info.profile);
    acme_client_free(c);
    eca_buf_free(&chain);
    eca_buf_free(&leaf);
}
END_TEST

static const char *const other_refusals[] = {
    "acme/problem_malformed_other.http",
    "acme/problem_invalid_profile.http",
};

START_TEST(client_does_not_retry_other_refusals)
{
    struct acme_client *c;
    struct stub st = {0};
    struct acme_responder r = {stub_publish, stub_unpublish, &st};
    struct acme_issue_opts io = {"nonesuch", CERT_ID, NULL};
    struct acme_issue_info info = {NULL, 0, 0, NULL};
    struct eca_buf chain;
    struct eca_err err = {0};

    eca_buf_init(&chain, 0);
    fake_http_push_fixture(fake, "acme/dir_pebble_ari.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, other_refusals[_i]);
    opts.account_url = P "/my-account/1";
    c = client();
    ck_assert_int_eq(
        acme_client_issue_ex(c, names1, 1, &r, csr, sizeof csr, &io, &chain, &info, &err),
        ECA_ESERVER);
    ck_assert_uint_eq(fake_http_nreq(fake), 3);
    ck_assert_ptr_null(info.profile);
    ck_assert_uint_eq(chain.len, 0);
    acme_client_free(c);
    eca_buf_free(&chain);
}
END_TEST

static Suite *
acme_client_suite(void)
{
    Suite *s = suite_create("acme_client");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, client_issues_through_the_whole_order_flow);
    tcase_add_test(tc, client_prefers_the_alternate_chain_by_top_issuer);
    tcase_add_test(tc, client_recovers_a_lost_account_within_the_pass);
    tcase_add_test(tc, client_keeps_an_account_the_server_still_knows);
    tcase_add_test(tc, client_recreates_a_lost_account_with_eab);
    tcase_add_test(tc, client_drops_a_lost_account_even_when_recovery_fails);
    tcase_add_test(tc, client_retries_bad_nonce_with_the_fresh_nonce);
    tcase_add_test(tc, client_gives_up_after_ten_bad_nonces);
    tcase_add_test(tc, client_waits_out_503_retry_after);
    tcase_add_test(tc, client_waits_out_short_rate_limit);
    tcase_add_test(tc, client_rate_limit_beyond_cap_is_eagain);
    tcase_add_test(tc, client_stops_while_waiting);
    tcase_add_test(tc, client_reports_invalid_order_per_identifier);
    tcase_add_test(tc, client_fetches_a_nonce_when_a_response_had_none);
    tcase_add_test(tc, client_rejects_wrong_certificate_content_type);
    tcase_add_test(tc, client_polling_is_bounded_by_max_wait);
    tcase_add_test(tc, client_revokes_with_kid_and_reason);
    tcase_add_test(tc, client_eab_never_logs_the_hmac_key);
    tcase_add_test(tc, client_requires_eab_when_the_directory_says_so);
    tcase_add_loop_test(tc, client_new_names_the_directory_url_on_failure, 0,
                        sizeof bad_dirs / sizeof bad_dirs[0]);
    tcase_add_test(tc, client_new_reports_missing_nonce_header);
    tcase_add_test(tc, account_lookup_finds_the_existing_account);
    tcase_add_test(tc, account_lookup_miss_creates_the_account);
    tcase_add_loop_test(tc, account_lookup_refused_creates_nothing, 0,
                        sizeof lookup_refused / sizeof lookup_refused[0]);
    tcase_add_test(tc, account_new_key_skips_the_lookup);
    tcase_add_test(tc, client_polls_with_a_doubling_backoff_without_retry_after);
    tcase_add_test(tc, client_polls_a_remote_ca_no_faster_than_the_floor);
    tcase_add_test(tc, client_poll_count_is_capped_and_the_order_stays_open);
    tcase_add_test(tc, client_retry_after_beyond_the_deadline_keeps_the_order_open);
    tcase_add_test(tc, client_resumes_a_ready_order_by_finalizing_it);
    tcase_add_test(tc, client_resumes_a_valid_order_by_downloading_it);
    tcase_add_test(tc, client_resumes_a_pending_order_from_its_authorizations);
    tcase_add_test(tc, client_drops_an_invalid_order_and_orders_afresh);
    tcase_add_test(tc, client_resume_serves_the_token_of_a_challenge_in_validation);
    tcase_add_test(tc, client_keeps_an_order_it_could_not_reach);
    tcase_add_test(tc, client_gets_renewal_info_unsigned);
    tcase_add_loop_test(tc, client_renewal_info_failure_names_url_and_next_try, 0,
                        sizeof ari_failures / sizeof ari_failures[0]);
    tcase_add_test(tc, client_renewal_info_needs_the_directory_entry);
    tcase_add_loop_test(tc, client_orders_again_without_replaces_when_refused, 0,
                        sizeof replaces_refusals / sizeof replaces_refusals[0]);
    tcase_add_loop_test(tc, client_does_not_retry_other_refusals, 0,
                        sizeof other_refusals / sizeof other_refusals[0]);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(acme_client_suite)
