/* SPDX-License-Identifier: MIT */
/* Tests of the transport-independent HTTP code: raw parsing, headers, Retry-After, URL checks. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eca_http.h"
#include "eca_test.h"
#include "http_raw.h"

/* Whole fixture file, NUL-terminated; the caller frees it. */
static char *
read_fixture(const char *name, size_t *len)
{
    FILE *f = fopen(fixture_path(name), "rb");
    char *p = NULL;
    long n;

    ck_assert_msg(f != NULL, "fixture %s missing", name);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    p = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return p;
}

static enum eca_rc
parse_fixture(const char *name, size_t cap, struct eca_http_resp *resp, struct eca_err *err)
{
    size_t len;
    char *raw = read_fixture(name, &len);
    enum eca_rc rc;

    eca_http_resp_init(resp, cap);
    rc = test_http_parse_raw(raw, len, resp, err);
    free(raw);
    return rc;
}

static void
check_ok_json(const char *fixture)
{
    struct eca_http_resp resp;
    struct eca_err err = {0};
    char v[64];

    ck_assert_int_eq(parse_fixture(fixture, 0, &resp, &err), ECA_OK);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_uint_eq(resp.nheaders, 3);
    ck_assert_str_eq((char *)resp.body.data, "{\"status\":\"ok\"}\n");
    ck_assert_uint_eq(resp.body.len, 16);
    ck_assert_int_eq(eca_http_resp_header(&resp, "replay-nonce", v, sizeof v), 1);
    ck_assert_str_eq(v, "abc123");
    ck_assert_int_eq(eca_http_resp_media_type(&resp, v, sizeof v), 1);
    ck_assert_str_eq(v, "application/json");
    eca_http_resp_free(&resp);
}

START_TEST(parse_crlf_and_lf_alike)
{
    check_ok_json("http/ok_crlf.http");
    check_ok_json("http/ok_lf.http");
}
END_TEST

START_TEST(parse_chunked_with_extension_and_trailer)
{
    struct eca_http_resp resp;
    struct eca_err err = {0};
    char v[64];

    ck_assert_int_eq(parse_fixture("http/chunked.http", 0, &resp, &err), ECA_OK);
    ck_assert_str_eq((char *)resp.body.data, "hello, world0123456789");
    ck_assert_int_eq(eca_http_resp_media_type(&resp, v, sizeof v), 1);
    ck_assert_str_eq(v, "application/pkcs7-mime");
    /* Trailer fields are not headers of the response. */
    ck_assert_int_eq(eca_http_resp_header(&resp, "X-Trailer", v, sizeof v), 0);
    eca_http_resp_free(&resp);

    ck_assert_int_eq(parse_fixture("http/chunked_lf.http", 0, &resp, &err), ECA_OK);
    ck_assert_str_eq((char *)resp.body.data, "hello");
    eca_http_resp_free(&resp);
}
END_TEST

START_TEST(parse_body_to_end_interim_and_no_content)
{
    struct eca_http_resp resp;
    struct eca_err err = {0};
    char v[32];

    ck_assert_int_eq(parse_fixture("http/body_to_end.http", 0, &resp, &err), ECA_OK);
    ck_assert_str_eq((char *)resp.body.data, "read until the end\nof the input\n");
    eca_http_resp_free(&resp);

    ck_assert_int_eq(parse_fixture("http/continue_then_200.http", 0, &resp, &err), ECA_OK);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq((char *)resp.body.data, "ok");
    eca_http_resp_free(&resp);

    ck_assert_int_eq(parse_fixture("http/no_content.http", 0, &resp, &err), ECA_OK);
    ck_assert_int_eq(resp.status, 204);
    ck_assert_uint_eq(resp.body.len, 0);
    ck_assert_int_eq(eca_http_resp_header(&resp, "Replay-Nonce", v, sizeof v), 1);
    ck_assert_str_eq(v, "n204");
    eca_http_resp_free(&resp);

    ck_assert_int_eq(parse_fixture("http/retry_503.http", 0, &resp, &err), ECA_OK);
    ck_assert_int_eq(resp.status, 503);
    ck_assert_int_eq(eca_http_resp_header(&resp, "Retry-After", v, sizeof v), 1);
    ck_assert_int_eq(eca_http_retry_after(v, 0), 120);
    eca_http_resp_free(&resp);
}
END_TEST

