#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian 12 packages that build, tests and demo need, only those missing.
set -eu

# One list, installed by one apt-get: nothing a test runs installs anything.
#   build + unit: build-essential pkg-config lib*-dev check clang-format clang libclang-rt-14-dev
#   servers the tests and demo run: pebble nginx-light mosquitto(-clients) python3(-cryptography)
#   peers: strongswan-pki + plugins (EST client); prometheus (promtool, demo); systemd (systemd-analyze)
#   Windows cross-build and tests: mingw-w64 toolchain, dpkg-dev (apt-get source), cmake, wine64
#   sidecars on a real engine: docker.io, docker-compose, debootstrap (the local base image)
#   tools: procps psmisc iproute2 (ss names a port's holder) time git
#   benchmark peer (make bench): uacme
PKGS="build-essential pkg-config libssl-dev libcurl4-openssl-dev libjson-c-dev libconfig-dev check
openssl curl ca-certificates pebble nginx-light mosquitto mosquitto-clients
strongswan-pki libstrongswan-extra-plugins libstrongswan-standard-plugins python3 python3-cryptography
procps psmisc iproute2 time git groff-base clang-format clang libclang-rt-14-dev prometheus systemd
gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 mingw-w64-x86-64-dev dpkg-dev cmake make perl patch
wine64 wine docker.io docker-compose debootstrap uacme"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "deps: all packages present"
    exit 0
fi

echo "deps: missing Debian packages:$missing"
if [ "$(id -u)" != 0 ]; then
    echo "deps: not root; install them with: sudo apt-get install$missing" >&2
    exit 1
fi
echo "deps: running apt-get update and apt-get install$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q </dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing </dev/null
# Debian starts these services on install; our tests and demo run their own instances on
# loopback ports, so the system instances are stopped to leave nothing listening.
# (prometheus is installed for promtool; its packaged server would listen on :9090.)
for svc in nginx mosquitto prometheus docker containerd; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q "$svc" 2>/dev/null; then
        systemctl stop "$svc" || true
    fi
done
echo "deps: done"
