/* SPDX-License-Identifier: MIT */
/* Windows halves under test: eca_fs_win.c (MoveFileExW, DACLs, UTF-8), hook, daemon, tlsprobe,
 * listen (the metrics endpoint). */
#include <check.h>
#include <winsock2.h>
#include <ws2tcpip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include "eca_buf.h"
#include "eca_clock.h"
#include "eca_daemon.h"
#include "eca_fs.h"
#include "eca_hook.h"
#include "eca_listen.h"
#include "eca_metrics.h"
#include "eca_test.h"
#include "eca_tlsprobe_os.h"
#include "eca_win.h"

static char dir[512];
static char self[1024]; /* this exe: the child for hook tests (see main) */

static void
setup(void)
{
    test_mkdtemp(dir, sizeof dir);
}

static void
teardown(void)
{
    test_rmdir(dir);
}

static const char *
p(const char *name)
{
    static char buf[4][1024];
    static int i;

    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

static void
assert_content(const char *path, const char *want)
{
    struct eca_buf b;
    struct eca_err err = {0};

    eca_buf_init(&b, 1 << 20);
    ck_assert_int_eq(eca_fs_read(path, 1 << 20, &b, &err), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&b), want);
    eca_buf_free(&b);
}

START_TEST(write_atomic_replaces_existing_file)
{
    struct eca_err err = {0};

    ck_assert_int_eq(eca_fs_write_atomic(p("cert.pem"), "one", 3, ECA_FS_MODE_PUBLIC, &err),
                     ECA_OK);
    ck_assert_int_eq(eca_fs_write_atomic(p("cert.pem"), "two!", 4, ECA_FS_MODE_PUBLIC, &err),
                     ECA_OK);
    assert_content(p("cert.pem"), "two!");
}
END_TEST

