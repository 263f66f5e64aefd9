/* SPDX-License-Identifier: MIT */
/* Tests of dns-01 (RFC 8555 §8.4): the TXT record, the hook responder, the driver's use of it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "acme_client.h"
#include "acme_dns01.h"
#include "eca_clock.h"
#include "eca_log.h"
#include "eca_test.h"

#define P       "https://localhost:14000"
#define AUTHZ_A P "/authZ/Mq8W1rCXHjTnYQpCLfZ1nN0w3vZkqZsH4WbqHGA7N0E"
#define CHAL_A  P "/chalZ/k3Xm9Qvz7r2WcJt5pLhN8yBd4FgS6aEo1uRiTwYxHq0"
#define TOKEN_A "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define KA_A    TOKEN_A ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
/* base64url(SHA-256(KA_A)), computed independently (Python hashlib). */
#define TXT_A "LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo"

static const struct {
    const char *domain;
    const char *name;
} records[] = {
    {"example.org", "_acme-challenge.example.org."},
    /* A wildcard is validated at its base domain (RFC 8555 §8.4, §7.1.3). */
    {"*.example.org", "_acme-challenge.example.org."},
    {"example.org.", "_acme-challenge.example.org."},
    {"a.b.example.org", "_acme-challenge.a.b.example.org."},
};

START_TEST(record_name_and_value)
{
    struct eca_buf name, value;

    eca_buf_init(&name, 0);
    eca_buf_init(&value, 0);
    ck_assert_int_eq(acme_dns01_record(records[_i].domain, KA_A, &name, &value, NULL), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&name), records[_i].name);
    ck_assert_str_eq(eca_buf_str(&value), TXT_A);
    eca_buf_free(&name);
    eca_buf_free(&value);
}
END_TEST

START_TEST(record_refuses_empty_input)
{
    struct eca_buf name, value;
    struct eca_err err = {0};

    eca_buf_init(&name, 0);
    eca_buf_init(&value, 0);
    ck_assert_int_eq(acme_dns01_record("", KA_A, &name, &value, &err), ECA_EINVAL);
    ck_assert_int_eq(acme_dns01_record("example.org", "", &name, &value, &err), ECA_EINVAL);
    ck_assert_uint_eq(name.len + value.len, 0);
    eca_buf_free(&name);
    eca_buf_free(&value);
}
END_TEST

/* ---- the hook responder ---- */

static char dir[512], calls[600], hook[1200];

/* A hook that appends its arguments and the ECA_DNS01_* variables to `calls`, one line per
 * run, and exits 3 for the action named in FAIL_ACTION (a variable of the test). */
static void
hook_setup(void)
{
    char script[600];
    FILE *f;

    test_mkdtemp(dir, sizeof dir);
    snprintf(calls, sizeof calls, "%s/calls", dir);
    snprintf(script, sizeof script, "%s/hook.sh", dir);
    f = fopen(script, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "#!/bin/sh\n"
            "printf '%%s|' \"$@\" >>'%s'\n"
            "echo \"env=$ECA_DNS01_NAME $ECA_DNS01_VALUE $ECA_DNS01_DOMAIN\" >>'%s'\n"
            "[ \"$2\" = \"$FAIL_ACTION\" ] && exit 3\n"
            "exit 0\n",
            calls, calls);
    fclose(f);
    ck_assert_int_eq(chmod(script, 0700), 0);
    /* Split like a reload command: the quoted argument stays one. */
    snprintf(hook, sizeof hook, "%s 'two words'", script);
    unsetenv("FAIL_ACTION");
}

static void
hook_teardown(void)
{
    unsetenv("FAIL_ACTION");
    test_rmdir(dir);
}

