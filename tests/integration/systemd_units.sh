#!/bin/bash
# SPDX-License-Identifier: MIT
# docs/systemd units: `systemd-analyze verify` each one (with its example drop-in applied) and
# check that the sandbox settings we promise are present. Without systemd-analyze (package
# systemd, installed by scripts/deps.sh) it exits 77: SKIP, never PASS.
set -euo pipefail

ECA_ROOT=${ECA_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ECA_ROOT/$BUILD" ;; esac

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd_units: SKIP: systemd-analyze not found (package systemd); units not verified"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/eca-units-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0

for agent in eca-acme eca-est; do
    unit="$ECA_ROOT/docs/systemd/$agent.service"
    [ -f "$unit" ] || { echo "systemd_units: FAIL: $unit missing" >&2; fail=1; continue; }
    for want in 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' 'NoNewPrivileges=yes' \
        'CapabilityBoundingSet=' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
        'SystemCallFilter=@system-service' 'Restart=on-failure' \
        "ReadWritePaths=/var/lib/eca/$agent"; do
        grep -qxF -e "$want" "$unit" || { echo "systemd_units: FAIL: $agent: no line '$want'" >&2; fail=1; }
    done
    # verify insists that ExecStart= names an existing executable: point it at the build
    # output when there is one, else at a stand-in, in a copy of the unit.
    bin="$BUILD/$agent"
    if [ ! -x "$bin" ]; then
        bin="$tmp/$agent"
        printf '#!/bin/sh\nexit 0\n' >"$bin"
        chmod 0755 "$bin"
    fi
    sed "s|/usr/local/sbin/$agent|$bin|g" "$unit" >"$tmp/$agent.service"
    mkdir -p "$tmp/$agent.service.d"
    cp "$ECA_ROOT/docs/systemd/$agent.service.d/paths.conf.example" "$tmp/$agent.service.d/paths.conf"
    echo "systemd_units: systemd-analyze verify $agent.service"
    if ! out=$(cd "$tmp" && SYSTEMD_LOG_LEVEL=notice timeout 60 systemd-analyze verify \
        --man=no "$tmp/$agent.service" 2>&1); then
        echo "$out" >&2
        echo "systemd_units: FAIL: $agent.service does not verify" >&2
        fail=1
    elif echo "$out" | grep -iE -e "$agent|\.conf:" >&2; then
        echo "systemd_units: FAIL: $agent.service: verify reported the lines above" >&2
        fail=1
    fi
    if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
        echo "systemd_units: exposure: $(cd "$tmp" && timeout 60 systemd-analyze security \
            --offline=yes --no-pager "$tmp/$agent.service" 2>/dev/null | tail -n 1)"
    fi
done
[ "$fail" = 0 ] && echo "systemd_units: PASS"
exit "$fail"
