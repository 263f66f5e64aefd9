/* SPDX-License-Identifier: MIT */
/* A small HTTP/1.1 listener that its caller drives; the OS calls are in eca_listen_os.h. */
#include "eca_listen.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eca_clock.h"
#include "eca_hostport.h"
#include "eca_listen_os.h"

/* After an answer, input still arriving is read this long so closing does not reset it. */
#define LINGER_MS 200

struct conn {
    eca_listen_sock s; /* ECA_LISTEN_NOSOCK: a free slot */
    long long accepted, deadline;
    size_t len;
    int answering; /* handed out by eca_listen_next(), not answered yet */
    char *buf;     /* ECA_LISTEN_MAX_REQUEST + 1 */
};

struct eca_listen {
    int os_ready; /* eca_listen_os_init() succeeded */
    eca_listen_sock fd, wake_rd, wake_wr;
    unsigned port;
    int timeout_ms;
    atomic_int stopped;
    struct conn conns[ECA_LISTEN_MAX_CONNS];
};

enum eca_rc
eca_listen_refuse(struct eca_err *err)
{
    return eca_err_set(err, ECA_EINVAL,
                       "not a loopback address; the endpoint has no authentication, so binding "
                       "beyond 127.0.0.1/::1 must be allowed explicitly");
}

enum eca_rc
eca_listen_open(const char *addr, unsigned flags, int timeout_ms, struct eca_listen **out,
                struct eca_err *err)
{
    struct eca_listen *l;
    char host[256], port[8];
    enum eca_rc rc;

    *out = NULL;
    if ((rc = eca_hostport_split(addr, host, sizeof host, port, sizeof port, err)) != ECA_OK) {
        eca_err_prefix(err, "listen ");
        return rc;
    }
    if ((l = calloc(1, sizeof *l)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "listen '%s': out of memory", addr);
    l->fd = l->wake_rd = l->wake_wr = ECA_LISTEN_NOSOCK;
    for (size_t i = 0; i < ECA_LISTEN_MAX_CONNS; i++)
        l->conns[i].s = ECA_LISTEN_NOSOCK;
    l->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
    rc = eca_listen_os_init(err);
    l->os_ready = rc == ECA_OK;
    if (rc != ECA_OK ||
        (rc = eca_listen_os_open(host, port, (flags & ECA_LISTEN_LOOPBACK_ONLY) != 0, &l->fd,
                                 &l->port, err)) != ECA_OK ||
        (rc = eca_listen_os_wake_open(&l->wake_rd, &l->wake_wr, err)) != ECA_OK) {
        eca_err_prefix(err, "listen '%s': ", addr);
        eca_listen_close(l);
        return rc;
    }
    *out = l;
    return ECA_OK;
}

unsigned
eca_listen_port(const struct eca_listen *l)
{
    return l->port;
}

int
eca_listen_fd(const struct eca_listen *l)
{
    return (int)l->fd;
}

void
eca_listen_set_timeout_ms(struct eca_listen *l, int timeout_ms)
{
    if (timeout_ms > 0)
        l->timeout_ms = timeout_ms;
}

int
eca_listen_busy(const struct eca_listen *l)
{
    int n = 0;

    for (size_t i = 0; i < ECA_LISTEN_MAX_CONNS; i++)
        n += l->conns[i].s != ECA_LISTEN_NOSOCK && !l->conns[i].answering;
    return n;
}

void
eca_listen_interrupt(struct eca_listen *l)
{
    atomic_store(&l->stopped, 1);
    eca_listen_os_wake(l->wake_wr);
}

static void
conn_close(struct conn *c)
{
    eca_listen_os_close(c->s);
    free(c->buf);
    memset(c, 0, sizeof *c);
    c->s = ECA_LISTEN_NOSOCK;
}

void
eca_listen_close(struct eca_listen *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < ECA_LISTEN_MAX_CONNS; i++)
        conn_close(&l->conns[i]);
    eca_listen_os_close(l->fd);
    eca_listen_os_wake_close(l->wake_rd, l->wake_wr);
    if (l->os_ready)
        eca_listen_os_fini();
    free(l);
}

int
eca_listen_parse(char *head, struct eca_listen_req *req)
{
    size_t mlen = strcspn(head, " \r\n"), tlen;
    char *target = head + mlen, *version;

    if (mlen == 0 || *target != ' ')
        return 400;
    target++;
    tlen = strcspn(target, " \r\n");
    version = target + tlen;
    if (tlen == 0 || *version != ' ' || strncmp(version + 1, "HTTP/1.", 7) != 0)
        return 400;
    if (!(mlen == 3 && strncmp(head, "GET", 3) == 0) && !(mlen == 4 && !strncmp(head, "HEAD", 4)))
        return 405;
    if (target[0] != '/')
        return 400; /* origin form only: no proxy requests, no "*" */
    target[strcspn(target, " ?")] = '\0';
    req->path = target;
    req->head = mlen == 4;
    return 0;
}

static const char *
reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    default:
        return "Error";
    }
}

static void
send_all(struct conn *c, const char *p, size_t len)
{
    while (len > 0) {
        long n = eca_listen_os_send(c->s, p, len);
        long long left = c->deadline - eca_clock_mono_ms();

        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n == -2 || left <= 0 || eca_listen_os_wait(&c->s, 1, 1, (int)left) < 0) {
            return;
        }
    }
}

/*
 * Half-close and read what the peer still sends (briefly), so that closing with unread
 * input does not turn into a reset that destroys the answer before the peer reads it.
 */
