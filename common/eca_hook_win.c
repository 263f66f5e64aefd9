/* SPDX-License-Identifier: MIT */
/* Reload actions, Windows half: CreateProcessW in a kill-on-close job with a timeout. */
#include "eca_hook.h"

#include <stdlib.h>
#include <string.h>

#include <windows.h>

#include "eca_buf.h"
#include "eca_fs.h"
#include "eca_win.h"

#define DEFAULT_TIMEOUT_S 30
#define CMDLINE_MAX       32767 /* CreateProcessW's limit, in UTF-16 units */

/*
 * Quote one argument so that CommandLineToArgvW and the C runtimes split it back unchanged:
 * backslashes are literal unless they precede a quote, where they are doubled.
 */
static enum eca_rc
quote_arg(struct eca_buf *b, const char *a, struct eca_err *err)
{
    enum eca_rc rc = ECA_OK;
    size_t n;

    if (*a != '\0' && strpbrk(a, " \t\n\v\"") == NULL)
        return eca_buf_puts(b, a, err);
    rc = eca_buf_puts(b, "\"", err);
    for (; rc == ECA_OK && *a != '\0'; a++) {
        for (n = 0; *a == '\\'; a++)
            n++;
        /* Before the closing quote or a literal quote, each backslash must be doubled. */
        if (*a == '\0' || *a == '"')
            n = n * 2 + (*a == '"');
        while (rc == ECA_OK && n-- > 0)
            rc = eca_buf_puts(b, "\\", err);
        if (*a == '\0')
            break;
        if (rc == ECA_OK)
            rc = eca_buf_append(b, a, 1, err);
    }
    if (rc == ECA_OK)
        rc = eca_buf_puts(b, "\"", err);
    return rc;
}

static enum eca_rc
build_cmdline(char *const *argv, wchar_t **out, struct eca_err *err)
{
    struct eca_buf b;
    enum eca_rc rc = ECA_OK;

    eca_buf_init(&b, CMDLINE_MAX * 3);
    for (size_t i = 0; rc == ECA_OK && argv[i] != NULL; i++) {
        if (i > 0)
            rc = eca_buf_puts(&b, " ", err);
        if (rc == ECA_OK)
            rc = quote_arg(&b, argv[i], err);
    }
    if (rc == ECA_OK)
        rc = eca_win_widen(eca_buf_str(&b), out, err);
    if (rc == ECA_OK && wcslen(*out) >= CMDLINE_MAX) {
        free(*out);
        *out = NULL;
        rc = eca_err_set(err, ECA_EINVAL, "reload command '%s': command line too long", argv[0]);
    }
    eca_buf_free(&b);
    return rc;
}

/*
 * argv[0] without a directory is looked up in PATH only (like execvp), not in the current or
 * the executable's directory as CreateProcessW would, so nobody can plant a binary there.
 */
static enum eca_rc
resolve(const char *name, wchar_t **out, struct eca_err *err)
{
    wchar_t *w = NULL, *path = NULL, found[MAX_PATH * 4];
    enum eca_rc rc;
    DWORD n;

    if ((rc = eca_win_widen(name, &w, err)) != ECA_OK)
        return rc;
    if (strpbrk(name, "/\\:") != NULL) {
        *out = w;
        return ECA_OK;
    }
    n = GetEnvironmentVariableW(L"PATH", NULL, 0);
    if (n > 0 && (path = malloc(n * sizeof *path)) != NULL &&
        GetEnvironmentVariableW(L"PATH", path, n) > 0 &&
        SearchPathW(path, w, L".exe", sizeof found / sizeof found[0], found, NULL) > 0)
        *out = _wcsdup(found);
    else
        rc = eca_err_set(err, ECA_EIO,
                         "reload command '%s' could not be started: not found "
                         "in PATH",
                         name);
    if (rc == ECA_OK && *out == NULL)
        rc = eca_err_set(err, ECA_ENOMEM, "reload command '%s': out of memory", name);
    free(path);
    free(w);
    return rc;
}

