/* SPDX-License-Identifier: MIT */
/* Unit tests for eca_hook: command splitting, running with a timeout, pid-file signals. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eca_fs.h"
#include "eca_hook.h"
#include "eca_test.h"

Suite *hook_suite(void);

/* Expected argv joined with '|'. */
static const struct {
    const char *cmd;
    const char *argv;
} good[] = {
    {"nginx -s reload", "nginx|-s|reload"},
    {"  a \t  b  ", "a|b"},
    {"sh -c 'echo \"hi there\"; exit 3'", "sh|-c|echo \"hi there\"; exit 3"},
    {"a \"b c\" d", "a|b c|d"},
    {"a \"x\\\"y\\\\z\\q\"", "a|x\"y\\z\\q"},
    {"a\\ b c", "a b|c"},
    {"'' \"\"", "|"},
    {"a'b'\"c\"d", "abcd"},
    {"a $HOME * `x`", "a|$HOME|*|`x`"},
};

START_TEST(split_quoting)
{
    char **argv = NULL, joined[256] = "";
    struct eca_err err = {0};
    size_t i;

    ck_assert_msg(eca_hook_split(good[_i].cmd, &argv, &err) == ECA_OK, "%s", err.msg);
    for (i = 0; argv[i] != NULL; i++)
        snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s", i ? "|" : "",
                 argv[i]);
    ck_assert_str_eq(joined, good[_i].argv);
    eca_hook_argv_free(argv);
}
END_TEST

static const struct {
    const char *cmd;
    const char *needle;
} bad[] = {
    {"a 'b", "unbalanced ' quote"},
    {"a \"b", "unbalanced \" quote"},
    {"", "empty"},
    {" \t ", "empty"},
    {"a\\", "trailing backslash"},
};

START_TEST(split_errors)
{
    char **argv = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_hook_split(bad[_i].cmd, &argv, &err), ECA_EINVAL);
    ck_assert_ptr_null(argv);
    ck_assert_msg(strstr(err.msg, bad[_i].needle) != NULL, "%s", err.msg);
}
END_TEST

static enum eca_rc
run(const char *cmd, int timeout, struct eca_err *err)
{
    char **argv = NULL;
    enum eca_rc rc;

    ck_assert_int_eq(eca_hook_split(cmd, &argv, err), ECA_OK);
    rc = eca_hook_run(argv, timeout, err);
    eca_hook_argv_free(argv);
    return rc;
}

/* The command's own variables: added, one replaced, the daemon's environment untouched. */
START_TEST(run_env_is_the_commands_alone)
{
    static const char *const env[] = {"ECA_T_ONE=1 2", "ECA_T_OLD=new", NULL};
    char *argv[] = {"sh", "-c",
                    "[ \"$ECA_T_ONE\" = '1 2' ] && [ \"$ECA_T_OLD\" = new ] && [ -n \"$PATH\" ] && "
                    "[ \"$(env | grep -c '^ECA_T_OLD=')\" = 1 ]",
                    NULL};
    struct eca_err err = {0};

    setenv("ECA_T_OLD", "old", 1);
    ck_assert_msg(eca_hook_run_env(argv, env, 5, &err) == ECA_OK, "%s", err.msg);
    ck_assert_ptr_null(getenv("ECA_T_ONE"));
    ck_assert_str_eq(getenv("ECA_T_OLD"), "old");
    argv[2] = "[ -z \"$ECA_T_ONE\" ] && [ \"$ECA_T_OLD\" = old ]"; /* none: inherited as is */
    ck_assert_msg(eca_hook_run_env(argv, NULL, 5, &err) == ECA_OK, "%s", err.msg);
    unsetenv("ECA_T_OLD");
}
END_TEST

