/* SPDX-License-Identifier: MIT */
/* Reload actions, POSIX half: fork/execvp, a timeout that kills the process group, pid files. */
#include "eca_hook.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eca_buf.h"
#include "eca_clock.h"
#include "eca_fs.h"

#define DEFAULT_TIMEOUT_S 30
#define POLL_MS           50L
/* How long a timed-out command gets between SIGTERM and SIGKILL. */
#define GRACE_MS 1000L
/* A reload command runs with the umask most systems give a login (a setting may come later). */
#define HOOK_UMASK 022

extern char **environ;

/* Held from pipe() to the parent's close of the write end (eca_hook_run). */
static pthread_mutex_t spawn_mu = PTHREAD_MUTEX_INITIALIZER;

/*
 * The child: own process group (so a timeout kills everything it started), default signal
 * handling and mask (the daemon blocks or handles some), the system's usual umask (the
 * daemon's 077 would make files a reload writes, a rendered config or a pid file, unreadable
 * to the service's other users), then exec. An exec failure is reported as errno over the
 * close-on-exec pipe.
 */
static void
child(char *const *argv, char **envp, int errfd)
{
    sigset_t none;
    int e;

    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    umask(HOOK_UMASK);
    if (envp != NULL)
        environ = envp; /* a pointer store: nothing to allocate between fork and exec */
    execvp(argv[0], argv);
    e = errno;
    if (write(errfd, &e, sizeof e) < 0)
        _exit(127);
    _exit(127);
}

/*
 * Poll until the child exits or the deadline passes; 1 when it exited. WNOWAIT leaves it a
 * zombie, which keeps its pid (and so the process group id) from being reused until reap().
 */
static int
wait_until(pid_t pid, long long deadline_ms)
{
    siginfo_t si;

    for (;;) {
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0) {
            if (si.si_pid == pid)
                return 1;
        } else if (errno != EINTR) {
            return 1;
        }
        if (eca_clock_mono_ms() >= deadline_ms)
            return 0;
        eca_clock_sleep_ms(POLL_MS, NULL);
    }
}

