/* SPDX-License-Identifier: MIT */
/* Shim for the Windows build: mingw's <string.h> plus strndup(), which msvcrt lacks. */
#ifndef ECA_COMPAT_STRING_H
#define ECA_COMPAT_STRING_H

#include_next <string.h>

/* POSIX.1-2008 strndup: at most n bytes of s, NUL-terminated, in a new allocation. */
char *strndup(const char *s, size_t n);

#endif
