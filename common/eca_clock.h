/* SPDX-License-Identifier: MIT */
/* Time seam: every module asks this for "now" so tests can move time. */
#ifndef ECA_CLOCK_H
#define ECA_CLOCK_H

#include <time.h>

typedef time_t (*eca_clock_fn)(void);

/* Wall-clock seconds since the epoch (or the test's clock). */
time_t eca_clock_now(void);

/* Replace the clock (tests); NULL restores the real one. */
void eca_clock_set(eca_clock_fn fn);

/* Milliseconds on the monotonic clock, for deadlines of I/O (never moved by tests). */
long long eca_clock_mono_ms(void);

#endif
