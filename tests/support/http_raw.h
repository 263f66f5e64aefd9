/* SPDX-License-Identifier: MIT */
/* A raw HTTP/1.1 response parser for canned fixtures and fuzz targets (never in a daemon). */
#ifndef HTTP_RAW_H
#define HTTP_RAW_H

#include <stddef.h>

#include "eca_http.h"

/*
 * Parse a wire-exact HTTP/1.1 response (status line, headers, body; Content-Length or
 * chunked or to-end; CRLF or LF). For canned fixtures and fuzzing. resp must be initialised;
 * its body cap (resp->body.max) gives ECA_ETOOBIG. ECA_EPARSE names the part at fault
 * ("HTTP status line", "header line N" counting the status line as line 1, "chunk size").
 */
enum eca_rc test_http_parse_raw(const void *bytes, size_t len, struct eca_http_resp *resp,
                                struct eca_err *err);

#endif