enum eca_rc
eca_hook_find_program(const char *name, struct eca_err *err)
{
    wchar_t *app = NULL;
    enum eca_rc rc;

    if (strcmp(name, "restart-service") == 0)
        return ECA_OK;
    /* CreateProcessW takes a path as it is (no default extension). */
    if (strpbrk(name, "/\\:") != NULL)
        return eca_fs_exists(name) ? ECA_OK
                                   : eca_err_set(err, ECA_ENOTFOUND, "%s: no such file", name);
    rc = resolve(name, &app, NULL);
    free(app);
    if (rc == ECA_EIO)
        return eca_err_set(err, ECA_ENOTFOUND, "'%s' is not in PATH", name);
    return rc == ECA_OK ? ECA_OK : eca_err_set(err, rc, "'%s': cannot be looked up", name);
}

/* A job that kills every process in it when its last handle closes (our timeout path too). */
static HANDLE
kill_on_close_job(void)
{
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;
    HANDLE job = CreateJobObjectW(NULL, NULL);

    if (job == NULL)
        return NULL;
    memset(&li, 0, sizeof li);
    li.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &li, sizeof li)) {
        CloseHandle(job);
        return NULL;
    }
    return job;
}

/* 1 when block entry e (L"NAME=...") is the variable a (L"NAME=v") assigns; names compare
 * case-insensitively, as Windows does; the per-drive entries (L"=C:=C:\\") never match. */
static int
same_wname(const wchar_t *e, const wchar_t *a)
{
    size_t n = wcscspn(a, L"=");

    return e[0] != L'=' && _wcsnicmp(e, a, n) == 0 && e[n] == L'=';
}

/* The daemon's environment block with env's assignments in place of their variables. */
static enum eca_rc
env_block(const char *const *env, wchar_t **out, struct eca_err *err)
{
    wchar_t *cur = GetEnvironmentStringsW(), *blk = NULL, *w[16] = {NULL};
    size_t m = 0, len = 1, o = 0;
    enum eca_rc rc = ECA_OK;

    if (cur == NULL)
        return eca_err_set(err, ECA_EIO, "reload command: no environment block");
    for (; env[m] != NULL && rc == ECA_OK; m++)
        rc = m < sizeof w / sizeof w[0] ? eca_win_widen(env[m], &w[m], err)
                                        : eca_err_set(err, ECA_EINVAL,
                                                      "reload command: too many "
                                                      "variables");
    for (int pass = 0; pass < 2 && rc == ECA_OK; pass++) {
        /* First pass: the length; second: the copy. */
        if (pass == 1 && (blk = calloc(len, sizeof *blk)) == NULL) {
            rc = eca_err_set(err, ECA_ENOMEM, "reload command: out of memory");
            break;
        }
        for (const wchar_t *e = cur; *e; e += wcslen(e) + 1) {
            size_t j = 0;

            while (j < m && !same_wname(e, w[j]))
                j++;
            if (j < m)
                continue;
            if (pass == 1)
                wcscpy(blk + o, e);
            o += pass == 1 ? wcslen(e) + 1 : 0;
            len += pass == 0 ? wcslen(e) + 1 : 0;
        }
        for (size_t j = 0; j < m; j++) {
            if (pass == 1)
                wcscpy(blk + o, w[j]);
            o += pass == 1 ? wcslen(w[j]) + 1 : 0;
            len += pass == 0 ? wcslen(w[j]) + 1 : 0;
        }
    }
    FreeEnvironmentStringsW(cur);
    for (size_t j = 0; j < m && j < sizeof w / sizeof w[0]; j++)
        free(w[j]);
    if (rc == ECA_OK)
        *out = blk; /* calloc'd: the final empty string is there already */
    else
        free(blk);
    return rc;
}

