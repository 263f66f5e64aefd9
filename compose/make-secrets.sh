#!/bin/sh
# SPDX-License-Identifier: MIT
# Generate the demo's Docker secrets (never committed): bootstrap token, EAB HMAC key, PFX
# password. Files are 0600; the agents (uid 10001) refuse secrets others can read, so when run
# as root the files are given to uid 10001, otherwise run compose with ECA_UID=$(id -u).
set -eu

dir=${1:-$(cd "$(dirname "$0")" && pwd)/secrets}
umask 077
mkdir -p "$dir"

# new NAME COMMAND...: create dir/NAME from the command's output unless it exists.
new() {
    name=$1
    shift
    if [ -s "$dir/$name" ]; then
        echo "make-secrets: keeping $dir/$name"
        return 0
    fi
    "$@" >"$dir/$name.tmp"
    mv "$dir/$name.tmp" "$dir/$name"
    [ "$(id -u)" = 0 ] && chown "${ECA_UID:-10001}:${ECA_GID:-10001}" "$dir/$name"
    echo "make-secrets: wrote $dir/$name"
}

b64url() { openssl rand -base64 "$1" | tr '+/' '-_' | tr -d '=\n'; }
new bootstrap_token b64url 24
new eab_hmac_key b64url 32
new pfx_password b64url 18
