/* SPDX-License-Identifier: MIT */
/* http-01 challenge responders (RFC 8555 §8.3): a built-in listener or a webroot writer. */
#include "acme_http01.h"

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

#include "eca_fs.h"

#define MAX_TOKENS     64
#define REQ_CAP        8192
#define CONN_TIMEOUT_S 5

enum kind { KIND_LISTENER, KIND_WEBROOT };

struct published {
    char *token;
    char *authz;
};

struct http01 {
    struct acme_responder pub; /* first: the responder handed out points here */
    enum kind kind;
    char *where; /* listen address or webroot */
    /* listener */
    pthread_mutex_t mu;
    struct published toks[MAX_TOKENS];
    int fd, port, running;
    int stop_pipe[2];
    pthread_t thread;
};

int
acme_http01_token_is_valid(const char *token)
{
    size_t n = 0;

    if (token == NULL)
        return 0;
    for (const char *p = token; *p; p++, n++) {
        char ch = *p;

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return 0;
    }
    return n > 0 && n <= ACME_HTTP01_MAX_TOKEN;
}

/* ---- built-in listener ---- */

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
respond(int fd, int status, const char *body)
{
    char head[256];
    const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Bad Request";
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, reason, strlen(body));

    if (write_all(fd, head, (size_t)n) == 0)
        write_all(fd, body, strlen(body));
}

/* Answer one connection: GET /.well-known/acme-challenge/<token> or 404. */
static void
serve_conn(struct http01 *h, int fd)
{
    struct timeval tv = {CONN_TIMEOUT_S, 0};
    char buf[REQ_CAP], *sp, *tok;
    char *answer = NULL;
    size_t plen = strlen(ACME_HTTP01_PREFIX);

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (read_head(fd, buf, sizeof buf) != 0) {
        respond(fd, 400, "bad request\n");
        return;
    }
    if (strncmp(buf, "GET ", 4) != 0 || (sp = strchr(buf + 4, ' ')) == NULL) {
        respond(fd, 400, "bad request\n");
        return;
    }
    *sp = '\0';
    tok = buf + 4;
    if (strncmp(tok, ACME_HTTP01_PREFIX, plen) == 0 && acme_http01_token_is_valid(tok + plen)) {
        pthread_mutex_lock(&h->mu);
        for (size_t i = 0; i < MAX_TOKENS && answer == NULL; i++)
            if (h->toks[i].token && strcmp(h->toks[i].token, tok + plen) == 0)
                answer = strdup(h->toks[i].authz);
        pthread_mutex_unlock(&h->mu);
    }
    if (answer)
        respond(fd, 200, answer);
    else
        respond(fd, 404, "not found\n");
    free(answer);
}

static void *
listener_main(void *arg)
{
    struct http01 *h = arg;

    for (;;) {
        struct pollfd p[2] = {{h->fd, POLLIN, 0}, {h->stop_pipe[0], POLLIN, 0}};
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
        if ((c = accept(h->fd, NULL, NULL)) < 0)
            continue;
        serve_conn(h, c);
        close(c);
    }
    return NULL;
}

/* Split "host:port" / "[v6]:port" into host and port strings. */
static enum eca_rc
split_hostport(const char *s, char *host, size_t hostlen, char *port, size_t portlen,
               struct eca_err *err)
{
    const char *colon = strrchr(s, ':');
    size_t n;

    if (colon == NULL || colon == s || colon[1] == '\0')
        return eca_err_set(err, ECA_EINVAL, "http01 listen '%s': expected addr:port", s);
    n = (size_t)(colon - s);
    if (s[0] == '[' && colon[-1] == ']') {
        s++;
        n -= 2;
    }
    if (n >= hostlen || strlen(colon + 1) >= portlen)
        return eca_err_set(err, ECA_EINVAL, "http01 listen '%s': too long", s);
    memcpy(host, s, n);
    host[n] = '\0';
    snprintf(port, portlen, "%s", colon + 1);
    return ECA_OK;
}

