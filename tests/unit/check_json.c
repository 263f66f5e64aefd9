/* SPDX-License-Identifier: MIT */
/* eca_json tests: one value only, truncated and broken input, typed getters and their messages. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "eca_json.h"
#include "eca_test.h"

static const struct {
    const char *in;
    const char *needle;
} bad[] = {
    {"{\"a\":1", "order: invalid JSON at offset 6: truncated"},
    {"", "order: invalid JSON at offset 0: truncated"},
    {"{\"a\":\"x", "truncated"},
    {"{} x", "order: invalid JSON at offset 3: trailing data"},
    {"{}{}", "order: invalid JSON at offset 2: trailing data"},
    {"[1,2] ]", "offset 6: trailing data"},
    {"{\"a\":tru}", "order: invalid JSON at offset 8"},
    {"{\"a\":1,}", "order: invalid JSON at offset"},
    {"{\"a\":\"\xff\"}", "order: invalid JSON at offset"},
    {"nul", "truncated"},
};

START_TEST(parse_rejects_broken_documents)
{
    struct json_object *o = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_json_parse("order", bad[_i].in, strlen(bad[_i].in), &o, &err), ECA_EPARSE);
    ck_assert_ptr_null(o);
    ck_assert_msg(strstr(err.msg, bad[_i].needle) != NULL, "'%s': '%s' lacks '%s'", bad[_i].in,
                  err.msg, bad[_i].needle);
}
END_TEST

START_TEST(parse_accepts_one_value_with_whitespace)
{
    static const char *const ok[] = {
        "{}", " {\"a\": [1, 2]}\r\n", "[]", "\"s\"", "42", "1.5", "null", "true"};
    struct json_object *o = NULL;
    struct eca_err err = {0};
    size_t i;

    for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ck_assert_msg(eca_json_parse("doc", ok[i], strlen(ok[i]), &o, &err) == ECA_OK, "%s: %s",
                      ok[i], err.msg);
        json_object_put(o);
        o = NULL;
    }
    /* The length bounds the parse: bytes past it are not looked at. */
    ck_assert_int_eq(eca_json_parse("doc", "{}garbage", 2, &o, &err), ECA_OK);
    json_object_put(o);
}
END_TEST

static struct json_object *
doc(void)
{
    static const char *const text =
        "{\"status\":\"valid\",\"finalize\":42,\"n\":-7,\"big\":9007199254740993,\"f\":1.5,"
        "\"ok\":true,\"sub\":{\"x\":1},\"list\":[1],\"nothing\":null}";
    struct json_object *o = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_json_parse("order", text, strlen(text), &o, &err), ECA_OK);
    return o;
}

/* Nesting is bounded (json-c's default tokener depth, 32): a deep server document is a clean
 * ECA_EPARSE naming the document, not unbounded recursion; 31 levels still parse. */
START_TEST(parse_bounds_nesting_depth)
{
    char deep[2 * 4096 + 1];
    struct json_object *o = NULL;
    struct eca_err err = {0};
    int i, n;

    for (i = 0; i < 4096; i++) {
        deep[i] = '[';
        deep[4096 + i] = ']';
    }
    deep[sizeof deep - 1] = '\0';
    ck_assert_int_eq(eca_json_parse("directory", deep, strlen(deep), &o, &err), ECA_EPARSE);
    ck_assert_ptr_null(o);
    ck_assert_ptr_nonnull(strstr(err.msg, "directory: invalid JSON"));
    n = 31;
    memmove(deep + n, deep + 4096, (size_t)n);
    deep[2 * n] = '\0';
    ck_assert_int_eq(eca_json_parse("directory", deep, strlen(deep), &o, &err), ECA_OK);
    json_object_put(o);
}
END_TEST

START_TEST(getters_return_typed_values)
{
    struct json_object *o = doc(), *sub = NULL, *list = NULL;
    struct eca_err err = {0};
    const char *s = NULL;
    long long n = 0;
    int b = 0;

    ck_assert_int_eq(eca_json_get_str(o, "order", "status", 1, &s, &err), ECA_OK);
    ck_assert_str_eq(s, "valid");
    ck_assert_int_eq(eca_json_get_int(o, "order", "n", 1, &n, &err), ECA_OK);
    ck_assert_int_eq(n, -7);
    ck_assert_int_eq(eca_json_get_int(o, "order", "big", 1, &n, &err), ECA_OK);
    ck_assert(n == 9007199254740993LL);
    ck_assert_int_eq(eca_json_get_bool(o, "order", "ok", 1, &b, &err), ECA_OK);
    ck_assert_int_eq(b, 1);
    ck_assert_int_eq(eca_json_get_obj(o, "order", "sub", 1, &sub, &err), ECA_OK);
    ck_assert(json_object_is_type(sub, json_type_object));
    ck_assert_int_eq(eca_json_get_array(o, "order", "list", 1, &list, &err), ECA_OK);
    ck_assert_int_eq((int)json_object_array_length(list), 1);
    json_object_put(o);
}
END_TEST

