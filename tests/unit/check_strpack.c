/* SPDX-License-Identifier: MIT */
/* Packed string fields: a round trip, empty fields, a field at its cap, a smaller destination. */
#include <check.h>
#include <string.h>

#include "eca_strpack.h"
#include "eca_test.h"

START_TEST(round_trip_keeps_every_field)
{
    char a[8] = "serial", b[4] = "", c[16] = "a longer one", out_a[8], out_b[4], out_c[16];
    char *f[] = {a, b, c}, *g[] = {out_a, out_b, out_c};
    const size_t len[] = {sizeof a, sizeof b, sizeof c};
    char packed[64];

    ck_assert_uint_eq(eca_strpack_size(f, len, 3), 7 + 1 + 13);
    eca_strpack_put(packed, f, len, 3);
    ck_assert_int_eq(memcmp(packed, "serial\0\0a longer one\0", 21), 0);
    eca_strpack_get(packed, g, len, 3);
    ck_assert_str_eq(out_a, "serial");
    ck_assert_str_eq(out_b, "");
    ck_assert_str_eq(out_c, "a longer one");
}
END_TEST

/* A field that fills its array without a terminator is cut to len - 1, as the struct holds it. */
START_TEST(unterminated_field_is_cut_at_its_cap)
{
    char a[4] = {'a', 'b', 'c', 'd'}, out[4];
    char *f[] = {a}, *g[] = {out};
    const size_t len[] = {sizeof a};
    char packed[8];

    ck_assert_uint_eq(eca_strpack_size(f, len, 1), 4);
    eca_strpack_put(packed, f, len, 1);
    ck_assert_str_eq(packed, "abc");
    eca_strpack_get(packed, g, len, 1);
    ck_assert_str_eq(out, "abc");
}
END_TEST

/* Unpacking into smaller fields cuts each one and still finds the next. */
START_TEST(get_cuts_to_the_destination)
{
    char small[3], next[8];
    char *g[] = {small, next};
    const size_t len[] = {sizeof small, sizeof next};

    eca_strpack_get("longer\0next", g, len, 2);
    ck_assert_str_eq(small, "lo");
    ck_assert_str_eq(next, "next");
}
END_TEST

static Suite *
strpack_suite(void)
{
    Suite *s = suite_create("strpack");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, round_trip_keeps_every_field);
    tcase_add_test(tc, unterminated_field_is_cut_at_its_cap);
    tcase_add_test(tc, get_cuts_to_the_destination);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(strpack_suite)
