/* SPDX-License-Identifier: MIT */
/* libFuzzer target: request heads through eca_listen_parse (what a listener hands its caller). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eca_listen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct eca_listen_req req = {0};
    char *head;

    if (size > ECA_LISTEN_MAX_REQUEST || (head = malloc(size + 1)) == NULL)
        return 0;
    memcpy(head, data, size);
    head[size] = '\0';
    /* A request handed out has an origin-form path inside the head, with no query. */
    if (eca_listen_parse(head, &req) == 0 &&
        (req.path < head || req.path >= head + size || req.path[0] != '/' ||
         strchr(req.path, '?') != NULL || strchr(req.path, ' ') != NULL))
        abort();
    free(head);
    return 0;
}
