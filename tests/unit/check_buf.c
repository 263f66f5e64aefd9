/* SPDX-License-Identifier: MIT */
/* eca_buf tests: growth, NUL termination, printf, the cap leaving the buffer unchanged, steal. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "eca_buf.h"
#include "eca_test.h"

START_TEST(append_grows_and_terminates)
{
    struct eca_buf b;
    struct eca_err err = {0};
    char chunk[1000];
    size_t i;

    eca_buf_init(&b, 0);
    ck_assert_uint_eq(b.max, ECA_BUF_DEFAULT_MAX);
    ck_assert_str_eq(eca_buf_str(&b), "");
    memset(chunk, 'a', sizeof chunk);
    for (i = 0; i < 50; i++)
        ck_assert_int_eq(eca_buf_append(&b, chunk, sizeof chunk, &err), ECA_OK);
    ck_assert_uint_eq(b.len, 50000);
    ck_assert_uint_eq(strlen(eca_buf_str(&b)), 50000);
    ck_assert_int_eq(b.data[b.len], '\0');
    ck_assert_int_eq(eca_buf_append(&b, NULL, 0, &err), ECA_OK);
    ck_assert_uint_eq(b.len, 50000);
    eca_buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    eca_buf_free(NULL);
}
END_TEST

START_TEST(binary_and_strings)
{
    struct eca_buf b;
    struct eca_err err = {0};

    eca_buf_init(&b, 64);
    ck_assert_int_eq(eca_buf_append(&b, "a\0b", 3, &err), ECA_OK);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_int_eq(memcmp(b.data, "a\0b\0", 4), 0);
    ck_assert_int_eq(eca_buf_puts(&b, "cd", &err), ECA_OK);
    ck_assert_uint_eq(b.len, 5);
    ck_assert_int_eq(eca_buf_printf(&b, &err, "-%d-%s", 42, "x"), ECA_OK);
    ck_assert_int_eq(memcmp(b.data, "a\0bcd-42-x", 11), 0);
    eca_buf_free(&b);
}
END_TEST

START_TEST(cap_hit_leaves_buffer_unchanged)
{
    struct eca_buf b;
    struct eca_err err = {0};
    unsigned char *before;

    eca_buf_init(&b, 10);
    ck_assert_int_eq(eca_buf_puts(&b, "0123456789", &err), ECA_OK); /* exactly the cap */
    before = b.data;
    ck_assert_int_eq(eca_buf_append(&b, "x", 1, &err), ECA_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "10-byte limit"));
    ck_assert_int_eq(eca_buf_printf(&b, &err, "%s", "y"), ECA_ETOOBIG);
    ck_assert_int_eq(eca_buf_puts(&b, "zz", &err), ECA_ETOOBIG);
    ck_assert_int_eq(eca_buf_append(&b, "x", (size_t)-1, &err), ECA_ETOOBIG);
    ck_assert_uint_eq(b.len, 10);
    ck_assert_ptr_eq(b.data, before);
    ck_assert_str_eq(eca_buf_str(&b), "0123456789");
    eca_buf_free(&b);

    eca_buf_init(&b, 5);
    ck_assert_int_eq(eca_buf_puts(&b, "abc", &err), ECA_OK);
    ck_assert_int_eq(eca_buf_printf(&b, &err, "%d", 123), ECA_ETOOBIG);
    ck_assert_str_eq(eca_buf_str(&b), "abc");
    ck_assert_int_eq(eca_buf_printf(&b, &err, "%d", 12), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&b), "abc12");
    eca_buf_free(&b);
}
END_TEST

START_TEST(reset_keeps_cap_and_steal_hands_over)
{
    struct eca_buf b;
    struct eca_err err = {0};
    char *s;

    eca_buf_init(&b, 8);
    ck_assert_int_eq(eca_buf_puts(&b, "secret", &err), ECA_OK);
    eca_buf_reset(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_str_eq(eca_buf_str(&b), "");
    ck_assert_uint_eq(b.max, 8);
    ck_assert_int_eq(eca_buf_puts(&b, "123456789", &err), ECA_ETOOBIG);
    ck_assert_int_eq(eca_buf_puts(&b, "owned", &err), ECA_OK);
    s = eca_buf_steal(&b);
    ck_assert_str_eq(s, "owned");
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_str_eq(eca_buf_str(&b), "");
    free(s);
    ck_assert_int_eq(eca_buf_puts(&b, "again", &err), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&b), "again");
    eca_buf_free(&b);
    eca_buf_init(&b, 0);
    ck_assert_ptr_null(eca_buf_steal(&b));
}
END_TEST

static Suite *
buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, append_grows_and_terminates);
    tcase_add_test(tc, binary_and_strings);
    tcase_add_test(tc, cap_hit_leaves_buffer_unchanged);
    tcase_add_test(tc, reset_keeps_cap_and_steal_hands_over);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(buf_suite)