static const struct {
    const char *fixture;
    size_t cap;
    enum eca_rc rc;
    const char *needle;
} bad[] = {
    {"http/no_status.http", 0, ECA_EPARSE, "HTTP status line"},
    {"http/status_bad.http", 0, ECA_EPARSE, "HTTP status line"},
    {"http/obs_fold.http", 0, ECA_EPARSE, "header line 4: obsolete line folding"},
    {"http/header_no_colon.http", 0, ECA_EPARSE, "header line 3: no ':'"},
    {"http/chunk_size_bad.http", 0, ECA_EPARSE, "chunk size"},
    {"http/chunked_truncated.http", 0, ECA_EPARSE, "chunk data: truncated"},
    {"http/chunked_no_last.http", 0, ECA_EPARSE, "chunk size: missing"},
    {"http/cl_truncated.http", 0, ECA_EPARSE, "body: truncated"},
    {"http/cl_conflict.http", 0, ECA_EPARSE, "Content-Length: conflicting"},
    {"http/te_unsupported.http", 0, ECA_EPARSE, "Transfer-Encoding"},
    {"http/body_64.http", 63, ECA_ETOOBIG, "exceeds 63 bytes"},
    {"http/body_64_to_end.http", 63, ECA_ETOOBIG, "exceeds 63 bytes"},
    {"http/chunked.http", 20, ECA_ETOOBIG, "exceeds 20 bytes"},
};

START_TEST(parse_rejects_broken_responses)
{
    struct eca_http_resp resp;
    struct eca_err err = {0};

    ck_assert_int_eq(parse_fixture(bad[_i].fixture, bad[_i].cap, &resp, &err), bad[_i].rc);
    ck_assert_msg(strstr(err.msg, bad[_i].needle) != NULL, "%s: '%s' lacks '%s'", bad[_i].fixture,
                  err.msg, bad[_i].needle);
    eca_http_resp_free(&resp);
}
END_TEST

START_TEST(parse_body_exactly_at_cap)
{
    struct eca_http_resp resp;
    struct eca_err err = {0};

    ck_assert_int_eq(parse_fixture("http/body_64.http", 64, &resp, &err), ECA_OK);
    ck_assert_uint_eq(resp.body.len, 64);
    eca_http_resp_free(&resp);
    ck_assert_int_eq(parse_fixture("http/body_64_to_end.http", 64, &resp, &err), ECA_OK);
    eca_http_resp_free(&resp);
}
END_TEST

START_TEST(parse_empty_and_garbage)
{
    struct eca_http_resp resp;
    struct eca_err err = {0};
    static const char *const inputs[] = {"",
                                         "\r\n",
                                         "HTTP/1.1",
                                         "HTTP/1.1 99 Low\r\n\r\n",
                                         "HTTP/1.1 200OK\r\n\r\n",
                                         "HTTP/1.1 200 OK\x01\r\n\r\n"};
    static const char nul_value[] = "HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n";
    static const char space_name[] = "HTTP/1.1 200 OK\r\nA : b\r\n\r\n";

    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        eca_http_resp_init(&resp, 0);
        ck_assert_int_eq(test_http_parse_raw(inputs[i], strlen(inputs[i]), &resp, &err),
                         ECA_EPARSE);
        ck_assert_ptr_nonnull(strstr(err.msg, "HTTP status line"));
        eca_http_resp_free(&resp);
    }
    eca_http_resp_init(&resp, 0);
    ck_assert_int_eq(test_http_parse_raw(nul_value, sizeof nul_value - 1, &resp, &err), ECA_EPARSE);
    ck_assert_str_eq(err.msg, "header line 2: control character in value");
    eca_http_resp_free(&resp);
    eca_http_resp_init(&resp, 0);
    ck_assert_int_eq(test_http_parse_raw(space_name, sizeof space_name - 1, &resp, &err),
                     ECA_EPARSE);
    ck_assert_str_eq(err.msg, "header line 2: invalid field name");
    eca_http_resp_free(&resp);
}
END_TEST

