/* SPDX-License-Identifier: MIT */
/* Tests for eca_tlsprobe and eca_agent's verify/rollback against a real TLS server child. */
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "eca_deploy.h"
#include "eca_fs.h"
#include "eca_log.h"
#include "eca_tlsprobe.h"
#include "eca_test.h"
#include "test_pki.h"

static char dir[256], srv[300];
static struct test_pki served;
static pid_t server = -1;
static int port;

/* Child: serve cert.pem/key.pem from dir on fd until killed. */
static void
serve(int fd)
{
    char cert[512], key[512];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    /* A client that hangs up early must not kill the server with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    snprintf(cert, sizeof cert, "%s/cert.pem", srv);
    snprintf(key, sizeof key, "%s/key.pem", srv);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        _exit(2);
    for (;;) {
        int c = accept(fd, NULL, NULL);
        SSL *ssl = SSL_new(ctx);

        SSL_set_fd(ssl, c);
        if (SSL_accept(ssl) == 1)
            SSL_shutdown(ssl);
        SSL_free(ssl);
        close(c);
    }
}

static void
setup(void)
{
    struct test_pki_opts o;
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int fd;

    test_mkdtemp(dir, sizeof dir);
    logcap_start();
    memset(&o, 0, sizeof o);
    test_pki_make(&o, &served);
    /* The server's own copy: the deploy test replaces the files in dir. */
    snprintf(srv, sizeof srv, "%s/srv", dir);
    ck_assert_int_eq(eca_fs_mkdir_p(srv, 0700, NULL), ECA_OK);
    test_pki_write(&served, srv);
    test_pki_write(&served, dir);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(fd, 8), 0);
    getsockname(fd, (struct sockaddr *)&a, &al);
    port = ntohs(a.sin_port);
    server = fork();
    ck_assert_int_ge(server, 0);
    if (server == 0)
        serve(fd);
    close(fd);
}

static void
teardown(void)
{
    if (server > 0) {
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
    }
    server = -1;
    test_pki_free(&served);
    logcap_stop();
    test_rmdir(dir);
}

START_TEST(probe_reads_the_served_serial)
{
    char hp[64], serial[130] = "", want[130];

    snprintf(hp, sizeof hp, "127.0.0.1:%d", port);
    eca_x509_serial_hex(served.leaf, want, sizeof want);
    ck_assert_int_eq(eca_tlsprobe_serial(hp, NULL, 2000, serial, sizeof serial, NULL), ECA_OK);
    ck_assert_str_eq(serial, want);
    ck_assert_int_eq(eca_tlsprobe_serial(hp, "leaf.test", 2000, serial, sizeof serial, NULL),
                     ECA_OK);
}
END_TEST

START_TEST(probe_errors_name_the_target)
{
    struct eca_err err = {0};
    char serial[130];

    ck_assert_int_eq(eca_tlsprobe_serial("nocolon", NULL, 500, serial, sizeof serial, &err),
                     ECA_EINVAL);
    kill(server, SIGKILL);
    waitpid(server, NULL, 0);
    server = -1;
    ck_assert_int_ne(eca_tlsprobe_serial("127.0.0.1:1", NULL, 500, serial, sizeof serial, &err),
                     ECA_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "127.0.0.1"));
}
END_TEST

