/* SPDX-License-Identifier: MIT */
/* Windows-only helpers shared by the windows/ platform halves: UTF-8 <-> UTF-16, error text. */
#ifndef ECA_WIN_H
#define ECA_WIN_H

#include <stddef.h>
#include <wchar.h>

#include "eca_err.h"

/*
 * Convert a UTF-8 string to a new UTF-16 string (*out, free with free()). Invalid UTF-8 is
 * ECA_EINVAL naming the string; err may be NULL.
 */
enum eca_rc eca_win_widen(const char *s, wchar_t **out, struct eca_err *err);

/* Convert UTF-16 to a new UTF-8 string (*out, free with free()); ECA_EINVAL if invalid. */
enum eca_rc eca_win_narrow(const wchar_t *w, char **out, struct eca_err *err);

/* The system's text for a GetLastError() code, with the number: "Access is denied (5)". */
void eca_win_strerror(unsigned long code, char *out, size_t outlen);

/*
 * Raise eca_daemon requests from any thread (console handler, service control handler) and
 * wake a sleeping eca_daemon_wait(); eca_daemon_request() alone does not wake it on Windows.
 */
void eca_daemon_win_notify(unsigned bits);

#endif
