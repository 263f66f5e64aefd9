/* SPDX-License-Identifier: MIT */
/* eca_listen: request parsing, caps, deadlines, several clients at once, the caller's answer. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "eca_buf.h"
#include "eca_clock.h"
#include "eca_listen.h"
#include "eca_test.h"

static const struct {
    const char *head;
    int status;
    const char *path;
    int is_head;
} heads[] = {
    {"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 0, "/metrics", 0},
    {"GET /a/b?x=1&y=2 HTTP/1.0\r\n\r\n", 0, "/a/b", 0},
    {"HEAD /x HTTP/1.1\n\n", 0, "/x", 1},
    {"POST /x HTTP/1.1\r\n\r\n", 405, NULL, 0},
    {"get /x HTTP/1.1\r\n\r\n", 405, NULL, 0}, /* methods are case-sensitive */
    {"DELETE / HTTP/1.1\r\n\r\n", 405, NULL, 0},
    {"GET\r\n\r\n", 400, NULL, 0},
    {"GET /x\r\n\r\n", 400, NULL, 0},                  /* HTTP/0.9 */
    {"GET  HTTP/1.1\r\n\r\n", 400, NULL, 0},           /* no target */
    {"GET /x SPDY/3\r\n\r\n", 400, NULL, 0},           /* not HTTP/1.x */
    {"GET http://h/x HTTP/1.1\r\n\r\n", 400, NULL, 0}, /* proxy form */
    {"GET * HTTP/1.1\r\n\r\n", 400, NULL, 0},
    {"\r\n\r\n", 400, NULL, 0},
};

START_TEST(parse_request_lines)
{
    char *h = strdup(heads[_i].head);
    struct eca_listen_req req = {0};

    ck_assert_int_eq(eca_listen_parse(h, &req), heads[_i].status);
    if (heads[_i].status == 0) {
        ck_assert_str_eq(req.path, heads[_i].path);
        ck_assert_int_eq(req.head, heads[_i].is_head);
    }
    free(h);
}
END_TEST

static struct eca_listen *
open_loopback(int timeout_ms)
{
    struct eca_listen *l = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_listen_open("127.0.0.1:0", ECA_LISTEN_LOOPBACK_ONLY, timeout_ms, &l, &err),
                     ECA_OK);
    ck_assert_uint_gt(eca_listen_port(l), 0);
    ck_assert_int_ge(eca_listen_fd(l), 0);
    return l;
}

/* Connect to the listener and send req (may be empty); returns the socket. */
static int
client(const struct eca_listen *l, const char *req)
{
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons((unsigned short)eca_listen_port(l))};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    size_t len = strlen(req);

    ck_assert_int_ge(fd, 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);

        ck_assert_int_gt(n, 0);
        off += (size_t)n;
    }
    return fd;
}

/* Everything the server sends until it closes (each read bounded by 3 s); a new string. */
static char *
read_all(int fd)
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

/* 1 if the server closes fd (end of input, nothing sent) within ms. */
static int
closed_within(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char c;

    return poll(&p, 1, ms) == 1 && recv(fd, &c, 1, 0) == 0;
}

