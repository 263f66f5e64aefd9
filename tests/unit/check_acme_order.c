/* SPDX-License-Identifier: MIT */
/* Tests of order/authz/challenge parsing, payload builders, tokens, links and the state machine. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "acme_order.h"
#include "eca_test.h"
#include "http_raw.h"

#define P       "https://localhost:14000"
#define AUTHZ_A P "/authZ/Mq8W1rCXHjTnYQpCLfZ1nN0w3vZkqZsH4WbqHGA7N0E"
#define CHAL_A  P "/chalZ/k3Xm9Qvz7r2WcJt5pLhN8yBd4FgS6aEo1uRiTwYxHq0"
#define FINAL   P "/finalize-order/Tj3aNd9iPYFxVHgCbN2LgwN2X7oVtZXnlAcEz2Vqsds"
#define ORDER   P "/my-order/Tj3aNd9iPYFxVHgCbN2LgwN2X7oVtZXnlAcEz2Vqsds"

START_TEST(order_builds_payloads)
{
    const char *names[] = {"a.example", "www.a.example"};
    const unsigned char der[] = {1, 2, 3};
    struct eca_buf b;
    struct eca_err err = {0};

    eca_buf_init(&b, 0);
    ck_assert_int_eq(acme_order_build_new(names, 2, &b, NULL), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&b),
                     "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example\"},"
                     "{\"type\":\"dns\",\"value\":\"www.a.example\"}]}");
    eca_buf_reset(&b);
    ck_assert_int_eq(acme_order_build_finalize(der, sizeof der, &b, NULL), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&b), "{\"csr\":\"AQID\"}");
    eca_buf_reset(&b);
    ck_assert_int_eq(acme_order_build_revoke(der, sizeof der, 4, &b, NULL), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&b), "{\"certificate\":\"AQID\",\"reason\":4}");
    eca_buf_reset(&b);
    ck_assert_int_eq(acme_order_build_revoke(der, sizeof der, -1, &b, NULL), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&b), "{\"certificate\":\"AQID\"}");
    ck_assert_int_eq(acme_order_build_revoke(der, sizeof der, 7, &b, &err), ECA_EINVAL);
    ck_assert_int_eq(acme_order_build_new(names, 0, &b, &err), ECA_EINVAL);
    names[1] = "";
    ck_assert_int_eq(acme_order_build_new(names, 2, &b, &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "identifier 1 is empty"));
    eca_buf_free(&b);
}
END_TEST

static const struct {
    const char *token;
    int ok;
} tokens[] = {
    {"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0", 1},
    {"a-b_c", 1},
    {"../x", 0},
    {"a/b", 0},
    {"", 0},
    {"..", 0},
    {".", 0},
    {"a.b", 0},
    {"%2e%2e", 0},
    {"a b", 0},
    {"a\\b", 0},
    {"a=", 0},
};

START_TEST(order_token_validation)
{
    ck_assert_int_eq(acme_token_is_valid(tokens[_i].token), tokens[_i].ok);
}
END_TEST

START_TEST(order_token_length_bounds)
{
    char t[258];

    memset(t, 'A', sizeof t);
    t[256] = '\0';
    ck_assert(acme_token_is_valid(t));
    t[256] = 'A';
    t[257] = '\0';
    ck_assert(!acme_token_is_valid(t));
    ck_assert(!acme_token_is_valid(NULL));
}
END_TEST

static struct acme_order *
load_order(const char *fixture)
{
    struct eca_http_resp resp;
    struct acme_order *o = NULL;
    struct eca_err err = {0};

    fixture_load_http(fixture, &resp);
    if (acme_order_parse(&resp, &o, &err) != ECA_OK)
        ck_abort_msg("%s: %s", fixture, err.msg);
    fixture_free_http(&resp);
    if (o->url == NULL)
        o->url = strdup(ORDER);
    return o;
}

static struct acme_authz *
load_authz(const char *fixture)
{
    struct eca_http_resp resp;
    struct acme_authz *a = NULL;
    struct eca_err err = {0};

    fixture_load_http(fixture, &resp);
    if (acme_authz_parse(&resp, &a, &err) != ECA_OK)
        ck_abort_msg("%s: %s", fixture, err.msg);
    fixture_free_http(&resp);
    return a;
}

START_TEST(order_parses_pebble_orders)
{
    struct acme_order *o = load_order("acme/order_new_pending.http");

    ck_assert_str_eq(o->url, ORDER);
    ck_assert_int_eq(o->status, ACME_ST_PENDING);
    ck_assert_uint_eq(o->nauthz, 1);
    ck_assert_str_eq(o->authz[0], AUTHZ_A);
    ck_assert_str_eq(o->finalize, FINAL);
    ck_assert_ptr_null(o->certificate);
    acme_order_free(o);
    o = load_order("acme/order_valid.http");
    ck_assert_int_eq(o->status, ACME_ST_VALID);
    ck_assert_str_eq(o->certificate, P "/certZ/4b1b3c0e6a2f9d87");
    acme_order_free(o);
    o = load_order("acme/order_invalid_subproblems.http");
    ck_assert_int_eq(o->status, ACME_ST_INVALID);
    ck_assert_uint_eq(o->error->nsub, 2);
    ck_assert_str_eq(o->error->sub[1].id_value, "b.example");
    acme_order_free(o);
}
END_TEST

static const struct {
    const char *fixture;
    enum eca_rc rc;
    const char *needle;
} bad_orders[] = {
    {"acme/order_truncated.http", ECA_EPARSE, "order: invalid JSON"},
    {"acme/order_no_finalize.http", ECA_EPROTO, "order.finalize: missing"},
    {"acme/order_authz_not_array.http", ECA_EPROTO, "order.authorizations: expected array"},
    {"acme/order_authz_wrong_item.http", ECA_EPROTO, "order.authorizations[1]: expected string"},
    {"acme/order_bad_status.http", ECA_EPROTO, "order.status: unexpected value \"deactivated\""},
    {"acme/order_status_wrong_type.http", ECA_EPROTO, "order.status: expected string"},
    {"acme/order_error_wrong_type.http", ECA_EPROTO, "order.error: expected object"},
    {"acme/order_pending_no_authz.http", ECA_EPROTO, "order.authorizations: empty"},
    {"acme/order_badnonce.http", ECA_ESERVER, "server problem badNonce"},
    {"acme/order_html.http", ECA_EPROTO, "order: unexpected Content-Type"},
    {"acme/order_array.http", ECA_EPROTO, "order: expected a JSON object"},
    {"acme/order_trailing_garbage.http", ECA_EPARSE, "order: invalid JSON"},
    {"acme/problem_ratelimited.http", ECA_EAGAIN, "rateLimited"},
    {"acme/problem_subproblems.http", ECA_ESERVER,
     "dns:_example.org: malformed: Invalid underscore"},
    {"acme/order_profile_wrong_type.http", ECA_EPROTO, "order.profile: expected string"},
    {"acme/problem_invalid_profile.http", ECA_ESERVER,
     "HTTP 400: server problem invalidProfile: profile name \"nonesuch\" not recognised"},
    {"acme/problem_already_replaced.http", ECA_ESERVER, "HTTP 409: server problem alreadyReplaced"},
    {"acme/problem_replaces_unauthorized.http", ECA_EAUTH, "HTTP 403: server problem unauthorized"},
};

START_TEST(order_builds_profile_and_replaces)
{
    const char *names[] = {"a.example"};
    struct acme_order_extra x = {"shortlived", "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"};
    struct eca_buf b;

    eca_buf_init(&b, 0);
    ck_assert_int_eq(acme_order_build_new_ex(names, 1, &x, &b, NULL), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&b),
                     "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example\"}],"
                     "\"profile\":\"shortlived\","
                     "\"replaces\":\"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE\"}");
    eca_buf_reset(&b);
    x.profile = NULL;
    ck_assert_int_eq(acme_order_build_new_ex(names, 1, &x, &b, NULL), ECA_OK);
    ck_assert_ptr_null(strstr(eca_buf_str(&b), "profile"));
    ck_assert_ptr_nonnull(strstr(eca_buf_str(&b), "\"replaces\":"));
    eca_buf_reset(&b);
    x.replaces = NULL;
    x.profile = "classic";
    ck_assert_int_eq(acme_order_build_new_ex(names, 1, &x, &b, NULL), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&b),
                     "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example\"}],"
                     "\"profile\":\"classic\"}");
    eca_buf_free(&b);
}
END_TEST

static const struct acme_order_extra bad_extras[] = {
    {"", NULL},
    {NULL, "no-dot"},
    {NULL, ".AIdlQyE"},
    {NULL, "aYhb."},
    {NULL, "aYhb.AIdl.QyE"},
    {NULL, "aYhb/x.AIdlQyE"},
    {NULL, "aYhb.AIdlQyE\""},
};

START_TEST(order_refuses_bad_profile_or_replaces)
{
    const char *names[] = {"a.example"};
    struct eca_buf b;
    struct eca_err err = {0};

    eca_buf_init(&b, 0);
    ck_assert_int_eq(acme_order_build_new_ex(names, 1, &bad_extras[_i], &b, &err), ECA_EINVAL);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "newOrder:"));
    eca_buf_free(&b);
}
END_TEST

START_TEST(order_parses_echoed_profile_and_replaces)
{
    struct eca_http_resp resp;
    struct acme_order *o = NULL;

    fixture_load_http("acme/order_new_profile.http", &resp);
    ck_assert_int_eq(acme_order_parse(&resp, &o, NULL), ECA_OK);
    ck_assert_str_eq(o->profile, "shortlived");
    ck_assert_str_eq(o->replaces, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    acme_order_free(o);
    fixture_free_http(&resp);
    fixture_load_http("acme/order_new_pending.http", &resp);
    ck_assert_int_eq(acme_order_parse(&resp, &o, NULL), ECA_OK);
    ck_assert_ptr_null(o->profile);
    ck_assert_ptr_null(o->replaces);
    acme_order_free(o);
    fixture_free_http(&resp);
}
END_TEST

START_TEST(order_parse_rejects_broken_responses)
{
    struct eca_http_resp resp;
    struct acme_order *o = NULL;
    struct eca_err err = {0};

    fixture_load_http(bad_orders[_i].fixture, &resp);
    ck_assert_int_eq(acme_order_parse(&resp, &o, &err), bad_orders[_i].rc);
    ck_assert_ptr_null(o);
    ck_assert_msg(strstr(err.msg, bad_orders[_i].needle) != NULL, "%s: %s", bad_orders[_i].fixture,
                  err.msg);
    fixture_free_http(&resp);
}
END_TEST

START_TEST(authz_parses_challenges)
{
    struct acme_authz *a = load_authz("acme/authz_pending.http");
    const struct acme_challenge *ch = acme_authz_challenge(a, "http-01");

    ck_assert_str_eq(a->id_type, "dns");
    ck_assert_str_eq(a->id_value, "a.example");
    ck_assert_int_eq(a->status, ACME_ST_PENDING);
    ck_assert_uint_eq(a->nch, 3);
    ck_assert_ptr_nonnull(ch);
    ck_assert_str_eq(ch->url, CHAL_A);
    ck_assert_str_eq(ch->token, "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0");
    ck_assert_ptr_null(acme_authz_challenge(a, "dns-account-01"));
    acme_authz_free(a);
    a = load_authz("acme/authz_wildcard.http");
    ck_assert_int_eq(a->wildcard, 1);
    acme_authz_free(a);
    a = load_authz("acme/authz_invalid.http");
    ck_assert(acme_problem_is(a->ch[0].error, "unauthorized"));
    acme_authz_free(a);
}
END_TEST

static const struct {
    const char *fixture;
    enum eca_rc rc;
    const char *needle;
} bad_authz[] = {
    {"acme/authz_token_dotdot.http", ECA_EPROTO, "authz.challenges[0].token: not 1..256"},
    {"acme/authz_token_slash.http", ECA_EPROTO, "authz.challenges[0].token: not 1..256"},
    {"acme/authz_token_empty.http", ECA_EPROTO, "authz.challenges[0].token: not 1..256"},
    {"acme/authz_token_dots.http", ECA_EPROTO, "authz.challenges[0].token: not 1..256"},
    {"acme/authz_token_long.http", ECA_EPROTO, "authz.challenges[0].token: not 1..256"},
    {"acme/authz_token_percent.http", ECA_EPROTO, "authz.challenges[0].token: not 1..256"},
    {"acme/authz_token_space.http", ECA_EPROTO, "authz.challenges[0].token: not 1..256"},
    {"acme/authz_token_missing.http", ECA_EPROTO, "authz.challenges[0].token: missing"},
    {"acme/authz_no_identifier.http", ECA_EPROTO, "authz.identifier: missing"},
    {"acme/authz_challenges_not_array.http", ECA_EPROTO, "authz.challenges: expected array"},
    {"acme/authz_bad_status.http", ECA_EPROTO, "authz.status: unexpected value \"ready\""},
    {"acme/authz_wildcard_wrong_type.http", ECA_EPROTO, "authz.wildcard: expected"},
    {"acme/authz_truncated.http", ECA_EPARSE, "authz: invalid JSON"},
    {"acme/problem_unauthorized.http", ECA_EAUTH, "authz: HTTP 403: server problem unauthorized"},
};

START_TEST(authz_parse_rejects_broken_responses)
{
    struct eca_http_resp resp;
    struct acme_authz *a = NULL;
    struct eca_err err = {0};

    fixture_load_http(bad_authz[_i].fixture, &resp);
    ck_assert_int_eq(acme_authz_parse(&resp, &a, &err), bad_authz[_i].rc);
    ck_assert_ptr_null(a);
    ck_assert_msg(strstr(err.msg, bad_authz[_i].needle) != NULL, "%s: %s", bad_authz[_i].fixture,
                  err.msg);
    fixture_free_http(&resp);
}
END_TEST

START_TEST(challenge_parses_response)
{
    struct eca_http_resp resp;
    struct acme_challenge *c = NULL;

    fixture_load_http("acme/challenge_processing.http", &resp);
    ck_assert_int_eq(acme_challenge_parse(&resp, &c, NULL), ECA_OK);
    ck_assert_int_eq(c->status, ACME_ST_PROCESSING);
    ck_assert_str_eq(c->type, "http-01");
    acme_challenge_free(c);
    fixture_free_http(&resp);
}
END_TEST

START_TEST(order_links_finds_alternates)
{
    struct eca_http_resp resp;
    char *urls[4] = {0};
    const char *raw = "HTTP/1.1 200 OK\r\n"
                      "Content-Type: application/pem-certificate-chain\r\n"
                      "Link: <https://localhost:14000/dir>;rel=\"index\"\r\n"
                      "Link: <https://localhost:14000/certZ/abc/1>;rel=\"alternate\"\r\n"
                      "Link: <https://x.test/c/2>; rel=alternate, <https://x.test/up>;rel=\"up\", "
                      "<https://x.test/c/3>;title=\"x\";rel=\"other alternate\"\r\n"
                      "Content-Length: 0\r\n\r\n";
    size_t n;

    eca_http_resp_init(&resp, 0);
    ck_assert_int_eq(test_http_parse_raw(raw, strlen(raw), &resp, NULL), ECA_OK);
    n = acme_order_links(&resp, "alternate", urls, 4);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(urls[0], "https://localhost:14000/certZ/abc/1");
    ck_assert_str_eq(urls[1], "https://x.test/c/2");
    ck_assert_str_eq(urls[2], "https://x.test/c/3");
    for (size_t i = 0; i < n; i++)
        free(urls[i]);
    ck_assert_uint_eq(acme_order_links(&resp, "alternate", urls, 1), 1);
    free(urls[0]);
    eca_http_resp_free(&resp);
}
END_TEST

/* One state-machine case: order fixture, authz fixture (NULL: not fetched), flags, outcome. */
static const struct {
    const char *order;
    const char *authz;
    int responded, finalized;
    enum acme_action_kind kind;
    const char *url;
    enum eca_rc rc;
    const char *needle;
} sm[] = {
    {"acme/order_pending.http", NULL, 0, 0, ACME_ACT_FETCH_AUTHZ, AUTHZ_A, ECA_OK, NULL},
    {"acme/order_pending.http", "acme/authz_pending.http", 0, 0, ACME_ACT_RESPOND, CHAL_A, ECA_OK,
     NULL},
    {"acme/order_pending.http", "acme/authz_pending.http", 1, 0, ACME_ACT_POLL_AUTHZ, AUTHZ_A,
     ECA_OK, NULL},
    {"acme/order_pending.http", "acme/authz_pending_processing.http", 0, 0, ACME_ACT_POLL_AUTHZ,
     AUTHZ_A, ECA_OK, NULL},
    {"acme/order_pending.http", "acme/authz_valid.http", 1, 0, ACME_ACT_POLL_ORDER, ORDER, ECA_OK,
     NULL},
    {"acme/order_pending.http", "acme/authz_invalid.http", 1, 0, ACME_ACT_FAIL, NULL, ECA_ESERVER,
     "order " ORDER " pending: dns:a.example: unauthorized: The key authorization file from the "
     "server did not match"},
    {"acme/order_pending.http", "acme/authz_expired.http", 0, 0, ACME_ACT_FAIL, NULL, ECA_ESERVER,
     "dns:a.example: authorization expired"},
    {"acme/order_pending.http", "acme/authz_wildcard.http", 0, 0, ACME_ACT_FAIL, NULL, ECA_EPROTO,
     "dns:*.example.org: no http-01 challenge offered (wildcards need dns-01)"},
    {"acme/order_ready.http", "acme/authz_valid.http", 1, 0, ACME_ACT_FINALIZE, FINAL, ECA_OK,
     NULL},
    {"acme/order_ready.http", "acme/authz_valid.http", 1, 1, ACME_ACT_POLL_ORDER, ORDER, ECA_OK,
     NULL},
    {"acme/order_processing.http", "acme/authz_valid.http", 1, 1, ACME_ACT_POLL_ORDER, ORDER,
     ECA_OK, NULL},
    {"acme/order_valid.http", "acme/authz_valid.http", 1, 1, ACME_ACT_DOWNLOAD,
     P "/certZ/4b1b3c0e6a2f9d87", ECA_OK, NULL},
    {"acme/order_valid_no_cert.http", NULL, 1, 1, ACME_ACT_FAIL, NULL, ECA_EPROTO,
     "order.certificate: missing"},
    {"acme/order_invalid_subproblems.http", NULL, 0, 0, ACME_ACT_FAIL, NULL, ECA_ESERVER,
     "invalid: server problem unauthorized: Some challenges have failed; subproblems: "
     "dns:a.example: unauthorized: Invalid response from http://a.example/.well-known/"
     "acme-challenge/x: 404, dns:b.example: dns: DNS problem: NXDOMAIN looking up A for "
     "b.example"},
};

