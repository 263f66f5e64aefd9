/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the pending-request state file (est_pending_parse), which must read back
 * what est_pending_format writes for anything it accepts. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "est_pending.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct est_pending p, q;
    char text[256];
    size_t n;

    if (est_pending_parse(data, size, &p) != 0)
        return 0;
    n = est_pending_format(&p, text, sizeof text);
    if (est_pending_parse(text, n, &q) != 0 || memcmp(&p, &q, sizeof p) != 0)
        __builtin_trap();
    return 0;
}
