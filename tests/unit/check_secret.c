/* SPDX-License-Identifier: MIT */
/* eca_secret tests: file/env/mem loading, newline stripping, caps, and log redaction. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eca_fs.h"
#include "eca_log.h"
#include "eca_secret.h"
#include "eca_test.h"

#define CANARY "canary-token-5b2e8c"

static char dir[256];
static char logged[8192];

static void
sink(void *ctx, enum eca_log_level level, const char *line)
{
    (void)ctx;
    (void)level;
    strncat(logged, line, sizeof logged - strlen(logged) - 2);
    strcat(logged, "\n");
}

static void
setup(void)
{
    const char *t = getenv("TMPDIR");

    snprintf(dir, sizeof dir, "%s/check_secret_XXXXXX", t && *t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    eca_log_reset();
    eca_log_set_sink(sink, NULL);
    logged[0] = '\0';
}

static void
teardown(void)
{
    char cmd[300];

    eca_log_reset();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", dir);
}

/* Write a file in the test dir and return its path. */
static const char *
file(const char *name, const void *data, size_t n)
{
    static char path[512];
    struct eca_err err = {0};

    snprintf(path, sizeof path, "%s/%s", dir, name);
    ck_assert_int_eq(eca_fs_write_atomic(path, data, n, 0600, &err), ECA_OK);
    return path;
}

START_TEST(file_strips_one_trailing_newline)
{
    static const struct {
        const char *in, *want;
    } t[] = {
        {"s3cret-value\n", "s3cret-value"},     {"s3cret-value\r\n", "s3cret-value"},
        {"s3cret-value", "s3cret-value"},       {"s3cret-value\n\n", "s3cret-value\n"},
        {" spaced value \n", " spaced value "}, {"x\n", "x"},
    };
    struct eca_secret *s = NULL;
    struct eca_err err = {0};
    size_t i;

    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        ck_assert_int_eq(eca_secret_from_file(file("tok", t[i].in, strlen(t[i].in)), &s, &err),
                         ECA_OK);
        ck_assert_str_eq(eca_secret_str(s), t[i].want);
        ck_assert_uint_eq(eca_secret_len(s), strlen(t[i].want));
        ck_assert_ptr_eq(eca_secret_data(s), (const unsigned char *)eca_secret_str(s));
        eca_secret_free(s);
        s = NULL;
    }
}
END_TEST

START_TEST(file_errors_name_the_file)
{
    struct eca_secret *s = NULL;
    struct eca_err err = {0};
    char *big;
    const char *path;

    ck_assert_int_eq(eca_secret_from_file("/nonexistent/eca/token", &s, &err), ECA_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/eca/token"));
    path = file("empty", "", 0);
    ck_assert_int_eq(eca_secret_from_file(path, &s, &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "empty"));
    ck_assert_int_eq(eca_secret_from_file(file("nl", "\n", 1), &s, &err), ECA_EINVAL);
    ck_assert_ptr_null(s);

    big = malloc((64 << 10) + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'k', (64 << 10) + 1);
    ck_assert_int_eq(eca_secret_from_file(file("big", big, (64 << 10) + 1), &s, &err), ECA_ETOOBIG);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(eca_secret_from_file(file("max", big, 64 << 10), &s, &err), ECA_OK);
    ck_assert_uint_eq(eca_secret_len(s), 64 << 10);
    eca_secret_free(s);
    free(big);
}
END_TEST

START_TEST(env_and_mem)
{
    struct eca_secret *s = NULL;
    struct eca_err err = {0};

    setenv("ECA_TEST_SECRET", "from-env-1234", 1);
    ck_assert_int_eq(eca_secret_from_env("ECA_TEST_SECRET", &s, &err), ECA_OK);
    ck_assert_str_eq(eca_secret_str(s), "from-env-1234");
    eca_secret_free(s);
    s = NULL;
    setenv("ECA_TEST_SECRET", "", 1);
    ck_assert_int_eq(eca_secret_from_env("ECA_TEST_SECRET", &s, &err), ECA_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "ECA_TEST_SECRET"));
    unsetenv("ECA_TEST_SECRET");
    ck_assert_int_eq(eca_secret_from_env("ECA_TEST_SECRET", &s, &err), ECA_ENOTFOUND);
    ck_assert_ptr_null(s);

    ck_assert_int_eq(eca_secret_from_mem("a\0b", 3, &s, &err), ECA_OK);
    ck_assert_uint_eq(eca_secret_len(s), 3);
    ck_assert_int_eq(memcmp(eca_secret_data(s), "a\0b\0", 4), 0);
    eca_secret_free(s);
    eca_secret_free(NULL);
}
END_TEST

START_TEST(loaded_secret_is_redacted_until_freed)
{
    struct eca_secret *s = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_secret_from_file(file("t", CANARY "\n", strlen(CANARY) + 1), &s, &err),
                     ECA_OK);
    eca_log(ECA_LOG_ERROR, "enroll_failed", NULL, ECA_LOG_FIELDS(ECA_LS("hdr", CANARY)),
            "server echoed %s", eca_secret_str(s));
    ck_assert_msg(strstr(logged, CANARY) == NULL, "canary leaked: %s", logged);
    ck_assert_ptr_nonnull(strstr(logged, "server echoed [redacted]"));
    eca_secret_free(s);
    logged[0] = '\0';
    eca_log(ECA_LOG_ERROR, "after", NULL, NULL, 0, "%s", CANARY);
    ck_assert_ptr_nonnull(strstr(logged, CANARY)); /* unregistered by free */
}
END_TEST

/* A world-readable secret file still loads (Docker secrets are 0444) but draws a warning. */
START_TEST(readable_secret_file_is_loaded_with_a_warning)
{
    struct eca_secret *s = NULL;
    struct eca_err err = {0};
    char path[512];

    snprintf(path, sizeof path, "%s/open", dir);
    ck_assert_int_eq(eca_fs_write_atomic(path, CANARY, strlen(CANARY), 0644, &err), ECA_OK);
    ck_assert_int_eq(eca_secret_from_file(path, &s, &err), ECA_OK);
    ck_assert_ptr_nonnull(strstr(logged, "\"event\":\"secret_file_mode\""));
    ck_assert_ptr_nonnull(strstr(logged, path));
    ck_assert_msg(strstr(logged, CANARY) == NULL, "canary leaked: %s", logged);
    eca_secret_free(s);
    logged[0] = '\0';
    ck_assert_int_eq(eca_secret_from_file(file("closed", CANARY, strlen(CANARY)), &s, &err),
                     ECA_OK);
    ck_assert_ptr_null(strstr(logged, "secret_file_mode"));
    eca_secret_free(s);
}
END_TEST

static Suite *
secret_suite(void)
{
    Suite *s = suite_create("secret");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, file_strips_one_trailing_newline);
    tcase_add_test(tc, file_errors_name_the_file);
    tcase_add_test(tc, env_and_mem);
    tcase_add_test(tc, loaded_secret_is_redacted_until_freed);
    tcase_add_test(tc, readable_secret_file_is_loaded_with_a_warning);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(secret_suite)
