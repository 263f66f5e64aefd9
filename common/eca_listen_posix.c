/* SPDX-License-Identifier: MIT */
/* POSIX half of eca_listen: BSD sockets, poll(), a pipe as the wake-up channel. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eca_listen_os.h"

static int
set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Loopback means 127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104 (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3). */
static int
is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const unsigned char *a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;

        return a[0] == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

        return IN6_IS_ADDR_LOOPBACK(a6) || (IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127);
    }
    return 0;
}

enum eca_rc
eca_listen_os_init(struct eca_err *err)
{
    (void)err;
    return ECA_OK; /* BSD sockets need no start-up */
}

void
eca_listen_os_fini(void)
{
}

enum eca_rc
eca_listen_os_open(const char *host, const char *port, int loopback_only, eca_listen_sock *out,
                   unsigned *bound, struct eca_err *err)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int one = 1, gai, fd = -1;
    enum eca_rc rc = ECA_OK;

    if (host[0] == '\0')
        hints.ai_flags |= AI_PASSIVE;
    if ((gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai)) != 0)
        return eca_err_set(err, ECA_EINVAL, "%s", gai_strerror(gai));
    /* The check comes before the bind: nothing is exposed, even for a moment. */
    if (loopback_only && !is_loopback(ai->ai_addr)) {
        rc = eca_listen_refuse(err);
        goto out;
    }
    if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) < 0 || set_flags(fd) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, ECA_LISTEN_BACKLOG) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        rc = eca_err_set(err, ECA_EIO, "%s", strerror(errno));
        goto out;
    }
    *bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                            : ((struct sockaddr_in *)&ss)->sin_port);
    *out = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return rc;
}

eca_listen_sock
eca_listen_os_accept(eca_listen_sock l)
{
    for (;;) {
        int c = accept((int)l, NULL, NULL);

        if (c >= 0) {
            if (set_flags(c) == 0)
                return c;
            close(c);
            continue;
        }
        if (errno != EINTR && errno != ECONNABORTED)
            return ECA_LISTEN_NOSOCK; /* EAGAIN: none pending; EMFILE and friends: later */
    }
}

long
eca_listen_os_recv(eca_listen_sock s, char *buf, size_t n)
{
    for (;;) {
        ssize_t r = recv((int)s, buf, n, 0);

        if (r >= 0)
            return (long)r;
        if (errno != EINTR)
            return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
    }
}

long
eca_listen_os_send(eca_listen_sock s, const char *buf, size_t n)
{
    for (;;) {
        ssize_t r = send((int)s, buf, n, MSG_NOSIGNAL);

        if (r >= 0)
            return (long)r;
        if (errno != EINTR)
            return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
    }
}

int
eca_listen_os_wait(const eca_listen_sock *s, size_t n, int writable, int timeout_ms)
{
    struct pollfd p[64];
    int r;

    if (n > sizeof p / sizeof p[0])
        n = sizeof p / sizeof p[0];
    for (size_t i = 0; i < n; i++)
        p[i] = (struct pollfd){.fd = (int)s[i], .events = writable ? POLLOUT : POLLIN};
    r = poll(p, (nfds_t)n, timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : -1;
    return r > 0;
}

void
eca_listen_os_shutdown(eca_listen_sock s)
{
    if (s != ECA_LISTEN_NOSOCK)
        shutdown((int)s, SHUT_WR);
}

void
eca_listen_os_close(eca_listen_sock s)
{
    if (s != ECA_LISTEN_NOSOCK)
        close((int)s);
}

enum eca_rc
eca_listen_os_wake_open(eca_listen_sock *rd, eca_listen_sock *wr, struct eca_err *err)
{
    int p[2];

    if (pipe(p) != 0)
        return eca_err_set(err, ECA_EIO, "pipe: %s", strerror(errno));
    if (set_flags(p[0]) != 0 || set_flags(p[1]) != 0) {
        close(p[0]);
        close(p[1]);
        return eca_err_set(err, ECA_EIO, "pipe: %s", strerror(errno));
    }
    *rd = p[0];
    *wr = p[1];
    return ECA_OK;
}

void
eca_listen_os_wake(eca_listen_sock wr)
{
    if (wr != ECA_LISTEN_NOSOCK && write((int)wr, "x", 1) < 0) {
        /* A full pipe already holds a wake-up. */
    }
}

void
eca_listen_os_wake_close(eca_listen_sock rd, eca_listen_sock wr)
{
    eca_listen_os_close(rd);
    eca_listen_os_close(wr);
}
