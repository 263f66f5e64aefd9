/* SPDX-License-Identifier: MIT */
/* Tests of the libcurl transport against loopback HTTPS/HTTP servers and a throwaway PKI. */
#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eca_b64.h"
#include "eca_http.h"
#include "eca_secret.h"
#include "eca_test.h"

#define UA     "eca-test/1.0"
#define CANARY "s3cret-canary-pw" /* the password tests/support/http_test_server.py expects */

static char dir[512];
static pid_t pids[3];
static int port_tls, port_mtls, port_plain;

static char *
path_in(const char *name)
{
    static char bufs[8][1024];
    static int next;
    char *p = bufs[next++ % 8];

    snprintf(p, sizeof bufs[0], "%s/%s", dir, name);
    return p;
}

static void sh(const char *fmt, ...) ECA_PRINTF(1, 2);

static void
sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    ck_assert_msg(system(cmd) == 0, "command failed: %s", cmd);
}

/* A CA, a server certificate for localhost/127.0.0.1, a client certificate, and a stranger CA. */
static void
make_pki(void)
{
    const char *q = ">/dev/null 2>&1";

    sh("cd %s && printf "
       "'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n'"
       " > srv.ext && printf 'extendedKeyUsage=clientAuth\\n' > cli.ext",
       dir);
    for (int i = 0; i < 2; i++)
        sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
           " -keyout ca%d.key -out ca%d.pem -days 2 -subj /CN=eca-test-ca-%d"
           " -addext basicConstraints=critical,CA:TRUE"
           " -addext keyUsage=critical,keyCertSign,cRLSign %s",
           dir, i, i, i, q);
    sh("cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key"
       " -out srv.csr -subj /CN=localhost %s && openssl x509 -req -in srv.csr -CA ca0.pem"
       " -CAkey ca0.key -CAcreateserial -days 2 -extfile srv.ext -out srv.pem %s",
       dir, q, q);
    sh("cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout cli.key"
       " -out cli.csr -subj /CN=eca-test-client %s && openssl x509 -req -in cli.csr -CA ca0.pem"
       " -CAkey ca0.key -CAcreateserial -days 2 -extfile cli.ext -out cli.pem %s",
       dir, q, q);
}

static int
wait_port(const char *file)
{
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(file, "r");
        int port = 0;
        if (f != NULL) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
            if (port > 0)
                return port;
        }
        usleep(50 * 1000);
    }
    ck_abort_msg("test server did not write %s", file);
    return 0;
}

/* Start tests/support/http_test_server.py; tls 0: plain, 1: TLS, 2: TLS requiring a client cert. */
static pid_t
start_server(int tls, int *port)
{
    char pf[64], log[64];
    pid_t pid;

    snprintf(pf, sizeof pf, "port%d", tls);
    snprintf(log, sizeof log, "server%d.log", tls);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (freopen(path_in(log), "w", stdout) == NULL || dup2(fileno(stdout), 2) < 0)
            _exit(127);
        if (tls == 0)
            execlp("python3", "python3", "tests/support/http_test_server.py", "--port-file",
                   path_in(pf), (char *)NULL);
        else
            execlp("python3", "python3", "tests/support/http_test_server.py", "--port-file",
                   path_in(pf), "--cert", path_in("srv.pem"), "--key", path_in("srv.key"),
                   tls == 2 ? "--client-ca" : (char *)NULL, path_in("ca0.pem"), (char *)NULL);
        _exit(127);
    }
    *port = wait_port(path_in(pf));
    return pid;
}

static void
servers_up(void)
{
    test_mkdtemp(dir, sizeof dir);
    /* A proxy from the environment would turn loopback tests into something else. */
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("http_proxy");
    unsetenv("ALL_PROXY");
    unsetenv("all_proxy");
    make_pki();
    pids[0] = start_server(0, &port_plain);
    pids[1] = start_server(1, &port_tls);
    pids[2] = start_server(2, &port_mtls);
}

