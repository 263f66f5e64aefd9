/* SPDX-License-Identifier: MIT */
/* Time seams: every module asks this for "now" and sleeps through it, so tests can move time. */
#include "eca_clock.h"

/* A stop request is noticed within this long. */
#define SLICE_MS 100L

static eca_clock_fn clock_fn;
static eca_clock_sleep_fn sleep_fn;

time_t
eca_clock_now(void)
{
    return clock_fn ? clock_fn() : time(NULL);
}

void
eca_clock_set(eca_clock_fn fn)
{
    clock_fn = fn;
}

long long
eca_clock_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
eca_clock_sleep_ms(long ms, int (*stop)(void))
{
    long long until = eca_clock_mono_ms() + (ms > 0 ? ms : 0);

    if (stop && stop())
        return 1;
    if (sleep_fn != NULL) {
        sleep_fn(ms);
        return stop && stop();
    }
    /* Against the monotonic clock: a signal cutting nanosleep short costs nothing. */
    for (long long left = ms; left > 0; left = until - eca_clock_mono_ms()) {
        struct timespec ts = {0, (left < SLICE_MS ? left : SLICE_MS) * 1000000L};

        nanosleep(&ts, NULL);
        if (stop && stop())
            return 1;
    }
    return 0;
}

void
eca_clock_set_sleep(eca_clock_sleep_fn fn)
{
    sleep_fn = fn;
}
