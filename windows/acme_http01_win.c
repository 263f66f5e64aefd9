/* SPDX-License-Identifier: MIT */
/* Windows half of the http-01 listener (Winsock, a thread, a stop event) and the IIS web.config. */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme_http01_os.h"
#include "eca_fs.h"
#include "eca_win.h"

#define CONN_TIMEOUT_MS 5000
#define STOP_WAIT_MS    10000

struct acme_http01_os {
    CRITICAL_SECTION mu;
    SOCKET fd;
    int port, wsa;
    WSAEVENT accept_ev;
    HANDLE stop_ev, thread;
    size_t cap;
    acme_http01_answer_fn answer;
    void *ctx;
};

/*
 * IIS serves no file without a MIME mapping and the tokens have no extension; "." maps
 * extensionless names. The remove first: a parent web.config may already map "." and a
 * duplicate mimeMap is a configuration error that fails every request in the folder. Only
 * staticContent is set: <handlers> is locked at the server level by default (HTTP 500.19).
 */
static const char web_config[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
    "<!-- Written by eca-acme: serve ACME http-01 tokens (RFC 8555 8.3) as text/plain. -->\r\n"
    "<configuration>\r\n"
    "  <system.webServer>\r\n"
    "    <staticContent>\r\n"
    "      <remove fileExtension=\".\" />\r\n"
    "      <mimeMap fileExtension=\".\" mimeType=\"text/plain\" />\r\n"
    "    </staticContent>\r\n"
    "  </system.webServer>\r\n"
    "</configuration>\r\n";

static int
send_all(SOCKET fd, const char *p, size_t n)
{
    while (n > 0) {
        int w = send(fd, p, n > 65536 ? 65536 : (int)n, 0);

        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read the request head (up to the blank line); -1 on timeout, error or over the cap. */
static int
read_head(SOCKET fd, char *buf, size_t cap)
{
    size_t len = 0;

    while (len < cap - 1) {
        size_t room = cap - 1 - len;
        int r = recv(fd, buf + len, room > 65536 ? 65536 : (int)room, 0);

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
serve_conn(struct acme_http01_os *l, SOCKET c)
{
    DWORD tmo = CONN_TIMEOUT_MS;
    u_long blocking = 0;
    char *buf = malloc(l->cap), *resp;

    /* An accepted socket inherits the listener's event selection and non-blocking mode. */
    WSAEventSelect(c, NULL, 0);
    ioctlsocket(c, FIONBIO, &blocking);
    if (buf == NULL)
        return;
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, (const char *)&tmo, sizeof tmo);
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, (const char *)&tmo, sizeof tmo);
    resp = l->answer(l->ctx, read_head(c, buf, l->cap) == 0 ? buf : NULL);
    if (resp != NULL && send_all(c, resp, strlen(resp)) == 0)
        shutdown(c, SD_SEND);
    free(resp);
    free(buf);
}

static DWORD WINAPI
listener_main(void *arg)
{
    struct acme_http01_os *l = arg;
    HANDLE hs[2] = {l->stop_ev, l->accept_ev};

    for (;;) {
        DWORD r = WaitForMultipleObjects(2, hs, FALSE, INFINITE);
        SOCKET c;

        if (r != WAIT_OBJECT_0 + 1)
            break; /* stop requested, or the wait itself failed */
        WSAResetEvent(l->accept_ev);
        while ((c = accept(l->fd, NULL, NULL)) != INVALID_SOCKET) {
            serve_conn(l, c);
            closesocket(c);
        }
    }
    return 0;
}

static enum eca_rc
wsa_fail(const char *where, const char *what, struct eca_err *err)
{
    char msg[256];

    eca_win_strerror((unsigned long)WSAGetLastError(), msg, sizeof msg);
    return eca_err_set(err, ECA_EIO, "http01 listen '%s': %s: %s", where, what, msg);
}

static enum eca_rc
bind_listener(struct acme_http01_os *l, const char *where, const char *host, const char *port,
              struct eca_err *err)
{
    struct addrinfo hints, *ai = NULL;
    struct sockaddr_storage ss;
    int sl = sizeof ss, gai;
    BOOL excl = TRUE;

    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    if ((gai = getaddrinfo(host, port, &hints, &ai)) != 0)
        return eca_err_set(err, ECA_EINVAL, "http01 listen '%s': %s", where, gai_strerrorA(gai));
    l->fd =
        WSASocketW(ai->ai_family, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT);
    if (l->fd == INVALID_SOCKET) {
        freeaddrinfo(ai);
        return wsa_fail(where, "socket", err);
    }
    /* Windows' SO_REUSEADDR lets another process steal the port; exclusive use is the safe one. */
    setsockopt(l->fd, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&excl, sizeof excl);
    if (bind(l->fd, ai->ai_addr, (int)ai->ai_addrlen) != 0 || listen(l->fd, 16) != 0 ||
        getsockname(l->fd, (struct sockaddr *)&ss, &sl) != 0) {
        freeaddrinfo(ai);
        return wsa_fail(where, "bind", err);
    }
    freeaddrinfo(ai);
    l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    if ((l->accept_ev = WSACreateEvent()) == WSA_INVALID_EVENT ||
        WSAEventSelect(l->fd, l->accept_ev, FD_ACCEPT) != 0)
        return wsa_fail(where, "WSAEventSelect", err);
    return ECA_OK;
}

static void
release(struct acme_http01_os *l)
{
    if (l->fd != INVALID_SOCKET)
        closesocket(l->fd);
    if (l->accept_ev != NULL && l->accept_ev != WSA_INVALID_EVENT)
        WSACloseEvent(l->accept_ev);
    if (l->stop_ev != NULL)
        CloseHandle(l->stop_ev);
    if (l->wsa)
        WSACleanup();
    DeleteCriticalSection(&l->mu);
    free(l);
}

enum eca_rc
acme_http01_os_listen(const char *where, const char *host, const char *port, size_t cap,
                      acme_http01_answer_fn answer, void *ctx, struct acme_http01_os **out,
                      struct eca_err *err)
{
    struct acme_http01_os *l = calloc(1, sizeof(*l));
    WSADATA wd;
    enum eca_rc rc;

    if (l == NULL)
        return eca_err_set(err, ECA_ENOMEM, "http01 listener: out of memory");
    InitializeCriticalSection(&l->mu);
    l->fd = INVALID_SOCKET;
    l->cap = cap;
    l->answer = answer;
    l->ctx = ctx;
    l->wsa = WSAStartup(MAKEWORD(2, 2), &wd) == 0;
    if ((rc = bind_listener(l, where, host, port, err)) != ECA_OK)
        goto fail;
    if ((l->stop_ev = CreateEventW(NULL, TRUE, FALSE, NULL)) == NULL ||
        (l->thread = CreateThread(NULL, 0, listener_main, l, 0, NULL)) == NULL) {
        rc = eca_err_set(err, ECA_EIO, "http01 listener: cannot start thread");
        goto fail;
    }
    *out = l;
    return ECA_OK;
fail:
    release(l);
    return rc;
}

int
acme_http01_os_port(const struct acme_http01_os *l)
{
    return l->port;
}

void
acme_http01_os_lock(struct acme_http01_os *l)
{
    EnterCriticalSection(&l->mu);
}

void
acme_http01_os_unlock(struct acme_http01_os *l)
{
    LeaveCriticalSection(&l->mu);
}

void
acme_http01_os_free(struct acme_http01_os *l)
{
    if (l == NULL)
        return;
    SetEvent(l->stop_ev);
    WaitForSingleObject(l->thread, STOP_WAIT_MS);
    CloseHandle(l->thread);
    release(l);
}

enum eca_rc
acme_http01_os_mkdir_public(const char *path, struct eca_err *err)
{
    /* Not "private": the directory inherits the webroot's ACL, which lets IIS read it. */
    return eca_fs_mkdir_p(path, 0755, err);
}

enum eca_rc
acme_http01_os_webroot_ready(const char *challenge_dir, struct eca_err *err)
{
    char path[4400];

    snprintf(path, sizeof path, "%s/web.config", challenge_dir);
    if (eca_fs_exists(path))
        return ECA_OK; /* the operator's own, or ours from an earlier order */
    return eca_fs_write_atomic(path, web_config, sizeof web_config - 1, ECA_FS_MODE_PUBLIC, err);
}