static void
servers_down(void)
{
    for (int i = 0; i < 3; i++) {
        if (pids[i] > 0) {
            kill(pids[i], SIGTERM);
            waitpid(pids[i], NULL, 0);
            pids[i] = 0;
        }
    }
    test_rmdir(dir);
}

static const char *
url(int port, const char *scheme, const char *host, const char *path)
{
    static char bufs[8][256];
    static int next;
    char *p = bufs[next++ % 8];

    snprintf(p, sizeof bufs[0], "%s://%s:%d%s", scheme, host, port, path);
    return p;
}

static struct eca_http *
transport(const struct eca_http_opts *o)
{
    struct eca_http *h = NULL;
    struct eca_err err = {0};
    struct eca_http_opts d = {.user_agent = UA, .ca_bundle = path_in("ca0.pem")};

    ck_assert_msg(eca_http_curl_new(o ? o : &d, &h, &err) == ECA_OK, "%s", err.msg);
    return h;
}

static enum eca_rc
get(struct eca_http *h, const char *u, struct eca_http_resp *resp, struct eca_err *err)
{
    struct eca_http_req req = {.method = "GET", .url = u};

    return eca_http_perform(h, &req, resp, err);
}

START_TEST(get_ok_with_ca_bundle)
{
    struct eca_http *h = transport(NULL);
    struct eca_http_resp resp;
    struct eca_err err = {0};
    char mt[64];

    ck_assert_msg(get(h, url(port_tls, "https", "127.0.0.1", "/hello"), &resp, &err) == ECA_OK,
                  "%s", err.msg);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq((char *)resp.body.data, "hello");
    ck_assert_int_eq(eca_http_resp_media_type(&resp, mt, sizeof mt), 1);
    ck_assert_str_eq(mt, "text/plain");
    eca_http_resp_free(&resp);
    /* The name in the certificate works too, and so does a 404 (a status, not an error). */
    ck_assert_int_eq(get(h, url(port_tls, "https", "localhost", "/nope"), &resp, &err), ECA_OK);
    ck_assert_int_eq(resp.status, 404);
    eca_http_resp_free(&resp);
    eca_http_free(h);
}
END_TEST

START_TEST(connection_is_reused)
{
    struct eca_http *h = transport(NULL);
    struct eca_http_resp a, b;
    struct eca_err err = {0};

    ck_assert_int_eq(get(h, url(port_tls, "https", "127.0.0.1", "/peer"), &a, &err), ECA_OK);
    ck_assert_int_eq(get(h, url(port_tls, "https", "127.0.0.1", "/peer"), &b, &err), ECA_OK);
    /* Same client port: the second request rode the first connection. */
    ck_assert_str_eq((char *)a.body.data, (char *)b.body.data);
    eca_http_resp_free(&a);
    eca_http_resp_free(&b);
    eca_http_free(h);
}
END_TEST

START_TEST(verification_fails_without_the_right_ca)
{
    struct eca_http_opts o = {.user_agent = UA, .ca_bundle = path_in("ca1.pem")};
    struct eca_http *h = transport(&o);
    struct eca_http_resp resp;
    struct eca_err err = {0};
    const char *u = url(port_tls, "https", "127.0.0.1", "/hello");

    ck_assert_int_eq(get(h, u, &resp, &err), ECA_ETLS);
    ck_assert_ptr_nonnull(strstr(err.msg, u));
    eca_http_resp_free(&resp);
    eca_http_free(h);

    /* The system store does not know our throwaway CA either. */
    o.ca_bundle = NULL;
    h = transport(&o);
    ck_assert_int_eq(get(h, u, &resp, &err), ECA_ETLS);
    eca_http_resp_free(&resp);
    eca_http_free(h);

    /* insecure admits http:// but never switches verification off. */
    o.insecure = 1;
    h = transport(&o);
    ck_assert_int_eq(get(h, u, &resp, &err), ECA_ETLS);
    eca_http_resp_free(&resp);
    eca_http_free(h);
}
END_TEST

