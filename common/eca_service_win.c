/* SPDX-License-Identifier: MIT */
/* Windows half of eca_service: the `service` sub-commands, ServiceMain, control handler, Event Log.
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eca_daemon.h"
#include "eca_log.h"
#include "eca_service.h"
#include "eca_win.h"

#define START_HINT_MS    30000
#define STOP_HINT_MS     30000
#define REGISTER_WAIT_MS 30000
#define ECA_MSG_LINE     1 /* windows/eca_messages.mc: "%1" */

/* The one service this process runs; set up by run(), then touched by the SCM's threads. */
static struct {
    CRITICAL_SECTION mu;
    SERVICE_STATUS_HANDLE h;
    SERVICE_STATUS st;
    HANDLE registered, dispatcher, evlog;
    volatile LONG stop_requested;
    DWORD register_error;
    wchar_t *name;
} svc;

struct svc_args {
    const char *sub, *name, *config;
    int rest; /* index of the first argument passed through to the daemon (run) */
};

static void
report(DWORD state, DWORD exit_code, DWORD hint)
{
    EnterCriticalSection(&svc.mu);
    svc.st.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    svc.st.dwCurrentState = state;
    svc.st.dwControlsAccepted =
        state != SERVICE_RUNNING
            ? 0
            : SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PARAMCHANGE;
    /* A daemon that ends on its own has failed: service-specific code 1 triggers recovery. */
    svc.st.dwWin32ExitCode = exit_code ? ERROR_SERVICE_SPECIFIC_ERROR : NO_ERROR;
    svc.st.dwServiceSpecificExitCode = exit_code;
    svc.st.dwCheckPoint =
        state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : svc.st.dwCheckPoint + 1;
    svc.st.dwWaitHint = hint;
    if (svc.h != NULL)
        SetServiceStatus(svc.h, &svc.st);
    LeaveCriticalSection(&svc.mu);
}

