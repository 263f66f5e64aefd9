/* SPDX-License-Identifier: MIT */
/* Shim for the Windows build: mingw's <time.h> plus timegm(), which msvcrt lacks. */
#ifndef ECA_COMPAT_TIME_H
#define ECA_COMPAT_TIME_H

#include_next <time.h>

/*
 * struct tm in UTC to seconds since the epoch, for any year (msvcrt's _mkgmtime stops at
 * 3000, and certificates may say 9999-12-31, RFC 5280 §4.1.2.5). Defined in eca_compat_win.c.
 */
time_t timegm(struct tm *tm);

#endif
