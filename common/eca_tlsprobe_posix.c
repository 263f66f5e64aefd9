/* SPDX-License-Identifier: MIT */
/* POSIX socket half of eca_tlsprobe: a TCP connect bounded in time. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "eca_tlsprobe_os.h"

/* Non-blocking connect, waited for with poll(), then blocking I/O with socket timeouts. */
static int
connect_one(const struct addrinfo *ai, int timeout_ms)
{
    struct pollfd p;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int fl, soerr = 0;
    socklen_t sl = sizeof soerr;

    if (fd < 0)
        return -1;
    fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        p = (struct pollfd){.fd = fd, .events = POLLOUT};
        if (errno != EINPROGRESS || poll(&p, 1, timeout_ms) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            errno = soerr ? soerr : ETIMEDOUT;
            close(fd);
            return -1;
        }
    }
    fcntl(fd, F_SETFL, fl);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

int
eca_tlsprobe_os_connect(const char *host, const char *port, int timeout_ms, struct eca_err *err)
{
    struct addrinfo hints, *res = NULL;
    int fd = -1, g;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if ((g = getaddrinfo(host, port, &hints, &res)) != 0) {
        eca_err_set(err, ECA_ENET, "verify: %s: %s", host, gai_strerror(g));
        return -1;
    }
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = connect_one(ai, timeout_ms > 0 ? timeout_ms : 5000);
    if (fd < 0)
        eca_err_set(err, errno == ETIMEDOUT ? ECA_ETIMEOUT : ECA_ENET,
                    "verify: cannot connect to %s port %s: %s", host, port, strerror(errno));
    freeaddrinfo(res);
    return fd;
}

void
eca_tlsprobe_os_close(int fd)
{
    if (fd >= 0)
        close(fd);
}
