/* SPDX-License-Identifier: MIT */
/* WWW-Authenticate parsing: schemes among challenges, auth-params with quoted commas, token68. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "eca_http_auth.h"
#include "eca_test.h"

static const struct {
    const char *value;
    unsigned want;
} vec[] = {
    {"Basic realm=\"estrealm\"", ECA_HTTP_AUTH_BASIC},
    {"basic", ECA_HTTP_AUTH_BASIC},
    /* libest -h */
    {"Digest qop=\"auth\", realm=\"estrealm\", nonce=\"1234\"", ECA_HTTP_AUTH_DIGEST},
    /* RFC 7616 §3.9.1: two challenges in one header, algorithm and a quoted comma */
    {"Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, "
     "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
     "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\", Digest realm=\"x\", "
     "algorithm=MD5",
     ECA_HTTP_AUTH_DIGEST},
    {"Digest realm=\"a\", Basic realm=\"b\"", ECA_HTTP_AUTH_DIGEST | ECA_HTTP_AUTH_BASIC},
    /* a parameter value or a realm that merely says "Basic" is not a challenge */
    {"Bearer realm=\"Basic, Digest\"", ECA_HTTP_AUTH_OTHER},
    {"Bearer error=Basic", ECA_HTTP_AUTH_OTHER},
    {"Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXegDTALBgkqhkiG9xIBAgKhggFk==", ECA_HTTP_AUTH_OTHER},
    {"Basicx realm=a", ECA_HTTP_AUTH_OTHER},
    {"", 0},
    {",,, ", 0},
    {"Digest realm=\"unterminated, Basic", ECA_HTTP_AUTH_DIGEST},
    {"Digest realm=\"esc\\\"aped, Basic\", Basic", ECA_HTTP_AUTH_DIGEST | ECA_HTTP_AUTH_BASIC},
};

START_TEST(schemes_from_one_value)
{
    ck_assert_msg(eca_http_auth_parse(vec[_i].value) == vec[_i].want, "'%s': got %u want %u",
                  vec[_i].value, eca_http_auth_parse(vec[_i].value), vec[_i].want);
}
END_TEST

START_TEST(schemes_from_all_headers)
{
    struct eca_http_resp resp;
    const char *h1 = "WWW-Authenticate: Basic realm=\"r\"";
    const char *h2 = "www-authenticate: Digest realm=\"r\", nonce=\"n\"";
    char names[64];

    eca_http_resp_init(&resp, 0);
    resp.status = 401;
    ck_assert_uint_eq(eca_http_auth_offered(&resp), 0);
    ck_assert_str_eq(eca_http_auth_names(0, names, sizeof names), "none");
    ck_assert_int_eq(eca_http_resp_add_header(&resp, h1, strlen(h1), NULL), ECA_OK);
    ck_assert_int_eq(eca_http_resp_add_header(&resp, h2, strlen(h2), NULL), ECA_OK);
    ck_assert_uint_eq(eca_http_auth_offered(&resp), ECA_HTTP_AUTH_BASIC | ECA_HTTP_AUTH_DIGEST);
    ck_assert_str_eq(eca_http_auth_names(eca_http_auth_offered(&resp), names, sizeof names),
                     "Basic, Digest");
    ck_assert_str_eq(eca_http_auth_names(ECA_HTTP_AUTH_BASIC | ECA_HTTP_AUTH_OTHER, names, 8),
                     "Basic");
    eca_http_resp_free(&resp);
}
END_TEST

static Suite *
http_auth_suite(void)
{
    Suite *s = suite_create("http_auth");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_loop_test(tc, schemes_from_one_value, 0, sizeof vec / sizeof vec[0]);
    tcase_add_test(tc, schemes_from_all_headers);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(http_auth_suite)
