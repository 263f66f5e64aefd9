/* SPDX-License-Identifier: MIT */
/* http-01 challenge responders (RFC 8555 §8.3): a built-in listener or a webroot writer. */
#ifndef ACME_HTTP01_H
#define ACME_HTTP01_H

#include "acme_client.h"
#include "eca_err.h"

#define ACME_HTTP01_PREFIX "/.well-known/acme-challenge/"

/*
 * A responder with its own HTTP listener (eca_listen) on listen ("127.0.0.1:5002", "[::1]:80",
 * ":80" for every address; port 0 picks one). The socket is bound and a service thread
 * started at the first publish, and both are stopped by acme_http01_free().
 */
enum eca_rc acme_http01_listener_new(const char *listen, struct acme_responder **out,
                                     struct eca_err *err);

/*
 * A responder that writes <webroot>/.well-known/acme-challenge/<token> (0644, directories
 * created 0755) for a web server already serving that directory, and removes it on unpublish.
 */
enum eca_rc acme_http01_webroot_new(const char *webroot, struct acme_responder **out,
                                    struct eca_err *err);

/* The listener's bound TCP port (after the first publish); 0 for a webroot or before. */
int acme_http01_port(const struct acme_responder *r);

/* Stop the listener (joins its thread, closes the socket) or forget the webroot. NULL: no-op. */
void acme_http01_free(struct acme_responder *r);

#endif
