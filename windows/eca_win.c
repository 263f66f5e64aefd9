/* SPDX-License-Identifier: MIT */
/* Windows-only helpers shared by the windows/ platform halves: UTF-8 <-> UTF-16, error text. */
#include "eca_win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>

enum eca_rc
eca_win_widen(const char *s, wchar_t **out, struct eca_err *err)
{
    wchar_t *w;
    int n;

    /* MB_ERR_INVALID_CHARS: a malformed name is refused, not silently mapped to U+FFFD. */
    n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0)
        return eca_err_set(err, ECA_EINVAL, "%s: not valid UTF-8", s);
    if ((w = malloc((size_t)n * sizeof *w)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "%s: out of memory", s);
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
    *out = w;
    return ECA_OK;
}

enum eca_rc
eca_win_narrow(const wchar_t *w, char **out, struct eca_err *err)
{
    char *s;
    int n;

    n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, NULL, 0, NULL, NULL);
    if (n <= 0)
        return eca_err_set(err, ECA_EINVAL, "string is not valid UTF-16");
    if ((s = malloc((size_t)n)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "out of memory");
    WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, s, n, NULL, NULL);
    *out = s;
    return ECA_OK;
}

void
eca_win_strerror(unsigned long code, char *out, size_t outlen)
{
    wchar_t buf[256];
    char *u = NULL;
    DWORD n;

    n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                       (DWORD)code, 0, buf, sizeof buf / sizeof buf[0], NULL);
    /* The system text ends in ".\r\n"; log lines want neither. */
    while (n > 0 && (buf[n - 1] == L'\n' || buf[n - 1] == L'\r' || buf[n - 1] == L'.'))
        buf[--n] = L'\0';
    if (n > 0 && eca_win_narrow(buf, &u, NULL) == ECA_OK)
        snprintf(out, outlen, "%s (%lu)", u, code);
    else
        snprintf(out, outlen, "Windows error %lu", code);
    free(u);
}
