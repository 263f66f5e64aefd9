/* SPDX-License-Identifier: MIT */
/* Time seam: every module asks this for "now" so tests can move time. */
#include "eca_clock.h"

static eca_clock_fn clock_fn;

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
