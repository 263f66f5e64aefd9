#!/bin/bash
# SPDX-License-Identifier: MIT
# Run cross-built Check suites under wine64, one exe at a time, passing their exit codes through.
# Usage: windows/wine-run-tests.sh build-win/tests/check_x.exe...
#   WINEPREFIX    default $ECA_WIN_CACHE/wineprefix-<wine version> (created on demand, ~10 s)
#   WINE_TIMEOUT  seconds per suite (default 300): Check cannot fork on Windows, so its own
#                 per-test timeouts are not enforced and only this one bounds a hung suite.
set -uo pipefail
# Nothing here reads a terminal: `timeout` puts wine in a background process group, which job
# control would stop (state T) at a terminal read.
exec </dev/null

CACHE=${ECA_WIN_CACHE:-/var/cache/eca-wincross}
WINE_TIMEOUT=${WINE_TIMEOUT:-300}
WINE=$(command -v wine64 || command -v wine) || { echo "wine-run-tests: wine64 is not installed" >&2; exit 2; }
export WINEPREFIX=${WINEPREFIX:-$CACHE/wineprefix-$("$WINE" --version 2>/dev/null | tr -c 'A-Za-z0-9.\n' _)}
export WINEDEBUG=${WINEDEBUG:--all}
# No Mono/Gecko download prompts: nothing here needs .NET or HTML.
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}
export WINEARCH=win64
# Wine names Linux files in the charset of its LC_CTYPE: under LANG unset or C (ASCII) a
# Windows name like "clé-证书.pem" cannot exist and CreateFileW fails. Pin a UTF-8 locale
# (built into glibc) so that no result depends on the caller's locale.
export LC_ALL=C.UTF-8

[ $# -gt 0 ] || { echo "wine-run-tests: no test executables given" >&2; exit 2; }

if [ ! -f "$WINEPREFIX/system.reg" ]; then
    echo "wine-run-tests: creating WINEPREFIX $WINEPREFIX"
    mkdir -p "$WINEPREFIX"
    s=$(date +%s)
    # A 64-bit-only install reports a missing syswow64 rundll32 here; that is harmless.
    timeout 300 "$WINE" wineboot -i >/dev/null 2>&1
    timeout 120 wineserver -w
    echo "wine-run-tests: WINEPREFIX ready in $(($(date +%s) - s))s"
fi

# A persistent wineserver, booted with null stdio: otherwise every exe pays a server and
# services.exe start, and services started by a test would inherit (and hold open) its output.
wineserver -p 2>/dev/null || true
timeout 120 "$WINE" wineboot </dev/null >/dev/null 2>&1 || true
log=$(mktemp)
trap 'rm -f "$log"' EXIT

fail=0
for exe in "$@"; do
    s=$(date +%s)
    # Through a file, not a pipe: a process the test leaves behind must not hang the reader.
    timeout -k 10 "$WINE_TIMEOUT" "$WINE" "$exe" </dev/null >"$log" 2>&1
    rc=$?
    # wine's msvcrt writes CRLF; strip it so Check's summary line parses like on Linux.
    tr -d '\r' <"$log"
    if [ "$rc" -ne 0 ]; then
        [ "$rc" -eq 124 ] && echo "wine-run-tests: $exe timed out after ${WINE_TIMEOUT}s"
        echo "wine-run-tests: FAIL $exe (exit $rc, $(($(date +%s) - s))s)"
        fail=1
    else
        echo "wine-run-tests: ok   $exe ($(($(date +%s) - s))s)"
    fi
done
# Leave no wineserver behind for this prefix.
wineserver -k 2>/dev/null || true
exit $fail