static int
reap(pid_t pid)
{
    int status = 0;

    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

/* Kill the whole group: TERM, a grace period, then KILL (also for stragglers); reap. */
static int
kill_group(pid_t pid)
{
    kill(-pid, SIGTERM);
    wait_until(pid, eca_clock_mono_ms() + GRACE_MS);
    kill(-pid, SIGKILL);
    return reap(pid);
}

static enum eca_rc
report(const char *name, int status, struct eca_err *err)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return ECA_OK;
    if (WIFEXITED(status))
        return eca_err_set(err, ECA_EIO, "reload command '%s' exited with status %d", name,
                           WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return eca_err_set(err, ECA_EIO, "reload command '%s' killed by signal %d", name,
                           WTERMSIG(status));
    return eca_err_set(err, ECA_EIO, "reload command '%s' ended abnormally", name);
}

/* 0 when exec succeeded (EOF on the pipe), else the child's errno. */
static int
exec_errno(int fd)
{
    int e = 0;
    ssize_t n;

    while ((n = read(fd, &e, sizeof e)) < 0 && errno == EINTR)
        ;
    return n == (ssize_t)sizeof e ? e : 0;
}

/* An executable regular file at path (what execvp would run). */
static enum eca_rc
program_file(const char *path, struct eca_err *err)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return eca_err_set(err, errno == ENOENT || errno == ENOTDIR ? ECA_ENOTFOUND : ECA_EINVAL,
                           "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return eca_err_set(err, ECA_EINVAL, "%s: not a regular file", path);
    if (access(path, X_OK) != 0)
        return eca_err_set(err, ECA_EINVAL, "%s: not executable", path);
    return ECA_OK;
}

enum eca_rc
eca_hook_find_program(const char *name, struct eca_err *err)
{
    const char *path = getenv("PATH"), *p, *colon;
    char full[PATH_MAX];
    size_t dlen;

    if (strchr(name, '/') != NULL)
        return program_file(name, err);
    /* execvp's own default when PATH is unset. */
    if (path == NULL || *path == '\0')
        path = "/bin:/usr/bin";
    for (p = path;; p = colon + 1) {
        colon = strchr(p, ':');
        dlen = colon ? (size_t)(colon - p) : strlen(p);
        /* An empty element is the current directory, as for execvp. */
        if (snprintf(full, sizeof full, "%.*s/%s", (int)dlen, dlen ? p : ".", name) <
                (int)sizeof full &&
            program_file(full, NULL) == ECA_OK)
            return ECA_OK;
        if (colon == NULL)
            break;
    }
    return eca_err_set(err, ECA_ENOTFOUND, "'%s' is not in PATH", name);
}

/* 1 when the environment entry e ("NAME=...") names the variable of assignment a ("NAME=v"). */
static int
same_name(const char *e, const char *a)
{
    size_t n = strcspn(a, "=");

    return strncmp(e, a, n) == 0 && e[n] == '=';
}

/* The daemon's environment with env's assignments in place of their variables (malloc'd). */
static char **
env_merge(const char *const *env)
{
    size_t n = 0, m = 0, k = 0;
    char **out;

    while (environ != NULL && environ[n] != NULL)
        n++;
    while (env[m] != NULL)
        m++;
    if ((out = calloc(n + m + 1, sizeof *out)) == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;

        while (j < m && !same_name(environ[i], env[j]))
            j++;
        if (j == m)
            out[k++] = environ[i];
    }
    for (size_t j = 0; j < m; j++)
        out[k++] = (char *)(uintptr_t)env[j];
    return out;
}

enum eca_rc
eca_hook_run_env(char *const *argv, const char *const *env, int timeout_s, struct eca_err *err)
{
    int pfd[2] = {-1, -1}, status = 0, e;
    char **envp = NULL;
    pid_t pid;
    enum eca_rc rc;

    if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0')
        return eca_err_set(err, ECA_EINVAL, "reload command: empty");
    if (timeout_s <= 0)
        timeout_s = DEFAULT_TIMEOUT_S;
    if (env != NULL && (envp = env_merge(env)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "reload command '%s': out of memory", argv[0]);
    /* Pipe to fork under one lock: another thread's child forked between pipe() and the
     * close-on-exec flags would keep our write end open, and exec_errno() wait for it. */
    pthread_mutex_lock(&spawn_mu);
    if (pipe(pfd) != 0 || fcntl(pfd[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(pfd[1], F_SETFD, FD_CLOEXEC) != 0) {
        rc = eca_err_set(err, ECA_EIO, "reload command '%s': pipe: %s", argv[0], strerror(errno));
        pthread_mutex_unlock(&spawn_mu);
        goto out;
    }
    if ((pid = fork()) < 0) {
        rc = eca_err_set(err, ECA_EIO, "reload command '%s': fork: %s", argv[0], strerror(errno));
        pthread_mutex_unlock(&spawn_mu);
        goto out;
    }
    if (pid == 0)
        child(argv, envp, pfd[1]);
    close(pfd[1]);
    pfd[1] = -1;
    pthread_mutex_unlock(&spawn_mu);
    setpgid(pid, pid); /* also in the parent, so kill(-pid) works whoever runs first */
    if ((e = exec_errno(pfd[0])) != 0) {
        reap(pid);
        rc = eca_err_set(err, ECA_EIO, "reload command '%s' could not be started: %s", argv[0],
                         strerror(e));
        goto out;
    }
    if (!wait_until(pid, eca_clock_mono_ms() + (long)timeout_s * 1000)) {
        kill_group(pid);
        rc = eca_err_set(err, ECA_ETIMEOUT, "reload command '%s' timed out after %d s (killed)",
                         argv[0], timeout_s);
        goto out;
    }
    status = reap(pid);
    rc = report(argv[0], status, err);
out:
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (pfd[1] >= 0)
        close(pfd[1]);
    free(envp);
    return rc;
}

static int
signal_number(const char *name)
{
    static const struct {
        const char *name;
        int sig;
    } sigs[] = {
        {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},
        {"TERM", SIGTERM}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
        {"KILL", SIGKILL}, {"CONT", SIGCONT}, {"WINCH", SIGWINCH},
    };
    size_t i;

    if (strncmp(name, "SIG", 3) == 0)
        name += 3;
    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        if (strcmp(name, sigs[i].name) == 0)
            return sigs[i].sig;
    }
    return -1;
}

/* A pid file holds one decimal pid > 1 and optional whitespace; kill(-1) or kill(0) never. */
static enum eca_rc
read_pid(const char *pidfile, pid_t *pid, struct eca_err *err)
{
    struct eca_buf b;
    char *end = NULL;
    long v;
    enum eca_rc rc;

    eca_buf_init(&b, 64);
    if ((rc = eca_fs_read(pidfile, 64, &b, err)) != ECA_OK)
        goto out;
    errno = 0;
    v = strtol(eca_buf_str(&b), &end, 10);
    while (end != NULL && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
        end++;
    if (errno != 0 || end == eca_buf_str(&b) || *end != '\0' || v <= 1 || v > INT_MAX) {
        rc = eca_err_set(err, ECA_EINVAL, "pid file %s does not hold a valid pid", pidfile);
        goto out;
    }
    *pid = (pid_t)v;
out:
    eca_buf_free(&b);
    return rc;
}

enum eca_rc
eca_hook_signal_pidfile(const char *pidfile, const char *signame, struct eca_err *err)
{
    pid_t pid = 0;
    int sig = signame ? signal_number(signame) : -1;
    enum eca_rc rc;

    if (sig < 0)
        return eca_err_set(err, ECA_EINVAL, "reload signal '%s' is not known",
                           signame ? signame : "");
    if ((rc = read_pid(pidfile, &pid, err)) != ECA_OK)
        return rc;
    if (kill(pid, sig) != 0) {
        if (errno == ESRCH)
            return eca_err_set(err, ECA_ENOTFOUND, "no process %ld (pid file %s)", (long)pid,
                               pidfile);
        return eca_err_set(err, ECA_EIO, "cannot signal process %ld (pid file %s): %s", (long)pid,
                           pidfile, strerror(errno));
    }
    return ECA_OK;
}
