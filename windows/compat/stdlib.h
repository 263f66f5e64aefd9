/* SPDX-License-Identifier: MIT */
/* Test-only shim: mingw's <stdlib.h> plus the POSIX calls it lacks (test_support_win.c). */
#ifndef ECA_COMPAT_STDLIB_H
#define ECA_COMPAT_STDLIB_H

#include_next <stdlib.h>

/* Create a unique directory from a template ending in "XXXXXX" (tests only: test_support_win.c). */
char *mkdtemp(char *tmpl);

/* POSIX environment setters over _putenv_s (eca_compat_win.c). */
int setenv(const char *name, const char *value, int overwrite);
int unsetenv(const char *name);

#endif
