/* SPDX-License-Identifier: MIT */
/* Process control of an agent: stop/reload/force requests and a sleep that they cut short. */
#ifndef ECA_DAEMON_H
#define ECA_DAEMON_H

#include <time.h>

#include "eca_err.h"

/* Requests, as bits: TERM/INT stop, HUP reloads the configuration, USR1 forces renewal. */
#define ECA_DAEMON_STOP   0x1u
#define ECA_DAEMON_RELOAD 0x2u
#define ECA_DAEMON_FORCE  0x4u

/* eca_daemon_wait() result bits besides the requests above. */
#define ECA_DAEMON_FD_READY 0x100u /* the extra descriptor is readable */

/*
 * Install the handlers (POSIX: TERM, INT, HUP, USR1; PIPE ignored) and the wake-up channel
 * (a self-pipe); with glibc, one malloc arena for all threads (call before starting any).
 * Idempotent. ECA_EIO naming the call on failure.
 */
enum eca_rc eca_daemon_init(struct eca_err *err);

/* Restore default handlers and close the wake-up channel. */
void eca_daemon_fini(void);

/* Raise requests from inside the process (tests, the Windows service control handler). */
void eca_daemon_request(unsigned bits);

/* The pending requests, cleared except ECA_DAEMON_STOP, which stays until eca_daemon_fini(). */
unsigned eca_daemon_take(void);

/* 1 once a stop was requested (a predicate for long protocol waits). */
int eca_daemon_stopping(void);

/*
 * Sleep until the wall-clock `deadline` (eca_clock_now() seconds) with no wake-up in
 * between, unless a request arrives or extra_fd (-1: none) becomes readable. Returns the
 * pending request bits (not cleared) plus ECA_DAEMON_FD_READY; 0 when the deadline passed.
 */
unsigned eca_daemon_wait(time_t deadline, int extra_fd);

#endif
