/* SPDX-License-Identifier: MIT */
/* Fuzz the pure order, authorization and challenge parsers and the state machine. */
#include <stdint.h>
#include <stdlib.h>

#include "acme_order.h"
#include "http_raw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Drive the state machine over a parsed order with every authorization unfetched. */
static void
walk(const struct acme_order *o, struct acme_authz *a)
{
    struct acme_authz *authz[ACME_ORDER_MAX_IDS] = {0};
    unsigned char responded[ACME_ORDER_MAX_IDS] = {0};
    struct acme_order_state st = {o, authz, responded, 0, 0};
    struct acme_action act;

    acme_order_next(&st, &act, NULL);
    if (o->nauthz > 0)
        authz[0] = a;
    acme_order_next(&st, &act, NULL);
    responded[0] = 1;
    st.finalized = 1;
    acme_order_next(&st, &act, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct eca_http_resp resp;
    struct acme_order *o = NULL;
    struct acme_authz *a = NULL;
    struct acme_challenge *c = NULL;
    char *urls[4];
    size_t n;

    eca_http_resp_init(&resp, 0);
    if (test_http_parse_raw(data, size, &resp, NULL) == ECA_OK) {
        acme_order_parse(&resp, &o, NULL);
        acme_authz_parse(&resp, &a, NULL);
        acme_challenge_parse(&resp, &c, NULL);
        n = acme_order_links(&resp, "alternate", urls, 4);
        for (size_t i = 0; i < n; i++)
            free(urls[i]);
        if (o != NULL && a != NULL)
            walk(o, a);
        if (o != NULL)
            walk(o, NULL);
        acme_order_free(o);
        acme_authz_free(a);
        acme_challenge_free(c);
        o = NULL;
        a = NULL;
    }
    eca_http_resp_free(&resp);
    /* The bare JSON parsers, for inputs that are not HTTP at all. */
    if (acme_order_parse_json(data, size, &o, NULL) == ECA_OK)
        walk(o, NULL);
    acme_order_free(o);
    if (acme_authz_parse_json(data, size, &a, NULL) == ECA_OK)
        acme_authz_free(a);
    return 0;
}
