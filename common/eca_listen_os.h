/* SPDX-License-Identifier: MIT */
/* Internal: the socket half of eca_listen (BSD sockets or Winsock), chosen by the build. */
#ifndef ECA_LISTEN_OS_H
#define ECA_LISTEN_OS_H

#include <stddef.h>
#include <stdint.h>

#include "eca_err.h"

/* The kernel's queue of connections not yet accepted (a burst waits there, not refused). */
#define ECA_LISTEN_BACKLOG 64

/* A socket (or, on POSIX, the read end of the wake-up pipe); ECA_LISTEN_NOSOCK for none. */
typedef intptr_t eca_listen_sock;
#define ECA_LISTEN_NOSOCK ((eca_listen_sock)-1)

/* Take and release what sockets need (Winsock's start-up); one pair per listener. */
enum eca_rc eca_listen_os_init(struct eca_err *err);
void eca_listen_os_fini(void);

/*
 * Bind host (numeric or a name; "" for every address) and port, listen, non-blocking and
 * not inherited by children; *bound gets the port. With loopback_only, a non-loopback
 * address is refused through eca_listen_refuse() before anything is bound.
 */
enum eca_rc eca_listen_os_open(const char *host, const char *port, int loopback_only,
                               eca_listen_sock *out, unsigned *bound, struct eca_err *err);

/* The refusal of a non-loopback address (in the portable half, so both halves say it alike). */
enum eca_rc eca_listen_refuse(struct eca_err *err);

/* Accept one pending connection, non-blocking; ECA_LISTEN_NOSOCK when none is pending. */
eca_listen_sock eca_listen_os_accept(eca_listen_sock l);

/* Read or write at most n bytes: the count, 0 at end of input, -1 would block, -2 failure. */
long eca_listen_os_recv(eca_listen_sock s, char *buf, size_t n);
long eca_listen_os_send(eca_listen_sock s, const char *buf, size_t n);

/*
 * Wait until one of s[0..n) is readable (writable: s[0] only, for sending) or timeout_ms
 * (-1: none) passes. 1 ready, 0 timeout or interrupted, -1 failure.
 */
int eca_listen_os_wait(const eca_listen_sock *s, size_t n, int writable, int timeout_ms);

/* Stop sending (the peer reads end of input); close. NOSOCK: no-op. */
void eca_listen_os_shutdown(eca_listen_sock s);
void eca_listen_os_close(eca_listen_sock s);

/* A wake-up channel: *rd becomes readable after eca_listen_os_wake(wr) (any thread). */
enum eca_rc eca_listen_os_wake_open(eca_listen_sock *rd, eca_listen_sock *wr, struct eca_err *err);
void eca_listen_os_wake(eca_listen_sock wr);
void eca_listen_os_wake_close(eca_listen_sock rd, eca_listen_sock wr);

#endif
