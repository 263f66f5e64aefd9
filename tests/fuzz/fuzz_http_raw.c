/* SPDX-License-Identifier: MIT */
/* Fuzz target: raw HTTP/1.1 responses through test_http_parse_raw and the header accessors. */
#include <stdint.h>
#include <string.h>

#include "eca_http.h"
#include "http_raw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct eca_http_resp resp;
    struct eca_err err;
    char v[128];
    size_t n;

    /* A small cap as well, so the ETOOBIG paths run. */
    eca_http_resp_init(&resp, size > 64 ? size / 2 : 64);
    if (test_http_parse_raw(data, size, &resp, &err) == ECA_OK) {
        if (eca_http_resp_header(&resp, "Retry-After", v, sizeof v))
            eca_http_retry_after(v, 784111777);
        eca_http_resp_media_type(&resp, v, sizeof v);
        for (size_t i = 0; eca_http_resp_header_nth(&resp, "Link", i) != NULL; i++)
            ;
    }
    eca_http_resp_free(&resp);
    /* The input as a Retry-After value too (HTTP-date parsing). */
    n = size < sizeof v ? size : sizeof v - 1;
    memcpy(v, data, n);
    v[n] = '\0';
    eca_http_retry_after(v, 784111777);
    return 0;
}
