#!/bin/bash
# SPDX-License-Identifier: MIT
# `make install` with PREFIX and DESTDIR: binaries, man pages, the docs and example configs,
# the systemd units and the sysusers.d file land where they belong; the units point at the
# installed binaries, the man pages at the installed docs, the binaries run, the installed
# example configuration is valid (`status`), and systemd-sysusers creates the `eca` user
# the units run as from the installed file.
set -euo pipefail
ECA_ROOT=${ECA_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
dest=$(mktemp -d "${TMPDIR:-/tmp}/eca-install-XXXXXX")
trap 'rm -rf "$dest"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

timeout 300 make -s -C "$ECA_ROOT" install BUILD="${BUILD:-build}" DESTDIR="$dest" PREFIX=/opt/eca \
    </dev/null >/dev/null
p=$dest/opt/eca
doc=share/doc/eca
for f in sbin/eca-acme sbin/eca-est share/man/man8/eca-acme.8 share/man/man8/eca-est.8 \
    lib/systemd/system/eca-acme.service lib/systemd/system/eca-est.service \
    lib/sysusers.d/eca.conf \
    $doc/CONFIGURATION.md $doc/OPERATIONS.md $doc/ARCHITECTURE.md \
    $doc/eca-acme.conf.example $doc/eca-est.conf.example \
    $doc/systemd/README.md $doc/systemd/eca-acme.service $doc/systemd/eca-est.service \
    $doc/systemd/eca-acme.service.d/paths.conf.example \
    $doc/systemd/eca-est.service.d/paths.conf.example; do
    [ -s "$p/$f" ] || fail "$f not installed"
    case "$f" in sbin/*) ;; *) [ "$(stat -c %a "$p/$f")" = 644 ] || fail "$f mode $(stat -c %a "$p/$f"), want 644" ;; esac
done
for a in eca-acme eca-est; do
    [ -x "$p/sbin/$a" ] || fail "$a not executable"
    "$p/sbin/$a" --version | grep -q "^$a " || fail "$a --version"
    grep -q "^ExecStart=/opt/eca/sbin/$a " "$p/lib/systemd/system/$a.service" ||
        fail "$a.service does not start /opt/eca/sbin/$a"
    grep -q /usr/local/sbin "$p/lib/systemd/system/$a.service" && fail "$a.service still names /usr/local/sbin"
    grep -q "^User=eca$" "$p/lib/systemd/system/$a.service" || fail "$a.service does not run as eca"
    # The man page names the documentation where this PREFIX put it.
    grep -q "/opt/eca/share/doc/eca" "$p/share/man/man8/$a.8" || fail "$a.8 does not point at /opt/eca/share/doc/eca"
    grep -q "/usr/local/share/doc" "$p/share/man/man8/$a.8" && fail "$a.8 still names /usr/local/share/doc"
done
# Every file the installed docs link to was installed too.
for f in "$p/$doc"/*.md "$p/$doc"/systemd/README.md; do
    for l in $(grep -oE '\]\([^) ]+\)' "$f" | sed -e 's/^](//' -e 's/)$//' -e 's/#.*//'); do
        case "$l" in '' | *://* | mailto:* | ../*) continue ;; esac # ../: the source tree
        [ -e "$(dirname "$f")/$l" ] || fail "installed $(basename "$f") links to $l, not installed"
    done
done
# `status` checks the configuration's text (exit 2 on an error); --check-config would also
# want the example's CA bundle and directories on this machine.
rc=0
"$p/sbin/eca-acme" --config "$p/$doc/eca-acme.conf.example" status >/dev/null 2>&1 || rc=$?
[ "$rc" != 2 ] || fail "the installed eca-acme.conf.example is not a valid configuration"
# The sysusers.d file creates the user and group the units name, in an empty root.
command -v systemd-sysusers >/dev/null || fail "systemd-sysusers missing (scripts/deps.sh installs systemd)"
mkdir -p "$dest/root/etc"
touch "$dest/root/etc/passwd" "$dest/root/etc/group" "$dest/root/etc/shadow" "$dest/root/etc/gshadow"
systemd-sysusers --root="$dest/root" "$p/lib/sysusers.d/eca.conf" </dev/null >/dev/null 2>&1 ||
    fail "systemd-sysusers refused lib/sysusers.d/eca.conf"
grep -q '^eca:x:[0-9]*:[0-9]*:[^:]*:/var/lib/eca:/usr/sbin/nologin$' "$dest/root/etc/passwd" ||
    fail "systemd-sysusers created no eca user from lib/sysusers.d/eca.conf"
grep -q '^eca:x:' "$dest/root/etc/group" || fail "systemd-sysusers created no eca group"
echo "make_install: ok"
