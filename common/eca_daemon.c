/* SPDX-License-Identifier: MIT */
/* Process control of an agent: the request flags, shared by the platform halves. */
#include "eca_daemon.h"

#include <stdatomic.h>

#include "eca_daemon_os.h"

/*
 * The one mutable global outside the logger and the clock: requests arrive in signal
 * handlers (or the Windows console and service threads), which can reach nothing else.
 * Every access is one atomic operation, so a request raised while the loop takes the
 * pending set is either in what it took or still pending, never lost; a lock-free atomic
 * is async-signal-safe.
 */
#if ATOMIC_INT_LOCK_FREE != 2
#error "eca_daemon needs lock-free atomic ints (signal handlers set the request flags)"
#endif
static atomic_uint pending;

void
eca_daemon_request(unsigned bits)
{
    atomic_fetch_or(&pending, bits);
}

unsigned
eca_daemon_take(void)
{
    /* Read and clear in one step: STOP stays set until eca_daemon_fini(). */
    return atomic_fetch_and(&pending, ECA_DAEMON_STOP);
}

unsigned
eca_daemon_peek(void)
{
    return atomic_load(&pending);
}

int
eca_daemon_stopping(void)
{
    return (atomic_load(&pending) & ECA_DAEMON_STOP) != 0;
}

void
eca_daemon_clear(void)
{
    atomic_store(&pending, 0);
}