/* The identity a check pass keys its cache on: stable while the file is, new after a replace. */
START_TEST(identity_changes_with_a_replace_only)
{
    struct eca_fs_id a, b;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_fs_write_atomic(p("id.pem"), "one", 3, 0644, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_identity(p("id.pem"), &a, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_identity(p("id.pem"), &b, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_id_equal(&a, &b), 1);
    ck_assert_int_eq((int)a.size, 3);
    Sleep(20);
    ck_assert_int_eq(eca_fs_write_atomic(p("id.pem"), "two", 3, 0644, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_identity(p("id.pem"), &b, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_id_equal(&a, &b), 0);
    ck_assert_int_eq(eca_fs_identity(p("nope"), &b, &err), ECA_ENOTFOUND);
    ck_assert_int_eq(eca_fs_identity(dir, &b, &err), ECA_EINVAL);
}
END_TEST

START_TEST(write_new_refuses_existing_name)
{
    struct eca_err err = {0};

    ck_assert_int_eq(eca_fs_write_new(p("k"), "a", 1, ECA_FS_MODE_PRIVATE, &err), ECA_OK);
    ck_assert_int_ne(eca_fs_write_new(p("k"), "b", 1, ECA_FS_MODE_PRIVATE, &err), ECA_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "create"));
    assert_content(p("k"), "a");
}
END_TEST

START_TEST(read_missing_is_enotfound)
{
    struct eca_buf b;
    struct eca_err err = {0};

    eca_buf_init(&b, 64);
    ck_assert_int_eq(eca_fs_read(p("nope"), 64, &b, &err), ECA_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "nope"));
    eca_buf_free(&b);
}
END_TEST

/*
 * A UTF-8 name must reach the file system as the same characters, not as ANSI mojibake.
 * Under wine the Linux name is encoded in wine's LC_CTYPE charset: wine-run-tests.sh pins
 * C.UTF-8, or with LANG unset (ASCII) the file could not be created at all.
 */
START_TEST(utf8_names_become_wide_names)
{
    struct eca_err err = {0};
    wchar_t *w = NULL;
    const char *name = p("cl\xc3\xa9-\xe8\xaf\x81\xe4\xb9\xa6.pem"); /* clé-证书.pem */

    ck_assert_msg(eca_fs_write_atomic(name, "x", 1, ECA_FS_MODE_PRIVATE, &err) == ECA_OK, "%s",
                  err.msg);
    ck_assert_int_eq(eca_win_widen(name, &w, &err), ECA_OK);
    ck_assert_ptr_nonnull(wcsstr(w, L"cl\u00e9-\u8bc1\u4e66.pem"));
    ck_assert_uint_ne(GetFileAttributesW(w), INVALID_FILE_ATTRIBUTES);
    free(w);
    ck_assert_int_eq(eca_win_widen("bad-\xff.pem", &w, &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "UTF-8"));
}
END_TEST

START_TEST(mkdir_p_and_remove)
{
    struct eca_err err = {0};

    ck_assert_int_eq(eca_fs_mkdir_p(p("a/b/c"), 0700, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_mkdir_p(p("a/b/c"), 0700, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_exists(p("a/b/c")), 1);
    ck_assert_int_eq(eca_fs_write_atomic(p("a/b/c/f"), "x", 1, 0644, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_sync_dir(p("a/b/c"), &err), ECA_OK);
    ck_assert_int_eq(eca_fs_remove(p("a/b/c/f"), &err), ECA_OK);
    ck_assert_int_eq(eca_fs_exists(p("a/b/c/f")), 0);
    ck_assert_int_eq(eca_fs_remove(p("a/b/c/f"), &err), ECA_OK);
    ck_assert_int_eq(eca_fs_sync_dir(p("missing"), &err), ECA_ENOTFOUND);
}
END_TEST

/* The DACL set at creation: protected, SYSTEM + Administrators + OWNER RIGHTS only. */
START_TEST(private_file_gets_private_dacl)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    struct eca_err err = {0};
    PACL dacl = NULL;
    wchar_t *w = NULL, *sddl = NULL;

    ck_assert_int_eq(eca_fs_write_atomic(p("key.pem"), "k", 1, ECA_FS_MODE_PRIVATE, &err), ECA_OK);
    ck_assert_int_eq(eca_win_widen(p("key.pem"), &w, &err), ECA_OK);
    ck_assert_int_eq(GetNamedSecurityInfoW(w, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL,
                                           &dacl, NULL, &sd),
                     ERROR_SUCCESS);
    ck_assert(ConvertSecurityDescriptorToStringSecurityDescriptorW(
        sd, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &sddl, NULL));
    ck_assert_msg(wcsstr(sddl, L"WD") == NULL, "Everyone in the DACL: %ls", sddl);
    ck_assert_msg(wcsstr(sddl, L"BU") == NULL, "Users in the DACL: %ls", sddl);
    ck_assert_int_eq(eca_fs_check_private(p("key.pem"), &err), ECA_OK);
    LocalFree(sddl);
    LocalFree(sd);
    free(w);
}
END_TEST

START_TEST(check_private_names_the_extra_account)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, FALSE};
    struct eca_err err = {0};
    wchar_t *w = NULL;
    HANDLE h;

    ck_assert(ConvertStringSecurityDescriptorToSecurityDescriptorW(L"D:P(A;;FA;;;SY)(A;;FR;;;WD)",
                                                                   SDDL_REVISION_1, &sd, NULL));
    sa.lpSecurityDescriptor = sd;
    ck_assert_int_eq(eca_win_widen(p("open.pem"), &w, &err), ECA_OK);
    h = CreateFileW(w, GENERIC_WRITE, 0, &sa, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
    ck_assert(h != INVALID_HANDLE_VALUE);
    CloseHandle(h);
    ck_assert_int_eq(eca_fs_check_private(p("open.pem"), &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "open.pem"));
    ck_assert_ptr_nonnull(strstr(err.msg, "S-1-1-0")); /* Everyone */
    LocalFree(sd);
    free(w);
}
END_TEST

static enum eca_rc
run_self(const char *a1, const char *a2, const char *a3, int timeout_s, struct eca_err *err)
{
    char *argv[] = {self, (char *)a1, (char *)a2, (char *)a3, NULL};

    return eca_hook_run(argv, timeout_s, err);
}

START_TEST(hook_reports_exit_status)
{
    struct eca_err err = {0};

    ck_assert_int_eq(run_self("--exit", "0", NULL, 10, &err), ECA_OK);
    ck_assert_int_eq(run_self("--exit", "3", NULL, 10, &err), ECA_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "exited with status 3"));
}
END_TEST

/* Quoting must survive the child's own command-line parsing byte for byte. */
START_TEST(hook_passes_arguments_verbatim)
{
    static const char *const args[] = {
        "plain", "two words", "", "q\"uote", "tail\\", "back\\\\\"slash", "C:\\Program Files\\x\\"};
    struct eca_err err = {0};
    char out[1024];

    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
        snprintf(out, sizeof out, "%s", p("argv.txt"));
        ck_assert_int_eq(run_self("--echo", out, args[i], 10, &err), ECA_OK);
        assert_content(out, args[i]);
        ck_assert_int_eq(eca_fs_remove(out, &err), ECA_OK);
    }
}
END_TEST

START_TEST(hook_kills_on_timeout)
{
    struct eca_err err = {0};
    DWORD t0 = GetTickCount();

    ck_assert_int_eq(run_self("--sleep", "30", NULL, 1, &err), ECA_ETIMEOUT);
    ck_assert_ptr_nonnull(strstr(err.msg, "timed out after 1 s"));
    ck_assert_uint_lt(GetTickCount() - t0, 10000);
}
END_TEST

START_TEST(hook_missing_program_and_signals)
{
    char *argv[] = {"eca-no-such-program-xyz", NULL};
    struct eca_err err = {0};

    ck_assert_int_eq(eca_hook_run(argv, 5, &err), ECA_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "could not be started"));
    ck_assert_int_eq(eca_hook_signal_pidfile(p("nginx.pid"), "HUP", &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "not supported on Windows"));
}
END_TEST

