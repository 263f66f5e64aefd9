/* SPDX-License-Identifier: MIT */
/* The one "host:port" / "[v6]:port" splitter, for listen and connect addresses alike. */
#ifndef ECA_HOSTPORT_H
#define ECA_HOSTPORT_H

#include <stddef.h>

#include "eca_err.h"

/*
 * Split s into host and port: "127.0.0.1:80", "name:443", "[::1]:80", ":80" (empty host:
 * every address, for a listener). The port is decimal 0..65535; an IPv6 host needs brackets,
 * or its last group would read as the port. ECA_EINVAL "'s': expected host:port or
 * [v6]:port" (the caller prefixes its setting) when malformed or too long for the buffers.
 */
enum eca_rc eca_hostport_split(const char *s, char *host, size_t hostlen, char *port,
                               size_t portlen, struct eca_err *err);

#endif
