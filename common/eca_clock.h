/* SPDX-License-Identifier: MIT */
/* Time seams: every module asks this for "now" and sleeps through it, so tests can move time. */
#ifndef ECA_CLOCK_H
#define ECA_CLOCK_H

#include <time.h>

typedef time_t (*eca_clock_fn)(void);
typedef void (*eca_clock_sleep_fn)(long ms);

/* Wall-clock seconds since the epoch (or the test's clock). */
time_t eca_clock_now(void);

/* Replace the clock (tests); NULL restores the real one. */
void eca_clock_set(eca_clock_fn fn);

/* Milliseconds on the monotonic clock, for deadlines of I/O (never moved by tests). */
long long eca_clock_mono_ms(void);

/*
 * Sleep ms milliseconds, in slices of at most 100 ms so that stop() (NULL: none), asked
 * between slices, ends the sleep early. 1 when stop() said so (before, during or after the
 * sleep), else 0. With a test's sleep installed it gets the whole ms in one call.
 */
int eca_clock_sleep_ms(long ms, int (*stop)(void));

/* Replace the sleep (tests: record the waits, take none); NULL restores the real one. */
void eca_clock_set_sleep(eca_clock_sleep_fn fn);

#endif