START_TEST(order_next_walks_the_state_machine)
{
    struct acme_order *o = load_order(sm[_i].order);
    struct acme_authz *authz[2] = {NULL, NULL};
    unsigned char responded[2] = {(unsigned char)sm[_i].responded, 0};
    struct acme_order_state st;
    struct acme_action act;
    struct eca_err err = {0};

    if (sm[_i].authz != NULL)
        authz[0] = load_authz(sm[_i].authz);
    st = (struct acme_order_state){o, authz, responded, sm[_i].finalized, 0};
    ck_assert_int_eq(acme_order_next(&st, &act, &err), sm[_i].rc);
    ck_assert_int_eq(act.kind, sm[_i].kind);
    if (sm[_i].url != NULL)
        ck_assert_str_eq(act.url, sm[_i].url);
    if (sm[_i].kind == ACME_ACT_RESPOND)
        ck_assert_str_eq(act.challenge->type, "http-01");
    if (sm[_i].needle != NULL)
        ck_assert_msg(strstr(err.msg, sm[_i].needle) != NULL, "%s", err.msg);
    acme_authz_free(authz[0]);
    acme_order_free(o);
}
END_TEST

/* ---- dns-01, wildcards, IP identifiers (RFC 8555 §8.4, RFC 8738) ---- */

