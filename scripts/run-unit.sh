#!/bin/sh
# SPDX-License-Identifier: MIT
# Run each Check suite with a time bound; fail if any fails.
set -u
fail=0
for t in "$@"; do
    # A suite that ran no check (or whose summary is missing) proves nothing: FAIL.
    if CK_DEFAULT_TIMEOUT=60 timeout 300 "$t" </dev/null >"$t.log" 2>&1 &&
        grep -qE '^100%: Checks: [1-9][0-9]*, Failures: 0, Errors: 0' "$t.log"; then
        echo "PASS $(basename "$t") $(grep -o '[0-9]*%: Checks: [0-9]*' "$t.log" | tail -1)"
    else
        echo "FAIL $(basename "$t")"; tail -n 40 "$t.log"; fail=1
    fi
done
exit $fail
