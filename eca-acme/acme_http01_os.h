/* SPDX-License-Identifier: MIT */
/* Internal: the thread and directory half of acme_http01 (POSIX or Windows), chosen by the build.
 */
#ifndef ACME_HTTP01_OS_H
#define ACME_HTTP01_OS_H

#include "eca_err.h"

/* The thread serving the listener and the lock that guards the token table. */
struct acme_http01_os;

/*
 * Create the lock, set *out, then start a thread running fn(arg) (on POSIX with every
 * signal blocked). Free with acme_http01_os_join() once fn has been told to return.
 */
enum eca_rc acme_http01_os_start(void (*fn)(void *), void *arg, struct acme_http01_os **out,
                                 struct eca_err *err);

/* Take and release the lock (publish/unpublish against the service thread). */
void acme_http01_os_lock(struct acme_http01_os *t);
void acme_http01_os_unlock(struct acme_http01_os *t);

/* Wait for fn to return, then free. NULL: no-op. */
void acme_http01_os_join(struct acme_http01_os *t);

/*
 * Create directory path if missing so that the web server can traverse it (POSIX: 0755
 * whatever the umask; Windows: inherited ACL). An existing directory is fine.
 */
enum eca_rc acme_http01_os_mkdir_public(const char *path, struct eca_err *err);

/*
 * Make the web server serve the extensionless token files in challenge_dir as text/plain:
 * nothing on POSIX; on Windows a web.config for IIS, written once (an existing one is kept).
 */
enum eca_rc acme_http01_os_webroot_ready(const char *challenge_dir, struct eca_err *err);

#endif
