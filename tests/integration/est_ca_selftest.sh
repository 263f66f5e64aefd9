#!/bin/bash
# SPDX-License-Identifier: MIT
# The demo EST CA's own tests (est_ca_selftest.py): Basic and Digest, PoP, libest csrattrs,
# handshake counting, re-enrollment and revocation, with a plain Python client.
# eca-timeout: 120
. "$(dirname "$0")/lib.sh"
it_init
timeout --foreground 110 "${PYTHON:-python3}" -B "$(dirname "$0")/est_ca_selftest.py" \
    </dev/null || die "est_ca_selftest.py failed"
log "PASS"
