/* SPDX-License-Identifier: MIT */
/* Tests for the http-01 responders: built-in listener on a run-time port, webroot writer. */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "acme_http01.h"
#include "eca_test.h"

#define TOKEN "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
#define AUTHZ TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

/* Send raw bytes to 127.0.0.1:port, read the whole reply into out. */
static void
http_raw(int port, const char *req, char *out, size_t outlen)
{
    struct sockaddr_in sa;
    struct timeval tv = {3, 0};
    size_t len = 0;
    ssize_t r;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    while (len < outlen - 1 && (r = read(fd, out + len, outlen - 1 - len)) > 0)
        len += (size_t)r;
    out[len] = '\0';
    close(fd);
}

static void
http_get(int port, const char *path, char *out, size_t outlen)
{
    char req[1024];

    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: example.test\r\n\r\n", path);
    http_raw(port, req, out, outlen);
}

START_TEST(listener_serves_token_and_404s_others)
{
    struct acme_responder *r = NULL;
    struct eca_err err = {0};
    char resp[4096];
    int port;

    ck_assert_int_eq(acme_http01_listener_new("127.0.0.1:0", &r, &err), ECA_OK);
    ck_assert_int_eq(acme_http01_port(r), 0);
    ck_assert_int_eq(r->publish(r->ctx, TOKEN, AUTHZ, &err), ECA_OK);
    port = acme_http01_port(r);
    ck_assert_int_gt(port, 0);

    http_get(port, ACME_HTTP01_PREFIX TOKEN, resp, sizeof resp);
    ck_assert_ptr_nonnull(strstr(resp, "HTTP/1.1 200"));
    ck_assert_ptr_nonnull(strstr(resp, "Content-Type: text/plain"));
    ck_assert_str_eq(strstr(resp, "\r\n\r\n") + 4, AUTHZ);

    http_get(port, ACME_HTTP01_PREFIX "otherToken", resp, sizeof resp);
    ck_assert_ptr_nonnull(strstr(resp, "HTTP/1.1 404"));
    http_get(port, "/index.html", resp, sizeof resp);
    ck_assert_ptr_nonnull(strstr(resp, "HTTP/1.1 404"));
    http_raw(port, "POST " ACME_HTTP01_PREFIX TOKEN " HTTP/1.1\r\n\r\n", resp, sizeof resp);
    ck_assert_ptr_nonnull(strstr(resp, "HTTP/1.1 405"));

    r->unpublish(r->ctx, TOKEN);
    http_get(port, ACME_HTTP01_PREFIX TOKEN, resp, sizeof resp);
    ck_assert_ptr_nonnull(strstr(resp, "HTTP/1.1 404"));
    acme_http01_free(r);
}
END_TEST

START_TEST(listener_refuses_oversized_request)
{
    struct acme_responder *r = NULL;
    struct eca_err err = {0};
    char *big = malloc(20000), resp[4096];

    memset(big, 'a', 19999);
    big[19999] = '\0';
    memcpy(big, "GET /", 5);
    ck_assert_int_eq(acme_http01_listener_new("127.0.0.1:0", &r, &err), ECA_OK);
    ck_assert_int_eq(r->publish(r->ctx, TOKEN, AUTHZ, &err), ECA_OK);
    http_raw(acme_http01_port(r), big, resp, sizeof resp);
    ck_assert_ptr_null(strstr(resp, "200 OK"));
    /* Still serving afterwards. */
    http_get(acme_http01_port(r), ACME_HTTP01_PREFIX TOKEN, resp, sizeof resp);
    ck_assert_ptr_nonnull(strstr(resp, "HTTP/1.1 200"));
    acme_http01_free(r);
    free(big);
}
END_TEST