static enum eca_rc
start(const char *name, wchar_t *app, wchar_t *cmd, wchar_t *envblk, HANDLE job,
      PROCESS_INFORMATION *pi, struct eca_err *err)
{
    STARTUPINFOW si;
    char msg[256];

    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    /* Suspended until it is in the job, so nothing it spawns can escape the timeout kill. */
    if (!CreateProcessW(app, cmd, NULL, NULL, TRUE,
                        CREATE_SUSPENDED | CREATE_NO_WINDOW |
                            (envblk != NULL ? CREATE_UNICODE_ENVIRONMENT : 0),
                        envblk, NULL, &si, pi)) {
        eca_win_strerror(GetLastError(), msg, sizeof msg);
        return eca_err_set(err, ECA_EIO, "reload command '%s' could not be started: %s", name, msg);
    }
    if (job != NULL)
        AssignProcessToJobObject(job, pi->hProcess);
    ResumeThread(pi->hThread);
    CloseHandle(pi->hThread);
    pi->hThread = NULL;
    return ECA_OK;
}

static enum eca_rc
wait_report(const char *name, HANDLE proc, HANDLE job, int timeout_s, struct eca_err *err)
{
    DWORD code = 0;

    if (WaitForSingleObject(proc, (DWORD)timeout_s * 1000u) != WAIT_OBJECT_0) {
        /* Windows has no SIGTERM for a console-less child: end the whole job at once. */
        if (job == NULL || !TerminateJobObject(job, 1))
            TerminateProcess(proc, 1);
        WaitForSingleObject(proc, 5000);
        return eca_err_set(err, ECA_ETIMEOUT, "reload command '%s' timed out after %d s (killed)",
                           name, timeout_s);
    }
    if (!GetExitCodeProcess(proc, &code))
        return eca_err_set(err, ECA_EIO, "reload command '%s' ended abnormally", name);
    if (code != 0)
        return eca_err_set(err, ECA_EIO, "reload command '%s' exited with status %lu", name,
                           (unsigned long)code);
    return ECA_OK;
}

/* argv = {"restart-service", NAME}: stop, wait, start, wait, all within timeout_s. */
static enum eca_rc
restart_service(char *const *argv, int timeout_s, struct eca_err *err)
{
    if (argv[1] == NULL || argv[2] != NULL)
        return eca_err_set(err, ECA_EINVAL,
                           "reload command 'restart-service': expected one "
                           "service name");
    return eca_win_service_restart(argv[1], timeout_s, err);
}

enum eca_rc
eca_hook_run_env(char *const *argv, const char *const *env, int timeout_s, struct eca_err *err)
{
    PROCESS_INFORMATION pi = {0};
    wchar_t *app = NULL, *cmd = NULL, *envblk = NULL;
    HANDLE job = NULL;
    enum eca_rc rc;

    if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0')
        return eca_err_set(err, ECA_EINVAL, "reload command: empty");
    if (timeout_s <= 0)
        timeout_s = DEFAULT_TIMEOUT_S;
    /* The Windows reload action for IIS, Mosquitto, MinIO services: through the SCM API. */
    if (strcmp(argv[0], "restart-service") == 0)
        return restart_service(argv, timeout_s, err);
    if ((rc = resolve(argv[0], &app, err)) != ECA_OK ||
        (rc = build_cmdline(argv, &cmd, err)) != ECA_OK ||
        (env != NULL && (rc = env_block(env, &envblk, err)) != ECA_OK))
        goto out;
    job = kill_on_close_job();
    if ((rc = start(argv[0], app, cmd, envblk, job, &pi, err)) != ECA_OK)
        goto out;
    rc = wait_report(argv[0], pi.hProcess, job, timeout_s, err);
out:
    if (pi.hProcess != NULL)
        CloseHandle(pi.hProcess);
    if (job != NULL)
        CloseHandle(job);
    free(app);
    free(cmd);
    free(envblk);
    return rc;
}

enum eca_rc
eca_hook_signal_pidfile(const char *pidfile, const char *signame, struct eca_err *err)
{
    return eca_err_set(err, ECA_EINVAL,
                       "reload signal '%s' via pid file %s: not supported on Windows (use a "
                       "reload command or a service restart)",
                       signame ? signame : "", pidfile ? pidfile : "");
}
