/* SPDX-License-Identifier: MIT */
/* eca_err tests: codes and names, formatting, prefixing, OpenSSL queue draining. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "eca.h"
#include "eca_err.h"
#include "eca_test.h"

START_TEST(names_are_stable)
{
    ck_assert_str_eq(eca_rc_name(ECA_OK), "OK");
    ck_assert_str_eq(eca_rc_name(ECA_EPARSE), "EPARSE");
    ck_assert_str_eq(eca_rc_name(ECA_ECONF), "ECONF");
    ck_assert_str_eq(eca_rc_name(ECA_ESTOPPED), "ESTOPPED");
    ck_assert_str_eq(eca_rc_name(ECA_RC_MAX), "EUNKNOWN");
    ck_assert_str_eq(eca_rc_name((enum eca_rc) - 1), "EUNKNOWN");
}
END_TEST

START_TEST(set_formats_and_returns_rc)
{
    struct eca_err err;

    eca_err_clear(&err);
    ck_assert_int_eq(err.rc, ECA_OK);
    ck_assert_int_eq(err.retry_after, -1);
    ck_assert_str_eq(err.msg, "");
    ck_assert_int_eq(eca_err_set(&err, ECA_EPROTO, "order.%s: missing (%d)", "finalize", 3),
                     ECA_EPROTO);
    ck_assert_int_eq(err.rc, ECA_EPROTO);
    ck_assert_str_eq(err.msg, "order.finalize: missing (3)");
    ck_assert_int_eq(eca_err_set(NULL, ECA_EIO, "ignored"), ECA_EIO);
    eca_err_clear(NULL);
    eca_err_prefix(NULL, "x");
}
END_TEST

START_TEST(long_messages_are_cut_not_overflowed)
{
    struct eca_err err;
    char big[2000];

    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    eca_err_set(&err, ECA_EINVAL, "%s", big);
    ck_assert_uint_eq(strlen(err.msg), ECA_ERR_MSG_MAX - 1);
    eca_err_prefix(&err, "ctx: ");
    ck_assert_uint_eq(strlen(err.msg), ECA_ERR_MSG_MAX - 1);
    ck_assert_int_eq(strncmp(err.msg, "ctx: xxx", 8), 0);
}
END_TEST

START_TEST(prefix_adds_context)
{
    struct eca_err err;

    eca_err_set(&err, ECA_ESERVER, "401 Unauthorized");
    err.retry_after = 30;
    eca_err_prefix(&err, "%s: ", "simpleenroll");
    ck_assert_str_eq(err.msg, "simpleenroll: 401 Unauthorized");
    ck_assert_int_eq(err.rc, ECA_ESERVER);
    ck_assert_int_eq(err.retry_after, 30);
}
END_TEST

START_TEST(ssl_appends_and_drains_the_queue)
{
    struct eca_err err;
    EVP_PKEY_CTX *ctx;

    /* Provoke a real OpenSSL error: an unknown algorithm. */
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "NO-SUCH-ALGORITHM", NULL);
    ck_assert_ptr_null(ctx);
    ck_assert_uint_ne(ERR_peek_error(), 0);
    ck_assert_int_eq(eca_err_ssl(&err, ECA_ECRYPTO, "key %s", "generate"), ECA_ECRYPTO);
    ck_assert_int_eq(strncmp(err.msg, "key generate: ", 14), 0);
    ck_assert_uint_gt(strlen(err.msg), 14);
    ck_assert_uint_eq(ERR_peek_error(), 0);
    /* An empty queue leaves the message alone. */
    eca_err_ssl(&err, ECA_ECRYPTO, "plain");
    ck_assert_str_eq(err.msg, "plain");
    /* NULL err still drains. */
    EVP_PKEY_CTX_new_from_name(NULL, "NO-SUCH-ALGORITHM", NULL);
    eca_err_ssl(NULL, ECA_ECRYPTO, "x");
    ck_assert_uint_eq(ERR_peek_error(), 0);
}
END_TEST

START_TEST(init_and_fini)
{
    struct eca_err err = {0};

    ck_assert_int_eq(eca_init(&err), ECA_OK);
    eca_fini();
}
END_TEST

static Suite *
err_suite(void)
{
    Suite *s = suite_create("err");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, names_are_stable);
    tcase_add_test(tc, set_formats_and_returns_rc);
    tcase_add_test(tc, long_messages_are_cut_not_overflowed);
    tcase_add_test(tc, prefix_adds_context);
    tcase_add_test(tc, ssl_appends_and_drains_the_queue);
    tcase_add_test(tc, init_and_fini);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(err_suite)