START_TEST(headers_duplicate_and_case_insensitive)
{
    struct eca_http_resp resp;
    struct eca_err err = {0};
    char v[128];

    ck_assert_int_eq(parse_fixture("http/dup_headers.http", 0, &resp, &err), ECA_OK);
    ck_assert_int_eq(resp.status, 201);
    ck_assert_str_eq(eca_http_resp_header_nth(&resp, "LINK", 0),
                     "<https://ca.example/dir>;rel=\"index\"");
    ck_assert_str_eq(eca_http_resp_header_nth(&resp, "Link", 1),
                     "<https://ca.example/issuer>;rel=\"up\"");
    ck_assert_ptr_null(eca_http_resp_header_nth(&resp, "link", 2));
    ck_assert_int_eq(eca_http_resp_header(&resp, "location", v, sizeof v), 1);
    ck_assert_str_eq(v, "https://ca.example/order/1");
    /* A prefix of a name is not the name. */
    ck_assert_int_eq(eca_http_resp_header(&resp, "Loc", v, sizeof v), 0);
    ck_assert_int_eq(eca_http_resp_header(&resp, "Content-Type", v, sizeof v), 0);
    ck_assert_int_eq(eca_http_resp_media_type(&resp, v, sizeof v), 0);
    /* Truncated into a small buffer, still NUL-terminated. */
    ck_assert_int_eq(eca_http_resp_header(&resp, "Location", v, 6), 1);
    ck_assert_str_eq(v, "https");
    eca_http_resp_free(&resp);
}
END_TEST

START_TEST(header_count_is_capped)
{
    struct eca_http_resp resp;
    struct eca_err err = {0};
    char line[32];

    eca_http_resp_init(&resp, 0);
    for (int i = 0; i < ECA_HTTP_MAX_HEADERS; i++) {
        snprintf(line, sizeof line, "X-%d: v\r\n", i);
        ck_assert_int_eq(eca_http_resp_add_header(&resp, line, strlen(line), &err), ECA_OK);
    }
    ck_assert_str_eq(resp.headers[3], "X-3: v");
    ck_assert_int_eq(eca_http_resp_add_header(&resp, "Y: 1", 4, &err), ECA_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "more than 64 header lines"));
    eca_http_resp_free(&resp);
    ck_assert_uint_eq(resp.nheaders, 0);
}
END_TEST

START_TEST(media_type_forms)
{
    static const struct {
        const char *header, *want;
    } cases[] = {
        {"Content-Type: application/problem+json", "application/problem+json"},
        {"content-type:APPLICATION/JSON;charset=UTF-8", "application/json"},
        {"Content-Type:   text/plain  ; a=b", "text/plain"},
        {"Content-Type: ;charset=utf-8", NULL},
    };
    char v[64];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct eca_http_resp resp;
        eca_http_resp_init(&resp, 0);
        ck_assert_int_eq(
            eca_http_resp_add_header(&resp, cases[i].header, strlen(cases[i].header), NULL),
            ECA_OK);
        ck_assert_int_eq(eca_http_resp_media_type(&resp, v, sizeof v), cases[i].want != NULL);
        if (cases[i].want)
            ck_assert_str_eq(v, cases[i].want);
        /* Too small a buffer is "no usable media type", never a truncated one. */
        ck_assert_int_eq(eca_http_resp_media_type(&resp, v, 5), 0);
        eca_http_resp_free(&resp);
    }
}
END_TEST

/* 1994-11-06 08:49:37 UTC, the date of RFC 9110's examples. */
#define T1994 ((time_t)784111777)