START_TEST(plain_http_needs_insecure)
{
    struct eca_http_opts o = {.user_agent = UA};
    struct eca_http *h = transport(&o);
    struct eca_http_resp resp;
    struct eca_err err = {0};
    const char *u = url(port_plain, "http", "127.0.0.1", "/hello");

    ck_assert_int_eq(get(h, u, &resp, &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, u));
    eca_http_resp_free(&resp);
    eca_http_free(h);

    o.insecure = 1;
    h = transport(&o);
    ck_assert_msg(get(h, u, &resp, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq((char *)resp.body.data, "hello");
    eca_http_resp_free(&resp);
    eca_http_free(h);
}
END_TEST

START_TEST(redirects_are_not_followed)
{
    struct eca_http *h = transport(NULL);
    struct eca_http_resp resp;
    struct eca_err err = {0};
    char loc[64];

    ck_assert_int_eq(get(h, url(port_tls, "https", "127.0.0.1", "/redirect"), &resp, &err), ECA_OK);
    ck_assert_int_eq(resp.status, 302);
    ck_assert_int_eq(eca_http_resp_header(&resp, "Location", loc, sizeof loc), 1);
    ck_assert_str_eq(loc, "/hello");
    eca_http_resp_free(&resp);
    eca_http_free(h);
}
END_TEST

START_TEST(body_cap_is_enforced)
{
    struct eca_http_opts o = {.user_agent = UA, .ca_bundle = path_in("ca0.pem"), .max_body = 1000};
    struct eca_http *h = transport(&o);
    struct eca_http_resp resp;
    struct eca_err err = {0};
    const char *u;

    ck_assert_int_eq(get(h, url(port_tls, "https", "127.0.0.1", "/big/1000"), &resp, &err), ECA_OK);
    ck_assert_uint_eq(resp.body.len, 1000);
    eca_http_resp_free(&resp);

    u = url(port_tls, "https", "127.0.0.1", "/big/5000");
    ck_assert_int_eq(get(h, u, &resp, &err), ECA_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "exceeds 1000 bytes"));
    ck_assert_ptr_nonnull(strstr(err.msg, u));
    eca_http_resp_free(&resp);

    /* Without Content-Length the write callback has to stop it. */
    u = url(port_tls, "https", "127.0.0.1", "/stream/50000");
    ck_assert_int_eq(get(h, u, &resp, &err), ECA_ETOOBIG);
    ck_assert_msg(strstr(err.msg, "response body from") != NULL, "%s", err.msg);
    ck_assert_uint_le(resp.body.len, 1000);
    eca_http_resp_free(&resp);
    eca_http_free(h);
}
END_TEST

START_TEST(silent_server_times_out)
{
    struct eca_http_opts o = {.user_agent = UA, .ca_bundle = path_in("ca0.pem"), .timeout_s = 1};
    struct eca_http *h = transport(&o);
    struct eca_http_resp resp;
    struct eca_err err = {0};
    time_t t0 = time(NULL);

    ck_assert_int_eq(get(h, url(port_tls, "https", "127.0.0.1", "/hang"), &resp, &err),
                     ECA_ETIMEOUT);
    ck_assert_int_le(time(NULL) - t0, 4);
    ck_assert_ptr_nonnull(strstr(err.msg, "/hang"));
    eca_http_resp_free(&resp);
    eca_http_free(h);
}
END_TEST

/* A server that trickles (5 bytes/s) is cut by the low-speed limit, not the total timeout. */
START_TEST(trickling_server_is_cut_off)
{
    struct eca_http_opts o = {.user_agent = UA,
                              .ca_bundle = path_in("ca0.pem"),
                              .timeout_s = 30,
                              .low_speed_bytes = 100,
                              .low_speed_time_s = 1};
    struct eca_http *h = transport(&o);
    struct eca_http_resp resp;
    struct eca_err err = {0};
    time_t t0 = time(NULL);

    ck_assert_int_eq(get(h, url(port_tls, "https", "127.0.0.1", "/trickle"), &resp, &err),
                     ECA_ETIMEOUT);
    ck_assert_int_le(time(NULL) - t0, 5);
    ck_assert_ptr_nonnull(strstr(err.msg, "/trickle"));
    eca_http_resp_free(&resp);
    eca_http_free(h);
}
END_TEST

/* A request's own timeout (what is left of a caller's deadline) wins over the transport's. */
START_TEST(request_timeout_shortens_the_transport_timeout)
{
    struct eca_http_opts o = {.user_agent = UA, .ca_bundle = path_in("ca0.pem"), .timeout_s = 30};
    struct eca_http *h = transport(&o);
    struct eca_http_req req = {.method = "GET", .timeout_ms = 700};
    struct eca_http_resp resp;
    struct eca_err err = {0};
    time_t t0 = time(NULL);

    req.url = url(port_tls, "https", "127.0.0.1", "/hang");
    ck_assert_int_eq(eca_http_perform(h, &req, &resp, &err), ECA_ETIMEOUT);
    ck_assert_int_le(time(NULL) - t0, 3);
    eca_http_resp_free(&resp);
    /* ... for that request only: the next one has the transport's. */
    ck_assert_int_eq(get(h, url(port_tls, "https", "127.0.0.1", "/hello"), &resp, &err), ECA_OK);
    eca_http_resp_free(&resp);
    eca_http_free(h);
}
END_TEST

START_TEST(post_sends_length_and_user_agent)
{
    struct eca_http *h = transport(NULL);
    struct eca_http_resp resp;
    struct eca_err err = {0};
    static const char *const extra[] = {"X-Extra: yes"};
    size_t big = 64 * 1024;
    char *body = malloc(big);
    char want[64];
    struct eca_http_req req = {.method = "POST",
                               .url = url(port_tls, "https", "127.0.0.1", "/echo"),
                               .content_type = "application/jose+json",
                               .body = "{\"a\":1}",
                               .body_len = 7,
                               .headers = extra,
                               .nheaders = 1};

    ck_assert_msg(eca_http_perform(h, &req, &resp, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_ptr_nonnull(strstr((char *)resp.body.data, "POST /echo HTTP/1.1\n"));
    ck_assert_ptr_nonnull(strstr((char *)resp.body.data, "Content-Length: 7\n"));
    ck_assert_ptr_nonnull(strstr((char *)resp.body.data, "User-Agent: " UA "\n"));
    ck_assert_ptr_nonnull(strstr((char *)resp.body.data, "Content-Type: application/jose+json\n"));
    ck_assert_ptr_nonnull(strstr((char *)resp.body.data, "X-Extra: yes\n"));
    ck_assert_ptr_nonnull(strstr((char *)resp.body.data, "chunked: no\nbody-length: 7\n{\"a\":1}"));
    ck_assert_ptr_null(strstr((char *)resp.body.data, "Transfer-Encoding"));
    ck_assert_ptr_null(strstr((char *)resp.body.data, "Expect"));
    eca_http_resp_free(&resp);

    /* A large body still goes with Content-Length, at once, without 100-continue. */
    ck_assert_ptr_nonnull(body);
    memset(body, 'b', big);
    req.body = body;
    req.body_len = big;
    ck_assert_msg(eca_http_perform(h, &req, &resp, &err) == ECA_OK, "%s", err.msg);
    snprintf(want, sizeof want, "Content-Length: %zu\n", big);
    ck_assert_ptr_nonnull(strstr((char *)resp.body.data, want));
    ck_assert_ptr_null(strstr((char *)resp.body.data, "Expect"));
    ck_assert_ptr_nonnull(strstr((char *)resp.body.data, "chunked: no\n"));
    eca_http_resp_free(&resp);

    /* GET carries the User-Agent too, and an empty POST says Content-Length: 0. */
    ck_assert_int_eq(get(h, req.url, &resp, &err), ECA_OK);
    ck_assert_ptr_nonnull(strstr((char *)resp.body.data, "User-Agent: " UA "\n"));
    eca_http_resp_free(&resp);
    req.body = NULL;
    req.body_len = 0;
    ck_assert_int_eq(eca_http_perform(h, &req, &resp, &err), ECA_OK);
    ck_assert_ptr_nonnull(strstr((char *)resp.body.data, "Content-Length: 0\n"));
    eca_http_resp_free(&resp);
    free(body);
    eca_http_free(h);
}
END_TEST

START_TEST(mtls_client_certificate)
{
    struct eca_http_opts o = {.user_agent = UA,
                              .ca_bundle = path_in("ca0.pem"),
                              .client_cert = path_in("cli.pem"),
                              .client_key = path_in("cli.key")};
    struct eca_http *h = transport(&o);
    struct eca_http_resp resp;
    struct eca_err err = {0};
    const char *u = url(port_mtls, "https", "127.0.0.1", "/client");

    ck_assert_msg(get(h, u, &resp, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq((char *)resp.body.data, "eca-test-client");
    eca_http_resp_free(&resp);
    eca_http_free(h);

    /* Without a client certificate the server refuses the connection with a TLS alert. */
    h = transport(NULL);
    ck_assert_int_eq(get(h, u, &resp, &err), ECA_ETLS);
    ck_assert_ptr_nonnull(strstr(err.msg, u));
    eca_http_resp_free(&resp);
    eca_http_free(h);
}
END_TEST

static enum eca_rc
get_basic(const char *path, const char *pass, int after_challenge, struct eca_http_resp *resp,
          struct eca_err *err)
{
    struct eca_http *h = transport(NULL);
    struct eca_secret *s = NULL;
    struct eca_http_req req = {.method = "GET",
                               .url = url(port_tls, "https", "127.0.0.1", path),
                               .basic_user = "edge",
                               .basic_after_challenge = after_challenge};
    enum eca_rc rc;

    ck_assert_int_eq(eca_secret_from_mem(pass, strlen(pass), &s, err), ECA_OK);
    req.basic_pass = s;
    rc = eca_http_perform(h, &req, resp, err);
    eca_secret_free(s);
    eca_http_free(h);
    return rc;
}

START_TEST(basic_after_challenge)
{
    struct eca_http_resp resp;
    struct eca_err err = {0};
    char v[64];

    /* First without credentials, then with them once the server asked for Basic. */
    ck_assert_msg(get_basic("/basic/after", CANARY, 1, &resp, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq((char *)resp.body.data, "none,ok");
    /* Headers are those of the final response, not of the 401. */
    ck_assert_int_eq(eca_http_resp_header(&resp, "WWW-Authenticate", v, sizeof v), 0);
    eca_http_resp_free(&resp);

    /* A wrong password ends as a 401 response, not a loop. */
    ck_assert_int_eq(get_basic("/basic/wrong", "not-it", 1, &resp, &err), ECA_OK);
    ck_assert_int_eq(resp.status, 401);
    ck_assert_str_eq((char *)resp.body.data, "none,bad");
    eca_http_resp_free(&resp);

    /* A challenge for another scheme gets no credentials. */
    ck_assert_int_eq(get_basic("/bearer", CANARY, 1, &resp, &err), ECA_OK);
    ck_assert_int_eq(resp.status, 401);
    eca_http_resp_free(&resp);
}
END_TEST

START_TEST(basic_preemptive)
{
    struct eca_http_resp resp;
    struct eca_err err = {0};

    ck_assert_msg(get_basic("/basic/pre", CANARY, 0, &resp, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq((char *)resp.body.data, "ok");
    eca_http_resp_free(&resp);
}
END_TEST

static enum eca_rc
get_digest(const char *path, const char *pass, int after_challenge, int digest_ok,
           struct eca_http_resp *resp, struct eca_err *err)
{
    struct eca_http *h = transport(NULL);
    struct eca_secret *s = NULL;
    struct eca_http_req req = {.method = "GET",
                               .url = url(port_tls, "https", "127.0.0.1", path),
                               .basic_user = "edge",
                               .basic_after_challenge = after_challenge,
                               .digest_ok = digest_ok};
    enum eca_rc rc;

    ck_assert_int_eq(eca_secret_from_mem(pass, strlen(pass), &s, err), ECA_OK);
    req.basic_pass = s;
    rc = eca_http_perform(h, &req, resp, err);
    eca_secret_free(s);
    eca_http_free(h);
    return rc;
}

/* libcurl answers the nonce of the 401 at once: two requests, whatever was sent first. */
START_TEST(digest_challenge_is_answered)
{
    static const struct {
        const char *path;
        int after, digest_ok;
        long status;
        const char *seen;
    } cases[] = {
        {"/digest/md5/a", 1, 1, 200, "none,ok"},
        {"/digest/sha256/b", 1, 1, 200, "none,ok"},
        {"/digest/md5/c", 0, 1, 200, "basic,ok"},
        {"/digest/sha256/d", 0, 1, 200, "basic,ok"},
        /* not allowed: no credentials for a Digest challenge (Basic preemptive still goes) */
        {"/digest/md5/e", 1, 0, 401, "none"},
        {"/digest/md5/f", 0, 0, 401, "basic"},
    };
    struct eca_http_resp resp;
    struct eca_err err = {0};

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_msg(get_digest(cases[i].path, CANARY, cases[i].after, cases[i].digest_ok, &resp,
                                 &err) == ECA_OK,
                      "%s", err.msg);
        ck_assert_msg(resp.status == cases[i].status, "%s: HTTP %ld", cases[i].path, resp.status);
        ck_assert_str_eq((char *)resp.body.data, cases[i].seen);
        eca_http_resp_free(&resp);
    }
    /* A wrong password ends as the server's 401, not a loop (libcurl retries a refused
     * Digest answer once on its own). */
    ck_assert_int_eq(get_digest("/digest/md5/g", "not-it", 1, 1, &resp, &err), ECA_OK);
    ck_assert_int_eq(resp.status, 401);
    ck_assert_msg(strcmp((char *)resp.body.data, "none,bad") == 0 ||
                      strcmp((char *)resp.body.data, "none,bad,bad") == 0,
                  "%s", (char *)resp.body.data);
    eca_http_resp_free(&resp);
}
END_TEST

/* The response reports its connection: new or reused, the TLS version, and tls-unique as the
 * server sees it (RFC 5929 §3.1) when capped at TLS 1.2; none over TLS 1.3. */
START_TEST(connection_info_and_tls_unique)
{
    struct eca_http_opts o = {.user_agent = UA, .ca_bundle = path_in("ca0.pem"), .tls12_max = 1};
    struct eca_http *h = transport(&o);
    struct eca_http_resp a, b;
    struct eca_err err = {0};
    struct eca_buf want;
    const char *u = url(port_tls, "https", "127.0.0.1", "/tls-unique");

    ck_assert_msg(get(h, u, &a, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(get(h, u, &b, &err), ECA_OK);
    ck_assert_int_eq(a.conn.new_connections, 1);
    ck_assert_int_eq(b.conn.new_connections, 0);
    ck_assert_str_eq(a.conn.tls_version, "TLSv1.2");
    ck_assert_uint_eq(a.conn.tls_unique_len, 12);
    eca_buf_init(&want, 0);
    ck_assert_int_eq(eca_b64_decode((char *)a.body.data, a.body.len, &want, &err), ECA_OK);
    ck_assert_uint_eq(want.len, 12);
    ck_assert_mem_eq(want.data, a.conn.tls_unique, 12);
    ck_assert_mem_eq(b.conn.tls_unique, a.conn.tls_unique, 12);
    eca_buf_free(&want);
    eca_http_resp_free(&a);
    eca_http_resp_free(&b);
    eca_http_free(h);

    h = transport(NULL);
    ck_assert_int_eq(get(h, u, &a, &err), ECA_OK);
    ck_assert_str_eq(a.conn.tls_version, "TLSv1.3");
    ck_assert_uint_eq(a.conn.tls_unique_len, 0);
    eca_http_resp_free(&a);
    eca_http_free(h);
}
END_TEST

START_TEST(password_never_in_errors)
{
    struct eca_http_opts o = {.user_agent = UA, .ca_bundle = path_in("ca1.pem"), .timeout_s = 1};
    struct eca_http *h = transport(&o);
    struct eca_secret *s = NULL;
    struct eca_http_resp resp;
    struct eca_err err = {0};
    struct eca_http_req req = {.method = "POST",
                               .url = url(port_tls, "https", "127.0.0.1", "/basic/x"),
                               .basic_user = "edge"};
    const char *urls[] = {url(port_tls, "https", "127.0.0.1", "/basic/x"),
                          url(port_plain, "http", "127.0.0.1", "/basic/x"),
                          url(1, "https", "127.0.0.1", "/basic/x")};

    logcap_start();
    ck_assert_int_eq(eca_secret_from_mem(CANARY, strlen(CANARY), &s, &err), ECA_OK);
    req.basic_pass = s;
    for (int pre = 0; pre < 2; pre++) {
        req.basic_after_challenge = !pre;
        for (size_t i = 0; i < 3; i++) {
            req.url = urls[i];
            ck_assert_int_ne(eca_http_perform(h, &req, &resp, &err), ECA_OK);
            ck_assert_msg(strstr(err.msg, CANARY) == NULL, "password leaked: %s", err.msg);
            ck_assert_msg(strstr(err.msg, "edge:") == NULL, "credentials leaked: %s", err.msg);
            eca_http_resp_free(&resp);
        }
    }
    /* And a successful exchange with credentials leaves no trace of them in the log. */
    eca_http_free(h);
    h = transport(NULL);
    req.url = url(port_tls, "https", "127.0.0.1", "/basic/log");
    ck_assert_int_eq(eca_http_perform(h, &req, &resp, &err), ECA_OK);
    ck_assert_int_eq(resp.status, 200);
    eca_http_resp_free(&resp);
    ck_assert(logcap_contains("http_exchange"));
    ck_assert_msg(!logcap_contains(CANARY), "%s", logcap_text());
    logcap_stop();
    eca_secret_free(s);
    eca_http_free(h);
}
END_TEST

START_TEST(options_are_checked)
{
    struct eca_http *h = NULL;
    struct eca_err err = {0};
    struct eca_http_opts o = {.user_agent = NULL};

    ck_assert_int_eq(eca_http_curl_new(&o, &h, &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "User-Agent"));
    o.user_agent = UA;
    o.client_cert = "x.pem";
    ck_assert_int_eq(eca_http_curl_new(&o, &h, &err), ECA_EINVAL);
    ck_assert_ptr_null(h);
}
END_TEST

static Suite *
http_curl_suite(void)
{
    Suite *s = suite_create("http_curl");
    TCase *tc = tcase_create("loopback");

    tcase_add_unchecked_fixture(tc, servers_up, servers_down);
    tcase_set_timeout(tc, 15);
    tcase_add_test(tc, get_ok_with_ca_bundle);
    tcase_add_test(tc, connection_is_reused);
    tcase_add_test(tc, verification_fails_without_the_right_ca);
    tcase_add_test(tc, plain_http_needs_insecure);
    tcase_add_test(tc, redirects_are_not_followed);
    tcase_add_test(tc, body_cap_is_enforced);
    tcase_add_test(tc, silent_server_times_out);
    tcase_add_test(tc, trickling_server_is_cut_off);
    tcase_add_test(tc, request_timeout_shortens_the_transport_timeout);
    tcase_add_test(tc, post_sends_length_and_user_agent);
    tcase_add_test(tc, mtls_client_certificate);
    tcase_add_test(tc, basic_after_challenge);
    tcase_add_test(tc, basic_preemptive);
    tcase_add_test(tc, digest_challenge_is_answered);
    tcase_add_test(tc, connection_info_and_tls_unique);
    tcase_add_test(tc, password_never_in_errors);
    tcase_add_test(tc, options_are_checked);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(http_curl_suite)
