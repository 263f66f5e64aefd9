/* SPDX-License-Identifier: MIT */
/* Tests of the newAccount payload and the account response parser (RFC 8555 §7.3). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "acme_account.h"
#include "eca_test.h"

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
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(acme_account_suite)
