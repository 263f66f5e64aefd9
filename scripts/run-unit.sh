#!/bin/sh
# SPDX-License-Identifier: MIT
# Run each Check suite with a time bound; fail if any fails.
set -u
fail=0
for t in "$@"; do
    if CK_DEFAULT_TIMEOUT=60 timeout 300 "$t" >"$t.log" 2>&1; then
        echo "PASS $(basename "$t") $(grep -o '[0-9]*%: Checks: [0-9]*' "$t.log" | tail -1)"
    else
        echo "FAIL $(basename "$t")"; tail -n 40 "$t.log"; fail=1
    fi
done
exit $fail
