/* SPDX-License-Identifier: MIT */
/* eca_metrics tests: exact exposition text, escaping, the textfile, and the loopback endpoint. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eca_buf.h"
#include "eca_metrics.h"
#include "eca_test.h"

static char *
render(const struct eca_metrics *m, time_t now)
{
    struct eca_buf b;
    struct eca_err err = {0};

    eca_buf_init(&b, 0);
    ck_assert_int_eq(eca_metrics_render(m, now, &b, &err), ECA_OK);
    return eca_buf_steal(&b);
}

static const char expected_full[] =
    "# HELP eca_agent_info Agent name and version; always 1.\n"
    "# TYPE eca_agent_info gauge\n"
    "eca_agent_info{agent=\"eca-test\",version=\"1.2.3\"} 1\n"
    "# HELP eca_cert_not_before_seconds Start of validity (notBefore) of the installed "
    "certificate, Unix time.\n"
    "# TYPE eca_cert_not_before_seconds gauge\n"
    "eca_cert_not_before_seconds{agent=\"eca-test\",cert=\"web\"} 1000\n"
    "# HELP eca_cert_not_after_seconds Expiry (notAfter) of the installed certificate, Unix "
    "time.\n"
    "# TYPE eca_cert_not_after_seconds gauge\n"
    "eca_cert_not_after_seconds{agent=\"eca-test\",cert=\"web\"} 2000\n"
    "# HELP eca_cert_lifetime_left_ratio Share of the installed certificate's lifetime still "
    "left (0 to 1).\n"
    "# TYPE eca_cert_lifetime_left_ratio gauge\n"
    "eca_cert_lifetime_left_ratio{agent=\"eca-test\",cert=\"web\"} 0.250000\n"
    "# HELP eca_renewals_total Successful renewals since the agent started.\n"
    "# TYPE eca_renewals_total counter\n"
    "eca_renewals_total{agent=\"eca-test\",cert=\"web\"} 2\n"
    "eca_renewals_total{agent=\"eca-test\",cert=\"mqtt\"} 0\n"
    "# HELP eca_last_success_timestamp_seconds Time of the last successful renewal, Unix "
    "time.\n"
    "# TYPE eca_last_success_timestamp_seconds gauge\n"
    "eca_last_success_timestamp_seconds{agent=\"eca-test\",cert=\"web\"} 1500\n"
    "# HELP eca_issuance_budget_remaining New certificates that may still be issued in the "
    "rolling 7-day window.\n"
    "# TYPE eca_issuance_budget_remaining gauge\n"
    "eca_issuance_budget_remaining{agent=\"eca-test\",cert=\"web\"} 0\n"
    "# HELP eca_cert_healthy 1 when the certificate is valid and not overdue, as `status` judges "
    "it.\n"
    "# TYPE eca_cert_healthy gauge\n"
    "# HELP eca_renewal_failures_total Failed renewal attempts since the agent started, by "
    "cause.\n"
    "# TYPE eca_renewal_failures_total counter\n"
    "eca_renewal_failures_total{agent=\"eca-test\",cert=\"web\",cause=\"ENET\"} 1\n";

static struct eca_metrics *
sample_registry(void)
{
    struct eca_metrics *m = eca_metrics_new("eca-test", "1.2.3");
    struct eca_err err = {0};

    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(eca_metrics_set_validity(m, "web", 1000, 2000, &err), ECA_OK);
    ck_assert_int_eq(eca_metrics_renewal_succeeded(m, "web", 1400, &err), ECA_OK);
    ck_assert_int_eq(eca_metrics_renewal_succeeded(m, "web", 1500, &err), ECA_OK);
    ck_assert_int_eq(eca_metrics_renewal_failed(m, "web", "ENET", &err), ECA_OK);
    ck_assert_int_eq(eca_metrics_cert_add(m, "mqtt", &err), ECA_OK);
    /* A spent budget shows as 0; a certificate without one has no series. */
    ck_assert_int_eq(eca_metrics_set_budget(m, "web", 0, &err), ECA_OK);
    ck_assert_int_eq(eca_metrics_set_budget(m, "mqtt", -1, &err), ECA_OK);
    return m;
}

