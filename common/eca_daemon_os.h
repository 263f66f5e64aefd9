/* SPDX-License-Identifier: MIT */
/* Internal: what the platform halves of eca_daemon share with the portable half. */
#ifndef ECA_DAEMON_OS_H
#define ECA_DAEMON_OS_H

/* The pending request bits, not cleared. */
unsigned eca_daemon_peek(void);

/* Forget every request (eca_daemon_fini). */
void eca_daemon_clear(void);

#endif
