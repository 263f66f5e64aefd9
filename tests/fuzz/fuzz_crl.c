/* SPDX-License-Identifier: MIT */
/* libFuzzer target: CRLs (PEM or DER) through eca_crl_parse and the lookups on the result. */
#include <stddef.h>
#include <stdint.h>

#include "eca_crl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct eca_crl *crl = NULL;

    if (eca_crl_parse(data, size, &crl, NULL) != ECA_OK)
        return 0;
    (void)eca_crl_is_serial_revoked(crl, "01");
    (void)eca_crl_check_fresh(crl, 1700000000, 3600, NULL);
    (void)eca_crl_count(crl);
    eca_crl_free(crl);
    return 0;
}