/* A client that never finishes its request must not hold up the CA's validation. */
START_TEST(listener_answers_beside_a_stalled_client)
{
    struct acme_responder *r = NULL;
    struct eca_err err = {0};
    struct sockaddr_in sa;
    struct timespec t0, t1;
    char resp[4096];
    int stalled = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_eq(acme_http01_listener_new("127.0.0.1:0", &r, &err), ECA_OK);
    ck_assert_int_eq(r->publish(r->ctx, TOKEN, AUTHZ, &err), ECA_OK);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)acme_http01_port(r));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(stalled, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(write(stalled, "GET /", 5), 5);
    usleep(100 * 1000); /* accepted and being read before the CA comes */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    http_get(acme_http01_port(r), ACME_HTTP01_PREFIX TOKEN, resp, sizeof resp);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_ptr_nonnull(strstr(resp, "HTTP/1.1 200"));
    ck_assert_int_lt((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 1000);
    close(stalled);
    acme_http01_free(r);
}
END_TEST

START_TEST(listener_reports_bad_address)
{
    struct acme_responder *r = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(acme_http01_listener_new("nonsense", &r, &err), ECA_OK);
    ck_assert_int_ne(r->publish(r->ctx, TOKEN, AUTHZ, &err), ECA_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "nonsense"));
    acme_http01_free(r);
}
END_TEST

START_TEST(webroot_writes_and_removes_token_file)
{
    struct acme_responder *r = NULL;
    struct eca_err err = {0};
    char dir[256], path[512], buf[512];
    struct stat st;
    FILE *f;
    size_t n;

    test_mkdtemp(dir, sizeof dir);
    ck_assert_int_eq(acme_http01_webroot_new(dir, &r, &err), ECA_OK);
    ck_assert_int_eq(r->publish(r->ctx, TOKEN, AUTHZ, &err), ECA_OK);
    snprintf(path, sizeof path, "%s" ACME_HTTP01_PREFIX TOKEN, dir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    ck_assert_str_eq(buf, AUTHZ);
    snprintf(buf, sizeof buf, "%s/.well-known/acme-challenge", dir);
    ck_assert_int_eq(stat(buf, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0755);

    r->unpublish(r->ctx, TOKEN);
    ck_assert_int_ne(stat(path, &st), 0);
    /* Two orders in flight for one name share its token: the file stays until both are done. */
    ck_assert_int_eq(r->publish(r->ctx, TOKEN, AUTHZ, &err), ECA_OK);
    ck_assert_int_eq(r->publish(r->ctx, TOKEN, AUTHZ, &err), ECA_OK);
    r->unpublish(r->ctx, TOKEN);
    ck_assert_int_eq(stat(path, &st), 0);
    r->unpublish(r->ctx, TOKEN);
    ck_assert_int_ne(stat(path, &st), 0);
    acme_http01_free(r);
    test_rmdir(dir);
}
END_TEST

static const char *const hostile[] = {"../x", "a/b", "", "..", "a b", "a\nb", "%2e%2e"};

START_TEST(webroot_rejects_hostile_tokens_before_writing)
{
    struct acme_responder *r = NULL;
    struct eca_err err = {0};
    char dir[256], wk[512];
    struct stat st;

    test_mkdtemp(dir, sizeof dir);
    ck_assert_int_eq(acme_http01_webroot_new(dir, &r, &err), ECA_OK);
    ck_assert_int_eq(r->publish(r->ctx, hostile[_i], AUTHZ, &err), ECA_EPROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "token"));
    snprintf(wk, sizeof wk, "%s/.well-known", dir);
    ck_assert_int_ne(stat(wk, &st), 0);
    acme_http01_free(r);
    test_rmdir(dir);
}
END_TEST

START_TEST(webroot_requires_existing_directory)
{
    struct acme_responder *r = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(acme_http01_webroot_new("/nonexistent/eca-webroot", &r, &err), ECA_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/eca-webroot"));
    ck_assert_ptr_null(r);
}
END_TEST

static Suite *
acme_http01_suite(void)
{
    Suite *s = suite_create("acme_http01");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, listener_serves_token_and_404s_others);
    tcase_add_test(tc, listener_refuses_oversized_request);
    tcase_add_test(tc, listener_answers_beside_a_stalled_client);
    tcase_add_test(tc, listener_reports_bad_address);
    tcase_add_test(tc, webroot_writes_and_removes_token_file);
    tcase_add_loop_test(tc, webroot_rejects_hostile_tokens_before_writing, 0,
                        sizeof hostile / sizeof hostile[0]);
    tcase_add_test(tc, webroot_requires_existing_directory);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(acme_http01_suite)
