/* SPDX-License-Identifier: MIT */
/* POSIX calls the shared code uses and mingw's C runtime lacks (declared in windows/compat/). */
#include <errno.h>
#include <io.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include <windows.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
    long long era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

time_t
timegm(struct tm *tm)
{
    long long y = (long long)tm->tm_year + 1900, mon = tm->tm_mon, days, secs;

    /* Normalise the month like POSIX timegm does (tm_mon may be out of 0..11). */
    y += mon / 12;
    mon %= 12;
    if (mon < 0) {
        mon += 12;
        y--;
    }
    days = days_from_civil(y, (unsigned)mon + 1, 1) + tm->tm_mday - 1;
    secs = ((days * 24 + tm->tm_hour) * 60 + tm->tm_min) * 60LL + tm->tm_sec;
    return (time_t)secs;
}

char *
strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = malloc(len + 1);

    if (d == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

int
setenv(const char *name, const char *value, int overwrite)
{
    if (name == NULL || *name == '\0' || strchr(name, '=') != NULL) {
        errno = EINVAL;
        return -1;
    }
    if (!overwrite && getenv(name) != NULL)
        return 0;
    /* _putenv_s treats "" as "remove"; POSIX keeps an empty value, which msvcrt cannot. */
    return _putenv_s(name, value) == 0 ? 0 : -1;
}

int
unsetenv(const char *name)
{
    if (name == NULL || *name == '\0' || strchr(name, '=') != NULL) {
        errno = EINVAL;
        return -1;
    }
    return _putenv_s(name, "") == 0 ? 0 : -1;
}

ssize_t
writev(int fd, const struct iovec *iov, int iovcnt)
{
    size_t total = 0, off = 0;
    char *buf;
    int w;

    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    if (total > INT_MAX) {
        errno = EINVAL;
        return -1;
    }
    if ((buf = malloc(total ? total : 1)) == NULL) {
        errno = ENOMEM;
        return -1;
    }
    for (int i = 0; i < iovcnt; i++) {
        memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    w = _write(fd, buf, (unsigned)total);
    free(buf);
    return w;
}

/*
 * clock_gettime and nanosleep are declared by mingw's <time.h> (pthread_time.h) but live in
 * libwinpthread; these keep the exes free of it. REALTIME: 100 ns FILETIME since 1601;
 * MONOTONIC: the performance counter.
 */
int
clock_gettime(clockid_t id, struct timespec *tp)
{
    if (id == CLOCK_MONOTONIC) {
        LARGE_INTEGER f, c;

        QueryPerformanceFrequency(&f);
        QueryPerformanceCounter(&c);
        tp->tv_sec = (time_t)(c.QuadPart / f.QuadPart);
        tp->tv_nsec = (long)((c.QuadPart % f.QuadPart) * 1000000000LL / f.QuadPart);
        return 0;
    }
    if (id == CLOCK_REALTIME) {
        FILETIME ft;
        unsigned long long t;

        GetSystemTimePreciseAsFileTime(&ft);
        t = ((unsigned long long)ft.dwHighDateTime << 32 | ft.dwLowDateTime) -
            116444736000000000ULL;
        tp->tv_sec = (time_t)(t / 10000000ULL);
        tp->tv_nsec = (long)(t % 10000000ULL) * 100;
        return 0;
    }
    errno = EINVAL;
    return -1;
}

int
nanosleep(const struct timespec *req, struct timespec *rem)
{
    long long ms;

    if (req == NULL || req->tv_sec < 0 || req->tv_nsec < 0 || req->tv_nsec >= 1000000000L) {
        errno = EINVAL;
        return -1;
    }
    /* Round up: POSIX sleeps at least the requested time. */
    ms = (long long)req->tv_sec * 1000 + (req->tv_nsec + 999999L) / 1000000L;
    while (ms > 0) {
        DWORD step = ms > 0x7ffffffe ? 0x7ffffffe : (DWORD)ms;

        Sleep(step);
        ms -= step;
    }
    if (rem != NULL)
        rem->tv_sec = 0, rem->tv_nsec = 0;
    return 0;
}