START_TEST(order_payload_carries_ip_and_wildcard_identifiers)
{
    const char *names[] = {"*.w.test", "w.test", "127.0.0.1", "2001:db8::1", "1.2.3.4.example"};
    struct eca_buf b;

    eca_buf_init(&b, 0);
    ck_assert_int_eq(acme_order_build_new(names, 5, &b, NULL), ECA_OK);
    /* The wildcard goes as configured (RFC 8555 §7.1.3); addresses are "ip" (RFC 8738 §3);
     * a name that only starts like an address is still a name. */
    ck_assert_str_eq(eca_buf_str(&b), "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"*.w.test\"},"
                                      "{\"type\":\"dns\",\"value\":\"w.test\"},"
                                      "{\"type\":\"ip\",\"value\":\"127.0.0.1\"},"
                                      "{\"type\":\"ip\",\"value\":\"2001:db8::1\"},"
                                      "{\"type\":\"dns\",\"value\":\"1.2.3.4.example\"}]}");
    eca_buf_free(&b);
}
END_TEST

#define CH_HTTP                                                                                    \
    "{\"type\":\"http-01\",\"url\":\"" P "/chalZ/h\",\"token\":\"tokH\",\"status\":\"pending\"}"
#define CH_DNS                                                                                     \
    "{\"type\":\"dns-01\",\"url\":\"" P "/chalZ/d\",\"token\":\"tokD\",\"status\":\"pending\"}"
