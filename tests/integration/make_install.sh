#!/bin/bash
# SPDX-License-Identifier: MIT
# `make install` with PREFIX and DESTDIR: binaries, man pages and systemd units land where
# they belong, the units point at the installed binaries, and the binaries run.
set -euo pipefail
ECA_ROOT=${ECA_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
dest=$(mktemp -d "${TMPDIR:-/tmp}/eca-install-XXXXXX")
trap 'rm -rf "$dest"' EXIT

timeout 300 make -s -C "$ECA_ROOT" install BUILD="${BUILD:-build}" DESTDIR="$dest" PREFIX=/opt/eca >/dev/null
for f in sbin/eca-acme sbin/eca-est share/man/man8/eca-acme.8 share/man/man8/eca-est.8 \
    lib/systemd/system/eca-acme.service lib/systemd/system/eca-est.service; do
    [ -s "$dest/opt/eca/$f" ] || { echo "FAIL: $f not installed" >&2; exit 1; }
done
for a in eca-acme eca-est; do
    [ -x "$dest/opt/eca/sbin/$a" ] || { echo "FAIL: $a not executable" >&2; exit 1; }
    "$dest/opt/eca/sbin/$a" --version | grep -q "^$a " || { echo "FAIL: $a --version" >&2; exit 1; }
    grep -q "^ExecStart=/opt/eca/sbin/$a " "$dest/opt/eca/lib/systemd/system/$a.service" ||
        { echo "FAIL: $a.service does not start /opt/eca/sbin/$a" >&2; exit 1; }
    if grep -q /usr/local/sbin "$dest/opt/eca/lib/systemd/system/$a.service"; then
        echo "FAIL: $a.service still names /usr/local/sbin" >&2
        exit 1
    fi
done
echo "make_install: ok"
