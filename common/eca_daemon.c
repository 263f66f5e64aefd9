/* SPDX-License-Identifier: MIT */
/* Process control of an agent: the request flags, shared by the platform halves. */
#include "eca_daemon.h"

#include <signal.h>

#include "eca_daemon_os.h"

/*
 * The one mutable global outside the logger and the clock: requests arrive in signal
 * handlers (or the Windows service thread), which can reach nothing else.
 */
static volatile sig_atomic_t pending;

void
eca_daemon_request(unsigned bits)
{
    pending |= (sig_atomic_t)bits;
}

unsigned
eca_daemon_take(void)
{
    unsigned bits = (unsigned)pending;

    pending &= ECA_DAEMON_STOP;
    return bits;
}

unsigned
eca_daemon_peek(void)
{
    return (unsigned)pending;
}

int
eca_daemon_stopping(void)
{
    return (pending & ECA_DAEMON_STOP) != 0;
}

void
eca_daemon_clear(void)
{
    pending = 0;
}
