/* SPDX-License-Identifier: MIT */
/* Fuzz the problem document parser, its formatter and the response gate. */
#include <stdint.h>

#include "acme_problem.h"
#include "http_raw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct eca_http_resp resp;
    struct acme_problem *p = NULL;
    struct eca_err err;
    char text[ECA_ERR_MSG_MAX];

    eca_http_resp_init(&resp, 0);
    if (test_http_parse_raw(data, size, &resp, NULL) == ECA_OK) {
        acme_problem_check(&resp, "fuzz", "application/json", 1700000000, &err);
        p = acme_problem_of(&resp);
        if (p != NULL)
            acme_problem_format(p, text, sizeof text);
        acme_problem_free(p);
        p = NULL;
    }
    eca_http_resp_free(&resp);
    if (acme_problem_parse(data, size, &p, NULL) == ECA_OK) {
        acme_problem_format(p, text, sizeof text);
        acme_problem_rc(p, 400);
    }
    acme_problem_free(p);
    return 0;
}
