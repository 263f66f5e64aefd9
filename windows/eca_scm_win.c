/* SPDX-License-Identifier: MIT */
/* Service Control Manager calls: install/uninstall a daemon as a service, restart a service. */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "eca_win.h"

#define EVENTLOG_KEY L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\"
#define POLL_MS      250
#define UNINSTALL_S  30

static enum eca_rc
scm_fail(struct eca_err *err, const char *what, const char *name)
{
    char msg[256];

    eca_win_strerror(GetLastError(), msg, sizeof msg);
    return eca_err_set(err, ECA_EIO, "service '%s': %s: %s", name, what, msg);
}

/* Poll until the service reaches state `want` or deadline (GetTickCount64 ms) passes. */
static enum eca_rc
wait_state(SC_HANDLE svc, DWORD want, ULONGLONG deadline, const char *name, struct eca_err *err)
{
    SERVICE_STATUS_PROCESS sp;
    DWORD n;

    for (;;) {
        if (!QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (BYTE *)&sp, sizeof sp, &n))
            return scm_fail(err, "QueryServiceStatusEx", name);
        if (sp.dwCurrentState == want)
            return ECA_OK;
        if (want == SERVICE_RUNNING && sp.dwCurrentState == SERVICE_STOPPED)
            return eca_err_set(err, ECA_EIO, "service '%s': stopped while starting (exit %lu)",
                               name, (unsigned long)sp.dwWin32ExitCode);
        if (GetTickCount64() >= deadline)
            return eca_err_set(err, ECA_ETIMEOUT, "service '%s': not %s in time (state %lu)", name,
                               want == SERVICE_RUNNING ? "running" : "stopped",
                               (unsigned long)sp.dwCurrentState);
        Sleep(POLL_MS);
    }
}

/* Ask a running service to stop and wait for it; an already stopped one is fine. */
static enum eca_rc
stop_wait(SC_HANDLE svc, ULONGLONG deadline, const char *name, struct eca_err *err)
{
    SERVICE_STATUS st;

    if (!ControlService(svc, SERVICE_CONTROL_STOP, &st)) {
        DWORD e = GetLastError();

        if (e == ERROR_SERVICE_NOT_ACTIVE)
            return ECA_OK;
        if (e != ERROR_SERVICE_CANNOT_ACCEPT_CTRL) /* start or stop pending: wait it out */
            return scm_fail(err, "stop", name);
    }
    return wait_state(svc, SERVICE_STOPPED, deadline, name, err);
}

static enum eca_rc
open_service(const char *name, DWORD access, SC_HANDLE *scm, SC_HANDLE *svc, struct eca_err *err)
{
    wchar_t *w = NULL;
    enum eca_rc rc;

    *svc = NULL;
    if ((rc = eca_win_widen(name, &w, err)) != ECA_OK)
        return rc;
    if ((*scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT)) == NULL)
        rc = scm_fail(err, "OpenSCManager", name);
    else if ((*svc = OpenServiceW(*scm, w, access)) == NULL)
        rc = scm_fail(err, "OpenService", name);
    free(w);
    return rc;
}

enum eca_rc
eca_win_service_restart(const char *name, int timeout_s, struct eca_err *err)
{
    SC_HANDLE scm = NULL, svc = NULL;
    ULONGLONG deadline = GetTickCount64() + (ULONGLONG)(timeout_s > 0 ? timeout_s : 30) * 1000;
    enum eca_rc rc;

    if (name == NULL || *name == '\0')
        return eca_err_set(err, ECA_EINVAL, "restart-service: no service name");
    rc = open_service(name, SERVICE_STOP | SERVICE_START | SERVICE_QUERY_STATUS, &scm, &svc, err);
    if (rc == ECA_OK)
        rc = stop_wait(svc, deadline, name, err);
    if (rc == ECA_OK && !StartServiceW(svc, 0, NULL))
        rc = scm_fail(err, "start", name);
    if (rc == ECA_OK)
        rc = wait_state(svc, SERVICE_RUNNING, deadline, name, err);
    if (svc != NULL)
        CloseServiceHandle(svc);
    if (scm != NULL)
        CloseServiceHandle(scm);
    return rc;
}

