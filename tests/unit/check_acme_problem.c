/* SPDX-License-Identifier: MIT */
/* Tests of RFC 8555 §6.7 problem documents and the response gate in front of every parser. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme_problem.h"
#include "eca_test.h"
#include "http_raw.h"

START_TEST(problem_parses_subproblems_per_identifier)
{
    struct eca_http_resp resp;
    struct acme_problem *p = NULL;
    struct eca_err err = {0};
    char text[ECA_ERR_MSG_MAX];

    fixture_load_http("acme/problem_subproblems.http", &resp);
    ck_assert_int_eq(acme_problem_parse(resp.body.data, resp.body.len, &p, &err), ECA_OK);
    ck_assert_str_eq(acme_problem_short(p->type), "malformed");
    ck_assert_int_eq(p->status, 403);
    ck_assert_uint_eq(p->nsub, 2);
    ck_assert_str_eq(p->sub[1].id_type, "dns");
    ck_assert_str_eq(p->sub[1].id_value, "example.net");
    ck_assert(acme_problem_is(p, "malformed"));
    ck_assert(!acme_problem_is(p, "badNonce"));
    acme_problem_format(p, text, sizeof text);
    ck_assert_str_eq(text, "server problem malformed: Some of the identifiers requested were "
                           "rejected; subproblems: dns:_example.org: malformed: Invalid "
                           "underscore in DNS name \"_example.org\", dns:example.net: "
                           "rejectedIdentifier: This CA will not issue for \"example.net\"");
    acme_problem_free(p);
    fixture_free_http(&resp);
}
END_TEST

START_TEST(problem_without_type_is_about_blank)
{
    struct acme_problem *p = NULL;
    const char *doc = "{\"detail\":\"odd\"}";

    ck_assert_int_eq(acme_problem_parse(doc, strlen(doc), &p, NULL), ECA_OK);
    ck_assert_str_eq(p->type, "about:blank");
    ck_assert_str_eq(acme_problem_short(p->type), "about:blank");
    ck_assert_int_eq(p->status, -1);
    acme_problem_free(p);
}
END_TEST

static const struct {
    const char *doc;
    enum eca_rc rc;
    const char *needle;
} bad_docs[] = {
    {"{\"type\":\"urn:ietf:params:acme:error:badNonce\",\"det", ECA_EPARSE,
     "problem: invalid JSON"},
    {"{\"type\":7}", ECA_EPROTO, "problem.type: expected string"},
    {"{\"type\":\"x\",\"subproblems\":{}}", ECA_EPROTO, "problem.subproblems: expected array"},
    {"{\"type\":\"x\",\"subproblems\":[{\"detail\":\"y\"}]}", ECA_EPROTO,
     "problem.subproblems[0].type: missing"},
    {"{\"type\":\"x\",\"subproblems\":[{\"type\":\"y\",\"identifier\":{\"type\":\"dns\"}}]}",
     ECA_EPROTO, "problem.subproblems[0].identifier.value: missing"},
    {"[]", ECA_EPROTO, "problem: expected object"},
};

START_TEST(problem_parse_rejects_broken_documents)
{
    struct acme_problem *p = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(acme_problem_parse(bad_docs[_i].doc, strlen(bad_docs[_i].doc), &p, &err),
                     bad_docs[_i].rc);
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(err.msg, bad_docs[_i].needle) != NULL, "%s", err.msg);
}
END_TEST

static const struct {
    const char *fixture;
    enum eca_rc rc;
    const char *needle;
    long retry_after;
} gate[] = {
    {"acme/problem_badnonce.http", ECA_ESERVER,
     "order: HTTP 400: server problem badNonce: JWS has an invalid anti-replay nonce", -1},
    {"acme/problem_ratelimited.http", ECA_EAGAIN, "server problem rateLimited: too many", 3600},
    {"acme/problem_503.http", ECA_EAGAIN, "HTTP 503: server problem serverInternal", 1},
    {"acme/problem_unauthorized.http", ECA_EAUTH, "server problem unauthorized", -1},
    {"acme/problem_account_missing.http", ECA_ENOTFOUND, "accountDoesNotExist", -1},
    {"acme/account_eab_required.http", ECA_EAUTH, "externalAccountRequired", -1},
    {"acme/problem_no_type.http", ECA_ESERVER, "server problem about:blank: something odd", -1},
    {"acme/problem_truncated.http", ECA_ESERVER, "HTTP 400 without a problem document", -1},
    {"acme/problem_wrong_types.http", ECA_ESERVER, "HTTP 400 without a problem document", -1},
    {"acme/problem_html_500.http", ECA_ESERVER, "HTTP 500 without a problem document", -1},
    {"acme/problem_subproblems.http", ECA_ESERVER, "dns:example.net: rejectedIdentifier", -1},
    {"acme/order_html.http", ECA_EPROTO, "order: unexpected Content-Type \"text/html", -1},
};

START_TEST(problem_gate_maps_responses_to_errors)
{
    struct eca_http_resp resp;
    struct eca_err err = {0};

    fixture_load_http(gate[_i].fixture, &resp);
    ck_assert_int_eq(acme_problem_check(&resp, "order", "application/json", 0, &err), gate[_i].rc);
    ck_assert_msg(strstr(err.msg, gate[_i].needle) != NULL, "%s", err.msg);
    ck_assert_int_eq(err.retry_after, gate[_i].retry_after);
    fixture_free_http(&resp);
}
END_TEST

START_TEST(problem_detail_cannot_forge_log_lines)
{
    struct eca_http_resp resp;
    struct eca_err err = {0};

    fixture_load_http("acme/problem_control_chars.http", &resp);
    ck_assert_int_eq(acme_problem_check(&resp, "x", NULL, 0, &err), ECA_ESERVER);
    ck_assert_ptr_null(strchr(err.msg, '\n'));
    ck_assert_ptr_nonnull(strstr(err.msg, "line1?{"));
    fixture_free_http(&resp);
}
END_TEST

START_TEST(problem_gate_passes_success_and_caps_size)
{
    struct eca_http_resp resp;
    struct eca_err err = {0};
    struct json_object *obj = NULL;
    char *raw = malloc(ACME_JSON_MAX + 400);
    size_t n;

    fixture_load_http("acme/order_pending.http", &resp);
    ck_assert_int_eq(acme_problem_json(&resp, "order", &obj, &err), ECA_OK);
    json_object_put(obj);
    fixture_free_http(&resp);

    /* A success body above the JSON cap is refused before parsing. */
    n = (size_t)sprintf(raw,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\n\r\n{\"x\":\"",
                        ACME_JSON_MAX + 10);
    memset(raw + n, 'a', ACME_JSON_MAX + 2);
    memcpy(raw + n + ACME_JSON_MAX + 2, "\"}", 2);
    eca_http_resp_init(&resp, ACME_JSON_MAX * 2);
    ck_assert_int_eq(test_http_parse_raw(raw, n + ACME_JSON_MAX + 4, &resp, &err), ECA_OK);
    ck_assert_int_eq(acme_problem_json(&resp, "order", &obj, &err), ECA_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "order: body of"));
    eca_http_resp_free(&resp);
    free(raw);
}
END_TEST

static Suite *
acme_problem_suite(void)
{
    Suite *s = suite_create("acme_problem");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, problem_parses_subproblems_per_identifier);
    tcase_add_test(tc, problem_without_type_is_about_blank);
    tcase_add_loop_test(tc, problem_parse_rejects_broken_documents, 0,
                        sizeof bad_docs / sizeof bad_docs[0]);
    tcase_add_loop_test(tc, problem_gate_maps_responses_to_errors, 0, sizeof gate / sizeof gate[0]);
    tcase_add_test(tc, problem_detail_cannot_forge_log_lines);
    tcase_add_test(tc, problem_gate_passes_success_and_caps_size);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(acme_problem_suite)
