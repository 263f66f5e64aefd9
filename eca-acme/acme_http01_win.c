/* SPDX-License-Identifier: MIT */
/* Windows half of acme_http01: the service thread and its lock; the IIS web.config. */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>

#include "acme_http01_os.h"
#include "eca_fs.h"

struct acme_http01_os {
    CRITICAL_SECTION mu;
    HANDLE thread;
    void (*fn)(void *);
    void *arg;
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

static DWORD WINAPI
thread_main(void *p)
{
    struct acme_http01_os *t = p;

    t->fn(t->arg);
    return 0;
}

enum eca_rc
acme_http01_os_start(void (*fn)(void *), void *arg, struct acme_http01_os **out,
                     struct eca_err *err)
{
    struct acme_http01_os *t = calloc(1, sizeof *t);

    if (t == NULL)
        return eca_err_set(err, ECA_ENOMEM, "http01 listener: out of memory");
    t->fn = fn;
    t->arg = arg;
    InitializeCriticalSection(&t->mu);
    *out = t; /* before the thread starts: fn reaches the lock through it */
    if ((t->thread = CreateThread(NULL, 0, thread_main, t, 0, NULL)) != NULL)
        return ECA_OK;
    *out = NULL;
    DeleteCriticalSection(&t->mu);
    free(t);
    return eca_err_set(err, ECA_EIO, "http01 listener: cannot start thread");
}

void
acme_http01_os_lock(struct acme_http01_os *t)
{
    EnterCriticalSection(&t->mu);
}

void
acme_http01_os_unlock(struct acme_http01_os *t)
{
    LeaveCriticalSection(&t->mu);
}

void
acme_http01_os_join(struct acme_http01_os *t)
{
    if (t == NULL)
        return;
    WaitForSingleObject(t->thread, INFINITE);
    CloseHandle(t->thread);
    DeleteCriticalSection(&t->mu);
    free(t);
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