START_TEST(render_is_exact_exposition_text)
{
    struct eca_metrics *m = sample_registry();
    char *txt = render(m, 1750);

    ck_assert_str_eq(txt, expected_full);
    free(txt);
    eca_metrics_free(m);
}
END_TEST

START_TEST(render_escapes_label_values)
{
    struct eca_metrics *m = eca_metrics_new("a\\b\"c\nd", "v\"1");
    struct eca_err err = {0};
    char *txt;

    ck_assert_int_eq(eca_metrics_cert_add(m, "x\\y\"z\nw", &err), ECA_OK);
    ck_assert_int_eq(eca_metrics_renewal_failed(m, "x\\y\"z\nw", "bad\"cause", &err), ECA_OK);
    txt = render(m, 0);
    ck_assert_ptr_nonnull(
        strstr(txt, "eca_agent_info{agent=\"a\\\\b\\\"c\\nd\",version=\"v\\\"1\"} 1\n"));
    ck_assert_ptr_nonnull(
        strstr(txt, "eca_renewals_total{agent=\"a\\\\b\\\"c\\nd\",cert=\"x\\\\y\\\"z\\nw\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(txt, ",cause=\"bad\\\"cause\"} 1\n"));
    /* No raw line feed may survive inside a sample line. */
    ck_assert_ptr_null(strstr(txt, "c\nd"));
    free(txt);
    eca_metrics_free(m);
}
END_TEST

START_TEST(ratio_is_clamped_and_validity_clearable)
{
    struct eca_metrics *m = eca_metrics_new("a", "1");
    struct eca_err err = {0};
    char *txt;

    ck_assert_int_eq(eca_metrics_set_validity(m, "c", 1000, 2000, &err), ECA_OK);
    txt = render(m, 500);
    ck_assert_ptr_nonnull(
        strstr(txt, "eca_cert_lifetime_left_ratio{agent=\"a\",cert=\"c\"} 1.000000\n"));
    free(txt);
    txt = render(m, 2500);
    ck_assert_ptr_nonnull(
        strstr(txt, "eca_cert_lifetime_left_ratio{agent=\"a\",cert=\"c\"} 0.000000\n"));
    free(txt);
    eca_metrics_clear_validity(m, "c");
    txt = render(m, 1500);
    ck_assert_ptr_null(strstr(txt, "eca_cert_lifetime_left_ratio{"));
    ck_assert_ptr_null(strstr(txt, "eca_cert_not_after_seconds{"));
    ck_assert_ptr_nonnull(strstr(txt, "eca_renewals_total{agent=\"a\",cert=\"c\"} 0\n"));
    free(txt);
    eca_metrics_free(m);
}
END_TEST

