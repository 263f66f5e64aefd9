/* SPDX-License-Identifier: MIT */
/* Running as a platform service (the Windows Service Control Manager): the hook main() calls first.
 */
#ifndef ECA_SERVICE_H
#define ECA_SERVICE_H

/* The user-defined service control code that forces renewal (`sc control NAME 128`). */
#define ECA_SERVICE_CONTROL_RENEW 128

/*
 * Call first in main(), after umask: handles `<agent> service install|uninstall|run ...` where
 * the platform has services. Returns an exit status (the sub-command ran, or failed) or -1 to
 * go on; for `service run` it returns -1 with argc and argv rewritten to the daemon's options
 * and the process registered with the SCM (STOP/SHUTDOWN: stop, PARAMCHANGE: reload,
 * ECA_SERVICE_CONTROL_RENEW: force; logs go to the Event Log). POSIX: always -1, untouched.
 */
int eca_service_start(const char *agent, int *argc, char ***argv);

#endif
