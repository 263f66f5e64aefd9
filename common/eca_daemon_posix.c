/* SPDX-License-Identifier: MIT */
/* POSIX half of eca_daemon: signal handlers and a self-pipe that poll() sleeps on. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "eca_clock.h"
#include "eca_daemon.h"
#include "eca_daemon_os.h"

/* The self-pipe: handlers write a byte so that poll() returns at once (no lost wake-up). */
static int wake[2] = {-1, -1};

static void
on_signal(int sig)
{
    int saved = errno;
    char c = 1;

    if (sig == SIGTERM || sig == SIGINT)
        eca_daemon_request(ECA_DAEMON_STOP);
    else if (sig == SIGHUP)
        eca_daemon_request(ECA_DAEMON_RELOAD);
    else if (sig == SIGUSR1)
        eca_daemon_request(ECA_DAEMON_FORCE);
    if (wake[1] >= 0 && write(wake[1], &c, 1) < 0) {
        /* A full pipe already holds a wake-up. */
    }
    errno = saved;
}

static int
set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0
               ? -1
               : 0;
}

/*
 * One malloc arena for every thread. glibc gives each new thread its own arena, and
 * malloc_trim() cannot shrink an arena other than the main one from its top: after a pass on
 * worker threads, each worker's arena stayed resident at its peak (about 0.2 MiB each)
 * through hours of sleep. The workers wait on the network far more than on malloc's lock.
 */
#ifdef __GLIBC__
static void
one_arena(void)
{
    mallopt(M_ARENA_MAX, 1);
}
#else
static void
one_arena(void)
{
}
#endif

enum eca_rc
eca_daemon_init(struct eca_err *err)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
    struct sigaction sa;

    one_arena();
    if (wake[0] < 0) {
        if (pipe(wake) != 0 || set_flags(wake[0]) != 0 || set_flags(wake[1]) != 0)
            return eca_err_set(err, ECA_EIO, "daemon: self-pipe: %s", strerror(errno));
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, NULL) != 0)
            return eca_err_set(err, ECA_EIO, "daemon: sigaction: %s", strerror(errno));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    return ECA_OK;
}

void
eca_daemon_fini(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    for (int i = 0; i < 2; i++) {
        if (wake[i] >= 0)
            close(wake[i]);
        wake[i] = -1;
    }
    eca_daemon_clear();
}

static void
drain(void)
{
    char buf[64];

    while (wake[0] >= 0 && read(wake[0], buf, sizeof buf) > 0)
        ;
}

/*
 * Give the heap's free pages back before a long sleep: a pass over a thousand certificates
 * leaves megabytes free but resident in glibc's heap (configuration, JSON, OpenSSL's decoders),
 * and the daemon then sleeps for hours. Other C libraries return them on their own or not at all.
 */
#ifdef __GLIBC__
static void
give_back_heap(void)
{
    malloc_trim(0);
}
#else
static void
give_back_heap(void)
{
}
#endif

unsigned
eca_daemon_wait(time_t deadline, int extra_fd)
{
    struct pollfd p[2] = {{.fd = wake[0], .events = POLLIN}, {.fd = extra_fd, .events = POLLIN}};
    unsigned bits;

    if (deadline > eca_clock_now())
        give_back_heap();

    for (;;) {
        time_t now = eca_clock_now();
        long long ms = deadline > now ? ((long long)deadline - now) * 1000 : 0;

        drain();
        if ((bits = eca_daemon_peek()) != 0 || ms <= 0)
            return bits;
        /* One poll() for the whole sleep; only a sleep beyond INT_MAX ms is cut in pieces. */
        if (poll(p, extra_fd >= 0 ? 2 : 1, ms > INT_MAX ? INT_MAX : (int)ms) > 0 && extra_fd >= 0 &&
            (p[1].revents & (POLLIN | POLLERR | POLLHUP)))
            return eca_daemon_peek() | ECA_DAEMON_FD_READY;
    }
}
