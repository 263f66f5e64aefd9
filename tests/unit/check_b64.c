/* SPDX-License-Identifier: MIT */
/* Base64/base64url tests: RFC 4648 §10 vectors, whitespace, padding, garbage with offsets. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "eca_b64.h"
#include "eca_test.h"

static const struct {
    const char *plain, *std, *url;
} vec[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
    {"\xfb\xff\xbf", "+/+/", "-_-_"},
    {"\xfb\xff", "+/8=", "-_8"},
};

START_TEST(rfc4648_vectors_round_trip)
{
    struct eca_err err = {0};
    struct eca_buf b;
    const char *pl = vec[_i].plain;
    size_t n = strlen(pl);

    eca_buf_init(&b, 0);
    ck_assert_int_eq(eca_b64_encode(pl, n, &b, &err), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&b), vec[_i].std);
    eca_buf_reset(&b);
    ck_assert_int_eq(eca_b64url_encode(pl, n, &b, &err), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&b), vec[_i].url);
    eca_buf_reset(&b);
    ck_assert_int_eq(eca_b64_decode(vec[_i].std, strlen(vec[_i].std), &b, &err), ECA_OK);
    ck_assert_uint_eq(b.len, n);
    ck_assert(n == 0 || memcmp(b.data, pl, n) == 0);
    eca_buf_reset(&b);
    ck_assert_int_eq(eca_b64url_decode(vec[_i].url, strlen(vec[_i].url), &b, &err), ECA_OK);
    ck_assert_uint_eq(b.len, n);
    ck_assert(n == 0 || memcmp(b.data, pl, n) == 0);
    eca_buf_free(&b);
}
END_TEST

START_TEST(decode_appends_and_accepts_optional_padding)
{
    struct eca_err err = {0};
    struct eca_buf b;

    eca_buf_init(&b, 0);
    ck_assert_int_eq(eca_buf_puts(&b, ">", &err), ECA_OK);
    ck_assert_int_eq(eca_b64_decode("Zm9vYg", 6, &b, &err), ECA_OK);  /* no padding */
    ck_assert_int_eq(eca_b64url_decode("Zm8=", 4, &b, &err), ECA_OK); /* padded url */
    ck_assert_str_eq(eca_buf_str(&b), ">foobfo");
    eca_buf_free(&b);
}
END_TEST

START_TEST(decode_skips_whitespace_anywhere)
{
    static const char *const in[] = {
        "Zm9v\nYmFy\n", " Zm9vYmFy", "Zm9v\r\nYmFy\r\n", "Z m 9 v\tY m F y", "Zm9vYmE\n=",
        "Zm9vYmE= \n",  "\n\n",
    };
    static const char *const want[] = {"foobar", "foobar", "foobar", "foobar",
                                       "fooba",  "fooba",  ""};
    struct eca_err err = {0};
    struct eca_buf b;
    size_t i;

    for (i = 0; i < sizeof in / sizeof in[0]; i++) {
        eca_buf_init(&b, 0);
        ck_assert_msg(eca_b64_decode(in[i], strlen(in[i]), &b, &err) == ECA_OK, "%zu: %s", i,
                      err.msg);
        ck_assert_str_eq(eca_buf_str(&b), want[i]);
        eca_buf_free(&b);
    }
}
END_TEST

static const struct {
    int url;
    const char *in;
    const char *needle;
} bad[] = {
    {0, "Zm9v!mFy", "base64: invalid character 0x21 at offset 4"},
    {0, "Zm9v-_", "invalid character 0x2d at offset 4"},
    {0, "Zm9vY", "truncated input"},
    {0, "Zg=", "wrong padding"},
    {0, "Zm8==", "invalid character 0x3d at offset 4"},
    {0, "Zg==Zg==", "invalid character 0x5a at offset 4"},
    {0, "=Zg=", "invalid character 0x3d at offset 0"},
    {0, "Zh==", "non-canonical"},
    {0, "Zm9=", "non-canonical"},
    {0, "Zm9v\x00YmFy", "invalid character 0x00 at offset 4"},
    {0, "Zm9v\xc3\xa9", "invalid character 0xc3 at offset 4"},
    {1, "Zm9v+mFy", "base64url: invalid character 0x2b at offset 4"},
    {1, "Zm9v YmFy", "invalid character 0x20 at offset 4"},
    {1, "Zm9v\nYmFy", "invalid character 0x0a at offset 4"},
    {1, "Z", "truncated input"},
};

START_TEST(decode_rejects_garbage_naming_offset)
{
    struct eca_err err = {0};
    struct eca_buf b;
    const char *in = bad[_i].in;
    size_t n = strlen(in);
    enum eca_rc rc;

    if (strcmp(in, "Zm9v") == 0)
        n = 9; /* the embedded NUL case */
    eca_buf_init(&b, 0);
    ck_assert_int_eq(eca_buf_puts(&b, "keep", &err), ECA_OK);
    rc = bad[_i].url ? eca_b64url_decode(in, n, &b, &err) : eca_b64_decode(in, n, &b, &err);
    ck_assert_int_eq(rc, ECA_EPARSE);
    ck_assert_msg(strstr(err.msg, bad[_i].needle) != NULL, "'%s' lacks '%s'", err.msg,
                  bad[_i].needle);
    ck_assert_str_eq(eca_buf_str(&b), "keep"); /* nothing appended on failure */
    eca_buf_free(&b);
}
END_TEST

START_TEST(output_cap_is_enforced)
{
    struct eca_err err = {0};
    struct eca_buf b;

    eca_buf_init(&b, 8);
    ck_assert_int_eq(eca_b64_encode("foobar", 6, &b, &err), ECA_OK);
    ck_assert_int_eq(eca_b64_encode("f", 1, &b, &err), ECA_ETOOBIG);
    ck_assert_str_eq(eca_buf_str(&b), "Zm9vYmFy");
    eca_buf_free(&b);
}
END_TEST

START_TEST(binary_round_trip_all_lengths)
{
    unsigned char in[300];
    struct eca_err err = {0};
    struct eca_buf e, d;
    size_t n, i;

    for (i = 0; i < sizeof in; i++)
        in[i] = (unsigned char)(i * 7 + 3);
    for (n = 0; n < sizeof in; n += 7) {
        eca_buf_init(&e, 0);
        eca_buf_init(&d, 0);
        ck_assert_int_eq(eca_b64url_encode(in, n, &e, &err), ECA_OK);
        ck_assert_ptr_null(strchr(eca_buf_str(&e), '='));
        ck_assert_int_eq(eca_b64url_decode((const char *)e.data, e.len, &d, &err), ECA_OK);
        ck_assert_uint_eq(d.len, n);
        ck_assert(n == 0 || memcmp(d.data, in, n) == 0);
        eca_buf_free(&e);
        eca_buf_free(&d);
    }
}
END_TEST

static Suite *
b64_suite(void)
{
    Suite *s = suite_create("b64");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_loop_test(tc, rfc4648_vectors_round_trip, 0, sizeof vec / sizeof vec[0]);
    tcase_add_test(tc, decode_appends_and_accepts_optional_padding);
    tcase_add_test(tc, decode_skips_whitespace_anywhere);
    tcase_add_loop_test(tc, decode_rejects_garbage_naming_offset, 0, sizeof bad / sizeof bad[0]);
    tcase_add_test(tc, output_cap_is_enforced);
    tcase_add_test(tc, binary_round_trip_all_lengths);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(b64_suite)