START_TEST(retry_after_forms)
{
    ck_assert_int_eq(eca_http_retry_after("120", 0), 120);
    ck_assert_int_eq(eca_http_retry_after("  0 ", 0), 0);
    ck_assert_int_eq(eca_http_retry_after("86400", 0), 86400);
    /* Huge values are clamped to a day. */
    ck_assert_int_eq(eca_http_retry_after("86401", 0), ECA_HTTP_RETRY_AFTER_MAX);
    ck_assert_int_eq(eca_http_retry_after("99999999999999999999999999", 0),
                     ECA_HTTP_RETRY_AFTER_MAX);
    /* The three HTTP-date forms of RFC 9110 §5.6.7, 63 s after "now". */
    ck_assert_int_eq(eca_http_retry_after("Sun, 06 Nov 1994 08:50:40 GMT", T1994), 63);
    ck_assert_int_eq(eca_http_retry_after("Sunday, 06-Nov-94 08:50:40 GMT", T1994), 63);
    ck_assert_int_eq(eca_http_retry_after("Sun Nov  6 08:50:40 1994", T1994), 63);
    ck_assert_int_eq(eca_http_retry_after("Sun Nov 16 08:49:37 1994", T1994),
                     ECA_HTTP_RETRY_AFTER_MAX);
    ck_assert_int_eq(eca_http_retry_after("Mon, 07 Nov 1994 08:49:36 GMT", T1994), 86399);
    /* Dates in the past mean "now". */
    ck_assert_int_eq(eca_http_retry_after("Sun, 06 Nov 1994 08:49:36 GMT", T1994), 0);
    ck_assert_int_eq(eca_http_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", T1994), 0);
}
END_TEST

START_TEST(retry_after_two_digit_years)
{
    /* now = 2030-01-01: "80" is 2080 (50 years ahead), "81" is 1981 (51 is too far ahead). */
    time_t now2030 = (time_t)1893456000;

    ck_assert_int_eq(eca_http_retry_after("Friday, 01-Jan-80 00:00:00 GMT", now2030),
                     ECA_HTTP_RETRY_AFTER_MAX);
    ck_assert_int_eq(eca_http_retry_after("Thursday, 01-Jan-81 00:00:00 GMT", now2030), 0);
    ck_assert_int_eq(eca_http_retry_after("Tuesday, 01-Jan-30 00:00:10 GMT", now2030), 10);
}
END_TEST

START_TEST(retry_after_garbage)
{
    static const char *const bad_values[] = {
        "",
        "   ",
        "-5",
        "+5",
        "12s",
        "1.5",
        "soon",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 29 Feb 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT trailing",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun, 06 Nov 1994 08:49 GMT",
    };

    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++)
        ck_assert_msg(eca_http_retry_after(bad_values[i], T1994) == -1, "'%s' accepted",
                      bad_values[i]);
    ck_assert_int_eq(eca_http_retry_after(NULL, T1994), -1);
    /* Leap day of a leap year is fine (in the past here). */
    ck_assert_int_eq(eca_http_retry_after("Mon, 29 Feb 1988 00:00:00 GMT", T1994), 0);
}
END_TEST

