/* SPDX-License-Identifier: MIT */
/* libFuzzer target: /csrattrs bodies (base64 or DER CsrAttrs) through est_csrattrs_parse_body. */
#include <stddef.h>
#include <stdint.h>

#include "est_enroll.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct est_csrattrs a;

    (void)est_csrattrs_parse_body(data, size, &a, NULL);
    return 0;
}