START_TEST(getters_name_the_field_on_error)
{
    struct json_object *o = doc(), *x = NULL;
    struct eca_err err = {0};
    const char *s = "untouched";
    long long n = 5;
    int b = 3;

    ck_assert_int_eq(eca_json_get_str(o, "order", "finalize", 1, &s, &err), ECA_EPROTO);
    ck_assert_str_eq(err.msg, "order.finalize: expected string");
    ck_assert_int_eq(eca_json_get_str(o, "order", "finalize", 0, &s, &err), ECA_EPROTO);
    ck_assert_int_eq(eca_json_get_str(o, "order", "certificate", 1, &s, &err), ECA_EPROTO);
    ck_assert_str_eq(err.msg, "order.certificate: missing");
    ck_assert_int_eq(eca_json_get_int(o, "order", "f", 1, &n, &err), ECA_EPROTO);
    ck_assert_str_eq(err.msg, "order.f: expected integer");
    ck_assert_int_eq(eca_json_get_int(o, "order", "status", 1, &n, &err), ECA_EPROTO);
    ck_assert_int_eq(eca_json_get_bool(o, "order", "n", 1, &b, &err), ECA_EPROTO);
    ck_assert_str_eq(err.msg, "order.n: expected boolean");
    ck_assert_int_eq(eca_json_get_obj(o, "order", "list", 1, &x, &err), ECA_EPROTO);
    ck_assert_str_eq(err.msg, "order.list: expected object");
    ck_assert_int_eq(eca_json_get_array(o, "order", "sub", 1, &x, &err), ECA_EPROTO);
    ck_assert_str_eq(err.msg, "order.sub: expected array");
    ck_assert_int_eq(eca_json_get_str(o, "order", "nothing", 1, &s, &err), ECA_EPROTO);
    ck_assert_str_eq(err.msg, "order.nothing: missing");
    ck_assert_str_eq(s, "untouched");
    ck_assert_int_eq(n, 5);
    ck_assert_int_eq(b, 3);
    ck_assert_ptr_null(x);
    json_object_put(o);
}
END_TEST

START_TEST(optional_missing_leaves_out_untouched)
{
    struct json_object *o = doc(), *x = NULL, *arr = NULL;
    struct eca_err err = {0};
    const char *s = "default";
    long long n = 5;
    int b = 3;

    ck_assert_int_eq(eca_json_get_str(o, "order", "expires", 0, &s, &err), ECA_OK);
    ck_assert_int_eq(eca_json_get_str(o, "order", "nothing", 0, &s, &err), ECA_OK);
    ck_assert_int_eq(eca_json_get_int(o, "order", "expires", 0, &n, &err), ECA_OK);
    ck_assert_int_eq(eca_json_get_bool(o, "order", "expires", 0, &b, &err), ECA_OK);
    ck_assert_int_eq(eca_json_get_obj(o, "order", "expires", 0, &x, &err), ECA_OK);
    ck_assert_str_eq(s, "default");
    ck_assert_int_eq(n, 5);
    ck_assert_int_eq(b, 3);
    ck_assert_ptr_null(x);
    /* The parent itself must be an object. */
    ck_assert_int_eq(eca_json_get_array(o, "order", "list", 1, &arr, &err), ECA_OK);
    ck_assert_int_eq(eca_json_get_str(arr, "order.list", "x", 0, &s, &err), ECA_EPROTO);
    ck_assert_str_eq(err.msg, "order.list: expected object");
    json_object_put(o);
}
END_TEST

START_TEST(dump_is_compact_without_slash_escapes)
{
    struct json_object *o = json_object_new_object();
    char *s;

    json_object_object_add(o, "url", json_object_new_string("https://ca/acct/1"));
    json_object_object_add(o, "n", json_object_new_int(1));
    s = eca_json_dump(o);
    ck_assert_str_eq(s, "{\"url\":\"https://ca/acct/1\",\"n\":1}");
    free(s);
    json_object_put(o);
}
END_TEST

static Suite *
json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_loop_test(tc, parse_rejects_broken_documents, 0, sizeof bad / sizeof bad[0]);
    tcase_add_test(tc, parse_accepts_one_value_with_whitespace);
    tcase_add_test(tc, parse_bounds_nesting_depth);
    tcase_add_test(tc, getters_return_typed_values);
    tcase_add_test(tc, getters_name_the_field_on_error);
    tcase_add_test(tc, optional_missing_leaves_out_untouched);
    tcase_add_test(tc, dump_is_compact_without_slash_escapes);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(json_suite)
