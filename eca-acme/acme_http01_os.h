/* SPDX-License-Identifier: MIT */
/* Internal: the socket and directory half of acme_http01 (POSIX or Winsock), chosen by the build.
 */
#ifndef ACME_HTTP01_OS_H
#define ACME_HTTP01_OS_H

#include <stddef.h>

#include "eca_err.h"

/* A bound listening socket, its service thread and the lock that guards the token table. */
struct acme_http01_os;

/*
 * Build the complete HTTP response (status line, headers, body) for one request head, a
 * NUL-terminated string; NULL for no answer. The returned string is freed with free().
 * Called on the listener's thread.
 */
typedef char *(*acme_http01_answer_fn)(void *ctx, const char *head);

/*
 * Bind host:port (numeric; port "0" picks one), listen, and start a thread that reads each
 * request head (capped at cap bytes, 5 s timeout; over the cap or on timeout answer(ctx, NULL))
 * and writes answer()'s response. where names the listener in errors. Free with
 * acme_http01_os_free().
 */
enum eca_rc acme_http01_os_listen(const char *where, const char *host, const char *port, size_t cap,
                                  acme_http01_answer_fn answer, void *ctx,
                                  struct acme_http01_os **out, struct eca_err *err);

/* The bound TCP port. */
int acme_http01_os_port(const struct acme_http01_os *l);

/* Take and release the listener's lock (publish/unpublish against the service thread). */
void acme_http01_os_lock(struct acme_http01_os *l);
void acme_http01_os_unlock(struct acme_http01_os *l);

/* Stop the thread (joined), close the socket, free. NULL: no-op. */
void acme_http01_os_free(struct acme_http01_os *l);

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