#define CH_TLS                                                                                     \
    "{\"type\":\"tls-alpn-01\",\"url\":\"" P "/chalZ/"                                             \
    "t\",\"token\":\"tokT\",\"status\":\"pending\"}"

static struct acme_authz *
authz_of(const char *json)
{
    struct acme_authz *a = NULL;
    struct eca_err err = {0};

    if (acme_authz_parse_json(json, strlen(json), &a, &err) != ECA_OK)
        ck_abort_msg("authz: %s", err.msg);
    return a;
}

/* Which challenge is chosen for an authorization, given what the driver can answer. */
static const struct {
    const char *authz;
    unsigned can;
    const char *type; /* NULL: an error */
    enum eca_rc rc;
    const char *needle;
} choices[] = {
    {"{\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},\"status\":\"pending\","
     "\"challenges\":[" CH_HTTP "," CH_DNS "," CH_TLS "]}",
     ACME_CH_HTTP01 | ACME_CH_DNS01, "dns-01", ECA_OK, NULL},
    {"{\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},\"status\":\"pending\","
     "\"challenges\":[" CH_HTTP "," CH_DNS "]}",
     ACME_CH_HTTP01, "http-01", ECA_OK, NULL},
    {"{\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},\"status\":\"pending\","
     "\"challenges\":[" CH_HTTP "," CH_DNS "]}",
     0, "http-01", ECA_OK, NULL},
    {"{\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},\"status\":\"pending\","
     "\"challenges\":[" CH_HTTP "]}",
     ACME_CH_HTTP01 | ACME_CH_DNS01, "http-01", ECA_OK, NULL},
    {"{\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},\"status\":\"pending\","
     "\"challenges\":[" CH_HTTP "]}",
     ACME_CH_DNS01, NULL, ECA_EPROTO, "authz dns:a.test: no dns-01 challenge offered"},
    {"{\"identifier\":{\"type\":\"dns\",\"value\":\"w.test\"},\"status\":\"pending\","
     "\"wildcard\":true,\"challenges\":[" CH_DNS "]}",
     ACME_CH_HTTP01 | ACME_CH_DNS01, "dns-01", ECA_OK, NULL},
    {"{\"identifier\":{\"type\":\"dns\",\"value\":\"w.test\"},\"status\":\"pending\","
     "\"wildcard\":true,\"challenges\":[" CH_HTTP "," CH_DNS "]}",
     ACME_CH_HTTP01, NULL, ECA_EPROTO,
     "dns:*.w.test: no http-01 challenge offered (wildcards "
     "need dns-01); set dns01_hook"},
    {"{\"identifier\":{\"type\":\"ip\",\"value\":\"127.0.0.1\"},\"status\":\"pending\","
     "\"challenges\":[" CH_DNS "," CH_HTTP "]}",
     ACME_CH_HTTP01 | ACME_CH_DNS01, "http-01", ECA_OK, NULL},
    {"{\"identifier\":{\"type\":\"ip\",\"value\":\"127.0.0.1\"},\"status\":\"pending\","
     "\"challenges\":[" CH_HTTP "]}",
     ACME_CH_DNS01, NULL, ECA_ECONF, "authz ip:127.0.0.1: an address needs http-01"},
    {"{\"identifier\":{\"type\":\"ip\",\"value\":\"::1\"},\"status\":\"pending\","
     "\"challenges\":[" CH_DNS "]}",
     ACME_CH_HTTP01 | ACME_CH_DNS01, NULL, ECA_EPROTO,
     "authz ip:::1: no http-01 challenge offered"},
};

