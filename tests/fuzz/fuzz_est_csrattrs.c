/* SPDX-License-Identifier: MIT */
/* libFuzzer target: /csrattrs bodies (base64 or DER CsrAttrs) through est_csrattrs_parse_body and
 * the merge with a configuration (est_csrattrs_plan). */
#include <stddef.h>
#include <stdint.h>

#include "est_enroll.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct est_csrattrs a;
    struct est_csrattrs_plan plan;

    if (est_csrattrs_parse_body(data, size, &a, NULL) == ECA_OK) {
        est_csrattrs_plan(&a, ECA_KEY_EC_P256, 0, 0, 0, &plan);
        est_csrattrs_plan(&a, ECA_KEY_RSA_3072, 1, 1, 1, &plan);
    }
    return 0;
}
