/* SPDX-License-Identifier: MIT */
/* Test support, POSIX half: file mode assertions via stat (windows/test_support_win.c on Windows).
 */
#include <check.h>
#include <sys/stat.h>

#include "eca_test.h"

void
test_assert_mode(const char *path, unsigned mode)
{
    struct stat st;

    ck_assert_msg(stat(path, &st) == 0, "%s: missing", path);
    ck_assert_msg((st.st_mode & 0777) == mode, "%s: mode %03o, expected %03o", path,
                  (unsigned)(st.st_mode & 0777), mode);
}

void
test_assert_private(const char *path)
{
    test_assert_mode(path, 0600);
}