static void
linger_close(struct conn *c)
{
    char sink[1024];
    long long until = eca_clock_mono_ms() + LINGER_MS;

    if (until > c->deadline)
        until = c->deadline;
    eca_listen_os_shutdown(c->s);
    for (;;) {
        long long left = until - eca_clock_mono_ms();
        long n = eca_listen_os_recv(c->s, sink, sizeof sink);

        if (n == 0 || n == -2 ||
            (n == -1 && (left <= 0 || eca_listen_os_wait(&c->s, 1, 0, (int)left) != 1)))
            break;
    }
    conn_close(c);
}

static void
answer(struct conn *c, int status, const char *ctype, const char *body, size_t len, int head)
{
    char hdr[512], text[64];
    int n;

    if (body == NULL) {
        snprintf(text, sizeof text, "%d %s\n", status, reason(status));
        body = text;
        len = strlen(text);
        ctype = "text/plain; charset=utf-8";
    }
    n = snprintf(hdr, sizeof hdr,
                 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                 "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                 status, reason(status), ctype, len, status == 405 ? "Allow: GET, HEAD\r\n" : "");
    if (n > 0 && (size_t)n < sizeof hdr) {
        send_all(c, hdr, (size_t)n);
        if (!head)
            send_all(c, body, len);
    }
    linger_close(c);
}

void
eca_listen_respond(struct eca_listen *l, struct eca_listen_req *req, int status, const char *ctype,
                   const char *body, size_t len)
{
    if (req->slot < 0 || req->slot >= ECA_LISTEN_MAX_CONNS || !l->conns[req->slot].answering)
        return;
    answer(&l->conns[req->slot], status, ctype, body, len, req->head);
    req->slot = -1;
}

/* Take new connections; when every slot is taken, the one accepted first makes room. */
static void
accept_pending(struct eca_listen *l)
{
    eca_listen_sock s;

    while ((s = eca_listen_os_accept(l->fd)) != ECA_LISTEN_NOSOCK) {
        struct conn *c = NULL;

        for (size_t i = 0; i < ECA_LISTEN_MAX_CONNS; i++) {
            struct conn *x = &l->conns[i];

            if (x->s == ECA_LISTEN_NOSOCK) {
                c = x;
                break;
            }
            if (!x->answering && (c == NULL || x->accepted < c->accepted))
                c = x;
        }
        if (c != NULL)
            conn_close(c); /* a free slot, or the oldest: a slow client cannot hold them all */
        if (c == NULL || (c->buf = malloc(ECA_LISTEN_MAX_REQUEST + 1)) == NULL) {
            eca_listen_os_close(s);
            continue;
        }
        c->s = s;
        c->accepted = eca_clock_mono_ms();
        c->deadline = c->accepted + l->timeout_ms;
        c->len = 0;
    }
}

/* Read what c has; 1 when its request is handed out in req, else 0. */
static int
read_conn(struct eca_listen *l, int slot, struct eca_listen_req *req)
{
    struct conn *c = &l->conns[slot];

    for (;;) {
        long n = eca_listen_os_recv(c->s, c->buf + c->len, ECA_LISTEN_MAX_REQUEST - c->len);
        /* The blank line may straddle reads; what came before was searched already. */
        const char *from = c->buf + (c->len > 3 ? c->len - 3 : 0);
        int status;

        if (n == -1 && eca_clock_mono_ms() < c->deadline)
            return 0;
        if (n <= 0) {
            conn_close(c); /* gone, failed, or too slow: nobody to answer */
            return 0;
        }
        c->len += (size_t)n;
        c->buf[c->len] = '\0';
        if (strstr(from, "\r\n\r\n") == NULL && strstr(from, "\n\n") == NULL) {
            if (c->len < ECA_LISTEN_MAX_REQUEST)
                continue;
            answer(c, 431, NULL, NULL, 0, 0);
            return 0;
        }
        if ((status = eca_listen_parse(c->buf, req)) != 0) {
            answer(c, status, NULL, NULL, 0, 0);
            return 0;
        }
        c->answering = 1;
        req->slot = slot;
        return 1;
    }
}

enum eca_rc
eca_listen_next(struct eca_listen *l, int wait_ms, struct eca_listen_req *req, struct eca_err *err)
{
    long long until = wait_ms < 0 ? -1 : eca_clock_mono_ms() + wait_ms;

    req->slot = -1;
    for (;;) {
        eca_listen_sock socks[ECA_LISTEN_MAX_CONNS + 2];
        long long now, next = until;
        size_t n = 0;

        if (atomic_load(&l->stopped))
            return eca_err_set(err, ECA_ESTOPPED, "listen: stopped");
        accept_pending(l);
        for (int i = 0; i < ECA_LISTEN_MAX_CONNS; i++)
            if (l->conns[i].s != ECA_LISTEN_NOSOCK && !l->conns[i].answering &&
                read_conn(l, i, req))
                return ECA_OK;
        now = eca_clock_mono_ms();
        if (until >= 0 && now >= until)
            return eca_err_set(err, ECA_ETIMEOUT, "listen: no request within %d ms", wait_ms);
        socks[n++] = l->wake_rd;
        socks[n++] = l->fd;
        for (size_t i = 0; i < ECA_LISTEN_MAX_CONNS; i++) {
            const struct conn *c = &l->conns[i];

            if (c->s == ECA_LISTEN_NOSOCK || c->answering)
                continue;
            socks[n++] = c->s;
            if (next < 0 || c->deadline < next)
                next = c->deadline;
        }
        if (eca_listen_os_wait(socks, n, 0, next < 0 ? -1 : (int)(next > now ? next - now : 0)) < 0)
            return eca_err_set(err, ECA_EIO, "listen: waiting for connections failed");
    }
}