/* HKLM\...\EventLog\Application\<name> with our message table, so events read as text. */
static enum eca_rc
register_source(const wchar_t *wname, const wchar_t *exe, const char *name, struct eca_err *err)
{
    wchar_t key[512];
    DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE;
    HKEY k;
    LONG e;

    swprintf(key, sizeof key / sizeof key[0], L"%ls%ls", EVENTLOG_KEY, wname);
    e = RegCreateKeyExW(HKEY_LOCAL_MACHINE, key, 0, NULL, 0, KEY_SET_VALUE, NULL, &k, NULL);
    if (e == ERROR_SUCCESS) {
        e = RegSetValueExW(k, L"EventMessageFile", 0, REG_EXPAND_SZ, (const BYTE *)exe,
                           (DWORD)((wcslen(exe) + 1) * sizeof(wchar_t)));
        if (e == ERROR_SUCCESS)
            e = RegSetValueExW(k, L"TypesSupported", 0, REG_DWORD, (const BYTE *)&types,
                               sizeof types);
        RegCloseKey(k);
    }
    SetLastError((DWORD)e);
    return e == ERROR_SUCCESS ? ECA_OK : scm_fail(err, "event source registration", name);
}

static void
unregister_source(const wchar_t *wname)
{
    wchar_t key[512];

    swprintf(key, sizeof key / sizeof key[0], L"%ls%ls", EVENTLOG_KEY, wname);
    RegDeleteKeyW(HKEY_LOCAL_MACHINE, key);
}

/*
 * A setting newer service managers have: ERROR_INVALID_LEVEL means this one lacks it (wine
 * lacks all three used here), which costs a feature, not the install. Other errors fail it.
 */
static enum eca_rc
optional(SC_HANDLE svc, DWORD level, void *info, const char *what, const char *agent,
         const char *name, struct eca_err *err)
{
    if (ChangeServiceConfig2W(svc, level, info))
        return ECA_OK;
    if (GetLastError() != ERROR_INVALID_LEVEL)
        return scm_fail(err, what, name);
    fprintf(stderr, "%s: service '%s': %s: not supported by this service manager\n", agent, name,
            what);
    return ECA_OK;
}

/* Description, restart on failure (also on a non-zero exit), own service SID. */
static enum eca_rc
configure(SC_HANDLE svc, const char *agent, const char *name, struct eca_err *err)
{
    wchar_t desc[256];
    SERVICE_DESCRIPTIONW d = {desc};
    SC_ACTION acts[3] = {
        {SC_ACTION_RESTART, 60000}, {SC_ACTION_RESTART, 60000}, {SC_ACTION_RESTART, 300000}};
    SERVICE_FAILURE_ACTIONSW fa = {86400, NULL, NULL, 3, acts};
    SERVICE_FAILURE_ACTIONS_FLAG ff = {TRUE};
    SERVICE_SID_INFO sid = {SERVICE_SID_TYPE_UNRESTRICTED};
    SERVICE_DELAYED_AUTO_START_INFO delayed = {TRUE};
    enum eca_rc rc;

    swprintf(desc, sizeof desc / sizeof desc[0],
             L"ECA %hs: renews the TLS certificates named in its configuration and reloads "
             L"the services that use them.",
             agent);
    if (!ChangeServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, &d))
        return scm_fail(err, "set description", name);
    if (!ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, &fa))
        return scm_fail(err, "set recovery actions", name);
    /* Also restart after the daemon exits on its own with an error, not only after a crash. */
    if ((rc = optional(svc, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &ff,
                       "recovery on non-crash failures", agent, name, err)) != ECA_OK)
        return rc;
    /* The service SID (NT SERVICE\<name>) is what key file DACLs may name. */
    if ((rc = optional(svc, SERVICE_CONFIG_SERVICE_SID_INFO, &sid, "service SID", agent, name,
                       err)) != ECA_OK)
        return rc;
    /* After the network and IIS are up. */
    return optional(svc, SERVICE_CONFIG_DELAYED_AUTO_START_INFO, &delayed, "delayed auto-start",
                    agent, name, err);
}

/* "<exe>" service run --name "<name>" --config "<absolute config>" */
static enum eca_rc
command_line(const wchar_t *exe, const wchar_t *wname, const char *config, wchar_t **out,
             struct eca_err *err)
{
    wchar_t *wc = NULL, full[MAX_PATH * 4];
    size_t n;
    enum eca_rc rc;

