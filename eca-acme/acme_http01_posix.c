/* SPDX-License-Identifier: MIT */
/* POSIX half of acme_http01: the service thread (a pthread) and its lock; webroot mkdir. */
#include "acme_http01_os.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct acme_http01_os {
    pthread_mutex_t mu;
    pthread_t thread;
    void (*fn)(void *);
    void *arg;
};

static void *
thread_main(void *p)
{
    struct acme_http01_os *t = p;

    t->fn(t->arg);
    return NULL;
}

enum eca_rc
acme_http01_os_start(void (*fn)(void *), void *arg, struct acme_http01_os **out,
                     struct eca_err *err)
{
    struct acme_http01_os *t = calloc(1, sizeof *t);
    sigset_t all, orig;
    int started;

    if (t == NULL)
        return eca_err_set(err, ECA_ENOMEM, "http01 listener: out of memory");
    t->fn = fn;
    t->arg = arg;
    pthread_mutex_init(&t->mu, NULL);
    /* Signals belong to the main loop: the service thread must never take them. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &orig);
    *out = t; /* before the thread starts: fn reaches the lock through it */
    started = pthread_create(&t->thread, NULL, thread_main, t) == 0;
    pthread_sigmask(SIG_SETMASK, &orig, NULL);
    if (started)
        return ECA_OK;
    *out = NULL;
    pthread_mutex_destroy(&t->mu);
    free(t);
    return eca_err_set(err, ECA_EIO, "http01 listener: cannot start thread");
}

void
acme_http01_os_lock(struct acme_http01_os *t)
{
    pthread_mutex_lock(&t->mu);
}

void
acme_http01_os_unlock(struct acme_http01_os *t)
{
    pthread_mutex_unlock(&t->mu);
}

void
acme_http01_os_join(struct acme_http01_os *t)
{
    if (t == NULL)
        return;
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->mu);
    free(t);
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