START_TEST(get_is_handed_to_the_caller_who_answers)
{
    struct eca_listen *l = open_loopback(2000);
    struct eca_listen_req req;
    struct eca_err err = {0};
    int fd = client(l, "GET /hello?q=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    char *resp;

    ck_assert_int_eq(eca_listen_next(l, 3000, &req, &err), ECA_OK);
    ck_assert_str_eq(req.path, "/hello");
    ck_assert_int_eq(req.head, 0);
    eca_listen_respond(l, &req, 200, "text/plain", "hi\n", 3);
    resp = read_all(fd);
    ck_assert_str_eq(resp, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
                           "Cache-Control: no-store\r\nConnection: close\r\n\r\nhi\n");
    free(resp);

    /* HEAD: the same head, no body. */
    fd = client(l, "HEAD /hello HTTP/1.1\r\n\r\n");
    ck_assert_int_eq(eca_listen_next(l, 3000, &req, &err), ECA_OK);
    ck_assert_int_eq(req.head, 1);
    eca_listen_respond(l, &req, 200, "text/plain", "hi\n", 3);
    resp = read_all(fd);
    ck_assert_ptr_nonnull(strstr(resp, "Content-Length: 3\r\n"));
    ck_assert_str_eq(strstr(resp, "\r\n\r\n"), "\r\n\r\n");
    free(resp);
    eca_listen_close(l);
}
END_TEST

START_TEST(unknown_path_answered_404_by_the_caller)
{
    struct eca_listen *l = open_loopback(2000);
    struct eca_listen_req req;
    int fd = client(l, "GET /nothing-here HTTP/1.1\r\n\r\n");
    char *resp;

    ck_assert_int_eq(eca_listen_next(l, 3000, &req, NULL), ECA_OK);
    eca_listen_respond(l, &req, 404, NULL, NULL, 0);
    resp = read_all(fd);
    ck_assert_msg(strncmp(resp, "HTTP/1.1 404 Not Found\r\n", 24) == 0, "got: %s", resp);
    ck_assert_str_eq(strstr(resp, "\r\n\r\n") + 4, "404 Not Found\n");
    free(resp);
    eca_listen_close(l);
}
END_TEST

static const struct {
    const char *req, *status;
} refused[] = {
    {"POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", "HTTP/1.1 405 Method Not Allowed\r\n"},
    {"PUT /x HTTP/1.1\r\n\r\n", "HTTP/1.1 405 Method Not Allowed\r\n"},
    {"GARBAGE\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
};

START_TEST(wrong_method_and_garbage_answered_by_the_listener)
{
    struct eca_listen *l = open_loopback(2000);
    struct eca_listen_req req;
    struct eca_err err = {0};
    int fd = client(l, refused[_i].req);
    char *resp;

    /* Never handed out: answered and closed inside the listener. */
    ck_assert_int_eq(eca_listen_next(l, 300, &req, &err), ECA_ETIMEOUT);
    ck_assert_int_eq(eca_listen_busy(l), 0);
    resp = read_all(fd);
    ck_assert_msg(strncmp(resp, refused[_i].status, strlen(refused[_i].status)) == 0, "got: %s",
                  resp);
    if (strstr(refused[_i].status, "405"))
        ck_assert_ptr_nonnull(strstr(resp, "\r\nAllow: GET, HEAD\r\n"));
    free(resp);
    eca_listen_close(l);
}
END_TEST

START_TEST(oversized_head_is_431_and_the_listener_goes_on)
{
    struct eca_listen *l = open_loopback(2000);
    struct eca_listen_req req;
    size_t len = ECA_LISTEN_MAX_REQUEST + 100;
    char *big = malloc(len + 1), *resp;
    int fd;

    memcpy(big, "GET / HTTP/1.1\r\nX-Pad: ", 23);
    memset(big + 23, 'a', len - 23);
    big[len] = '\0';
    fd = client(l, big);
    ck_assert_int_eq(eca_listen_next(l, 300, &req, NULL), ECA_ETIMEOUT);
    resp = read_all(fd);
    ck_assert_msg(strncmp(resp, "HTTP/1.1 431 ", 13) == 0, "got: %.80s", resp);
    free(resp);
    /* A head exactly at the cap still fits. */
    memset(big + 23, 'a', ECA_LISTEN_MAX_REQUEST - 23 - 4);
    memcpy(big + ECA_LISTEN_MAX_REQUEST - 4, "\r\n\r\n", 5);
    fd = client(l, big);
    ck_assert_int_eq(eca_listen_next(l, 3000, &req, NULL), ECA_OK);
    eca_listen_respond(l, &req, 200, "text/plain", "ok", 2);
    resp = read_all(fd);
    ck_assert_msg(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0, "got: %.80s", resp);
    free(resp);
    free(big);
    eca_listen_close(l);
}
END_TEST

START_TEST(slow_client_does_not_block_others_and_times_out)
{
    struct eca_listen *l = open_loopback(1000);
    struct eca_listen_req req;
    int slow = client(l, "GET /slow HTTP/1.1\r\n"), fast;
    long long t0;
    char *resp;

    /* The slow one is accepted and waits for the rest of its head. */
    ck_assert_int_eq(eca_listen_next(l, 50, &req, NULL), ECA_ETIMEOUT);
    ck_assert_int_eq(eca_listen_busy(l), 1);
    fast = client(l, "GET /fast HTTP/1.1\r\n\r\n");
    t0 = eca_clock_mono_ms();
    ck_assert_int_eq(eca_listen_next(l, 3000, &req, NULL), ECA_OK);
    ck_assert_msg(eca_clock_mono_ms() - t0 < 300, "fast client waited %lld ms",
                  eca_clock_mono_ms() - t0);
    ck_assert_str_eq(req.path, "/fast");
    eca_listen_respond(l, &req, 200, "text/plain", "f", 1);
    resp = read_all(fast);
    ck_assert_ptr_nonnull(strstr(resp, "HTTP/1.1 200 OK"));
    free(resp);
    /* Past its deadline the slow one is closed without an answer. */
    ck_assert_int_eq(eca_listen_next(l, 1500, &req, NULL), ECA_ETIMEOUT);
    ck_assert_int_eq(eca_listen_busy(l), 0);
    ck_assert(closed_within(slow, 100));
    close(slow);
    eca_listen_close(l);
}
END_TEST

START_TEST(head_in_pieces_is_put_together)
{
    struct eca_listen *l = open_loopback(2000);
    struct eca_listen_req req;
    int fd = client(l, "GET /pieces HTTP/1.1\r\nHost: x\r\n\r");
    char *resp;

    ck_assert_int_eq(eca_listen_next(l, 50, &req, NULL), ECA_ETIMEOUT);
    ck_assert_int_eq(eca_listen_busy(l), 1);
    ck_assert_int_eq(send(fd, "\n", 1, MSG_NOSIGNAL), 1); /* the blank line straddles reads */
    ck_assert_int_eq(eca_listen_next(l, 3000, &req, NULL), ECA_OK);
    ck_assert_str_eq(req.path, "/pieces");
    eca_listen_respond(l, &req, 200, "text/plain", "p", 1);
    resp = read_all(fd);
    ck_assert_msg(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0, "got: %s", resp);
    free(resp);
    eca_listen_close(l);
}
END_TEST

START_TEST(connection_cap_evicts_the_oldest)
{
    struct eca_listen *l = open_loopback(5000);
    struct eca_listen_req req;
    int fds[ECA_LISTEN_MAX_CONNS + 1];

    for (int i = 0; i <= ECA_LISTEN_MAX_CONNS; i++) {
        fds[i] = client(l, "GET /silent");
        ck_assert_int_eq(eca_listen_next(l, 20, &req, NULL), ECA_ETIMEOUT);
    }
    ck_assert_int_eq(eca_listen_busy(l), ECA_LISTEN_MAX_CONNS);
    ck_assert(closed_within(fds[0], 100)); /* made room: closed without an answer */
    ck_assert(!closed_within(fds[ECA_LISTEN_MAX_CONNS], 100));
    eca_listen_close(l);
    for (int i = 0; i <= ECA_LISTEN_MAX_CONNS; i++)
        close(fds[i]);
}
END_TEST

static void *
serve_until_stopped(void *arg)
{
    struct eca_listen_req req;
    static enum eca_rc rc;

    rc = eca_listen_next(arg, -1, &req, NULL);
    return &rc;
}

START_TEST(interrupt_stops_a_waiting_next_from_another_thread)
{
    struct eca_listen *l = open_loopback(1000);
    struct eca_listen_req req;
    pthread_t t;
    void *ret;
    long long t0;

    ck_assert_int_eq(pthread_create(&t, NULL, serve_until_stopped, l), 0);
    usleep(100 * 1000);
    t0 = eca_clock_mono_ms();
    eca_listen_interrupt(l);
    ck_assert_int_eq(pthread_join(t, &ret), 0);
    ck_assert_int_eq(*(enum eca_rc *)ret, ECA_ESTOPPED);
    ck_assert_int_lt(eca_clock_mono_ms() - t0, 500);
    ck_assert_int_eq(eca_listen_next(l, 0, &req, NULL), ECA_ESTOPPED);
    eca_listen_close(l);
}
END_TEST

static const struct {
    const char *addr;
    unsigned flags;
    const char *needle;
} refused_addrs[] = {
    {"0.0.0.0:0", ECA_LISTEN_LOOPBACK_ONLY, "not a loopback address"},
    {":0", ECA_LISTEN_LOOPBACK_ONLY, "not a loopback address"},
    {"[::]:0", ECA_LISTEN_LOOPBACK_ONLY, "not a loopback address"},
    {"127.0.0.1", 0, "expected host:port"},
    {"[::1]", 0, "expected host:port"},
    {"127.0.0.1:99999", 0, "expected host:port"},
    {"192.0.2.1:0", 0, "listen '192.0.2.1:0'"}, /* TEST-NET-1 is not ours: the bind fails */
};

START_TEST(open_refuses_bad_and_non_loopback_addresses)
{
    struct eca_listen *l = NULL;
    struct eca_err err = {0};

    ck_assert_int_ne(
        eca_listen_open(refused_addrs[_i].addr, refused_addrs[_i].flags, 1000, &l, &err), ECA_OK);
    ck_assert_ptr_null(l);
    ck_assert_msg(strstr(err.msg, refused_addrs[_i].needle) != NULL, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, refused_addrs[_i].addr));
}
END_TEST

static Suite *
listen_suite(void)
{
    Suite *s = suite_create("listen");
    TCase *tp = tcase_create("parse");
    TCase *tc = tcase_create("serve");

    tcase_add_loop_test(tp, parse_request_lines, 0, sizeof heads / sizeof heads[0]);
    suite_add_tcase(s, tp);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, get_is_handed_to_the_caller_who_answers);
    tcase_add_test(tc, unknown_path_answered_404_by_the_caller);
    tcase_add_loop_test(tc, wrong_method_and_garbage_answered_by_the_listener, 0,
                        sizeof refused / sizeof refused[0]);
    tcase_add_test(tc, oversized_head_is_431_and_the_listener_goes_on);
    tcase_add_test(tc, slow_client_does_not_block_others_and_times_out);
    tcase_add_test(tc, head_in_pieces_is_put_together);
    tcase_add_test(tc, connection_cap_evicts_the_oldest);
    tcase_add_test(tc, interrupt_stops_a_waiting_next_from_another_thread);
    tcase_add_loop_test(tc, open_refuses_bad_and_non_loopback_addresses, 0,
                        sizeof refused_addrs / sizeof refused_addrs[0]);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(listen_suite)