    if (strchr(config, '"') != NULL)
        return eca_err_set(err, ECA_EINVAL, "service: config path has a quote: %s", config);
    if ((rc = eca_win_widen(config, &wc, err)) != ECA_OK)
        return rc;
    /* The SCM starts services in System32: a relative path would point there. */
    if (GetFullPathNameW(wc, sizeof full / sizeof full[0], full, NULL) == 0) {
        free(wc);
        return eca_err_set(err, ECA_EINVAL, "service: config path: %s", config);
    }
    free(wc);
    n = wcslen(exe) + wcslen(wname) + wcslen(full) + 64;
    if ((*out = malloc(n * sizeof(wchar_t))) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "service: out of memory");
    swprintf(*out, n, L"\"%ls\" service run --name \"%ls\" --config \"%ls\"", exe, wname, full);
    return ECA_OK;
}

static enum eca_rc
create(SC_HANDLE scm, const wchar_t *wname, const wchar_t *cmd, SC_HANDLE *svc, const char *name,
       struct eca_err *err)
{
    *svc =
        CreateServiceW(scm, wname, wname, SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS,
                       SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, cmd, NULL, NULL, NULL, NULL, NULL);
    return *svc != NULL ? ECA_OK : scm_fail(err, "CreateService", name);
}

enum eca_rc
eca_win_service_install(const char *agent, const char *name, const char *config,
                        struct eca_err *err)
{
    wchar_t exe[MAX_PATH * 4], *wname = NULL, *cmd = NULL;
    SC_HANDLE scm = NULL, svc = NULL;
    enum eca_rc rc;

    if (GetModuleFileNameW(NULL, exe, sizeof exe / sizeof exe[0]) == 0)
        return scm_fail(err, "GetModuleFileName", name);
    if ((rc = eca_win_widen(name, &wname, err)) != ECA_OK ||
        (rc = command_line(exe, wname, config, &cmd, err)) != ECA_OK)
        goto out;
    if ((scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE)) == NULL) {
        rc = scm_fail(err, "OpenSCManager (run as Administrator)", name);
        goto out;
    }
    if ((rc = create(scm, wname, cmd, &svc, name, err)) != ECA_OK)
        goto out;
    /* All or nothing: a step that fails takes the service and its event source back out. */
    if ((rc = configure(svc, agent, name, err)) != ECA_OK ||
        (rc = register_source(wname, exe, name, err)) != ECA_OK) {
        DeleteService(svc);
        unregister_source(wname);
    }
out:
    if (svc != NULL)
        CloseServiceHandle(svc);
    if (scm != NULL)
        CloseServiceHandle(scm);
    free(cmd);
    free(wname);
    return rc;
}

enum eca_rc
eca_win_service_uninstall(const char *name, struct eca_err *err)
{
    SC_HANDLE scm = NULL, svc = NULL;
    wchar_t *wname = NULL;
    enum eca_rc rc;

    rc = open_service(name, DELETE | SERVICE_STOP | SERVICE_QUERY_STATUS, &scm, &svc, err);
    if (rc == ECA_OK)
        rc = stop_wait(svc, GetTickCount64() + UNINSTALL_S * 1000, name, err);
    if (rc == ECA_OK && !DeleteService(svc))
        rc = scm_fail(err, "DeleteService", name);
    /* The event source goes too, also after a half-finished uninstall. */
    if (eca_win_widen(name, &wname, NULL) == ECA_OK)
        unregister_source(wname);
    free(wname);
    if (svc != NULL)
        CloseServiceHandle(svc);
    if (scm != NULL)
        CloseServiceHandle(scm);
    return rc;
}

enum eca_rc
eca_win_service_control(const char *name, unsigned code, struct eca_err *err)
{
    SC_HANDLE scm = NULL, svc = NULL;
    SERVICE_STATUS st;
    enum eca_rc rc;

    /* PARAMCHANGE needs its own access right; user-defined codes (128-255) need this one. */
    rc = open_service(name, SERVICE_PAUSE_CONTINUE | SERVICE_USER_DEFINED_CONTROL, &scm, &svc, err);
    if (rc == ECA_OK && !ControlService(svc, code, &st))
        rc = scm_fail(err, "ControlService", name);
    if (svc != NULL)
        CloseServiceHandle(svc);
    if (scm != NULL)
        CloseServiceHandle(scm);
    return rc;
}
