/* SPDX-License-Identifier: MIT */
/* Windows socket half of eca_tlsprobe: a Winsock TCP connect bounded in time. */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <string.h>

#include "eca_tlsprobe_os.h"
#include "eca_win.h"

/* Non-blocking connect, waited for with select(), then blocking I/O with socket timeouts. */
static SOCKET
connect_one(const struct addrinfo *ai, int timeout_ms, int *werr)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    DWORD io_ms = (DWORD)timeout_ms;
    u_long on = 1, off = 0;
    fd_set wr, ex;
    int soerr = 0, sl = sizeof soerr;
    SOCKET s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);

    if (s == INVALID_SOCKET) {
        *werr = WSAGetLastError();
        return s;
    }
    ioctlsocket(s, FIONBIO, &on);
    if (connect(s, ai->ai_addr, (int)ai->ai_addrlen) != 0) {
        FD_ZERO(&wr);
        FD_ZERO(&ex);
        FD_SET(s, &wr);
        FD_SET(s, &ex);
        /* A refused connect is reported in the except set, with SO_ERROR set. */
        if (WSAGetLastError() != WSAEWOULDBLOCK || select(0, NULL, &wr, &ex, &tv) != 1 ||
            getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&soerr, &sl) != 0 || soerr != 0 ||
            !FD_ISSET(s, &wr)) {
            *werr = soerr ? soerr : WSAETIMEDOUT;
            closesocket(s);
            return INVALID_SOCKET;
        }
    }
    ioctlsocket(s, FIONBIO, &off);
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (const char *)&io_ms, sizeof io_ms);
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, (const char *)&io_ms, sizeof io_ms);
    return s;
}

int
eca_tlsprobe_os_connect(const char *host, const char *port, int timeout_ms, struct eca_err *err)
{
    struct addrinfo hints, *res = NULL;
    SOCKET s = INVALID_SOCKET;
    WSADATA wsa;
    char msg[256];
    int g, werr = WSAETIMEDOUT;

    /* Reference-counted; eca_tlsprobe_os_close() drops this socket's reference. */
    if ((g = WSAStartup(MAKEWORD(2, 2), &wsa)) != 0) {
        eca_win_strerror((unsigned long)g, msg, sizeof msg);
        eca_err_set(err, ECA_ENET, "verify: WSAStartup: %s", msg);
        return -1;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if ((g = getaddrinfo(host, port, &hints, &res)) != 0) {
        eca_win_strerror((unsigned long)g, msg, sizeof msg);
        eca_err_set(err, ECA_ENET, "verify: %s: %s", host, msg);
        WSACleanup();
        return -1;
    }
    for (struct addrinfo *ai = res; ai && s == INVALID_SOCKET; ai = ai->ai_next)
        s = connect_one(ai, timeout_ms > 0 ? timeout_ms : 5000, &werr);
    freeaddrinfo(res);
    if (s == INVALID_SOCKET) {
        eca_win_strerror((unsigned long)werr, msg, sizeof msg);
        eca_err_set(err, werr == WSAETIMEDOUT ? ECA_ETIMEOUT : ECA_ENET,
                    "verify: cannot connect to %s port %s: %s", host, port, msg);
        WSACleanup();
        return -1;
    }
    /* Socket handles fit in an int in practice (OpenSSL's SSL_set_fd relies on it too). */
    return (int)s;
}

void
eca_tlsprobe_os_close(int fd)
{
    if (fd < 0)
        return;
    closesocket((SOCKET)fd);
    WSACleanup();
}