static DWORD WINAPI
notify_later(void *arg)
{
    (void)arg;
    Sleep(200);
    eca_daemon_win_notify(ECA_DAEMON_FORCE);
    return 0;
}

/* A request from another thread (the service control handler's case) cuts the sleep short. */
START_TEST(daemon_wait_wakes_on_request_from_thread)
{
    struct eca_err err = {0};
    DWORD t0 = GetTickCount();
    HANDLE th;

    ck_assert_int_eq(eca_daemon_init(&err), ECA_OK);
    ck_assert_uint_eq(eca_daemon_wait(eca_clock_now() - 1, -1), 0);
    th = CreateThread(NULL, 0, notify_later, NULL, 0, NULL);
    ck_assert_ptr_nonnull(th);
    ck_assert_uint_eq(eca_daemon_wait(eca_clock_now() + 30, -1), ECA_DAEMON_FORCE);
    ck_assert_uint_lt(GetTickCount() - t0, 5000);
    WaitForSingleObject(th, 5000);
    CloseHandle(th);
    ck_assert_uint_eq(eca_daemon_take(), ECA_DAEMON_FORCE);
    ck_assert_uint_eq(eca_daemon_take(), 0);
    eca_daemon_fini();
}
END_TEST

/* A loopback listener on a port picked at run time; its port as text in port. */
static SOCKET
listen_loopback(char *port, size_t portlen)
{
    struct sockaddr_in sa;
    int sl = sizeof sa;
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);

    ck_assert(s != INVALID_SOCKET);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(s, 4), 0);
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
    snprintf(port, portlen, "%u", ntohs(sa.sin_port));
    return s;
}

