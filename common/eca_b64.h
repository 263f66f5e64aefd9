/* SPDX-License-Identifier: MIT */
/* Base64 (RFC 4648 §4, lenient on input whitespace) and base64url without padding (§5). */
#ifndef ECA_B64_H
#define ECA_B64_H

#include <stddef.h>

#include "eca_buf.h"
#include "eca_err.h"

/* Append the standard encoding (with padding, no line breaks) of p[0..n) to out. */
enum eca_rc eca_b64_encode(const void *p, size_t n, struct eca_buf *out, struct eca_err *err);

/* Append the base64url encoding without padding. */
enum eca_rc eca_b64url_encode(const void *p, size_t n, struct eca_buf *out, struct eca_err *err);

/*
 * Decode standard base64 and append to out. Whitespace (space, tab, CR, LF) anywhere is
 * skipped, padding optional; any other foreign byte is ECA_EPARSE naming its offset.
 */
enum eca_rc eca_b64_decode(const char *s, size_t n, struct eca_buf *out, struct eca_err *err);

/* Decode base64url (no whitespace, padding optional) and append to out. */
enum eca_rc eca_b64url_decode(const char *s, size_t n, struct eca_buf *out, struct eca_err *err);

#endif
