/* SPDX-License-Identifier: MIT */
/* libFuzzer target: WWW-Authenticate values through eca_http_auth_parse (quoted strings, token68).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eca_http_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *v = malloc(size + 1), names[64];

    if (v == NULL)
        return 0;
    memcpy(v, data, size);
    v[size] = '\0';
    eca_http_auth_names(eca_http_auth_parse(v), names, sizeof names);
    free(v);
    return 0;
}