START_TEST(tlsprobe_connects_and_reports_refusal)
{
    struct eca_err err = {0};
    WSADATA wsa;
    char port[16];
    SOCKET l;
    int fd;

    ck_assert_int_eq(WSAStartup(MAKEWORD(2, 2), &wsa), 0);
    l = listen_loopback(port, sizeof port);
    fd = eca_tlsprobe_os_connect("127.0.0.1", port, 2000, &err);
    ck_assert_int_ge(fd, 0);
    eca_tlsprobe_os_close(fd);
    closesocket(l); /* now nothing listens on that port */
    ck_assert_int_eq(eca_tlsprobe_os_connect("127.0.0.1", port, 2000, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot connect to 127.0.0.1 port"));
    eca_tlsprobe_os_close(-1);
    WSACleanup();
}
END_TEST

/* Connect to 127.0.0.1:port, send req, and return the socket. */
static SOCKET
client_send(unsigned port, const char *req)
{
    struct sockaddr_in sa;
    SOCKET c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);

    ck_assert(c != INVALID_SOCKET);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(c, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(send(c, req, (int)strlen(req), 0), (int)strlen(req));
    return c;
}

/* Everything the server sends until it closes (3 s per read), into out. */
static void
client_read_all(SOCKET c, char *out, size_t outlen)
{
    DWORD tmo = 3000;
    size_t len = 0;
    int n;

    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, (const char *)&tmo, sizeof tmo);
    while (len < outlen - 1 && (n = recv(c, out + len, (int)(outlen - 1 - len), 0)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    closesocket(c);
}

/* The daemon loop's path: eca_daemon_wait() sees the listener, the registry answers. */
static void
metrics_exchange(struct eca_metrics *m, const char *req, char *out, size_t outlen)
{
    SOCKET c = client_send(eca_metrics_port(m), req);
    struct eca_err err = {0};

    ck_assert_uint_eq(eca_daemon_wait(eca_clock_now() + 5, eca_metrics_fd(m)) &
                          ECA_DAEMON_FD_READY,
                      ECA_DAEMON_FD_READY);
    ck_assert_int_eq(eca_metrics_handle_ready(m, &err), ECA_OK);
    client_read_all(c, out, outlen);
}

START_TEST(metrics_endpoint_serves_over_winsock)
{
    struct eca_metrics *m = eca_metrics_new("eca-test", "1.2.3");
    struct eca_err err = {0};
    WSADATA wsa;
    char resp[16384];

    ck_assert_int_eq(WSAStartup(MAKEWORD(2, 2), &wsa), 0);
    ck_assert_int_eq(eca_daemon_init(&err), ECA_OK);
    ck_assert_int_eq(eca_metrics_serve(m, "0.0.0.0:0", 0, &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a loopback address"));
    ck_assert_int_eq(eca_metrics_serve(m, "127.0.0.1:0", 0, &err), ECA_OK);
    ck_assert_uint_gt(eca_metrics_port(m), 0);
    metrics_exchange(m, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", resp, sizeof resp);
    ck_assert_msg(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0, "got: %s", resp);
    ck_assert_ptr_nonnull(strstr(resp, "eca_agent_info{agent=\"eca-test\",version=\"1.2.3\"} 1\n"));
    metrics_exchange(m, "POST /metrics HTTP/1.1\r\n\r\n", resp, sizeof resp);
    ck_assert_msg(strncmp(resp, "HTTP/1.1 405 ", 13) == 0, "got: %s", resp);
    metrics_exchange(m, "GET /other HTTP/1.1\r\n\r\n", resp, sizeof resp);
    ck_assert_msg(strncmp(resp, "HTTP/1.1 404 ", 13) == 0, "got: %s", resp);
    eca_metrics_free(m);
    eca_daemon_fini();
    WSACleanup();
}
END_TEST

static DWORD WINAPI
listen_forever(void *arg)
{
    struct eca_listen_req req;

    return (DWORD)eca_listen_next(arg, -1, &req, NULL);
}

START_TEST(listen_interrupt_wakes_a_waiting_thread)
{
    struct eca_listen *l = NULL;
    struct eca_err err = {0};
    DWORD rc = 0, t0;
    HANDLE th;

    ck_assert_int_eq(eca_listen_open("127.0.0.1:0", ECA_LISTEN_LOOPBACK_ONLY, 1000, &l, &err),
                     ECA_OK);
    th = CreateThread(NULL, 0, listen_forever, l, 0, NULL);
    ck_assert_ptr_nonnull(th);
    Sleep(100);
    t0 = GetTickCount();
    eca_listen_interrupt(l);
    ck_assert_uint_eq(WaitForSingleObject(th, 5000), WAIT_OBJECT_0);
    ck_assert_uint_lt(GetTickCount() - t0, 1000);
    GetExitCodeThread(th, &rc);
    CloseHandle(th);
    ck_assert_uint_eq(rc, ECA_ESTOPPED);
    eca_listen_close(l);
}
END_TEST

static Suite *
win_platform_suite(void)
{
    Suite *s = suite_create("win_platform");
    TCase *fs = tcase_create("fs"), *hook = tcase_create("hook"), *os = tcase_create("os");

    tcase_add_checked_fixture(fs, setup, teardown);
    tcase_add_test(fs, write_atomic_replaces_existing_file);
    tcase_add_test(fs, write_new_refuses_existing_name);
    tcase_add_test(fs, identity_changes_with_a_replace_only);
    tcase_add_test(fs, read_missing_is_enotfound);
    tcase_add_test(fs, utf8_names_become_wide_names);
    tcase_add_test(fs, mkdir_p_and_remove);
    tcase_add_test(fs, private_file_gets_private_dacl);
    tcase_add_test(fs, check_private_names_the_extra_account);
    tcase_add_checked_fixture(hook, setup, teardown);
    tcase_set_timeout(hook, 30);
    tcase_add_test(hook, hook_reports_exit_status);
    tcase_add_test(hook, hook_passes_arguments_verbatim);
    tcase_add_test(hook, hook_kills_on_timeout);
    tcase_add_test(hook, hook_missing_program_and_signals);
    tcase_add_test(os, daemon_wait_wakes_on_request_from_thread);
    tcase_add_test(os, tlsprobe_connects_and_reports_refusal);
    tcase_add_test(os, metrics_endpoint_serves_over_winsock);
    tcase_add_test(os, listen_interrupt_wakes_a_waiting_thread);
    suite_add_tcase(s, fs);
    suite_add_tcase(s, hook);
    suite_add_tcase(s, os);
    return s;
}

/* Child modes for the hook tests: --exit N, --sleep S, --echo FILE ARG. */
static int
child(int argc, char **argv)
{
    FILE *f;

    if (strcmp(argv[1], "--exit") == 0)
        return atoi(argv[2]);
    if (strcmp(argv[1], "--sleep") == 0) {
        Sleep((DWORD)atoi(argv[2]) * 1000u);
        return 0;
    }
    if (strcmp(argv[1], "--echo") == 0 && argc == 4 && (f = fopen(argv[2], "wb")) != NULL) {
        fputs(argv[3], f);
        return fclose(f) == 0 ? 0 : 1;
    }
    return 99;
}

int
main(int argc, char **argv)
{
    SRunner *sr;
    int failed;

    if (argc > 2)
        return child(argc, argv);
    GetModuleFileNameA(NULL, self, sizeof self);
    sr = srunner_create(win_platform_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
