/* SPDX-License-Identifier: MIT */
/* Fuzz the renewalInfo parser (raw HTTP and bare JSON), RFC 3339 times and the ARI state file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme_ari.h"
#include "http_raw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct eca_http_resp resp;
    struct acme_ari *a = NULL;
    struct acme_ari_choice c, chosen;
    char *text;
    time_t t;

    eca_http_resp_init(&resp, 0);
    if (test_http_parse_raw(data, size, &resp, NULL) == ECA_OK &&
        acme_ari_parse(&resp, 1796284800, &a, NULL) == ECA_OK) {
        /* Whatever the server sent, the chosen time lies in its window. */
        acme_ari_choose(a, "aYhb.AQ", NULL, (uint64_t)size * 2654435761u, 1796284800, &chosen);
        if (a->end < a->start)
            abort();
        if (a->start > 1796284800 ? chosen.at < a->start || chosen.at > a->end
                                  : chosen.at != 1796284800)
            abort();
    }
    acme_ari_free(a);
    a = NULL;
    acme_ari_retry_after(&resp, 1796284800);
    eca_http_resp_free(&resp);
    acme_ari_parse_json(data, size, &a, NULL);
    acme_ari_free(a);
    acme_ari_choice_parse(data, size, &c, NULL);
    if ((text = malloc(size + 1)) != NULL) {
        memcpy(text, data, size);
        text[size] = '\0';
        acme_ari_time_parse(text, &t);
        free(text);
    }
    return 0;
}
