/* SPDX-License-Identifier: MIT */
/* libFuzzer target: EST certs-only bodies (base64 or DER PKCS#7) through est_certs_parse_body. */
#include <stddef.h>
#include <stdint.h>

#include "est_cacerts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct eca_chain *c = NULL;

    if (est_certs_parse_body("cacerts", data, size, &c, NULL) == ECA_OK)
        eca_x509_chain_free(c);
    return 0;
}
