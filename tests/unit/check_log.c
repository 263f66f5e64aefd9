/* SPDX-License-Identifier: MIT */
/* Logger tests: field order, escaping, text format, levels, cap, and that secrets never appear. */
#include <check.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "eca_log.h"
#include "eca_test.h"

#define CANARY "CANARY-7d1f-never-log-me"

static char cap[1 << 16];
static size_t ncap;
static int nlines;

static void
sink(void *ctx, enum eca_log_level level, const char *line)
{
    size_t n = strlen(line);

    (void)ctx;
    (void)level;
    nlines++;
    if (ncap + n + 2 > sizeof cap)
        return;
    memcpy(cap + ncap, line, n);
    ncap += n;
    cap[ncap++] = '\n';
    cap[ncap] = '\0';
}

static void
setup(void)
{
    eca_log_reset();
    ncap = 0;
    nlines = 0;
    cap[0] = '\0';
    eca_log_setup("eca-test", ECA_LOG_DEBUG, ECA_LOG_JSON);
    eca_log_set_sink(sink, NULL);
}

static void
teardown(void)
{
    eca_log_reset();
}

static int
matches(const char *re, const char *s)
{
    regex_t r;
    int ok;

    ck_assert_int_eq(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
    ok = regexec(&r, s, 0, NULL, 0) == 0;
    regfree(&r);
    return ok;
}

/* The single captured line must be one valid JSON object. */
static struct json_object *
parse_line(void)
{
    struct json_object *o;

    ck_assert_int_eq(nlines, 1);
    ck_assert_ptr_nonnull(strchr(cap, '\n'));
    ck_assert_ptr_eq(strchr(cap, '\n'), cap + ncap - 1); /* no embedded newline */
    o = json_tokener_parse(cap);
    ck_assert_msg(o != NULL, "not JSON: %s", cap);
    ck_assert(json_object_is_type(o, json_type_object));
    return o;
}

START_TEST(json_line_has_fixed_fields_then_fields_then_msg)
{
    struct json_object *o;

    eca_log(ECA_LOG_INFO, "renew_scheduled", "mqtt",
            ECA_LOG_FIELDS(ECA_LI("remaining", 31), ECA_LS("ca", "x/y"), ECA_LB("ok", 1),
                           ECA_LS("nothing", NULL)),
            "next in %d s", 42);
    ck_assert_msg(matches("^\\{\"ts\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                          "\\.[0-9]{3}Z\",\"level\":\"info\",\"agent\":\"eca-test\","
                          "\"event\":\"renew_scheduled\",\"cert\":\"mqtt\",\"remaining\":31,"
                          "\"ca\":\"x/y\",\"ok\":true,\"nothing\":null,"
                          "\"msg\":\"next in 42 s\"\\}\n$",
                          cap),
                  "got %s", cap);
    o = parse_line();
    json_object_put(o);
}
END_TEST

START_TEST(json_line_omits_cert_and_msg_when_null)
{
    eca_log(ECA_LOG_ERROR, "startup", NULL, NULL, 0, NULL);
    ck_assert_msg(
        matches("\"level\":\"error\",\"agent\":\"eca-test\",\"event\":\"startup\"\\}\n$", cap),
        "got %s", cap);
    ck_assert_ptr_null(strstr(cap, "\"cert\""));
    ck_assert_ptr_null(strstr(cap, "\"msg\""));
}
END_TEST

START_TEST(json_strings_are_escaped)
{
    struct json_object *o, *v;

    eca_log(
        ECA_LOG_WARN, "server_problem", "a\"b",
        ECA_LOG_FIELDS(ECA_LS("detail", "q\"b\\s\nfake\r\t\x01\x7f|\xff|\xc3\xa9|\xed\xa0\x80")),
        "line1\n{\"level\":\"error\"}");
    ck_assert_ptr_nonnull(strstr(cap, "\"cert\":\"a\\\"b\""));
    ck_assert_ptr_nonnull(
        strstr(cap, "\"detail\":\"q\\\"b\\\\s\\nfake\\r\\t\\u0001\\u007f|\\ufffd|\xc3\xa9|"
                    "\\ufffd\\ufffd\\ufffd\""));
    ck_assert_ptr_nonnull(strstr(cap, "\"msg\":\"line1\\n{\\\"level\\\":\\\"error\\\"}\""));
    o = parse_line();
    ck_assert(json_object_object_get_ex(o, "msg", &v));
    ck_assert_str_eq(json_object_get_string(v), "line1\n{\"level\":\"error\"}");
    json_object_put(o);
}
END_TEST

START_TEST(canary_secret_never_reaches_the_log)
{
    eca_log_redact_add(CANARY);
    eca_log(ECA_LOG_INFO, "auth", CANARY,
            ECA_LOG_FIELDS(ECA_LS("user", "u-" CANARY "-x"), ECA_LSECRET("token_file"),
                           ECA_LS(CANARY, "k")),
            "Basic %s and again %s.", CANARY, CANARY);
    eca_log_setup("eca-test", ECA_LOG_DEBUG, ECA_LOG_TEXT);
    eca_log(ECA_LOG_INFO, "auth", CANARY, ECA_LOG_FIELDS(ECA_LS("user", CANARY " x")), "text %s",
            CANARY);
    ck_assert_int_eq(nlines, 2);
    ck_assert_msg(strstr(cap, CANARY) == NULL, "canary leaked: %s", cap);
    ck_assert_msg(strstr(cap, "CANARY") == NULL, "partial canary leaked: %s", cap);
    ck_assert_ptr_nonnull(strstr(cap, "\"user\":\"u-[redacted]-x\""));
    ck_assert_ptr_nonnull(strstr(cap, "\"token_file\":\"[redacted]\""));
    ck_assert_ptr_nonnull(strstr(cap, "Basic [redacted] and again [redacted]."));
}
END_TEST

/* Threads logging at once while secrets come and go (eca-acme's workers loading EAB keys). */
#define LOGGERS 4
#define LINES   500

static void *
log_lines(void *arg)
{
    (void)arg;
    for (int i = 0; i < LINES; i++)
        eca_log(ECA_LOG_INFO, "pass", "c", ECA_LOG_FIELDS(ECA_LS("user", CANARY)), "%d %s", i,
                CANARY);
    return NULL;
}

static atomic_int logging_done;

/* Until the loggers are done: the table of secrets grows and shrinks under them. */
static void *
churn_secrets(void *arg)
{
    char v[32];

    (void)arg;
    for (int i = 0; !atomic_load(&logging_done); i++) {
        snprintf(v, sizeof v, "other-secret-%d", i % 64);
        if (i % 128 < 64)
            eca_log_redact_add(v);
        else
            eca_log_redact_forget(v);
    }
    return NULL;
}

START_TEST(concurrent_lines_are_whole_and_redacted)
{
    pthread_t th[LOGGERS + 1];

    eca_log_redact_add(CANARY);
    atomic_store(&logging_done, 0);
    ck_assert_int_eq(pthread_create(&th[LOGGERS], NULL, churn_secrets, NULL), 0);
    for (int k = 0; k < LOGGERS; k++)
        ck_assert_int_eq(pthread_create(&th[k], NULL, log_lines, NULL), 0);
    for (int k = 0; k < LOGGERS; k++)
        ck_assert_int_eq(pthread_join(th[k], NULL), 0);
    atomic_store(&logging_done, 1);
    ck_assert_int_eq(pthread_join(th[LOGGERS], NULL), 0);
    /* The sink is called by one thread at a time: no line lost or torn. */
    ck_assert_int_eq(nlines, LOGGERS * LINES);
    ck_assert_msg(strstr(cap, "CANARY") == NULL, "canary leaked");
    for (const char *l = cap; *l; l = strchr(l, '\n') + 1)
        ck_assert_msg(strncmp(l, "{\"ts\":", 6) == 0, "torn line: %.80s", l);
}
END_TEST

START_TEST(secret_with_json_special_chars_is_redacted_in_escaped_form)
{
    const char *s = "pa\"ss\\w\nord";

    eca_log_redact_add(s);
    eca_log(ECA_LOG_INFO, "x", NULL, ECA_LOG_FIELDS(ECA_LS("v", s)), "%s", s);
    ck_assert_ptr_null(strstr(cap, "pa\\\"ss"));
    ck_assert_ptr_null(strstr(cap, "w\\nord"));
    ck_assert_ptr_nonnull(strstr(cap, "\"v\":\"[redacted]\""));
}
END_TEST

START_TEST(secret_fields_and_denied_names_print_redacted)
{
    eca_log(ECA_LOG_INFO, "x", NULL,
            ECA_LOG_FIELDS(ECA_LSECRET("hmac_key"), ECA_LS("password", "hunter2"),
                           ECA_LS("Authorization", "Basic Zm9vOmJhcg=="),
                           ECA_LS("bootstrap_token", "tok-123"), ECA_LS("user", "alice")),
            NULL);
    ck_assert_ptr_nonnull(strstr(cap, "\"hmac_key\":\"[redacted]\""));
    ck_assert_ptr_nonnull(strstr(cap, "\"password\":\"[redacted]\""));
    ck_assert_ptr_nonnull(strstr(cap, "\"Authorization\":\"[redacted]\""));
    ck_assert_ptr_nonnull(strstr(cap, "\"bootstrap_token\":\"[redacted]\""));
    ck_assert_ptr_nonnull(strstr(cap, "\"user\":\"alice\""));
    ck_assert_ptr_null(strstr(cap, "hunter2"));
    ck_assert_ptr_null(strstr(cap, "Zm9v"));
    ck_assert_ptr_null(strstr(cap, "tok-123"));
}
END_TEST

/* A denied name redacts a string value; a yes/no or a count under it says what was asked. */
START_TEST(denied_names_keep_booleans_and_counts)
{
    eca_log(ECA_LOG_INFO, "x", NULL,
            ECA_LOG_FIELDS(ECA_LB("challenge_password", 1), ECA_LI("bootstrap_token", 0),
                           ECA_LS("challenge_password_value", "s3cr3t-pop"),
                           ECA_LS("challenge_password", "hunter2")),
            NULL);
    ck_assert_ptr_nonnull(strstr(cap, "\"challenge_password\":true"));
    ck_assert_ptr_nonnull(strstr(cap, "\"bootstrap_token\":0"));
    ck_assert_ptr_nonnull(strstr(cap, "\"challenge_password\":\"[redacted]\""));
    ck_assert_ptr_null(strstr(cap, "hunter2"));
}
END_TEST

START_TEST(forget_and_short_secrets)
{
    eca_log_redact_add("abc"); /* too short: ignored */
    eca_log_redact_add("s3cret-value");
    eca_log_redact_add("s3cret-value"); /* registered twice: forgotten once per add */
    eca_log_redact_forget("s3cret-value");
    eca_log(ECA_LOG_INFO, "x", NULL, NULL, 0, "abc s3cret-value");
    ck_assert_ptr_nonnull(strstr(cap, "\"msg\":\"abc [redacted]\""));
    eca_log_redact_forget("s3cret-value");
    eca_log(ECA_LOG_INFO, "x", NULL, NULL, 0, "s3cret-value");
    ck_assert_ptr_nonnull(strstr(cap, "\"msg\":\"s3cret-value\""));
}
END_TEST

START_TEST(text_format_for_humans)
{
    eca_log_setup("eca-test", ECA_LOG_DEBUG, ECA_LOG_TEXT);
    eca_log(ECA_LOG_INFO, "cert_installed", "mqtt",
            ECA_LOG_FIELDS(ECA_LS("serial", "01ab"), ECA_LI("days", -3), ECA_LB("ok", 0),
                           ECA_LS("path", "/a b/c\"d"), ECA_LS("empty", "")),
            "installed %s", "fine\nnext");
    ck_assert_msg(matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z INFO "
                          "cert_installed cert=mqtt serial=01ab days=-3 ok=false "
                          "path=\"/a b/c\\\\\"d\" empty=\"\" installed fine\\\\nnext\n$",
                          cap),
                  "got %s", cap);
}
END_TEST