START_TEST(check_url_cases)
{
    struct eca_err err = {0};

    ck_assert_int_eq(eca_http_check_url("https://ca.example/dir", 0, &err), ECA_OK);
    ck_assert_int_eq(eca_http_check_url("HTTPS://ca.example:8443", 0, &err), ECA_OK);
    ck_assert_int_eq(eca_http_check_url("http://127.0.0.1:4211/crl", 1, &err), ECA_OK);
    ck_assert_int_eq(eca_http_check_url("https://ca.example/x", 1, &err), ECA_OK);

    ck_assert_int_eq(eca_http_check_url("http://127.0.0.1:4211/crl", 0, &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'http://127.0.0.1:4211/crl'"));
    ck_assert_ptr_nonnull(strstr(err.msg, "insecure"));
    ck_assert_int_eq(eca_http_check_url("ftp://ca.example/x", 1, &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'ftp://ca.example/x'"));
    ck_assert_int_eq(eca_http_check_url("ca.example/x", 0, &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'ca.example/x'"));
    ck_assert_int_eq(eca_http_check_url("", 0, &err), ECA_EINVAL);
    ck_assert_str_eq(err.msg, "URL is empty");
    ck_assert_int_eq(eca_http_check_url(NULL, 1, &err), ECA_EINVAL);
    ck_assert_int_eq(eca_http_check_url("https://", 0, &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "no host"));
    ck_assert_int_eq(eca_http_check_url("https:///path", 0, &err), ECA_EINVAL);
    ck_assert_int_eq(eca_http_check_url("https://ca.example/a b", 0, &err), ECA_EINVAL);
    ck_assert_int_eq(eca_http_check_url("https://ca.example/\r\nX: y", 0, &err), ECA_EINVAL);
    /* Userinfo is refused without echoing the password. */
    ck_assert_int_eq(eca_http_check_url("https://bob:hunter22@ca.example/", 0, &err), ECA_EINVAL);
    ck_assert_ptr_null(strstr(err.msg, "hunter22"));
    ck_assert_ptr_nonnull(strstr(err.msg, "ca.example"));
    /* Every refusal echoes the URL without userinfo or query (error messages are logged). */
    ck_assert_int_eq(eca_http_check_url("http://bob:hunter22@ca.example/x?t=hunter22", 0, &err),
                     ECA_EINVAL);
    ck_assert_ptr_null(strstr(err.msg, "hunter22"));
    ck_assert_ptr_nonnull(strstr(err.msg, "insecure"));
    ck_assert_int_eq(eca_http_check_url("ftp://bob:hunter22@ca.example/x", 1, &err), ECA_EINVAL);
    ck_assert_ptr_null(strstr(err.msg, "hunter22"));
    ck_assert_int_eq(eca_http_check_url("https://bob:hunter22@ca.example/a b", 0, &err),
                     ECA_EINVAL);
    ck_assert_ptr_null(strstr(err.msg, "hunter22"));
    /* An '@' in the path is not userinfo. */
    ck_assert_int_eq(eca_http_check_url("https://ca.example/a@b", 0, &err), ECA_OK);
}
END_TEST

/* A fake transport sees an initialised response and the transport's cap. */
static enum eca_rc
cap_perform(void *ctx, const struct eca_http_req *req, struct eca_http_resp *resp,
            struct eca_err *err)
{
    (void)req;
    *(size_t *)ctx = resp->body.max;
    ck_assert_uint_eq(resp->nheaders, 0);
    static const char raw[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";

    return test_http_parse_raw(raw, sizeof raw - 1, resp, err);
}

static const struct eca_http_ops cap_ops = {cap_perform, NULL};

START_TEST(perform_initialises_response_with_cap)
{
    struct eca_http *h = NULL;
    struct eca_http_resp resp;
    struct eca_err err = {0};
    struct eca_http_req req = {.method = "GET", .url = "https://x.example/"};
    size_t seen = 0;

    ck_assert_int_eq(eca_http_new(&cap_ops, &seen, &h, &err), ECA_OK);
    ck_assert_int_eq(eca_http_perform(h, &req, &resp, &err), ECA_OK);
    ck_assert_uint_eq(seen, ECA_HTTP_DEFAULT_MAX_BODY);
    ck_assert_str_eq((char *)resp.body.data, "abc");
    eca_http_resp_free(&resp);
    eca_http_set_max_body(h, 2);
    ck_assert_int_eq(eca_http_perform(h, &req, &resp, &err), ECA_ETOOBIG);
    ck_assert_uint_eq(seen, 2);
    eca_http_resp_free(&resp);
    eca_http_free(h);
    eca_http_free(NULL);
    eca_http_resp_free(NULL);
    ck_assert_int_eq(eca_http_perform(NULL, &req, &resp, &err), ECA_EINVAL);
    eca_http_resp_free(&resp);
}
END_TEST

START_TEST(perform_logs_without_query_or_userinfo)
{
    struct eca_http *h = NULL;
    struct eca_http_resp resp;
    struct eca_err err = {0};
    struct eca_http_req req = {.method = "POST",
                               .url = "https://bob:pw-canary@x.example/new?token=tok-canary",
                               .body = "body-canary",
                               .body_len = 11};
    size_t seen = 0;

    logcap_start();
    ck_assert_int_eq(eca_http_new(&cap_ops, &seen, &h, &err), ECA_OK);
    ck_assert_int_eq(eca_http_perform(h, &req, &resp, &err), ECA_OK);
    ck_assert_msg(logcap_contains("\"event\":\"http_exchange\""), "%s", logcap_text());
    ck_assert_msg(logcap_contains("\"url\":\"https://x.example/new\""), "%s", logcap_text());
    ck_assert(logcap_contains("\"status\":200"));
    ck_assert(logcap_contains("\"length\":3"));
    ck_assert(!logcap_contains("canary"));
    eca_http_resp_free(&resp);
    eca_http_free(h);
    logcap_stop();
}
END_TEST

static Suite *
http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, parse_crlf_and_lf_alike);
    tcase_add_test(tc, parse_chunked_with_extension_and_trailer);
    tcase_add_test(tc, parse_body_to_end_interim_and_no_content);
    tcase_add_loop_test(tc, parse_rejects_broken_responses, 0, sizeof bad / sizeof bad[0]);
    tcase_add_test(tc, parse_body_exactly_at_cap);
    tcase_add_test(tc, parse_empty_and_garbage);
    tcase_add_test(tc, headers_duplicate_and_case_insensitive);
    tcase_add_test(tc, header_count_is_capped);
    tcase_add_test(tc, media_type_forms);
    tcase_add_test(tc, retry_after_forms);
    tcase_add_test(tc, retry_after_two_digit_years);
    tcase_add_test(tc, retry_after_garbage);
    tcase_add_test(tc, check_url_cases);
    tcase_add_test(tc, perform_initialises_response_with_cap);
    tcase_add_test(tc, perform_logs_without_query_or_userinfo);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(http_suite)