static char *
read_calls(void)
{
    static char buf[4096];
    FILE *f = fopen(calls, "r");
    size_t n = 0;

    if (f != NULL) {
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

static struct acme_dns_responder *
responder(long propagation_s, int (*stop)(void))
{
    struct acme_dns01_opts o = {hook, propagation_s, 10, "web", stop};
    struct acme_dns_responder *r = NULL;
    struct eca_err err = {0};

    if (acme_dns01_new(&o, &r, &err) != ECA_OK)
        ck_abort_msg("acme_dns01_new: %s", err.msg);
    return r;
}

START_TEST(hook_presents_and_cleans_up)
{
    struct acme_dns_responder *r = responder(0, NULL);
    struct eca_err err = {0};
    char *before;

    ck_assert_int_eq(r->publish(r->ctx, "example.org", TOKEN_A, KA_A, &err), ECA_OK);
    ck_assert_str_eq(read_calls(), "two words|present|_acme-challenge.example.org.|" TXT_A
                                   "|env=_acme-challenge.example.org. " TXT_A " example.org\n");
    /* The variables exist for the hook only. */
    ck_assert_ptr_null(getenv("ECA_DNS01_NAME"));
    ck_assert_ptr_null(getenv("ECA_DNS01_VALUE"));
    r->unpublish(r->ctx, "not-published");
    r->unpublish(r->ctx, TOKEN_A);
    ck_assert_str_eq(read_calls(), "two words|present|_acme-challenge.example.org.|" TXT_A
                                   "|env=_acme-challenge.example.org. " TXT_A " example.org\n"
                                   "two words|cleanup|_acme-challenge.example.org.|" TXT_A
                                   "|env=_acme-challenge.example.org. " TXT_A " example.org\n");
    /* Nothing left to clean up at the end: no third run. */
    before = strdup(read_calls());
    acme_dns01_free(r);
    ck_assert_str_eq(read_calls(), before);
    free(before);
}
END_TEST

START_TEST(hook_failure_is_reported_and_cleaned_up_at_free)
{
    struct acme_dns_responder *r = responder(0, NULL);
    struct eca_err err = {0};

    setenv("FAIL_ACTION", "present", 1);
    ck_assert_int_eq(r->publish(r->ctx, "example.org", TOKEN_A, KA_A, &err), ECA_EIO);
    ck_assert_msg(strstr(err.msg, "dns01_hook present _acme-challenge.example.org.: ") != NULL &&
                      strstr(err.msg, "status 3") != NULL,
                  "%s", err.msg);
    /* The record may exist half way: free cleans it up as any other. */
    unsetenv("FAIL_ACTION");
    acme_dns01_free(r);
    ck_assert_ptr_nonnull(strstr(read_calls(), "two words|cleanup|_acme-challenge.example.org.|"));
}
END_TEST

START_TEST(hook_cleanup_failure_is_logged)
{
    struct acme_dns_responder *r = responder(0, NULL);
    struct eca_err err = {0};

    ck_assert_int_eq(r->publish(r->ctx, "example.org", TOKEN_A, KA_A, &err), ECA_OK);
    setenv("FAIL_ACTION", "cleanup", 1);
    logcap_start();
    r->unpublish(r->ctx, TOKEN_A);
    ck_assert(logcap_contains("\"event\":\"dns01_cleanup_failed\""));
    logcap_stop();
    acme_dns01_free(r);
}
END_TEST

/* The hook's command line and the environment it inherits may carry DNS provider credentials:
 * whatever the hook does, neither reaches a log line or an error message. */
START_TEST(hook_command_and_environment_never_reach_the_log)
{
    static const char canary_arg[] = "canary-arg-7f3a9c", canary_env[] = "canary-env-51d2e8";
    struct acme_dns01_opts o = {NULL, 0, 10, "web", NULL};
    struct acme_dns_responder *r = NULL;
    struct eca_err err = {0};
    char cmd[1400];

    snprintf(cmd, sizeof cmd, "%s/hook.sh --token=%s", dir, canary_arg);
    o.hook = cmd;
    setenv("DNS_PROVIDER_TOKEN", canary_env, 1);
    eca_log_setup("eca-acme", ECA_LOG_DEBUG, ECA_LOG_JSON);
    logcap_start();
    ck_assert_int_eq(acme_dns01_new(&o, &r, &err), ECA_OK);
    ck_assert_int_eq(r->publish(r->ctx, "example.org", TOKEN_A, KA_A, &err), ECA_OK);
    setenv("FAIL_ACTION", "cleanup", 1);
    r->unpublish(r->ctx, TOKEN_A);
    setenv("FAIL_ACTION", "present", 1);
    ck_assert_int_eq(r->publish(r->ctx, "example.org", TOKEN_A, KA_A, &err), ECA_EIO);
    ck_assert_ptr_null(strstr(err.msg, canary_arg));
    ck_assert_ptr_null(strstr(err.msg, canary_env));
    acme_dns01_free(r);
    /* The hook got both, and the log says what it did, without them. */
    ck_assert_ptr_nonnull(strstr(read_calls(), canary_arg));
    ck_assert(logcap_contains("\"event\":\"dns01_present\""));
    ck_assert(logcap_contains("\"event\":\"dns01_cleanup_failed\""));
    ck_assert(!logcap_contains(canary_arg));
    ck_assert(!logcap_contains(canary_env));
    logcap_stop();
    unsetenv("DNS_PROVIDER_TOKEN");
}
END_TEST

static int
stop_at_once(void)
{
    return 1;
}

START_TEST(propagation_wait_ends_on_stop)
{
    struct acme_dns_responder *r = responder(3600, stop_at_once);
    struct eca_err err = {0};

    ck_assert_int_eq(r->publish(r->ctx, "example.org", TOKEN_A, KA_A, &err), ECA_ESTOPPED);
    ck_assert_ptr_nonnull(strstr(err.msg, "_acme-challenge.example.org."));
    acme_dns01_free(r);
    ck_assert_ptr_nonnull(strstr(read_calls(), "|cleanup|"));
}
END_TEST

START_TEST(hook_that_does_not_split_is_a_config_error)
{
    struct acme_dns01_opts o = {"'secret-token unbalanced", 0, 10, "web", NULL};
    struct acme_dns_responder *r = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(acme_dns01_new(&o, &r, &err), ECA_ECONF);
    ck_assert_ptr_nonnull(strstr(err.msg, "dns01_hook"));
    ck_assert_ptr_null(strstr(err.msg, "secret-token"));
    o.hook = "   ";
    ck_assert_int_eq(acme_dns01_new(&o, &r, &err), ECA_ECONF);
    ck_assert_ptr_null(r);
}
END_TEST

/* ---- the driver answers dns-01 through the dns responder ---- */

struct stub {
    int npub, nunpub;
    char domain[64], token[64], ka[200], unpub[64];
};

static enum eca_rc
stub_publish(void *ctx, const char *domain, const char *token, const char *key_authz,
             struct eca_err *err)
{
    struct stub *s = ctx;

    (void)err;
    s->npub++;
    snprintf(s->domain, sizeof s->domain, "%s", domain);
    snprintf(s->token, sizeof s->token, "%s", token);
    snprintf(s->ka, sizeof s->ka, "%s", key_authz);
    return ECA_OK;
}

static void
stub_unpublish(void *ctx, const char *token)
{
    struct stub *s = ctx;

    s->nunpub++;
    snprintf(s->unpub, sizeof s->unpub, "%s", token);
}

static void
no_sleep(long ms)
{
    (void)ms;
}

START_TEST(client_answers_a_wildcard_with_dns01_and_cleans_up)
{
    static const char *const names[] = {"*.example.org"};
    static const unsigned char csr[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    struct stub st = {0};
    struct acme_dns_responder dr = {stub_publish, stub_unpublish, &st};
    struct eca_key *key = NULL;
    struct fake_http *fake = NULL;
    struct eca_http *http = fake_http_new(&fake);
    struct acme_client_opts o;
    struct acme_client *c = NULL;
    struct eca_buf chain;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P256, &key, NULL), ECA_OK);
    memset(&o, 0, sizeof o);
    o.directory_url = P "/dir";
    o.http = http;
    o.account_key = key;
    o.tos_agreed = 1;
    fake_http_push_fixture(fake, "acme/dir_pebble.http");
    ck_assert_int_eq(acme_client_new(&o, &c, &err), ECA_OK);
    eca_clock_set_sleep(no_sleep); /* a forked test: the seam goes with the child */
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/account_existing.http");
    fake_http_push_fixture(fake, "acme/order_no_nonce.http");
    fake_http_push_fixture(fake, "acme/nonce.http");
    fake_http_push_fixture(fake, "acme/authz_wildcard.http");
    fake_http_push_fixture(fake, "acme/challenge_processing.http");
    fake_http_push_error(fake, ECA_ENET, "connection reset");
    eca_buf_init(&chain, 0);
    /* Without any responder there is nothing to answer with. */
    ck_assert_int_eq(acme_client_issue(c, names, 1, NULL, csr, sizeof csr, &chain, &err),
                     ECA_EINVAL);
    /* dns-01 only: no http-01 responder at all. */
    acme_client_set_dns01(c, &dr);
    ck_assert_int_eq(acme_client_issue(c, names, 1, NULL, csr, sizeof csr, &chain, &err), ECA_ENET);
    ck_assert_int_eq(st.npub, 1);
    ck_assert_str_eq(st.domain, "example.org");
    ck_assert_str_eq(st.token, TOKEN_A);
    ck_assert_int_eq(strncmp(st.ka, TOKEN_A ".", strlen(TOKEN_A) + 1), 0);
    /* The challenge was posted after the record was in place, then the failure cleaned up. */
    ck_assert_str_eq(fake_http_req(fake, 6)->url, CHAL_A);
    ck_assert_str_eq(fake_http_req(fake, 7)->url, AUTHZ_A);
    ck_assert_int_eq(st.nunpub, 1);
    ck_assert_str_eq(st.unpub, TOKEN_A);
    ck_assert_uint_eq(fake_http_pending(fake), 0);
    acme_client_free(c);
    eca_buf_free(&chain);
    eca_http_free(http);
    eca_key_free(key);
}
END_TEST

static Suite *
acme_dns01_suite(void)
{
    Suite *s = suite_create("acme_dns01");
    TCase *tc = tcase_create("core");
    TCase *th = tcase_create("hook");

    tcase_set_timeout(tc, 5);
    tcase_add_loop_test(tc, record_name_and_value, 0, sizeof records / sizeof records[0]);
    tcase_add_test(tc, record_refuses_empty_input);
    tcase_add_test(tc, hook_that_does_not_split_is_a_config_error);
    tcase_add_test(tc, client_answers_a_wildcard_with_dns01_and_cleans_up);
    suite_add_tcase(s, tc);
    tcase_set_timeout(th, 20);
    tcase_add_checked_fixture(th, hook_setup, hook_teardown);
    tcase_add_test(th, hook_presents_and_cleans_up);
    tcase_add_test(th, hook_failure_is_reported_and_cleaned_up_at_free);
    tcase_add_test(th, hook_cleanup_failure_is_logged);
    tcase_add_test(th, hook_command_and_environment_never_reach_the_log);
    tcase_add_test(th, propagation_wait_ends_on_stop);
    suite_add_tcase(s, th);
    return s;
}

ECA_TEST_SUITE(acme_dns01_suite)