START_TEST(levels_below_minimum_are_dropped)
{
    eca_log_setup("eca-test", ECA_LOG_WARN, ECA_LOG_JSON);
    eca_log(ECA_LOG_DEBUG, "d", NULL, NULL, 0, NULL);
    eca_log(ECA_LOG_INFO, "i", NULL, NULL, 0, NULL);
    eca_log(ECA_LOG_WARN, "w", NULL, NULL, 0, NULL);
    eca_log(ECA_LOG_ERROR, "e", NULL, NULL, 0, NULL);
    ck_assert_int_eq(nlines, 2);
    ck_assert_ptr_nonnull(strstr(cap, "\"level\":\"warn\""));
    ck_assert_ptr_nonnull(strstr(cap, "\"level\":\"error\""));
    ck_assert_ptr_null(strstr(cap, "\"level\":\"info\""));
}
END_TEST

START_TEST(level_and_format_parse)
{
    enum eca_log_level l = ECA_LOG_ERROR;
    enum eca_log_format f = ECA_LOG_TEXT;

    ck_assert_int_eq(eca_log_level_parse("debug", &l), 0);
    ck_assert_int_eq(l, ECA_LOG_DEBUG);
    ck_assert_int_eq(eca_log_level_parse("WARN", &l), 0);
    ck_assert_int_eq(l, ECA_LOG_WARN);
    ck_assert_int_eq(eca_log_level_parse("error", &l), 0);
    ck_assert_int_eq(l, ECA_LOG_ERROR);
    ck_assert_int_eq(eca_log_level_parse("loud", &l), -1);
    ck_assert_int_eq(eca_log_level_parse(NULL, &l), -1);
    ck_assert_int_eq(l, ECA_LOG_ERROR);
    ck_assert_int_eq(eca_log_format_parse("json", &f), 0);
    ck_assert_int_eq(f, ECA_LOG_JSON);
    ck_assert_int_eq(eca_log_format_parse("text", &f), 0);
    ck_assert_int_eq(f, ECA_LOG_TEXT);
    ck_assert_int_eq(eca_log_format_parse("xml", &f), -1);
}
END_TEST

