/* SPDX-License-Identifier: MIT */
/* POSIX half of eca_metrics: a loopback-only HTTP listener serviced from the caller's loop. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "eca_clock.h"
#include "eca_metrics.h"
#include "eca_metrics_os.h"

/* Connections answered per eca_metrics_handle_ready() call, so a burst cannot starve the loop. */
#define MAX_PER_CALL 8
#define RESPONSE_MAX ((size_t)64 << 20)

struct eca_metrics_os {
    int fd;
    unsigned port;
};

void
eca_metrics_os_close(struct eca_metrics_os *os)
{
    if (os == NULL)
        return;
    if (os->fd >= 0)
        close(os->fd);
    free(os);
}

static long long
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Loopback means 127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104 (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3). */
static bool
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
    return false;
}

/* Split "host:port" / "[v6]:port" into host (may be empty) and port. */
static enum eca_rc
split_spec(const char *spec, char *host, size_t hostlen, char *port, size_t portlen,
           struct eca_err *err)
{
    const char *colon, *h = spec;
    size_t n;

    if (spec[0] == '[') {
        const char *close_br = strchr(spec, ']');

        if (close_br == NULL || close_br[1] != ':')
            goto bad;
        h = spec + 1;
        n = (size_t)(close_br - h);
        colon = close_br + 1;
    } else {
        if ((colon = strrchr(spec, ':')) == NULL)
            goto bad;
        n = (size_t)(colon - spec);
    }
    if (n >= hostlen || colon[1] == '\0' || strlen(colon + 1) >= portlen ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) || atol(colon + 1) > 65535)
        goto bad;
    memcpy(host, h, n);
    host[n] = '\0';
    memcpy(port, colon + 1, strlen(colon + 1) + 1); /* length checked above */
    return ECA_OK;
bad:
    return eca_err_set(err, ECA_EINVAL, "metrics listen '%s': expected host:port or [v6]:port",
                       spec);
}

static enum eca_rc
bind_listener(const struct addrinfo *ai, const char *spec, struct eca_metrics_os *os,
              struct eca_err *err)
{
    int one = 1, fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;
    enum eca_rc rc = ECA_OK;

    if (fd < 0) {
        rc = eca_err_set(err, ECA_EIO, "metrics listen %s: socket: %s", spec, strerror(errno));
        goto out;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0 || set_flags(fd) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0) {
        rc = eca_err_set(err, ECA_EIO, "metrics listen %s: %s", spec, strerror(errno));
        goto out;
    }
    os->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port);
    os->fd = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

enum eca_rc
eca_metrics_serve(struct eca_metrics *m, const char *spec, unsigned flags, struct eca_err *err)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    struct eca_metrics_os *os = NULL;
    char host[256], port[8];
    enum eca_rc rc;
    int gai;

    if (m == NULL || spec == NULL)
        return eca_err_set(err, ECA_EINVAL, "metrics listen: no address given");
    if (*eca_metrics_os_slot(m) != NULL)
        return eca_err_set(err, ECA_EINVAL, "metrics listen %s: already listening", spec);
    if ((rc = split_spec(spec, host, sizeof host, port, sizeof port, err)) != ECA_OK)
        return rc;
    if (host[0] == '\0')
        hints.ai_flags |= AI_PASSIVE;
    if ((gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai)) != 0) {
        rc = eca_err_set(err, ECA_EINVAL, "metrics listen %s: %s", spec, gai_strerror(gai));
        goto out;
    }
    /* The endpoint has no authentication: exposing it beyond this host must be explicit. */
    if (!is_loopback(ai->ai_addr) && !(flags & ECA_METRICS_ALLOW_NONLOOPBACK)) {
        rc = eca_err_set(err, ECA_EINVAL,
                         "metrics listen %s: not a loopback address; the endpoint has no "
                         "authentication, so binding beyond 127.0.0.1/::1 must be allowed "
                         "explicitly",
                         spec);
        goto out;
    }
    if ((os = calloc(1, sizeof *os)) == NULL) {
        rc = eca_err_set(err, ECA_ENOMEM, "metrics listen %s: out of memory", spec);
        goto out;
    }
    os->fd = -1;
    if ((rc = bind_listener(ai, spec, os, err)) != ECA_OK)
        goto out;
    *eca_metrics_os_slot(m) = os;
    os = NULL;
out:
    eca_metrics_os_close(os);
    if (ai != NULL)
        freeaddrinfo(ai);
    return rc;
}

int
eca_metrics_fd(const struct eca_metrics *m)
{
    const struct eca_metrics_os *os = eca_metrics_os_get(m);

    return os ? os->fd : -1;
}

unsigned
eca_metrics_port(const struct eca_metrics *m)
{
    const struct eca_metrics_os *os = eca_metrics_os_get(m);

    return os ? os->port : 0;
}

void
eca_metrics_stop(struct eca_metrics *m)
{
    if (m == NULL)
        return;
    eca_metrics_os_close(*eca_metrics_os_slot(m));
    *eca_metrics_os_slot(m) = NULL;
}