START_TEST(run_exit_statuses)
{
    struct eca_err err = {0};

    ck_assert_msg(run("true", 5, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(run("false", 5, &err), ECA_EIO);
    ck_assert_str_eq(err.msg, "reload command 'false' exited with status 1");
    ck_assert_int_eq(run("sh -c 'exit 3'", 5, &err), ECA_EIO);
    ck_assert_str_eq(err.msg, "reload command 'sh' exited with status 3");
    ck_assert_int_eq(run("sh -c 'kill -9 $$'", 5, &err), ECA_EIO);
    ck_assert_str_eq(err.msg, "reload command 'sh' killed by signal 9");
    ck_assert_int_eq(run("/nonexistent/eca-reload", 5, &err), ECA_EIO);
    ck_assert_msg(strstr(err.msg, "could not be started: No such file") != NULL, "%s", err.msg);
}
END_TEST

/* The daemons run under umask 077; a reload command gets the usual 022 (files 0644). */
START_TEST(run_umask_is_022)
{
    struct eca_err err = {0};
    struct stat st;
    char dir[256], cmd[700], file[600];
    mode_t old = umask(077);

    test_mkdtemp(dir, sizeof dir);
    snprintf(file, sizeof file, "%s/made-by-hook", dir);
    snprintf(cmd, sizeof cmd, "sh -c ': > %s'", file);
    ck_assert_msg(run(cmd, 5, &err) == ECA_OK, "%s", err.msg);
    umask(old);
    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    unlink(file);
    test_rmdir(dir);
}
END_TEST

static double
mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 once pid is gone or a zombie (nobody may reap it in a container without init). */
static int
dead(pid_t pid)
{
    char path[64], buf[256];
    FILE *f;
    char *p;

    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 1;
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    if ((f = fopen(path, "r")) == NULL)
        return 1;
    p = fgets(buf, sizeof buf, f);
    fclose(f);
    p = p ? strrchr(buf, ')') : NULL;
    return p != NULL && p[1] == ' ' && p[2] == 'Z';
}

START_TEST(run_timeout_kills_process_group)
{
    struct eca_err err = {0};
    struct eca_buf b;
    char dir[256], cmd[700], pidf[600];
    double t0 = mono();
    long pid;
    int i;

    test_mkdtemp(dir, sizeof dir);
    snprintf(pidf, sizeof pidf, "%s/bg.pid", dir);
    snprintf(cmd, sizeof cmd, "sh -c 'sleep 30 & echo $! > %s; wait'", pidf);
    ck_assert_int_eq(run(cmd, 1, &err), ECA_ETIMEOUT);
    ck_assert_str_eq(err.msg, "reload command 'sh' timed out after 1 s (killed)");
    ck_assert(mono() - t0 < 4.0);
    eca_buf_init(&b, 0);
    ck_assert_int_eq(eca_fs_read(pidf, 64, &b, NULL), ECA_OK);
    pid = strtol(eca_buf_str(&b), NULL, 10);
    ck_assert_int_gt(pid, 1);
    for (i = 0; i < 40 && !dead((pid_t)pid); i++)
        usleep(50000);
    if (!dead((pid_t)pid)) {
        kill((pid_t)pid, SIGKILL);
        ck_abort_msg("background sleep %ld survived the timeout", pid);
    }
    eca_buf_free(&b);
    test_rmdir(dir);
}
END_TEST

static void
on_usr1(int sig)
{
    (void)sig;
    _exit(7);
}

START_TEST(signal_pidfile_delivers)
{
    struct eca_err err = {0};
    char dir[256], pidf[600], text[32];
    pid_t pid;
    int status = 0;

    test_mkdtemp(dir, sizeof dir);
    snprintf(pidf, sizeof pidf, "%s/svc.pid", dir);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGUSR1, on_usr1);
        alarm(5);
        for (;;)
            pause();
    }
    usleep(100000); /* let the child install its handler */
    snprintf(text, sizeof text, "%ld\n", (long)pid);
    ck_assert_int_eq(eca_fs_write_atomic(pidf, text, strlen(text), 0644, NULL), ECA_OK);
    ck_assert_msg(eca_hook_signal_pidfile(pidf, "USR1", &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 7);

    /* The same pid, now reaped: no such process. */
    ck_assert_int_eq(eca_hook_signal_pidfile(pidf, "SIGHUP", &err), ECA_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "no process"));
    ck_assert_int_eq(eca_hook_signal_pidfile(pidf, "BOGUS", &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'BOGUS' is not known"));
    test_rmdir(dir);
}
END_TEST

static const char *const bad_pids[] = {"", "abc\n", "1\n", "0", "-5", "12x", "99999999999"};

START_TEST(signal_pidfile_rejects_bad_pid)
{
    struct eca_err err = {0};
    char dir[256], pidf[600];

    test_mkdtemp(dir, sizeof dir);
    snprintf(pidf, sizeof pidf, "%s/svc.pid", dir);
    ck_assert_int_eq(eca_hook_signal_pidfile(pidf, "HUP", &err), ECA_ENOTFOUND);
    ck_assert_int_eq(eca_fs_write_atomic(pidf, bad_pids[_i], strlen(bad_pids[_i]), 0644, NULL),
                     ECA_OK);
    ck_assert_int_eq(eca_hook_signal_pidfile(pidf, "HUP", &err), ECA_EINVAL);
    ck_assert_msg(strstr(err.msg, "does not hold a valid pid") != NULL, "%s", err.msg);
    test_rmdir(dir);
}
END_TEST

START_TEST(find_program_as_execvp_would)
{
    struct eca_err err = {0};
    char dir[256], f[600];
    const char *path = getenv("PATH");
    char *saved = path ? strdup(path) : NULL;

    test_mkdtemp(dir, sizeof dir);
    ck_assert_int_eq(eca_hook_find_program("/bin/sh", &err), ECA_OK);
    ck_assert_int_eq(eca_hook_find_program("sh", &err), ECA_OK);
    ck_assert_int_eq(eca_hook_find_program("/nonexistent/eca-reload", &err), ECA_ENOTFOUND);
    ck_assert_int_eq(eca_hook_find_program("eca-no-such-program-7", &err), ECA_ENOTFOUND);
    ck_assert_msg(strstr(err.msg, "'eca-no-such-program-7' is not in PATH") != NULL, "%s", err.msg);
    ck_assert_int_eq(eca_hook_find_program(dir, &err), ECA_EINVAL);
    ck_assert_msg(strstr(err.msg, "not a regular file") != NULL, "%s", err.msg);
    snprintf(f, sizeof f, "%s/reload.sh", dir);
    ck_assert_int_eq(eca_fs_write_atomic(f, "#!/bin/sh\n", 10, 0644, &err), ECA_OK);
    ck_assert_int_eq(eca_hook_find_program(f, &err), ECA_EINVAL);
    ck_assert_msg(strstr(err.msg, "not executable") != NULL, "%s", err.msg);
    ck_assert_int_eq(chmod(f, 0755), 0);
    ck_assert_int_eq(eca_hook_find_program(f, &err), ECA_OK);
    /* A bare name is looked up in PATH only, in each of its directories. */
    ck_assert_int_eq(eca_hook_find_program("reload.sh", &err), ECA_ENOTFOUND);
    setenv("PATH", "/nonexistent", 1);
    ck_assert_int_eq(eca_hook_find_program("sh", &err), ECA_ENOTFOUND);
    snprintf(f, sizeof f, "/nonexistent:%s", dir);
    setenv("PATH", f, 1);
    ck_assert_int_eq(eca_hook_find_program("reload.sh", &err), ECA_OK);
    if (saved)
        setenv("PATH", saved, 1);
    free(saved);
    test_rmdir(dir);
}
END_TEST

Suite *
hook_suite(void)
{
    Suite *s = suite_create("hook");
    TCase *tc = tcase_create("hook");

    tcase_set_timeout(tc, 10);
    tcase_add_loop_test(tc, split_quoting, 0, sizeof good / sizeof good[0]);
    tcase_add_loop_test(tc, split_errors, 0, sizeof bad / sizeof bad[0]);
    tcase_add_test(tc, run_exit_statuses);
    tcase_add_test(tc, run_env_is_the_commands_alone);
    tcase_add_test(tc, run_umask_is_022);
    tcase_add_test(tc, run_timeout_kills_process_group);
    tcase_add_test(tc, signal_pidfile_delivers);
    tcase_add_test(tc, find_program_as_execvp_would);
    tcase_add_loop_test(tc, signal_pidfile_rejects_bad_pid, 0,
                        sizeof bad_pids / sizeof bad_pids[0]);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(hook_suite)
