/* SPDX-License-Identifier: MIT */
/* libFuzzer target: eca_json_parse on raw bytes, then the typed getters and the dumper. */
#include <stdint.h>
#include <stdlib.h>

#include "eca_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"status", "url", "detail", "type", "n", ""};
    struct json_object *o = NULL, *sub = NULL;
    struct eca_err err = {0};
    const char *s = NULL;
    long long n = 0;
    int b = 0;
    size_t i;
    char *dump;

    if (eca_json_parse("fuzz", data, size, &o, &err) != ECA_OK) {
        if (err.msg[0] == '\0')
            abort(); /* every failure must say why */
        return 0;
    }
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        (void)eca_json_get_str(o, "fuzz", keys[i], 0, &s, &err);
        (void)eca_json_get_int(o, "fuzz", keys[i], 1, &n, &err);
        (void)eca_json_get_bool(o, "fuzz", keys[i], 0, &b, &err);
        (void)eca_json_get_obj(o, "fuzz", keys[i], 0, &sub, &err);
        (void)eca_json_get_array(o, "fuzz", keys[i], 0, &sub, &err);
    }
    dump = eca_json_dump(o);
    free(dump);
    json_object_put(o);
    return 0;
}