static enum eca_rc
bind_listener(struct http01 *h, struct eca_err *err)
{
    struct addrinfo hints, *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[256], port[16];
    int one = 1, gai, fd = -1;
    enum eca_rc rc;

    if ((rc = split_hostport(h->where, host, sizeof host, port, sizeof port, err)) != ECA_OK)
        return rc;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    if ((gai = getaddrinfo(host, port, &hints, &ai)) != 0)
        return eca_err_set(err, ECA_EINVAL, "http01 listen '%s': %s", h->where, gai_strerror(gai));
    if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        rc = eca_err_set(err, ECA_EIO, "http01 listen '%s': %s", h->where, strerror(errno));
        goto out;
    }
    h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    h->fd = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return rc;
}

static enum eca_rc
start_listener(struct http01 *h, struct eca_err *err)
{
    sigset_t all, orig;
    int started;
    enum eca_rc rc;

    if ((rc = bind_listener(h, err)) != ECA_OK)
        return rc;
    if (pipe(h->stop_pipe) != 0) {
        rc = eca_err_set(err, ECA_EIO, "http01 listener: pipe: %s", strerror(errno));
        goto fail;
    }
    /* Signals belong to the main loop: the service thread must never take them. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &orig);
    started = pthread_create(&h->thread, NULL, listener_main, h) == 0;
    pthread_sigmask(SIG_SETMASK, &orig, NULL);
    if (!started) {
        rc = eca_err_set(err, ECA_EIO, "http01 listener: cannot start thread");
        close(h->stop_pipe[0]);
        close(h->stop_pipe[1]);
        goto fail;
    }
    h->running = 1;
    return ECA_OK;
fail:
    close(h->fd);
    h->fd = -1;
    h->port = 0;
    return rc;
}

static enum eca_rc
listener_publish(void *ctx, const char *token, const char *key_authz, struct eca_err *err)
{
    struct http01 *h = ctx;
    struct published *slot = NULL;
    char *t = NULL, *a = NULL;
    enum eca_rc rc = ECA_OK;

    if (!acme_http01_token_is_valid(token))
        return eca_err_set(err, ECA_EPROTO, "http-01 token: not a base64url string");
    if (!h->running && (rc = start_listener(h, err)) != ECA_OK)
        return rc;
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < MAX_TOKENS && slot == NULL; i++)
        if (h->toks[i].token == NULL || strcmp(h->toks[i].token, token) == 0)
            slot = &h->toks[i];
    if (slot == NULL) {
        rc = eca_err_set(err, ECA_ETOOBIG, "http01 listener: more than %d tokens", MAX_TOKENS);
    } else if ((t = strdup(token)) == NULL || (a = strdup(key_authz)) == NULL) {
        free(t);
        rc = eca_err_set(err, ECA_ENOMEM, "http01 listener: out of memory");
    } else {
        free(slot->token);
        free(slot->authz);
        slot->token = t;
        slot->authz = a;
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static void
listener_unpublish(void *ctx, const char *token)
{
    struct http01 *h = ctx;

    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < MAX_TOKENS; i++) {
        if (h->toks[i].token && strcmp(h->toks[i].token, token) == 0) {
            free(h->toks[i].token);
            free(h->toks[i].authz);
            h->toks[i].token = h->toks[i].authz = NULL;
        }
    }
    pthread_mutex_unlock(&h->mu);
}

static struct http01 *
http01_alloc(enum kind kind, const char *where, struct eca_err *err)
{
    struct http01 *h = calloc(1, sizeof(*h));

    if (h == NULL || (h->where = strdup(where)) == NULL) {
        free(h);
        eca_err_set(err, ECA_ENOMEM, "http01: out of memory");
        return NULL;
    }
    h->kind = kind;
    h->fd = -1;
    h->pub.ctx = h;
    pthread_mutex_init(&h->mu, NULL);
    return h;
}

enum eca_rc
acme_http01_listener_new(const char *listen, struct acme_responder **out, struct eca_err *err)
{
    struct http01 *h;

    if (listen == NULL || *listen == '\0')
        return eca_err_set(err, ECA_EINVAL, "http01 listen: empty address");
    if ((h = http01_alloc(KIND_LISTENER, listen, err)) == NULL)
        return ECA_ENOMEM;
    h->pub.publish = listener_publish;
    h->pub.unpublish = listener_unpublish;
    *out = &h->pub;
    return ECA_OK;
}

/* ---- webroot ---- */

/* mkdir with an explicit 0755: the daemon's umask is 077 but the web server must traverse. */
static enum eca_rc
mkdir_public(const char *path, struct eca_err *err)
{
    if (mkdir(path, 0755) == 0)
        return chmod(path, 0755) == 0
                   ? ECA_OK
                   : eca_err_set(err, ECA_EIO, "webroot: chmod %s: %s", path, strerror(errno));
    if (errno == EEXIST)
        return ECA_OK;
    return eca_err_set(err, ECA_EIO, "webroot: mkdir %s: %s", path, strerror(errno));
}

static enum eca_rc
webroot_publish(void *ctx, const char *token, const char *key_authz, struct eca_err *err)
{
    struct http01 *h = ctx;
    char dir[4096], path[4400];
    enum eca_rc rc;

    /* The token becomes a file name: refuse anything but base64url before touching disk. */
    if (!acme_http01_token_is_valid(token))
        return eca_err_set(err, ECA_EPROTO, "http-01 token: not a base64url string");
    snprintf(dir, sizeof dir, "%s/.well-known", h->where);
    if ((rc = mkdir_public(dir, err)) != ECA_OK)
        return rc;
    snprintf(dir, sizeof dir, "%s/.well-known/acme-challenge", h->where);
    if ((rc = mkdir_public(dir, err)) != ECA_OK)
        return rc;
    snprintf(path, sizeof path, "%s/%s", dir, token);
    return eca_fs_write_atomic(path, key_authz, strlen(key_authz), ECA_FS_MODE_PUBLIC, err);
}

static void
webroot_unpublish(void *ctx, const char *token)
{
    struct http01 *h = ctx;
    char path[4400];

    if (!acme_http01_token_is_valid(token))
        return;
    snprintf(path, sizeof path, "%s%s%s", h->where, ACME_HTTP01_PREFIX, token);
    eca_fs_remove(path, NULL);
}

enum eca_rc
acme_http01_webroot_new(const char *webroot, struct acme_responder **out, struct eca_err *err)
{
    struct http01 *h;
    struct stat st;

    if (webroot == NULL || *webroot == '\0')
        return eca_err_set(err, ECA_EINVAL, "webroot: empty path");
    if (strlen(webroot) > 3000)
        return eca_err_set(err, ECA_EINVAL, "webroot: path too long");
    if (stat(webroot, &st) != 0 || !S_ISDIR(st.st_mode))
        return eca_err_set(err, ECA_ENOTFOUND, "webroot '%s': not a directory", webroot);
    if ((h = http01_alloc(KIND_WEBROOT, webroot, err)) == NULL)
        return ECA_ENOMEM;
    h->pub.publish = webroot_publish;
    h->pub.unpublish = webroot_unpublish;
    *out = &h->pub;
    return ECA_OK;
}

int
acme_http01_port(const struct acme_responder *r)
{
    const struct http01 *h = r ? r->ctx : NULL;

    return h && h->kind == KIND_LISTENER ? h->port : 0;
}

void
acme_http01_free(struct acme_responder *r)
{
    struct http01 *h = r ? r->ctx : NULL;

    if (h == NULL)
        return;
    if (h->running) {
        (void)!write(h->stop_pipe[1], "x", 1);
        pthread_join(h->thread, NULL);
        close(h->stop_pipe[0]);
        close(h->stop_pipe[1]);
    }
    if (h->fd >= 0)
        close(h->fd);
    for (size_t i = 0; i < MAX_TOKENS; i++) {
        free(h->toks[i].token);
        free(h->toks[i].authz);
    }
    pthread_mutex_destroy(&h->mu);
    free(h->where);
    free(h);
}
