/* SPDX-License-Identifier: MIT */
/* libFuzzer target: base64/base64url decoders on raw bytes; decoded data must round-trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eca_b64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decode with dec, re-encode with enc, decode again: both decodings must agree. */
static void
round_trip(const char *s, size_t n,
           enum eca_rc (*dec)(const char *, size_t, struct eca_buf *, struct eca_err *),
           enum eca_rc (*enc)(const void *, size_t, struct eca_buf *, struct eca_err *))
{
    struct eca_buf a, e, b;
    struct eca_err err = {0};

    eca_buf_init(&a, 0);
    eca_buf_init(&e, 0);
    eca_buf_init(&b, 0);
    if (dec(s, n, &a, &err) == ECA_OK) {
        if (enc(a.data, a.len, &e, &err) != ECA_OK ||
            dec((const char *)e.data, e.len, &b, &err) != ECA_OK || a.len != b.len ||
            (a.len > 0 && memcmp(a.data, b.data, a.len) != 0))
            abort();
    } else if (err.msg[0] == '\0') {
        abort(); /* every failure must say why */
    }
    eca_buf_free(&a);
    eca_buf_free(&e);
    eca_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    round_trip((const char *)data, size, eca_b64_decode, eca_b64_encode);
    round_trip((const char *)data, size, eca_b64url_decode, eca_b64url_encode);
    return 0;
}
