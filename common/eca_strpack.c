/* SPDX-License-Identifier: MIT */
/* Fixed-size string fields packed end to end in one allocation. */
#include "eca_strpack.h"

#include <string.h>

size_t
eca_strpack_size(char *const f[], const size_t len[], int n)
{
    size_t total = 0;

    for (int i = 0; i < n; i++)
        total += strnlen(f[i], len[i] - 1) + 1;
    return total;
}

void
eca_strpack_put(char *dst, char *const f[], const size_t len[], int n)
{
    for (int i = 0; i < n; i++) {
        size_t k = strnlen(f[i], len[i] - 1);

        memcpy(dst, f[i], k);
        dst[k] = '\0';
        dst += k + 1;
    }
}

void
eca_strpack_get(const char *src, char *const f[], const size_t len[], int n)
{
    for (int i = 0; i < n; i++) {
        size_t k = strlen(src);
        size_t keep = k < len[i] ? k : len[i] - 1;

        memcpy(f[i], src, keep);
        f[i][keep] = '\0';
        src += k + 1;
    }
}
