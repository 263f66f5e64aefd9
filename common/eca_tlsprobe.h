/* SPDX-License-Identifier: MIT */
/* Ask a TLS server which certificate it serves: the check that a reload took effect. */
#ifndef ECA_TLSPROBE_H
#define ECA_TLSPROBE_H

#include <stddef.h>

#include "eca_err.h"

/*
 * Connect to `hostport` ("127.0.0.1:443", "[::1]:443", "name:443") within timeout_ms, do a
 * TLS handshake with SNI `sni` (NULL: the host, unless it is an IP literal) and put the
 * served leaf's serial (lower-case hex) into serial. No trust rests on the answer: it only
 * identifies which certificate is served, so the peer is not verified. ECA_EINVAL for a bad
 * address, ECA_ENET (connect), ECA_ETLS (handshake), ECA_ETIMEOUT.
 */
enum eca_rc eca_tlsprobe_serial(const char *hostport, const char *sni, int timeout_ms, char *serial,
                                size_t len, struct eca_err *err);

#endif
