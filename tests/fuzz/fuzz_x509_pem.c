/* SPDX-License-Identifier: MIT */
/* Fuzz target: PEM certificate chains through eca_x509_chain_from_pem and what reads a chain. */
#include <stddef.h>
#include <stdint.h>

#include "eca_x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct eca_chain *c = NULL;
    struct eca_buf out;
    char text[1024];
    size_t i;

    if (eca_x509_chain_from_pem(data, size, &c, NULL) != ECA_OK)
        return 0;
    eca_buf_init(&out, 0);
    for (i = 0; i < eca_x509_chain_count(c); i++) {
        X509 *x = eca_x509_chain_get(c, i);

        (void)eca_x509_not_after(x);
        eca_x509_serial_hex(x, text, sizeof text);
        eca_x509_subject(x, text, sizeof text);
        eca_x509_dns_names(x, text, sizeof text);
    }
    (void)eca_x509_chain_order(c, NULL);
    (void)eca_x509_chain_to_pem(c, 0, &out, NULL);
    eca_buf_free(&out);
    eca_x509_chain_free(c);
    return 0;
}
