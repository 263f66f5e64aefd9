/* SPDX-License-Identifier: MIT */
/* POSIX half of the http-01 listener: BSD sockets, a pthread, a stop pipe; webroot mkdir. */
#include "acme_http01_os.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <unistd.h>

#define CONN_TIMEOUT_S 5

struct acme_http01_os {
    pthread_mutex_t mu;
    int fd, port;
    int stop_pipe[2];
    pthread_t thread;
    size_t cap;
    acme_http01_answer_fn answer;
    void *ctx;
};

static int
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read the request head (up to the blank line); -1 on timeout, error or over the cap. */
static int
read_head(int fd, char *buf, size_t cap)
{
    size_t len = 0;

    while (len < cap - 1) {
        ssize_t r = read(fd, buf + len, cap - 1 - len);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        len += (size_t)r;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
            return 0;
    }
    return -1;
}

static void
serve_conn(struct acme_http01_os *l, int fd)
{
    struct timeval tv = {CONN_TIMEOUT_S, 0};
    char *buf = malloc(l->cap), *resp;

    if (buf == NULL)
        return;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    resp = l->answer(l->ctx, read_head(fd, buf, l->cap) == 0 ? buf : NULL);
    if (resp != NULL)
        write_all(fd, resp, strlen(resp));
    free(resp);
    free(buf);
}

static void *
listener_main(void *arg)
{
    struct acme_http01_os *l = arg;

    for (;;) {
        struct pollfd p[2] = {{l->fd, POLLIN, 0}, {l->stop_pipe[0], POLLIN, 0}};
        int c;

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        if (!(p[0].revents & POLLIN))
            continue;
        if ((c = accept(l->fd, NULL, NULL)) < 0)
            continue;
        serve_conn(l, c);
        close(c);
    }
    return NULL;
}

static enum eca_rc
bind_listener(struct acme_http01_os *l, const char *where, const char *host, const char *port,
              struct eca_err *err)
{
    struct addrinfo hints, *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int one = 1, gai, fd = -1;
    enum eca_rc rc = ECA_OK;

    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    if ((gai = getaddrinfo(host, port, &hints, &ai)) != 0)
        return eca_err_set(err, ECA_EINVAL, "http01 listen '%s': %s", where, gai_strerror(gai));
    if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        rc = eca_err_set(err, ECA_EIO, "http01 listen '%s': %s", where, strerror(errno));
        goto out;
    }
    l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    l->fd = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return rc;
}

static enum eca_rc
start_thread(struct acme_http01_os *l, struct eca_err *err)
{
    sigset_t all, orig;
    int started;

    if (pipe(l->stop_pipe) != 0)
        return eca_err_set(err, ECA_EIO, "http01 listener: pipe: %s", strerror(errno));
    /* Signals belong to the main loop: the service thread must never take them. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &orig);
    started = pthread_create(&l->thread, NULL, listener_main, l) == 0;
    pthread_sigmask(SIG_SETMASK, &orig, NULL);
    if (started)
        return ECA_OK;
    close(l->stop_pipe[0]);
    close(l->stop_pipe[1]);
    return eca_err_set(err, ECA_EIO, "http01 listener: cannot start thread");
}

enum eca_rc
acme_http01_os_listen(const char *where, const char *host, const char *port, size_t cap,
                      acme_http01_answer_fn answer, void *ctx, struct acme_http01_os **out,
                      struct eca_err *err)
{
    struct acme_http01_os *l = calloc(1, sizeof(*l));
    enum eca_rc rc;

    if (l == NULL)
        return eca_err_set(err, ECA_ENOMEM, "http01 listener: out of memory");
    l->fd = -1;
    l->cap = cap;
    l->answer = answer;
    l->ctx = ctx;
    pthread_mutex_init(&l->mu, NULL);
    if ((rc = bind_listener(l, where, host, port, err)) != ECA_OK ||
        (rc = start_thread(l, err)) != ECA_OK) {
        if (l->fd >= 0)
            close(l->fd);
        pthread_mutex_destroy(&l->mu);
        free(l);
        return rc;
    }
    *out = l;
    return ECA_OK;
}

int
acme_http01_os_port(const struct acme_http01_os *l)
{
    return l->port;
}

void
acme_http01_os_lock(struct acme_http01_os *l)
{
    pthread_mutex_lock(&l->mu);
}

void
acme_http01_os_unlock(struct acme_http01_os *l)
{
    pthread_mutex_unlock(&l->mu);
}

void
acme_http01_os_free(struct acme_http01_os *l)
{
    if (l == NULL)
        return;
    (void)!write(l->stop_pipe[1], "x", 1);
    pthread_join(l->thread, NULL);
    close(l->stop_pipe[0]);
    close(l->stop_pipe[1]);
    close(l->fd);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* mkdir with an explicit 0755: the daemon's umask is 077 but the web server must traverse. */
enum eca_rc
acme_http01_os_mkdir_public(const char *path, struct eca_err *err)
{
    if (mkdir(path, 0755) == 0)
        return chmod(path, 0755) == 0
                   ? ECA_OK
                   : eca_err_set(err, ECA_EIO, "webroot: chmod %s: %s", path, strerror(errno));
    if (errno == EEXIST)
        return ECA_OK;
    return eca_err_set(err, ECA_EIO, "webroot: mkdir %s: %s", path, strerror(errno));
}

enum eca_rc
acme_http01_os_webroot_ready(const char *challenge_dir, struct eca_err *err)
{
    (void)challenge_dir;
    (void)err;
    return ECA_OK; /* nginx, Apache and friends need no per-directory MIME file */
}
