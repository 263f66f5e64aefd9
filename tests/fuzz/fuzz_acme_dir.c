/* SPDX-License-Identifier: MIT */
/* Fuzz the ACME directory parser, from raw HTTP and from bare JSON. */
#include <stdint.h>

#include "acme_dir.h"
#include "http_raw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct eca_http_resp resp;
    struct acme_dir *d = NULL;

    eca_http_resp_init(&resp, 0);
    if (test_http_parse_raw(data, size, &resp, NULL) == ECA_OK)
        acme_dir_parse(&resp, &d, NULL);
    acme_dir_free(d);
    d = NULL;
    eca_http_resp_free(&resp);
    acme_dir_parse_json(data, size, &d, NULL);
    acme_dir_free(d);
    return 0;
}
