#!/bin/bash
# SPDX-License-Identifier: MIT
# docs/ against the code: (a) both man pages render without warnings (groff, else nroff, else
# mandoc; skipped only when none is installed), (b) every environment variable the code reads
# is documented in docs/CONFIGURATION.md and in the man page of each daemon that reads it,
# (c) every --flag of each main.c usage text appears in that daemon's man page.
set -euo pipefail

ECA_ROOT=${ECA_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ECA_ROOT"

# Variables read by the code that are not settings and need no documentation (none so far).
IGNORE_VARS=${DOCS_CHECK_IGNORE_VARS:-}

fail=0
bad() { echo "docs_check: FAIL: $*" >&2; fail=1; }

conf=docs/CONFIGURATION.md
[ -f "$conf" ] || bad "$conf missing"
for agent in eca-acme eca-est; do
    [ -f "docs/man/$agent.8" ] || bad "docs/man/$agent.8 missing"
done
[ "$fail" = 0 ] || exit 1

# ---- (a) the man pages render without warnings ----
render_check() {
    local page=$1 out
    if command -v groff >/dev/null 2>&1; then
        out=$(groff -man -ww -z "$page" 2>&1) || bad "$page: groff failed: $out"
    elif command -v nroff >/dev/null 2>&1; then
        out=$(nroff -man -ww "$page" 2>&1 >/dev/null) || bad "$page: nroff failed: $out"
    elif command -v mandoc >/dev/null 2>&1; then
        out=$(mandoc -man -T lint -W warning "$page" 2>&1) || true
    else
        bad "no groff, nroff or mandoc (package groff-base, scripts/deps.sh): $page not rendered"
        return 0
    fi
    [ -z "$out" ] || bad "$page: renderer warnings:"$'\n'"$out"
}
for agent in eca-acme eca-est; do
    render_check "docs/man/$agent.8"
done

# ---- (b) environment variables ----
# String literals passed to the functions that read the environment, across line breaks.
env_vars() {
    perl -0777 -ne 'while (/\b(?:getenv|eca_env_[a-z]+|eca_conf_env|eca_conf_where_env|eca_secret_from_env)\(\s*"([A-Za-z_][A-Za-z0-9_]*)"/g) { print "$1\n" }' "$@" |
        sort -u
}

# Man page source with font escapes and \- removed, so names can be matched as words.
man_text() {
    sed -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\-/-/g' -e 's/\\(aq/'"'"'/g' "$1"
}

ignored() {
    local v
    for v in $IGNORE_VARS; do [ "$v" = "$1" ] && return 0; done
    return 1
}

# Not the Windows halves (*_win.c): they read the system's variables (%ProgramData%), no settings.
common_vars=$(env_vars $(ls common/*.c common/*.h | grep -v '_win\.c$'))
[ -n "$common_vars" ] || bad "no environment variable found in common/ (is the grep still right?)"
for agent in eca-acme eca-est; do
    dir=${agent}
    vars=$( { env_vars "$dir"/*.c "$dir"/*.h; echo "$common_vars"; } | sort -u)
    page_text=$(man_text "docs/man/$agent.8")
    n=0
    for v in $vars; do
        ignored "$v" && continue
        n=$((n + 1))
        grep -qw -- "$v" "$conf" || bad "$v (read by $agent) is not documented in $conf"
        grep -qw -- "$v" <<<"$page_text" || bad "$v (read by $agent) is not in docs/man/$agent.8"
    done
    echo "docs_check: $agent: $n environment variables checked"
done

# ---- (c) command-line flags ----
for agent in eca-acme eca-est; do
    main=$agent/main.c
    [ -f "$main" ] || { bad "$main missing"; continue; }
    flags=$(sed -n '/^usage(/,/^}/p' "$main" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
    [ -n "$flags" ] || bad "$main: no --flag found in usage() (is the grep still right?)"
    page_text=$(man_text "docs/man/$agent.8")
    for f in $flags; do
        grep -qF -- "$f" <<<"$page_text" || bad "$f (usage of $main) is not in docs/man/$agent.8"
    done
    echo "docs_check: $agent: $(wc -w <<<"$flags") flags checked"
done

if [ "$fail" = 0 ]; then
    echo "docs_check: PASS"
fi
exit "$fail"