/* The server keeps serving the old pair: the new set is rolled back to .prev. */
START_TEST(deploy_rolls_back_when_the_old_certificate_is_still_served)
{
    struct test_pki o2;
    struct test_pki_opts o;
    struct eca_certconf cc;
    struct eca_deploy_set set;
    struct eca_chain *chain = NULL;
    struct eca_err err = {0};
    struct eca_buf before, after;
    char cert[512], key[512], hp[64], serial[130], state[512];
    enum eca_step step = ECA_STEP_NONE;

    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(hp, sizeof hp, "127.0.0.1:%d", port);
    snprintf(state, sizeof state, "%s/state", dir);
    ck_assert_int_eq(eca_fs_mkdir_p(state, 0700, NULL), ECA_OK);
    eca_buf_init(&before, 1 << 20);
    eca_buf_init(&after, 1 << 20);
    ck_assert_int_eq(eca_fs_read(cert, 1 << 20, &before, NULL), ECA_OK);
    memset(&o, 0, sizeof o);
    test_pki_make(&o, &o2);
    ck_assert_int_eq(eca_x509_chain_new(&chain, NULL), ECA_OK);
    eca_x509_chain_push(chain, o2.leaf, NULL);
    eca_x509_chain_push(chain, o2.inter, NULL);
    eca_x509_serial_hex(o2.leaf, serial, sizeof serial);
    eca_certconf_defaults(&cc);
    cc.name = "t";
    cc.cert_path = cert;
    cc.key_path = key;
    cc.verify = hp;
    cc.verify_timeout_s = 1;
    ck_assert_int_eq(eca_deploy_set_build(&set, &cc, o2.leaf_key, chain, 0, NULL), ECA_OK);
    ck_assert_int_eq(eca_deploy_run(state, &cc, &set, serial, &step, &err), ECA_EPROTO);
    ck_assert_int_eq(step, ECA_STEP_VERIFY);
    ck_assert_ptr_nonnull(strstr(err.msg, "previous certificate restored"));
    ck_assert_msg(strstr(err.msg, serial) != NULL, "%s", err.msg);
    ck_assert(logcap_contains("\"event\":\"verify_failed\""));
    ck_assert(logcap_contains("\"event\":\"rollback_done\""));
    ck_assert_int_eq(eca_fs_read(cert, 1 << 20, &after, NULL), ECA_OK);
    ck_assert(before.len == after.len && memcmp(before.data, after.data, after.len) == 0);
    eca_deploy_set_free(&set);
    /* The retry installs the kept pair (.prev) again and verifies: still not served, so it is
     * rolled back again; the old pair stays byte-identical. */
    eca_deploy_set_targets(&set, &cc);
    eca_err_clear(&err);
    step = ECA_STEP_NONE;
    ck_assert_int_eq(eca_deploy_resume(state, &cc, &set, ECA_STEP_VERIFY, serial, &step, &err),
                     ECA_EPROTO);
    ck_assert_int_eq(step, ECA_STEP_VERIFY);
    ck_assert(logcap_contains("\"event\":\"deploy_resumed\""));
    eca_buf_free(&after);
    eca_buf_init(&after, 1 << 20);
    ck_assert_int_eq(eca_fs_read(cert, 1 << 20, &after, NULL), ECA_OK);
    ck_assert(before.len == after.len && memcmp(before.data, after.data, after.len) == 0);
    /* A pair that is no longer kept is not taken up. */
    ck_assert_int_eq(eca_deploy_resume(state, &cc, &set, ECA_STEP_VERIFY, "0badc0de", &step, &err),
                     ECA_ENOTFOUND);
    ck_assert_int_eq(eca_deploy_resume(state, &cc, &set, ECA_STEP_RELOAD, serial, &step, &err),
                     ECA_ENOTFOUND);
    /* Without a verify target: the kept pair goes back in and the reload runs; it stays. */
    cc.verify = NULL;
    cc.reload_command = "false";
    ck_assert_int_eq(eca_deploy_resume(state, &cc, &set, ECA_STEP_VERIFY, serial, &step, &err),
                     ECA_EIO);
    ck_assert_int_eq(step, ECA_STEP_RELOAD);
    cc.reload_command = "true";
    ck_assert_int_eq(eca_deploy_resume(state, &cc, &set, ECA_STEP_RELOAD, serial, &step, &err),
                     ECA_OK);
    eca_buf_free(&after);
    eca_buf_init(&after, 1 << 20);
    ck_assert_int_eq(eca_fs_read(cert, 1 << 20, &after, NULL), ECA_OK);
    ck_assert(before.len != after.len || memcmp(before.data, after.data, after.len) != 0);
    eca_deploy_set_free(&set);
    eca_x509_chain_free(chain);
    eca_buf_free(&before);
    eca_buf_free(&after);
    test_pki_free(&o2);
}
END_TEST

static Suite *
tlsprobe_suite(void)
{
    Suite *s = suite_create("tlsprobe");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, probe_reads_the_served_serial);
    tcase_add_test(tc, probe_errors_name_the_target);
    tcase_add_test(tc, deploy_rolls_back_when_the_old_certificate_is_still_served);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(tlsprobe_suite)