START_TEST(authz_chooses_the_challenge)
{
    struct acme_authz *a = authz_of(choices[_i].authz);
    const struct acme_challenge *ch = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(acme_authz_choose(a, choices[_i].can, &ch, &err), choices[_i].rc);
    if (choices[_i].type != NULL) {
        ck_assert_str_eq(ch->type, choices[_i].type);
        ck_assert_ptr_eq(ch, acme_authz_challenge(a, choices[_i].type));
    } else {
        ck_assert_msg(strstr(err.msg, choices[_i].needle) != NULL, "%s", err.msg);
    }
    acme_authz_free(a);
}
END_TEST

START_TEST(authz_dns01_challenge_needs_a_token)
{
    const char *json = "{\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},\"status\":"
                       "\"pending\",\"challenges\":[{\"type\":\"dns-01\",\"url\":\"" P
                       "/chalZ/d\",\"status\":\"pending\"}]}";
    struct acme_authz *a = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(acme_authz_parse_json(json, strlen(json), &a, &err), ECA_EPROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "authz.challenges[0].token: missing"));
    ck_assert_ptr_null(a);
}
END_TEST

/* The state machine answers a wildcard with dns-01 and an address with http-01, per authz. */
START_TEST(order_next_answers_each_identifier_its_way)
{
    struct acme_order *o = load_order("acme/order_pending.http");
    struct acme_authz *authz[1];
    unsigned char responded[1] = {0};
    struct acme_order_state st = {o, authz, responded, 0, ACME_CH_HTTP01 | ACME_CH_DNS01};
    struct acme_action act;
    struct eca_err err = {0};

    ck_assert_uint_eq(o->nauthz, 1);
    authz[0] = authz_of(choices[5].authz); /* wildcard */
    ck_assert_int_eq(acme_order_next(&st, &act, &err), ECA_OK);
    ck_assert_int_eq(act.kind, ACME_ACT_RESPOND);
    ck_assert_str_eq(act.challenge->type, "dns-01");
    ck_assert_str_eq(act.url, P "/chalZ/d");
    acme_authz_free(authz[0]);
    authz[0] = authz_of(choices[7].authz); /* 127.0.0.1 */
    ck_assert_int_eq(acme_order_next(&st, &act, &err), ECA_OK);
    ck_assert_int_eq(act.kind, ACME_ACT_RESPOND);
    ck_assert_str_eq(act.challenge->type, "http-01");
    st.challenges = ACME_CH_DNS01;
    ck_assert_int_eq(acme_order_next(&st, &act, &err), ECA_ECONF);
    ck_assert_int_eq(act.kind, ACME_ACT_FAIL);
    acme_authz_free(authz[0]);
    acme_order_free(o);
}
END_TEST

