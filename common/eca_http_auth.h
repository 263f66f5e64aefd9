/* SPDX-License-Identifier: MIT */
/* HTTP authentication challenges: which schemes a 401's WWW-Authenticate offers (RFC 9110 §11). */
#ifndef ECA_HTTP_AUTH_H
#define ECA_HTTP_AUTH_H

#include <stddef.h>

#include "eca_http.h"

#define ECA_HTTP_AUTH_BASIC  0x1u /* RFC 7617 */
#define ECA_HTTP_AUTH_DIGEST 0x2u /* RFC 7616 */
#define ECA_HTTP_AUTH_OTHER  0x4u /* Bearer, Negotiate, ... */

/*
 * Schemes named by one WWW-Authenticate value: a comma list of challenges, each a scheme
 * followed by auth-params (quoted strings may hold commas) or a token68. ECA_HTTP_AUTH_ bits.
 */
unsigned eca_http_auth_parse(const char *value);

/* Schemes offered by all WWW-Authenticate headers of resp (any status). */
unsigned eca_http_auth_offered(const struct eca_http_resp *resp);

/* "Basic", "Digest", "Basic, Digest", "none"... for messages; written to out and returned. */
const char *eca_http_auth_names(unsigned schemes, char *out, size_t outlen);

#endif