/* Wait for fd to become ready for `events` until the deadline; false on timeout or error. */
static bool
wait_fd(int fd, short events, long long deadline)
{
    struct pollfd p = {.fd = fd, .events = events};

    for (;;) {
        long long left = deadline - mono_ms();
        int n;

        if (left <= 0)
            return false;
        n = poll(&p, 1, (int)left);
        if (n > 0)
            return true;
        if (n == 0 || errno != EINTR)
            return false;
    }
}

/*
 * Read the request head (up to the blank line) into req. Returns its length, 0 when the
 * peer closed or the deadline passed, or -1 when it is longer than the cap.
 */
static long
read_head(int fd, char *req, size_t cap, long long deadline)
{
    size_t len = 0;

    while (len < cap) {
        ssize_t n = recv(fd, req + len, cap - len, 0);

        if (n > 0) {
            len += (size_t)n;
            req[len] = '\0';
            if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n") != NULL)
                return (long)len;
            continue;
        }
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if ((errno != EAGAIN && errno != EWOULDBLOCK) || !wait_fd(fd, POLLIN, deadline))
            return 0;
    }
    return -1;
}

static void
send_all(int fd, const char *p, size_t len, long long deadline)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) ||
                   !wait_fd(fd, POLLOUT, deadline)) {
            return;
        }
    }
}

static void
answer(int fd, int status, const char *reason, const char *ctype, const char *extra,
       const struct eca_buf *body, bool head_only, long long deadline)
{
    char hdr[512];
    const char *data = body && body->data ? (const char *)body->data : "";
    size_t len = body ? body->len : 0;
    int n;

    n = snprintf(hdr, sizeof hdr,
                 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                 "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                 status, reason, ctype, len, extra ? extra : "");
    if (n <= 0 || (size_t)n >= sizeof hdr)
        return;
    send_all(fd, hdr, (size_t)n, deadline);
    if (!head_only)
        send_all(fd, data, len, deadline);
}

static void
answer_text(int fd, int status, const char *reason, const char *extra, long long deadline)
{
    struct eca_buf b;

    eca_buf_init(&b, 256);
    if (eca_buf_printf(&b, NULL, "%d %s\n", status, reason) == ECA_OK)
        answer(fd, status, reason, "text/plain; charset=utf-8", extra, &b, false, deadline);
    eca_buf_free(&b);
}

/* Route one request head: GET/HEAD /metrics (a query string is ignored), else 404/405. */
static void
route(const struct eca_metrics *m, int fd, const char *req, long long deadline)
{
    size_t mlen = strcspn(req, " "), tlen;
    const char *target = req + mlen + (req[mlen] == ' ');
    bool head = mlen == 4 && strncmp(req, "HEAD", 4) == 0;
    struct eca_buf b;

    tlen = strcspn(target, " ?\r\n");
    if (!head && !(mlen == 3 && strncmp(req, "GET", 3) == 0)) {
        answer_text(fd, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n", deadline);
        return;
    }
    if (tlen != 8 || strncmp(target, "/metrics", 8) != 0) {
        answer_text(fd, 404, "Not Found", NULL, deadline);
        return;
    }
    eca_buf_init(&b, RESPONSE_MAX);
    if (eca_metrics_render(m, eca_clock_now(), &b, NULL) == ECA_OK)
        answer(fd, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", NULL, &b, head, deadline);
    else
        answer_text(fd, 500, "Internal Server Error", NULL, deadline);
    eca_buf_free(&b);
}

/*
 * Half-close and discard what the peer still sends (briefly), so that closing with unread
 * input does not turn into a reset that destroys the answer before the peer reads it.
 */
static void
linger_close(int fd, long long deadline)
{
    char sink[4096];
    long long until = mono_ms() + 200;

    if (until > deadline)
        until = deadline;
    shutdown(fd, SHUT_WR);
    while (wait_fd(fd, POLLIN, until)) {
        ssize_t n = recv(fd, sink, sizeof sink, 0);

        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
            break;
    }
}

static void
serve_conn(const struct eca_metrics *m, int fd)
{
    long long deadline = mono_ms() + eca_metrics_os_timeout_ms(m);
    char req[ECA_METRICS_MAX_REQUEST + 1];
    long n;

    if (set_flags(fd) != 0)
        return;
    n = read_head(fd, req, ECA_METRICS_MAX_REQUEST, deadline);
    if (n < 0)
        answer_text(fd, 431, "Request Header Fields Too Large", NULL, deadline);
    else if (n > 0)
        route(m, fd, req, deadline);
    if (n != 0)
        linger_close(fd, deadline);
}

enum eca_rc
eca_metrics_handle_ready(struct eca_metrics *m, struct eca_err *err)
{
    const struct eca_metrics_os *os = eca_metrics_os_get(m);

    if (os == NULL || os->fd < 0)
        return ECA_OK;
    for (int i = 0; i < MAX_PER_CALL; i++) {
        int c = accept(os->fd, NULL, NULL);

        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return ECA_OK;
            return eca_err_set(err, ECA_EIO, "metrics: accept on port %u: %s", os->port,
                               strerror(errno));
        }
        serve_conn(m, c);
        close(c);
    }
    return ECA_OK;
}