START_TEST(declared_causes_start_at_zero_and_remove_drops_series)
{
    struct eca_metrics *m = eca_metrics_new("a", "1");
    struct eca_err err = {0};
    char *txt;

    ck_assert_int_eq(eca_metrics_cert_add(m, "old", &err), ECA_OK);
    ck_assert_int_eq(eca_metrics_declare_rc_causes(m, &err), ECA_OK);
    ck_assert_int_eq(eca_metrics_cert_add(m, "new", &err), ECA_OK);
    ck_assert_int_eq(eca_metrics_renewal_failed(m, "new", "", &err), ECA_OK);
    ck_assert_int_eq(eca_metrics_declare_cause(m, "", &err), ECA_EINVAL);
    txt = render(m, 0);
    ck_assert_ptr_nonnull(strstr(txt, "{agent=\"a\",cert=\"old\",cause=\"ENET\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(txt, "{agent=\"a\",cert=\"new\",cause=\"ETIMEOUT\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(txt, "{agent=\"a\",cert=\"new\",cause=\"unknown\"} 1\n"));
    ck_assert_ptr_null(strstr(txt, "cause=\"OK\""));
    free(txt);
    eca_metrics_cert_remove(m, "old");
    eca_metrics_cert_remove(m, "never-there");
    txt = render(m, 0);
    ck_assert_ptr_null(strstr(txt, "cert=\"old\""));
    ck_assert_ptr_nonnull(strstr(txt, "cert=\"new\""));
    free(txt);
    eca_metrics_free(m);
    eca_metrics_free(NULL);
}
END_TEST

/* Workers record their own certificates at once (eca-acme's concurrency): none is lost. */
#define REC_THREADS 4
#define REC_CERTS   200

struct recorder {
    struct eca_metrics *m;
    int id;
};

static void *
record(void *arg)
{
    const struct recorder *r = arg;
    char name[32];

    for (int i = 0; i < REC_CERTS; i++) {
        snprintf(name, sizeof name, "w%d-c%d", r->id, i);
        /* Each new name grows the registry while the others read and write it. */
        if (eca_metrics_renewal_succeeded(r->m, name, 1, NULL) != ECA_OK ||
            eca_metrics_renewal_failed(r->m, name, "ENET", NULL) != ECA_OK ||
            eca_metrics_set_budget(r->m, name, i, NULL) != ECA_OK)
            return arg;
    }
    return NULL;
}

START_TEST(concurrent_recording_loses_nothing)
{
    struct eca_metrics *m = eca_metrics_new("a", "1");
    struct recorder r[REC_THREADS];
    pthread_t th[REC_THREADS];
    void *res;
    char *txt, *p;
    int renewals = 0;

    for (int k = 0; k < REC_THREADS; k++) {
        r[k] = (struct recorder){m, k};
        ck_assert_int_eq(pthread_create(&th[k], NULL, record, &r[k]), 0);
    }
    for (int k = 0; k < REC_THREADS; k++) {
        ck_assert_int_eq(pthread_join(th[k], &res), 0);
        ck_assert_ptr_null(res);
    }
    txt = render(m, 0);
    for (p = txt; (p = strstr(p, "\neca_renewals_total{")) != NULL; p++)
        renewals += strstr(p, "} 1\n") == strchr(p, '}');
    ck_assert_int_eq(renewals, REC_THREADS * REC_CERTS);
    ck_assert_ptr_nonnull(strstr(txt, "cert=\"w3-c199\",cause=\"ENET\"} 1\n"));
    free(txt);
    eca_metrics_free(m);
}
END_TEST

START_TEST(textfile_is_public_and_matches_render)
{
    struct eca_metrics *m = sample_registry();
    struct eca_err err = {0};
    char dir[256], path[512], buf[8192];
    struct stat st;
    FILE *f;
    size_t n;

    test_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/eca-test.prom", dir);
    umask(077); /* what the daemons run under: the file must still come out 0644 */
    ck_assert_int_eq(eca_metrics_write_textfile(m, path, 1000, &err), ECA_OK);
    ck_assert_int_eq(eca_metrics_write_textfile(m, path, 1750, &err), ECA_OK);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0644);
    ck_assert_ptr_nonnull(f = fopen(path, "r"));
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    ck_assert_str_eq(buf, expected_full);
    snprintf(path, sizeof path, "%s/missing/eca-test.prom", dir);
    ck_assert_int_eq(eca_metrics_write_textfile(m, path, 1750, &err), ECA_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, path));
    test_rmdir(dir);
    eca_metrics_free(m);
}
END_TEST

/* Connect to 127.0.0.1:port and send req (may be empty); returns the socket. */
static int
client_send(unsigned port, const char *req, size_t len)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, req + off, len - off, 0);

        ck_assert_int_gt(n, 0);
        off += (size_t)n;
    }
    return fd;
}

/* Read until EOF (bounded by a 3 s poll per read) into a new string. */
static char *
client_read_all(int fd)
{
    struct eca_buf b;
    char chunk[4096];
    struct pollfd p = {.fd = fd, .events = POLLIN};

    eca_buf_init(&b, 0);
    while (poll(&p, 1, 3000) == 1) {
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);

        if (n <= 0)
            break;
        ck_assert_int_eq(eca_buf_append(&b, chunk, (size_t)n, NULL), ECA_OK);
    }
    close(fd);
    eca_buf_puts(&b, "", NULL);
    return eca_buf_steal(&b);
}

