/* SPDX-License-Identifier: MIT */
/* Windows-only helpers shared by the windows/ platform halves: UTF-8 <-> UTF-16, error text. */
#ifndef ECA_WIN_H
#define ECA_WIN_H

#include <stddef.h>
#include <wchar.h>

#include "eca_err.h"

/*
 * Convert a UTF-8 string to a new UTF-16 string (*out, free with free()). Invalid UTF-8 is
 * ECA_EINVAL naming the string; err may be NULL.
 */
enum eca_rc eca_win_widen(const char *s, wchar_t **out, struct eca_err *err);

/* Convert UTF-16 to a new UTF-8 string (*out, free with free()); ECA_EINVAL if invalid. */
enum eca_rc eca_win_narrow(const wchar_t *w, char **out, struct eca_err *err);

/* The system's text for a GetLastError() code, with the number: "Access is denied (5)". */
void eca_win_strerror(unsigned long code, char *out, size_t outlen);

/*
 * Raise eca_daemon requests from any thread (console handler, service control handler) and
 * wake a sleeping eca_daemon_wait(); eca_daemon_request() alone does not wake it on Windows.
 */
void eca_daemon_win_notify(unsigned bits);

/*
 * Install the running executable as service `name` (own process, automatic start, LocalSystem,
 * restart on failure, a description, its own service SID, an Event Log source): the SCM starts
 * it as `"<exe>" service run --name <name> --config <absolute config>`. All or nothing: on
 * failure nothing stays registered. ECA_EIO naming the failed call.
 */
enum eca_rc eca_win_service_install(const char *agent, const char *name, const char *config,
                                    struct eca_err *err);

/* Stop (bounded, 30 s) and delete service `name` and its Event Log source. */
enum eca_rc eca_win_service_uninstall(const char *name, struct eca_err *err);

/*
 * The `restart-service NAME` reload action: stop the service if it runs, wait, start it, wait
 * until it runs; all within timeout_s (<= 0: 30 s), else ECA_ETIMEOUT.
 */
enum eca_rc eca_win_service_restart(const char *name, int timeout_s, struct eca_err *err);

/*
 * Send control `code` to running service `name`: SERVICE_CONTROL_PARAMCHANGE (reload) or a
 * user-defined one such as ECA_SERVICE_CONTROL_RENEW (what `sc control NAME 128` does).
 */
enum eca_rc eca_win_service_control(const char *name, unsigned code, struct eca_err *err);

#endif
