/* SPDX-License-Identifier: MIT */
/* Test support: fixtures, a scripted fake transport, a log capture sink and temp dirs. */
#ifndef ECA_TEST_H
#define ECA_TEST_H

#include <check.h>
#include <stddef.h>

#include "eca_http.h"

/*
 * The suite a test binary runs. Each tests/unit/check_<module>.c ends with
 * ECA_TEST_SUITE(<module>_suite); the shared main() is tests/support/check_main.c.
 */
Suite *eca_test_suite(void);
#define ECA_TEST_SUITE(fn)                                                                         \
    Suite *eca_test_suite(void)                                                                    \
    {                                                                                              \
        return fn();                                                                               \
    }

/* Path of tests/fixtures/<name> (tests run from the repository root, or ECA_ROOT). */
const char *fixture_path(const char *name);

/* Load a wire-exact raw HTTP response fixture into resp (aborts the test on failure). */
void fixture_load_http(const char *name, struct eca_http_resp *resp);
void fixture_free_http(struct eca_http_resp *resp);

/* A fresh private temporary directory, removed recursively by test_rmdir(). */
void test_mkdtemp(char *out, size_t outlen);
void test_rmdir(const char *dir);

/*
 * Assert that path exists with the POSIX mode bits `mode` (0600, 0644...). On Windows, where
 * st_mode says nothing about access, a private mode (no group/other bits) asserts that
 * eca_fs_check_private() accepts the file's DACL, and a public one that the file exists.
 * test_support_posix.c / windows/test_support_win.c.
 */
void test_assert_mode(const char *path, unsigned mode);
/* test_assert_mode(path, 0600). */
void test_assert_private(const char *path);

/* Log capture: every line goes to a buffer instead of stderr. */
void logcap_start(void);
const char *logcap_text(void);
int logcap_contains(const char *needle);
void logcap_stop(void);

/* A request as the fake transport recorded it (copies). */
struct fake_req {
    char *method;
    char *url;
    char *content_type;
    char *body;
    size_t body_len;
    char *headers; /* extra headers joined with "\n" */
    char *basic_user;
    int basic_after_challenge;
    int digest_ok;
};

struct fake_http;

/* A transport that answers from a FIFO of canned responses and records each request. */
struct eca_http *fake_http_new(struct fake_http **fake);
/* Queue a raw HTTP response fixture by name. */
void fake_http_push_fixture(struct fake_http *f, const char *name);
/* Queue a raw HTTP response given as text (LF or CRLF). */
void fake_http_push_raw(struct fake_http *f, const char *raw);
/* Queue a transport failure. */
void fake_http_push_error(struct fake_http *f, int rc, const char *msg);
size_t fake_http_nreq(const struct fake_http *f);
const struct fake_req *fake_http_req(const struct fake_http *f, size_t i);
/* Connection details the following responses report (RFC 5929 tls-unique and the like). */
void fake_http_set_conn(struct fake_http *f, const struct eca_http_conn_info *conn);
/* Responses still queued (a test asserts 0 at its end). */
size_t fake_http_pending(const struct fake_http *f);

#endif