static struct eca_metrics *
serving_registry(void)
{
    struct eca_metrics *m = sample_registry();
    struct eca_err err = {0};

    ck_assert_int_eq(eca_metrics_serve(m, "127.0.0.1:0", 0, &err), ECA_OK);
    ck_assert_int_ge(eca_metrics_fd(m), 0);
    ck_assert_uint_gt(eca_metrics_port(m), 0);
    return m;
}

static char *
exchange(struct eca_metrics *m, const char *req, size_t len)
{
    struct eca_err err = {0};
    struct pollfd p;
    int fd = client_send(eca_metrics_port(m), req, len);

    /* What the daemon loop does: poll the listener, then let the registry answer. */
    p = (struct pollfd){.fd = eca_metrics_fd(m), .events = POLLIN};
    ck_assert_int_eq(poll(&p, 1, 3000), 1);
    ck_assert_int_eq(eca_metrics_handle_ready(m, &err), ECA_OK);
    return client_read_all(fd);
}

START_TEST(endpoint_answers_get_metrics)
{
    struct eca_metrics *m = serving_registry();
    const char req[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n";
    char *resp = exchange(m, req, strlen(req));
    const char *body = strstr(resp, "\r\n\r\n");
    char clen[64];

    ck_assert_msg(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0, "got: %s", resp);
    ck_assert_ptr_nonnull(
        strstr(resp, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    ck_assert_ptr_nonnull(body);
    snprintf(clen, sizeof clen, "\r\nContent-Length: %zu\r\n", strlen(body + 4));
    ck_assert_ptr_nonnull(strstr(resp, clen));
    ck_assert_ptr_nonnull(strstr(body, "eca_agent_info{agent=\"eca-test\",version=\"1.2.3\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(body, "eca_renewals_total{agent=\"eca-test\",cert=\"web\"} 2\n"));
    free(resp);
    eca_metrics_free(m);
}
END_TEST

static const struct {
    const char *req, *status;
} routes[] = {
    {"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n"},
    {"GET /metricsx HTTP/1.0\r\n\r\n", "HTTP/1.1 404 Not Found\r\n"},
    {"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 405 Method Not Allowed\r\n"},
    {"GET /metrics?x=1 HTTP/1.1\n\n", "HTTP/1.1 200 OK\r\n"},
};

START_TEST(endpoint_routes_other_requests)
{
    struct eca_metrics *m = serving_registry();
    char *resp = exchange(m, routes[_i].req, strlen(routes[_i].req));

    ck_assert_msg(strncmp(resp, routes[_i].status, strlen(routes[_i].status)) == 0,
                  "request %d got: %s", _i, resp);
    free(resp);
    eca_metrics_free(m);
}
END_TEST

START_TEST(endpoint_head_has_no_body)
{
    struct eca_metrics *m = serving_registry();
    const char req[] = "HEAD /metrics HTTP/1.1\r\n\r\n";
    char *resp = exchange(m, req, strlen(req));
    const char *end = strstr(resp, "\r\n\r\n");

    ck_assert_msg(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0, "got: %s", resp);
    ck_assert_ptr_nonnull(end);
    ck_assert_str_eq(end, "\r\n\r\n");
    free(resp);
    eca_metrics_free(m);
}
END_TEST

START_TEST(endpoint_caps_request_size)
{
    struct eca_metrics *m = serving_registry();
    size_t len = ECA_METRICS_MAX_REQUEST + 1024;
    char *req = malloc(len);
    char *resp;

    memcpy(req, "GET /metrics HTTP/1.1\r\nX-Pad: ", 30);
    memset(req + 30, 'a', len - 30);
    resp = exchange(m, req, len);
    ck_assert_msg(strncmp(resp, "HTTP/1.1 431 ", 13) == 0, "got: %.80s", resp);
    free(resp);
    free(req);
    eca_metrics_free(m);
}
END_TEST

START_TEST(endpoint_times_out_silent_client)
{
    struct eca_metrics *m = serving_registry();
    struct timespec t0, t1;
    double ms;
    char *resp;

    eca_metrics_set_timeout_ms(m, 200);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    resp = exchange(m, "", 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (double)(t1.tv_sec - t0.tv_sec) * 1000 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    ck_assert_str_eq(resp, "");
    ck_assert_msg(ms >= 150 && ms < 2000, "handled in %.0f ms", ms);
    free(resp);
    eca_metrics_free(m);
}
END_TEST

START_TEST(handle_ready_without_pending_returns_at_once)
{
    struct eca_metrics *m = serving_registry();
    struct eca_metrics *idle = eca_metrics_new("a", "1");
    struct eca_err err = {0};

    ck_assert_int_eq(eca_metrics_handle_ready(m, &err), ECA_OK);
    ck_assert_int_eq(eca_metrics_fd(idle), -1);
    ck_assert_int_eq(eca_metrics_handle_ready(idle, &err), ECA_OK);
    ck_assert_int_eq(eca_metrics_serve(m, "127.0.0.1:0", 0, &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "already listening"));
    eca_metrics_stop(m);
    ck_assert_int_eq(eca_metrics_fd(m), -1);
    ck_assert_int_eq(eca_metrics_serve(m, "localhost:0", 0, &err), ECA_OK);
    ck_assert_int_ge(eca_metrics_fd(m), 0);
    eca_metrics_free(idle);
    eca_metrics_free(m);
}
END_TEST

static const struct {
    const char *spec, *needle;
} refused[] = {
    {"0.0.0.0:0", "not a loopback address"},   {"[::]:0", "not a loopback address"},
    {":0", "not a loopback address"},          {"192.0.2.1:4231", "not a loopback address"},
    {"127.0.0.1", "expected host:port"},       {"127.0.0.1:http", "expected host:port"},
    {"127.0.0.1:70000", "expected host:port"}, {"[::1:0", "expected host:port"},
};

START_TEST(serve_refuses_non_loopback_and_bad_specs)
{
    struct eca_metrics *m = eca_metrics_new("a", "1");
    struct eca_err err = {0};

    ck_assert_int_eq(eca_metrics_serve(m, refused[_i].spec, 0, &err), ECA_EINVAL);
    ck_assert_msg(strstr(err.msg, refused[_i].needle) != NULL, "%s: %s", refused[_i].spec, err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, refused[_i].spec));
    ck_assert_int_eq(eca_metrics_fd(m), -1);
    eca_metrics_free(m);
}
END_TEST

START_TEST(serve_allow_flag_skips_loopback_check)
{
    struct eca_metrics *m = eca_metrics_new("a", "1");
    struct eca_err err = {0};

    /* TEST-NET-1 is not configured here, so bind fails: proof the check was passed without
     * exposing anything beyond loopback during the test. */
    ck_assert_int_eq(eca_metrics_serve(m, "192.0.2.1:0", ECA_METRICS_ALLOW_NONLOOPBACK, &err),
                     ECA_EIO);
    ck_assert_ptr_null(strstr(err.msg, "loopback"));
    eca_metrics_free(m);
}
END_TEST

static Suite *
metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("render");
    TCase *tn = tcase_create("endpoint");

    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, render_is_exact_exposition_text);
    tcase_add_test(tc, render_escapes_label_values);
    tcase_add_test(tc, ratio_is_clamped_and_validity_clearable);
    tcase_add_test(tc, declared_causes_start_at_zero_and_remove_drops_series);
    tcase_add_test(tc, textfile_is_public_and_matches_render);
    tcase_add_test(tc, concurrent_recording_loses_nothing);
    suite_add_tcase(s, tc);
    tcase_set_timeout(tn, 5);
    tcase_add_test(tn, endpoint_answers_get_metrics);
    tcase_add_loop_test(tn, endpoint_routes_other_requests, 0, sizeof routes / sizeof routes[0]);
    tcase_add_test(tn, endpoint_head_has_no_body);
    tcase_add_test(tn, endpoint_caps_request_size);
    tcase_add_test(tn, endpoint_times_out_silent_client);
    tcase_add_test(tn, handle_ready_without_pending_returns_at_once);
    tcase_add_loop_test(tn, serve_refuses_non_loopback_and_bad_specs, 0,
                        sizeof refused / sizeof refused[0]);
    tcase_add_test(tn, serve_allow_flag_skips_loopback_check);
    suite_add_tcase(s, tn);
    return s;
}

ECA_TEST_SUITE(metrics_suite)