START_TEST(long_lines_are_cut_and_stay_valid_json)
{
    static char big[20000];
    struct json_object *o;
    size_t len;

    memset(big, 'a', sizeof big - 1);
    big[100] = '"';
    eca_log(ECA_LOG_INFO, "big", NULL, ECA_LOG_FIELDS(ECA_LS("f", "v")), "%s", big);
    len = strlen(cap) - 1;
    ck_assert_uint_lt(len, ECA_LOG_LINE_MAX);
    ck_assert_uint_gt(len, ECA_LOG_LINE_MAX - 64);
    ck_assert_ptr_nonnull(strstr(cap, "...\"}\n"));
    o = parse_line();
    json_object_put(o);
}
END_TEST

START_TEST(default_sink_is_stderr_one_line)
{
    char path[] = "/tmp/check_log_XXXXXX", buf[512];
    int fd = mkstemp(path);
    ssize_t n;

    ck_assert_int_ge(fd, 0);
    eca_log_set_sink(NULL, NULL);
    ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    eca_log(ECA_LOG_INFO, "to_stderr", NULL, NULL, 0, "hi");
    n = pread(fd, buf, sizeof buf - 1, 0);
    unlink(path);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    ck_assert_ptr_nonnull(strstr(buf, "\"event\":\"to_stderr\",\"msg\":\"hi\"}\n"));
    ck_assert_ptr_eq(strchr(buf, '\n'), buf + n - 1);
    ck_assert_int_eq(nlines, 0);
}
END_TEST