/* ---- end of dns-01, wildcards, IP identifiers ---- */

static Suite *
acme_order_suite(void)
{
    Suite *s = suite_create("acme_order");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, order_builds_payloads);
    tcase_add_test(tc, order_builds_profile_and_replaces);
    tcase_add_loop_test(tc, order_refuses_bad_profile_or_replaces, 0,
                        sizeof bad_extras / sizeof bad_extras[0]);
    tcase_add_test(tc, order_parses_echoed_profile_and_replaces);
    tcase_add_loop_test(tc, order_token_validation, 0, sizeof tokens / sizeof tokens[0]);
    tcase_add_test(tc, order_token_length_bounds);
    tcase_add_test(tc, order_parses_pebble_orders);
    tcase_add_loop_test(tc, order_parse_rejects_broken_responses, 0,
                        sizeof bad_orders / sizeof bad_orders[0]);
    tcase_add_test(tc, authz_parses_challenges);
    tcase_add_loop_test(tc, authz_parse_rejects_broken_responses, 0,
                        sizeof bad_authz / sizeof bad_authz[0]);
    tcase_add_test(tc, challenge_parses_response);
    tcase_add_test(tc, order_links_finds_alternates);
    tcase_add_loop_test(tc, order_next_walks_the_state_machine, 0, sizeof sm / sizeof sm[0]);
    tcase_add_test(tc, order_payload_carries_ip_and_wildcard_identifiers);
    tcase_add_loop_test(tc, authz_chooses_the_challenge, 0, sizeof choices / sizeof choices[0]);
    tcase_add_test(tc, authz_dns01_challenge_needs_a_token);
    tcase_add_test(tc, order_next_answers_each_identifier_its_way);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(acme_order_suite)
