/* SPDX-License-Identifier: MIT */
/* Tests of the ACME directory parser (RFC 8555 §7.1.1) against pebble and Let's Encrypt bytes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "acme_dir.h"
#include "eca_test.h"

START_TEST(dir_parses_pebble)
{
    struct eca_http_resp resp;
    struct acme_dir *d = NULL;
    struct eca_err err = {0};

    fixture_load_http("acme/dir_pebble.http", &resp);
    ck_assert_int_eq(acme_dir_parse(&resp, &d, &err), ECA_OK);
    ck_assert_str_eq(d->new_nonce, "https://localhost:14000/nonce-plz");
    ck_assert_str_eq(d->new_account, "https://localhost:14000/sign-me-up");
    ck_assert_str_eq(d->new_order, "https://localhost:14000/order-plz");
    ck_assert_str_eq(d->revoke_cert, "https://localhost:14000/revoke-cert");
    ck_assert_str_eq(d->key_change, "https://localhost:14000/rollover-account-key");
    ck_assert_ptr_null(d->renewal_info);
    ck_assert_str_eq(d->terms_of_service, "data:text/plain,Do%20what%20thou%20wilt");
    ck_assert_int_eq(d->eab_required, 0);
    acme_dir_free(d);
    fixture_free_http(&resp);
}
END_TEST

START_TEST(dir_parses_letsencrypt_with_ari_and_random_key)
{
    struct eca_http_resp resp;
    struct acme_dir *d = NULL;
    struct eca_err err = {0};

    fixture_load_http("acme/dir_letsencrypt.http", &resp);
    ck_assert_int_eq(acme_dir_parse(&resp, &d, &err), ECA_OK);
    ck_assert_str_eq(d->renewal_info, "https://acme-v02.api.letsencrypt.org/acme/renewal-info");
    ck_assert_str_eq(d->new_nonce, "https://acme-v02.api.letsencrypt.org/acme/new-nonce");
    ck_assert_ptr_nonnull(strstr(d->terms_of_service, "LE-SA"));
    acme_dir_free(d);
    fixture_free_http(&resp);
}
END_TEST

START_TEST(dir_reports_eab_required)
{
    struct eca_http_resp resp;
    struct acme_dir *d = NULL;

    fixture_load_http("acme/dir_eab_required.http", &resp);
    ck_assert_int_eq(acme_dir_parse(&resp, &d, NULL), ECA_OK);
    ck_assert_int_eq(d->eab_required, 1);
    acme_dir_free(d);
    fixture_free_http(&resp);
}
END_TEST

static const struct {
    const char *fixture;
    enum eca_rc rc;
    const char *needle;
} bad[] = {
    {"acme/dir_truncated.http", ECA_EPARSE, "directory: invalid JSON"},
    {"acme/dir_no_neworder.http", ECA_EPROTO, "directory.newOrder: missing"},
    {"acme/dir_wrong_type.http", ECA_EPROTO, "directory.newOrder: expected string"},
    {"acme/dir_meta_wrong_type.http", ECA_EPROTO,
     "directory.meta.externalAccountRequired: expected"},
    {"acme/dir_not_url.http", ECA_EPROTO, "directory.newAccount: not an http(s) URL"},
    {"acme/dir_array.http", ECA_EPROTO, "directory: expected a JSON object"},
    {"acme/dir_html.http", ECA_EPROTO, "directory: unexpected Content-Type \"text/html\""},
    {"acme/dir_503.http", ECA_EAGAIN, "directory: HTTP 503: server problem serverInternal"},
    {"acme/problem_html_500.http", ECA_ESERVER, "directory: HTTP 500"},
    {"acme/dir_profiles_wrong_type.http", ECA_EPROTO,
     "directory.meta.profiles.classic: expected a name and a string"},
    {"acme/dir_profiles_not_object.http", ECA_EPROTO, "directory.meta.profiles: expected object"},
};

START_TEST(dir_parses_pebble_ari_and_profiles)
{
    struct eca_http_resp resp;
    struct acme_dir *d = NULL;
    char list[64];

    fixture_load_http("acme/dir_pebble_ari.http", &resp);
    ck_assert_int_eq(acme_dir_parse(&resp, &d, NULL), ECA_OK);
    ck_assert_str_eq(d->renewal_info, "https://localhost:14000/draft-ietf-acme-ari-03/renewalInfo");
    ck_assert_uint_eq(d->nprofiles, 2);
    ck_assert_str_eq(d->profile_names[0], "default");
    ck_assert_str_eq(d->profile_descs[0], "The profile you know and love");
    ck_assert_str_eq(d->profile_names[1], "shortlived");
    ck_assert_int_eq(acme_dir_has_profile(d, "shortlived"), 1);
    ck_assert_int_eq(acme_dir_has_profile(d, "Shortlived"), 0);
    ck_assert_int_eq(acme_dir_has_profile(d, "tlsserver"), 0);
    acme_dir_profile_list(d, list, sizeof list);
    ck_assert_str_eq(list, "default, shortlived");
    acme_dir_profile_list(d, list, 10);
    ck_assert_str_eq(list, "default, ");
    acme_dir_free(d);
    fixture_free_http(&resp);
    /* pebble 2.4 and most CAs: no profiles at all. */
    fixture_load_http("acme/dir_pebble.http", &resp);
    ck_assert_int_eq(acme_dir_parse(&resp, &d, NULL), ECA_OK);
    ck_assert_uint_eq(d->nprofiles, 0);
    ck_assert_int_eq(acme_dir_has_profile(d, "default"), 0);
    acme_dir_profile_list(d, list, sizeof list);
    ck_assert_str_eq(list, "");
    acme_dir_free(d);
    fixture_free_http(&resp);
}
END_TEST

START_TEST(dir_parse_rejects_broken_responses)
{
    struct eca_http_resp resp;
    struct acme_dir *d = NULL;
    struct eca_err err = {0};

    fixture_load_http(bad[_i].fixture, &resp);
    ck_assert_int_eq(acme_dir_parse(&resp, &d, &err), bad[_i].rc);
    ck_assert_ptr_null(d);
    ck_assert_msg(strstr(err.msg, bad[_i].needle) != NULL, "%s: %s", bad[_i].fixture, err.msg);
    fixture_free_http(&resp);
}
END_TEST

START_TEST(dir_parse_json_caps_size)
{
    struct acme_dir *d = NULL;
    struct eca_err err = {0};
    char *big = calloc(1, (128u << 10) + 2);

    memset(big, ' ', (128u << 10) + 1);
    ck_assert_int_eq(acme_dir_parse_json(big, (128u << 10) + 1, &d, &err), ECA_ETOOBIG);
    ck_assert_ptr_null(d);
    free(big);
}
END_TEST

static Suite *
acme_dir_suite(void)
{
    Suite *s = suite_create("acme_dir");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, dir_parses_pebble);
    tcase_add_test(tc, dir_parses_letsencrypt_with_ari_and_random_key);
    tcase_add_test(tc, dir_reports_eab_required);
    tcase_add_test(tc, dir_parses_pebble_ari_and_profiles);
    tcase_add_loop_test(tc, dir_parse_rejects_broken_responses, 0, sizeof bad / sizeof bad[0]);
    tcase_add_test(tc, dir_parse_json_caps_size);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(acme_dir_suite)
