/* SPDX-License-Identifier: MIT */
/* Test support, Windows half: the POSIX calls tests/support/eca_test.c uses that mingw lacks. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <bcrypt.h>

#include "eca_fs.h"
#include "eca_test.h"
#include "eca_win.h"

#define TRIES 100

char *
mkdtemp(char *tmpl)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = strlen(tmpl);
    unsigned char rnd[6];
    wchar_t *w = NULL;
    char *x;

    if (n < 6 || strcmp(tmpl + n - 6, "XXXXXX") != 0) {
        errno = EINVAL;
        return NULL;
    }
    x = tmpl + n - 6;
    DWORD e;

    for (int t = 0; t < TRIES; t++) {
        if (BCryptGenRandom(NULL, rnd, sizeof rnd, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            break;
        for (size_t i = 0; i < sizeof rnd; i++)
            x[i] = chars[rnd[i] % (sizeof chars - 1)];
        if (eca_win_widen(tmpl, &w, NULL) != ECA_OK)
            break;
        e = CreateDirectoryW(w, NULL) ? ERROR_SUCCESS : GetLastError();
        free(w);
        if (e == ERROR_SUCCESS)
            return tmpl;
        if (e != ERROR_ALREADY_EXISTS)
            break;
    }
    errno = EEXIST;
    return NULL;
}

/*
 * Windows keeps access in the DACL, not in st_mode: a private mode means the file must pass
 * eca_fs_check_private (wine stores no DACLs, so there it shows the calls succeed, no more).
 */
void
test_assert_mode(const char *path, unsigned mode)
{
    struct eca_err err = {0};

    ck_assert_msg(eca_fs_exists(path), "%s: missing", path);
    if ((mode & 077u) == 0)
        ck_assert_msg(eca_fs_check_private(path, &err) == ECA_OK, "%s: not private: %s", path,
                      err.msg);
}

void
test_assert_private(const char *path)
{
    test_assert_mode(path, 0600);
}