/* Runs on the dispatcher thread. Requests reach the daemon's loop like POSIX signals do. */
static DWORD WINAPI
handler(DWORD ctl, DWORD type, void *data, void *ctx)
{
    (void)type;
    (void)data;
    (void)ctx;
    switch (ctl) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
        InterlockedExchange(&svc.stop_requested, 1);
        report(SERVICE_STOP_PENDING, 0, STOP_HINT_MS);
        eca_daemon_win_notify(ECA_DAEMON_STOP);
        return NO_ERROR;
    case SERVICE_CONTROL_PARAMCHANGE:
        eca_daemon_win_notify(ECA_DAEMON_RELOAD);
        return NO_ERROR;
    case ECA_SERVICE_CONTROL_RENEW:
        eca_daemon_win_notify(ECA_DAEMON_FORCE);
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

static void WINAPI
service_main(DWORD argc, wchar_t **argv)
{
    (void)argc;
    (void)argv;
    svc.h = RegisterServiceCtrlHandlerExW(svc.name, handler, NULL);
    if (svc.h == NULL)
        svc.register_error = GetLastError();
    else
        report(SERVICE_START_PENDING, 0, START_HINT_MS);
    SetEvent(svc.registered);
    /* Returning is allowed: the dispatcher runs until the service reports SERVICE_STOPPED. */
}

static DWORD WINAPI
dispatcher(void *arg)
{
    SERVICE_TABLE_ENTRYW table[] = {{svc.name, service_main}, {NULL, NULL}};

    (void)arg;
    return StartServiceCtrlDispatcherW(table) ? 0 : GetLastError();
}

/* Each log line also becomes an event; stderr still gets it (wine, debuggers). */
static void
evlog_sink(void *ctx, enum eca_log_level level, const char *line)
{
    WORD type = level >= ECA_LOG_ERROR  ? EVENTLOG_ERROR_TYPE
                : level == ECA_LOG_WARN ? EVENTLOG_WARNING_TYPE
                                        : EVENTLOG_INFORMATION_TYPE;
    const wchar_t *strs[1];
    wchar_t *w = NULL;

    (void)ctx;
    fprintf(stderr, "%s\n", line);
    if (svc.evlog == NULL || eca_win_widen(line, &w, NULL) != ECA_OK)
        return;
    strs[0] = w;
    ReportEventW(svc.evlog, type, 0, ECA_MSG_LINE, NULL, 1, 0, strs, NULL);
    free(w);
}

/* main() returned or exit() ran: tell the SCM, so it neither waits nor restarts after a STOP. */
static void
on_exit_report(void)
{
    report(SERVICE_STOPPED, InterlockedCompareExchange(&svc.stop_requested, 0, 0) ? 0 : 1, 0);
    WaitForSingleObject(svc.dispatcher, 5000);
    eca_log_set_sink(NULL, NULL);
    if (svc.evlog != NULL)
        DeregisterEventSource(svc.evlog);
    svc.evlog = NULL;
}

/* Wait for ServiceMain; 0 when registered, else the exit status for main. */
static int
connect_scm(const char *agent)
{
    HANDLE hs[2];
    DWORD r, code = 0;
    char msg[256];

    InitializeCriticalSection(&svc.mu);
    if ((svc.registered = CreateEventW(NULL, TRUE, FALSE, NULL)) == NULL ||
        (svc.dispatcher = CreateThread(NULL, 0, dispatcher, NULL, 0, NULL)) == NULL) {
        fprintf(stderr, "%s: service run: cannot start the dispatcher thread\n", agent);
        return 1;
    }
    hs[0] = svc.registered;
    hs[1] = svc.dispatcher;
    r = WaitForMultipleObjects(2, hs, FALSE, REGISTER_WAIT_MS);
    if (r == WAIT_OBJECT_0 && svc.h != NULL)
        return 0;
    if (r == WAIT_OBJECT_0 + 1)
        GetExitCodeThread(svc.dispatcher, &code);
    else
        code = r == WAIT_OBJECT_0 ? svc.register_error : WAIT_TIMEOUT;
    eca_win_strerror(code, msg, sizeof msg);
    fprintf(stderr,
            "%s: service run: not connected to the Service Control Manager: %s (for a console "
            "run, leave out 'service run')\n",
            agent, msg);
    return code == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT ? 2 : 1;
}

/* argv for the daemon: argv[0], --config F when given, then everything after the options. */
static char **
daemon_argv(char **argv, int argc, const struct svc_args *sa, int *out_argc)
{
    char **v = calloc((size_t)argc + 3, sizeof *v);
    int n = 0;

    if (v == NULL)
        return NULL;
    v[n++] = argv[0];
    if (sa->config != NULL) {
        v[n++] = (char *)"--config";
        v[n++] = (char *)sa->config;
    }
    for (int i = sa->rest; i < argc; i++)
        v[n++] = argv[i];
    *out_argc = n;
    return v;
}

static int
run(const char *agent, const struct svc_args *sa, int *argc, char ***argv)
{
    char **v;
    int rc, n;

    if (eca_win_widen(sa->name, &svc.name, NULL) != ECA_OK ||
        (v = daemon_argv(*argv, *argc, sa, &n)) == NULL) {
        fprintf(stderr, "%s: service run: bad service name or out of memory\n", agent);
        return 2;
    }
    if ((rc = connect_scm(agent)) != 0)
        return rc;
    svc.evlog = RegisterEventSourceW(NULL, svc.name);
    eca_log_set_sink(evlog_sink, NULL);
    atexit(on_exit_report);
    report(SERVICE_RUNNING, 0, 0);
    *argc = n;
    *argv = v; /* lives as long as the process, like the original argv */
    return -1;
}

/* %ProgramData%\ECA\<agent>\<agent>.conf, the documented default location. */
static const char *
default_config(const char *agent)
{
    static char path[1024];
    const char *pd = getenv("ProgramData");

    snprintf(path, sizeof path, "%s\\ECA\\%s\\%s.conf", pd ? pd : "C:\\ProgramData", agent, agent);
    return path;
}

static int
usage(const char *agent)
{
    fprintf(stderr,
            "usage: %s service install [--name NAME] [--config FILE]\n"
            "       %s service uninstall|renew|reload [--name NAME]\n"
            "       %s service run [--name NAME] [--config FILE] [options]   (the SCM's command)\n"
            "NAME defaults to %s; FILE to %s.\n"
            "renew sends control %d (force renewal), reload PARAMCHANGE (re-read the "
            "configuration).\n",
            agent, agent, agent, agent, default_config(agent), ECA_SERVICE_CONTROL_RENEW);
    return 2;
}

/* Parse `service SUB [--name N] [--config F]`; for run, the rest goes to the daemon. */
static int
parse(int argc, char **argv, struct svc_args *sa)
{
    int i;

    if (argc < 3)
        return -1;
    sa->sub = argv[2];
    for (i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--name") == 0)
            sa->name = argv[i + 1];
        else if (strcmp(argv[i], "--config") == 0)
            sa->config = argv[i + 1];
        else
            break;
    }
    sa->rest = i;
    if (strcmp(sa->sub, "run") != 0 && i < argc)
        return -1;
    return sa->name == NULL || *sa->name != '\0' ? 0 : -1;
}

int
eca_service_start(const char *agent, int *argc, char ***argv)
{
    struct svc_args sa = {NULL, NULL, NULL, 0};
    struct eca_err err = {0};
    enum eca_rc rc;

    if (*argc < 2 || strcmp((*argv)[1], "service") != 0)
        return -1;
    if (parse(*argc, *argv, &sa) != 0)
        return usage(agent);
    if (sa.name == NULL)
        sa.name = agent;
    if (strcmp(sa.sub, "run") == 0)
        return run(agent, &sa, argc, argv);
    if (strcmp(sa.sub, "install") == 0)
        rc = eca_win_service_install(agent, sa.name, sa.config ? sa.config : default_config(agent),
                                     &err);
    else if (strcmp(sa.sub, "uninstall") == 0)
        rc = eca_win_service_uninstall(sa.name, &err);
    else if (strcmp(sa.sub, "renew") == 0)
        rc = eca_win_service_control(sa.name, ECA_SERVICE_CONTROL_RENEW, &err);
    else if (strcmp(sa.sub, "reload") == 0)
        rc = eca_win_service_control(sa.name, SERVICE_CONTROL_PARAMCHANGE, &err);
    else
        return usage(agent);
    if (rc != ECA_OK) {
        fprintf(stderr, "%s: service %s: %s\n", agent, sa.sub, err.msg);
        return 1;
    }
    printf("%s: service '%s': %s done\n", agent, sa.name, sa.sub);
    return 0;
}
