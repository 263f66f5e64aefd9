/* SPDX-License-Identifier: MIT */
/* Reload actions: run an argv vector with a timeout (no shell), or signal a pid file's process. */
#ifndef ECA_HOOK_H
#define ECA_HOOK_H

#include <stddef.h>

#include "eca_err.h"

/*
 * Split a command line into argv: whitespace separates, '...' and "..." quote, backslash
 * escapes inside "..." and outside quotes. No expansion of any kind. *argv is a NULL-ended
 * vector; free with eca_hook_argv_free(). Unbalanced quotes: ECA_EINVAL.
 */
enum eca_rc eca_hook_split(const char *cmdline, char ***argv, struct eca_err *err);
void eca_hook_argv_free(char **argv);

/*
 * Run argv[0] (PATH searched) with argv; wait at most timeout_s seconds, then kill it.
 * Non-zero exit: ECA_EIO "reload command 'x' exited with status 3"; timeout: ECA_ETIMEOUT
 * (the command's process group gets SIGTERM, then SIGKILL after 1 s). timeout_s <= 0 means
 * 30 s. A command that cannot be executed: ECA_EIO "... could not be started: <reason>".
 * stdout/stderr are inherited.
 */
enum eca_rc eca_hook_run(char *const *argv, int timeout_s, struct eca_err *err);

/*
 * eca_hook_run with env ("NAME=value" strings, NULL-ended; NULL: none) in the command's
 * environment, replacing variables of those names there. The daemon's own environment never
 * changes: commands started by several threads at once each see their own values.
 */
enum eca_rc eca_hook_run_env(char *const *argv, const char *const *env, int timeout_s,
                             struct eca_err *err);

/*
 * Whether eca_hook_run could start program `name` now: a name with a directory part must be
 * an executable regular file; a bare name is looked up in PATH. Not there: ECA_ENOTFOUND;
 * there but not runnable (a directory, no execute permission): ECA_EINVAL.
 */
enum eca_rc eca_hook_find_program(const char *name, struct eca_err *err);

/* Send signal `signame` ("HUP", "USR1", "TERM"...) to the pid read from pidfile. */
enum eca_rc eca_hook_signal_pidfile(const char *pidfile, const char *signame, struct eca_err *err);

#endif