START_TEST(reset_restores_defaults)
{
    eca_log_redact_add("zzzz-secret");
    eca_log_reset();
    eca_log_set_sink(sink, NULL);
    eca_log(ECA_LOG_DEBUG, "d", NULL, NULL, 0, NULL); /* default minimum is info */
    eca_log(ECA_LOG_INFO, "i", NULL, NULL, 0, "zzzz-secret");
    ck_assert_int_eq(nlines, 1);
    ck_assert_ptr_nonnull(strstr(cap, "\"agent\":\"eca\""));
    ck_assert_ptr_nonnull(strstr(cap, "zzzz-secret"));
}
END_TEST

static Suite *
log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, json_line_has_fixed_fields_then_fields_then_msg);
    tcase_add_test(tc, json_line_omits_cert_and_msg_when_null);
    tcase_add_test(tc, json_strings_are_escaped);
    tcase_add_test(tc, canary_secret_never_reaches_the_log);
    tcase_add_test(tc, concurrent_lines_are_whole_and_redacted);
    tcase_add_test(tc, secret_with_json_special_chars_is_redacted_in_escaped_form);
    tcase_add_test(tc, denied_names_keep_booleans_and_counts);
    tcase_add_test(tc, secret_fields_and_denied_names_print_redacted);
    tcase_add_test(tc, forget_and_short_secrets);
    tcase_add_test(tc, text_format_for_humans);
    tcase_add_test(tc, levels_below_minimum_are_dropped);
    tcase_add_test(tc, level_and_format_parse);
    tcase_add_test(tc, long_lines_are_cut_and_stay_valid_json);
    tcase_add_test(tc, default_sink_is_stderr_one_line);
    tcase_add_test(tc, reset_restores_defaults);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(log_suite)
