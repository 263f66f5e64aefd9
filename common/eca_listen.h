/* SPDX-License-Identifier: MIT */
/*
 * A small HTTP/1.1 listener that its caller drives: it accepts connections, reads and checks
 * request heads (size cap, per-connection deadline, several clients read at once so a slow
 * one delays nobody) and answers what is malformed; the caller answers every GET and HEAD.
 */
#ifndef ECA_LISTEN_H
#define ECA_LISTEN_H

#include <stddef.h>

#include "eca_err.h"

/* eca_listen_open() flag: refuse an address that is not loopback (127.0.0.0/8, ::1). */
#define ECA_LISTEN_LOOPBACK_ONLY 0x1u

/* Largest request head read; a longer one is answered 431 and closed. */
#define ECA_LISTEN_MAX_REQUEST 8192
/*
 * Connections read at once; one more evicts the one accepted first. A challenge responder
 * serving several orders at once gets every name's validation from several vantage points
 * at the same moment (4 orders of 2 names from 3 points: 24): 16 reset some of them.
 */
#define ECA_LISTEN_MAX_CONNS 64

struct eca_listen;

/* A GET or HEAD request handed to the caller, to be answered with eca_listen_respond(). */
struct eca_listen_req {
    const char *path; /* the target up to '?', NUL-terminated; valid until the answer */
    int head;         /* HEAD: the answer carries no body */
    int slot;         /* the connection (private) */
};

/*
 * Bind and listen on addr ("127.0.0.1:80", "[::1]:4231", "localhost:0", ":80" for every
 * address; port 0 picks one). timeout_ms bounds each connection from accept to the end of
 * its answer. ECA_EINVAL for a malformed address or, with ECA_LISTEN_LOOPBACK_ONLY, a
 * non-loopback one; ECA_EIO when the bind fails. Messages start "listen 'addr'". Close with
 * eca_listen_close().
 */
enum eca_rc eca_listen_open(const char *addr, unsigned flags, int timeout_ms,
                            struct eca_listen **out, struct eca_err *err);

/* The bound TCP port (useful after port 0). */
unsigned eca_listen_port(const struct eca_listen *l);

/* The listening socket, readable when a connection waits (for eca_daemon_wait()). */
int eca_listen_fd(const struct eca_listen *l);

/* Per-connection deadline for connections accepted from now on, milliseconds. */
void eca_listen_set_timeout_ms(struct eca_listen *l, int timeout_ms);

/*
 * Accept and read for up to wait_ms (0: only what is ready now; -1: no limit) until one GET
 * or HEAD request is complete, and hand it out in req: ECA_OK. Other methods are answered
 * 405, oversized heads 431, malformed ones 400, and those connections closed; a connection
 * past its deadline is closed without an answer. ECA_ETIMEOUT when wait_ms passed with no
 * request, ECA_ESTOPPED once eca_listen_interrupt() was called, ECA_EIO when waiting fails.
 * Answer each request before the next call.
 */
enum eca_rc eca_listen_next(struct eca_listen *l, int wait_ms, struct eca_listen_req *req,
                            struct eca_err *err);

/* Connections accepted whose request is not complete yet. */
int eca_listen_busy(const struct eca_listen *l);

/*
 * Answer req and close its connection: status line, Content-Type ctype, Content-Length,
 * Cache-Control: no-store, Connection: close, then body (none for HEAD). body NULL: a
 * one-line text/plain "<status> <reason>". Sending gives up at the connection's deadline.
 */
void eca_listen_respond(struct eca_listen *l, struct eca_listen_req *req, int status,
                        const char *ctype, const char *body, size_t len);

/*
 * Make a running or later eca_listen_next() return ECA_ESTOPPED: the one call that may come
 * from another thread (the one stopping the thread that serves).
 */
void eca_listen_interrupt(struct eca_listen *l);

/* Close every connection and the listening socket. NULL: no-op. */
void eca_listen_close(struct eca_listen *l);

/*
 * Parse a request head (NUL-terminated; changed in place): 0 with req->path and req->head
 * set for GET or HEAD, 405 for another method, 400 when the request line is malformed.
 */
int eca_listen_parse(char *head, struct eca_listen_req *req);

#endif
