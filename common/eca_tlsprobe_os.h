/* SPDX-License-Identifier: MIT */
/* Internal: the socket half of eca_tlsprobe (eca_tlsprobe_posix.c, later a Windows half). */
#ifndef ECA_TLSPROBE_OS_H
#define ECA_TLSPROBE_OS_H

#include "eca_err.h"

/*
 * A connected TCP socket to host:port within timeout_ms, with send/receive timeouts set to
 * timeout_ms too; -1 with err set (ECA_ENET, ECA_ETIMEOUT) on failure.
 */
int eca_tlsprobe_os_connect(const char *host, const char *port, int timeout_ms,
                            struct eca_err *err);

/* Close a socket from eca_tlsprobe_os_connect(). -1 is a no-op. */
void eca_tlsprobe_os_close(int fd);

#endif
