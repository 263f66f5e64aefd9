/* SPDX-License-Identifier: MIT */
/* Windows half of eca_listen: Winsock, WSAPoll(), a loopback UDP pair as the wake-up channel. */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <string.h>

#include "eca_listen_os.h"
#include "eca_win.h"

static enum eca_rc
wsa_fail(const char *what, struct eca_err *err)
{
    char msg[256];

    eca_win_strerror((unsigned long)WSAGetLastError(), msg, sizeof msg);
    return eca_err_set(err, ECA_EIO, "%s: %s", what, msg);
}

/* Non-blocking; detached from any event selection an accepted socket inherits. */
static int
set_flags(SOCKET s)
{
    u_long on = 1;

    WSAEventSelect(s, NULL, 0);
    return ioctlsocket(s, FIONBIO, &on) == 0 &&
                   SetHandleInformation((HANDLE)s, HANDLE_FLAG_INHERIT, 0)
               ? 0
               : -1;
}

/* Loopback means 127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104 (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3). */
static int
is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ((const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr)[0] == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

        return IN6_IS_ADDR_LOOPBACK(a6) || (IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127);
    }
    return 0;
}

/* Winsock is reference-counted: each listener holds one reference. */
enum eca_rc
eca_listen_os_init(struct eca_err *err)
{
    WSADATA wd;
    int e = WSAStartup(MAKEWORD(2, 2), &wd);
    char msg[256];

    if (e == 0)
        return ECA_OK;
    eca_win_strerror((unsigned long)e, msg, sizeof msg);
    return eca_err_set(err, ECA_EIO, "WSAStartup: %s", msg);
}

enum eca_rc
eca_listen_os_open(const char *host, const char *port, int loopback_only, eca_listen_sock *out,
                   unsigned *bound, struct eca_err *err)
{
    struct addrinfo hints, *ai = NULL;
    struct sockaddr_storage ss;
    int sl = sizeof ss, gai;
    BOOL excl = TRUE;
    SOCKET s = INVALID_SOCKET;
    enum eca_rc rc = ECA_OK;

    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (host[0] ? 0 : AI_PASSIVE);
    if ((gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai)) != 0) {
        rc = eca_err_set(err, ECA_EINVAL, "%s", gai_strerrorA(gai));
        goto out;
    }
    /* The check comes before the bind: nothing is exposed, even for a moment. */
    if (loopback_only && !is_loopback(ai->ai_addr)) {
        rc = eca_listen_refuse(err);
        goto out;
    }
    s = WSASocketW(ai->ai_family, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET) {
        rc = wsa_fail("socket", err);
        goto out;
    }
    /* Windows' SO_REUSEADDR lets another process steal the port; exclusive use is the safe one. */
    setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&excl, sizeof excl);
    if (bind(s, ai->ai_addr, (int)ai->ai_addrlen) != 0 || listen(s, ECA_LISTEN_BACKLOG) != 0 ||
        getsockname(s, (struct sockaddr *)&ss, &sl) != 0 || set_flags(s) != 0) {
        rc = wsa_fail("bind", err);
        goto out;
    }
    *bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                            : ((struct sockaddr_in *)&ss)->sin_port);
    *out = (eca_listen_sock)s;
    s = INVALID_SOCKET;
out:
    if (ai != NULL)
        freeaddrinfo(ai);
    if (s != INVALID_SOCKET)
        closesocket(s);
    return rc;
}

eca_listen_sock
eca_listen_os_accept(eca_listen_sock l)
{
    for (;;) {
        SOCKET c = accept((SOCKET)l, NULL, NULL);

        if (c == INVALID_SOCKET) {
            if (WSAGetLastError() == WSAECONNRESET)
                continue; /* reset while queued: the next one */
            return ECA_LISTEN_NOSOCK;
        }
        if (set_flags(c) == 0)
            return (eca_listen_sock)c;
        closesocket(c);
    }
}

static long
io_result(int r)
{
    if (r >= 0)
        return r;
    return WSAGetLastError() == WSAEWOULDBLOCK ? -1 : -2;
}

long
eca_listen_os_recv(eca_listen_sock s, char *buf, size_t n)
{
    return io_result(recv((SOCKET)s, buf, n > 65536 ? 65536 : (int)n, 0));
}

long
eca_listen_os_send(eca_listen_sock s, const char *buf, size_t n)
{
    return io_result(send((SOCKET)s, buf, n > 65536 ? 65536 : (int)n, 0));
}

int
eca_listen_os_wait(const eca_listen_sock *s, size_t n, int writable, int timeout_ms)
{
    WSAPOLLFD p[64];
    int r;

    if (n > sizeof p / sizeof p[0])
        n = sizeof p / sizeof p[0];
    for (size_t i = 0; i < n; i++) {
        p[i].fd = (SOCKET)s[i];
        p[i].events = writable ? POLLWRNORM : POLLRDNORM;
        p[i].revents = 0;
    }
    r = WSAPoll(p, (ULONG)n, timeout_ms);
    return r < 0 ? -1 : r > 0;
}

void
eca_listen_os_shutdown(eca_listen_sock s)
{
    if (s != ECA_LISTEN_NOSOCK)
        shutdown((SOCKET)s, SD_SEND);
}

void
eca_listen_os_close(eca_listen_sock s)
{
    if (s != ECA_LISTEN_NOSOCK)
        closesocket((SOCKET)s);
}

void
eca_listen_os_fini(void)
{
    WSACleanup();
}

/*
 * Winsock cannot poll a pipe or an event, so the wake-up channel is a socket too: a UDP
 * socket bound to 127.0.0.1 that a second one, connected to it, sends a byte to.
 */
enum eca_rc
eca_listen_os_wake_open(eca_listen_sock *rd, eca_listen_sock *wr, struct eca_err *err)
{
    struct sockaddr_in sa;
    int sl = sizeof sa;
    SOCKET r = WSASocketW(AF_INET, SOCK_DGRAM, IPPROTO_UDP, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT);
    SOCKET w = WSASocketW(AF_INET, SOCK_DGRAM, IPPROTO_UDP, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT);

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (r == INVALID_SOCKET || w == INVALID_SOCKET ||
        bind(r, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(r, (struct sockaddr *)&sa, &sl) != 0 ||
        connect(w, (struct sockaddr *)&sa, sizeof sa) != 0 || set_flags(r) != 0 ||
        set_flags(w) != 0) {
        enum eca_rc rc = wsa_fail("wake-up socket", err);

        if (r != INVALID_SOCKET)
            closesocket(r);
        if (w != INVALID_SOCKET)
            closesocket(w);
        return rc;
    }
    *rd = (eca_listen_sock)r;
    *wr = (eca_listen_sock)w;
    return ECA_OK;
}

void
eca_listen_os_wake(eca_listen_sock wr)
{
    if (wr != ECA_LISTEN_NOSOCK)
        send((SOCKET)wr, "x", 1, 0);
}

void
eca_listen_os_wake_close(eca_listen_sock rd, eca_listen_sock wr)
{
    eca_listen_os_close(rd);
    eca_listen_os_close(wr);
}
