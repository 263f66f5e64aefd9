#!/bin/bash
# SPDX-License-Identifier: MIT
# Cross-build static OpenSSL, libcurl, json-c, libconfig and Check for x86_64-w64-mingw32 from
# Debian source packages into a prefix cached outside the clone (docs/WINDOWS.md).
#
# Usage: scripts/win-deps.sh [--no-wine]
#   Prints progress on stderr and the prefix directory on stdout (its only output there).
#   ECA_WIN_CACHE   cache root (default /var/cache/eca-wincross); the prefix is $ECA_WIN_CACHE/<key>
#   ECA_WIN_KEEP    how many keys to keep (default 3)
#   ECA_WIN_SSLDIR  OPENSSLDIR baked into libcrypto (default C:/Program Files/eca/ssl: admin-only)
#   ECA_WIN_APT_MAX_AGE  refresh the private deb-src index when older (seconds, default 21600)
#   J               parallel make jobs (default: nproc)
# The key hashes the candidate source versions (apt-cache showsrc), the mingw toolchain
# versions and the recipe part of this script, so a Debian security update or an edit of the
# recipe rebuilds by itself. Nothing is installed and nothing outside $ECA_WIN_CACHE changes.
set -euo pipefail
# Nothing here reads a terminal: job control must never stop a build started in the background.
exec </dev/null

CACHE=${ECA_WIN_CACHE:-/var/cache/eca-wincross}
KEEP=${ECA_WIN_KEEP:-3}
WIN_SSLDIR=${ECA_WIN_SSLDIR:-C:/Program Files/eca/ssl}
J=${J:-$(nproc)}
HOST=x86_64-w64-mingw32
SRCPKGS="openssl curl json-c libconfig check"
# tool -> the Debian package that provides it (all installed up front by scripts/deps.sh).
TOOLS="x86_64-w64-mingw32-gcc:gcc-mingw-w64-x86-64 x86_64-w64-mingw32-ar:binutils-mingw-w64-x86-64
x86_64-w64-mingw32-windres:binutils-mingw-w64-x86-64 dpkg-source:dpkg-dev cmake:cmake make:make
perl:perl pkg-config:pkg-config patch:patch apt-get:apt"
HEADER=/usr/share/mingw-w64/include/windows.h:mingw-w64-x86-64-dev
WINE_TOOLS="wine:wine /usr/lib/wine/wine64:wine64"
SELF=$(readlink -f "$0")

for a in "$@"; do
    case $a in
    --no-wine) WINE_TOOLS= ;;
    *) echo "win-deps: unknown argument '$a'" >&2; exit 2 ;;
    esac
done

say() { echo "win-deps: $*" >&2; }
die() { say "error: $*"; exit 1; }
t0=$(date +%s)

# Nothing is installed from here (a build must not change the system): name what is missing.
check_tools() {
    local t missing=""
    for t in $TOOLS $WINE_TOOLS; do
        command -v "${t%%:*}" >/dev/null && continue
        case "$missing " in *" ${t#*:} "*) ;; *) missing="$missing ${t#*:}" ;; esac
    done
    [ -e "${HEADER%%:*}" ] || missing="$missing ${HEADER#*:}"
    [ -z "$missing" ] ||
        die "missing Debian packages:$missing; run scripts/deps.sh (as root) to install them"
}

# --- a private apt configuration --------------------------------------------------------------
# Sources come from deb-src entries derived from the machine's own Debian entries (no host is
# hard-coded), kept with their index files under $CACHE/apt: nothing in /etc/apt, /var/lib/apt
# or /var/cache/apt changes.

# Only the Debian archive's entries (URI path .../debian or .../debian-security): third-party
# repositories rarely publish sources.
DEBIAN_URI='[a-z+]+://[^ ]+/debian(-security)?/?'
write_src_lists() {
    local d=$1 f
    mkdir -p "$d/sources.list.d"
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -e "$f" ] || continue
        sed -En "s#^[[:space:]]*deb[[:space:]]+((\[[^]]*\][[:space:]]+)?$DEBIAN_URI[[:space:]])#deb-src \1#p" "$f"
    done >"$d/sources.list.new"
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -e "$f" ] || continue
        awk -v uri="^URIs:[[:space:]]*$DEBIAN_URI\$" 'BEGIN { RS = ""; ORS = "\n\n" }
            { n = split($0, l, "\n"); ok = 0; deb = 0; out = "" }
            { for (i = 1; i <= n; i++) {
                  if (l[i] ~ /^Enabled:[[:space:]]*[Nn]o/) next
                  if (l[i] ~ uri) ok = 1
                  if (l[i] ~ /^Types:/) { if (l[i] ~ /[[:space:]]deb([[:space:]]|$)/) deb = 1; l[i] = "Types: deb-src" }
                  out = out l[i] "\n"
              }
              if (ok && deb) printf "%s\n", out }' "$f"
    done >"$d/sources.list.d/eca-src.sources.new"
    grep -q . "$d/sources.list.new" "$d/sources.list.d/eca-src.sources.new" ||
        die "cannot derive deb-src entries: no Debian deb entries in /etc/apt/sources.list{,.d}"
    mv "$d/sources.list.new" "$d/sources.list"
    mv "$d/sources.list.d/eca-src.sources.new" "$d/sources.list.d/eca-src.sources"
}

# APT_OPTS: every apt call below reads only the private lists and caches.
setup_apt() {
    local a=$CACHE/apt age
    mkdir -p "$a/lists/partial" "$a/cache/archives/partial"
    write_src_lists "$a"
    APT_OPTS=(-o "Dir::Etc::SourceList=$a/sources.list" -o "Dir::Etc::SourceParts=$a/sources.list.d"
        -o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache" -o "Dir::Cache::pkgcache="
        -o "Dir::Cache::srcpkgcache=")
    # The index is refreshed when older than ECA_WIN_APT_MAX_AGE seconds (default 6 h), so a
    # security update still changes the cache key within a day; offline, the old index serves.
    cat "$a/sources.list" "$a/sources.list.d/eca-src.sources" >"$a/entries"
    age=$(($(date +%s) - $(stat -c %Y "$a/lists/.updated" 2>/dev/null || echo 0)))
    if [ "$age" -gt "${ECA_WIN_APT_MAX_AGE:-21600}" ] || ! cmp -s "$a/entries" "$a/lists/.updated"; then
        say "apt-get update (private deb-src index under $a)"
        if timeout 600 apt-get "${APT_OPTS[@]}" -q update >"$a/update.log" 2>&1; then
            cp "$a/entries" "$a/lists/.updated"
        elif ls "$a"/lists/*Sources* >/dev/null 2>&1; then
            say "warning: apt-get update failed (see $a/update.log); using the previous index"
        else
            tail -20 "$a/update.log" >&2
            die "apt-get update of the private deb-src index failed (see $a/update.log)"
        fi
    fi
}

cache_key() {
    {
        for p in $SRCPKGS; do
            echo "src $p"
            apt-cache "${APT_OPTS[@]}" showsrc --only-source "$p" 2>/dev/null | sed -n 's/^Version: //p' | sort -u
        done
        dpkg-query -W -f='${Package} ${Version}\n' gcc-mingw-w64-x86-64-win32 \
            mingw-w64-x86-64-dev binutils-mingw-w64-x86-64
        echo "ssldir $WIN_SSLDIR"
        sed -n '/^# --- recipe/,/^# --- end of recipe/p' "$SELF"
    } | sha256sum | cut -c1-16
}

# --- recipe: fetch and build (only this part of the script is hashed into the cache key) -----

fetch_one() {
    local p=$1 dl=$W/dl/$1 dsc
    mkdir -p "$dl"
    cd "$dl"
    # Newest first; the security pool has answered 404 for a .dsc it lists, so fall back to the
    # point release (the version actually used goes to VERSIONS).
    if ! timeout 600 apt-get "${APT_OPTS[@]}" source -q --download-only "$p" >>"$W/logs/fetch.log" 2>&1; then
        rm -f ./*
        timeout 600 apt-get "${APT_OPTS[@]}" source -q --download-only "$p/bookworm" >>"$W/logs/fetch.log" 2>&1 ||
            { tail -20 "$W/logs/fetch.log" >&2; die "apt-get source $p failed"; }
    fi
    dsc=$(ls ./*.dsc)
    dpkg-source -x "$dsc" "$W/src/$p" >>"$W/logs/fetch.log" 2>&1
    echo "$p $(sed -n 's/^Version: //p' "$dsc")" >>"$W/VERSIONS"
}

fetch_sources() {
    local p
    mkdir -p "$W/dl" "$W/src" "$W/logs"
    : >"$W/VERSIONS"
    for p in $SRCPKGS; do fetch_one "$p"; done
    # Debian's last two curl patches retarget the library to -gnutls / -nss: undo them.
    cd "$W/src/curl"
    patch -R -s -p1 <debian/patches/99_nss.patch
    patch -R -s -p1 <debian/patches/90_gnutls.patch
    sed 's/^/win-deps:   /' "$W/VERSIONS" >&2
}


write_toolchain() {
    cat >"$W/mingw64.cmake" <<EOF
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER $HOST-gcc)
set(CMAKE_RC_COMPILER $HOST-windres)
set(CMAKE_AR $HOST-ar CACHE FILEPATH "")
set(CMAKE_RANLIB $HOST-ranlib CACHE FILEPATH "")
set(CMAKE_FIND_ROOT_PATH /usr/$HOST $P)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
EOF
}

step() {
    local name=$1 s
    s=$(date +%s)
    shift
    if ("$@") >"$W/logs/$name.log" 2>&1; then
        say "  $name: $(($(date +%s) - s))s"
    else
        tail -30 "$W/logs/$name.log" >&2
        die "$name failed (log: $W/logs/$name.log)"
    fi
}

b_openssl() {
    cd "$W/src/openssl"
    # no-module: legacy provider inside libcrypto; no-autoload-config: no implicit openssl.cnf.
    ./Configure mingw64 --cross-compile-prefix=$HOST- no-shared no-module no-autoload-config \
        no-tests --prefix="$P" --libdir=lib -DNDEBUG
    # A cross-build bakes Linux paths (C:\tmp\... on Windows, creatable by any user: the
    # CVE-2019-1552 class) unless the directories are overridden with an admin-only path.
    make -j"$J" build_libs OPENSSLDIR="$WIN_SSLDIR" ENGINESDIR="$WIN_SSLDIR/engines-3" \
        MODULESDIR="$WIN_SSLDIR/ossl-modules"
    make install_dev
}

b_curl() {
    cd "$W/src/curl"
    mkdir -p _win
    cd _win
    PKG_CONFIG="pkg-config --static" ../configure --host=$HOST --prefix="$P" \
        --disable-shared --enable-static --with-openssl="$P" --disable-pthreads \
        --without-zlib --without-brotli --without-zstd --without-libssh2 --without-libssh \
        --without-nghttp2 --without-nghttp3 --without-ngtcp2 --without-libidn2 --without-libpsl \
        --without-librtmp --without-libgsasl --without-ca-bundle --without-ca-path \
        --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet \
        --disable-tftp --disable-pop3 --disable-imap --disable-smtp --disable-smb \
        --disable-gopher --disable-mqtt --disable-ftp --disable-manual --disable-ntlm \
        --disable-kerberos-auth --disable-negotiate-auth --disable-sspi
    make -j"$J" -C lib
    make -C lib install
    make -C include install
    make install-pkgconfigDATA
}

b_jsonc() {
    cd "$W/src/json-c"
    mkdir -p _win
    cd _win
    cmake .. -DCMAKE_TOOLCHAIN_FILE="$W/mingw64.cmake" -DCMAKE_INSTALL_PREFIX="$P" \
        -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIBS=ON \
        -DBUILD_TESTING=OFF -DDISABLE_WERROR=ON -DBUILD_APPS=OFF -DDISABLE_EXTRA_LIBS=ON
    make -j"$J"
    make install
}

b_libconfig() {
    cd "$W/src/libconfig"
    mkdir -p _win
    cd _win
    # The header defaults to dllimport; static users need LIBCONFIG_STATIC too (added to .pc).
    ../configure --host=$HOST --prefix="$P" --disable-shared --enable-static \
        --disable-cxx --disable-examples CPPFLAGS=-DLIBCONFIG_STATIC
    make -j"$J" -C lib
    make -C lib install
    sed -i 's|^Cflags: .*|& -DLIBCONFIG_STATIC|' "$P/lib/pkgconfig/libconfig.pc"
}

b_check() {
    cd "$W/src/check"
    mkdir -p _win
    cd _win
    ../configure --host=$HOST --prefix="$P" --disable-shared --enable-static \
        --disable-subunit --disable-timeout-tests --disable-build-docs \
        CPPFLAGS=-D__USE_MINGW_ANSI_STDIO=1
    make -j"$J" -C lib
    make -j"$J" -C src
    make -C lib install
    make -C src install
    install -m 644 check_stdint.h "$P/include/"
    # ck_assert_int_* print %jd: gnu_printf, or every call warns under mingw's ms_printf.
    sed -i 's/CK_ATTRIBUTE_FORMAT(printf,/CK_ATTRIBUTE_FORMAT(gnu_printf,/' "$P/include/check.h"
    sed 's/-lcheck_pic/-lcheck/' check.pc >"$P/lib/pkgconfig/check.pc"
}

build_all() {
    local s
    export PKG_CONFIG_LIBDIR=$P/lib/pkgconfig PKG_CONFIG_PATH=
    mkdir -p "$P/lib/pkgconfig"
    write_toolchain
    for s in openssl curl jsonc libconfig check; do step "$s" "b_$s"; done
    rm -f "$P"/lib/*.la
    rm -rf "$P/share" "$P/bin"
    cp "$W/VERSIONS" "$P/VERSIONS"
}

# --- end of recipe ---------------------------------------------------------------------------

prune_old() {
    # Keep the newest $KEEP complete prefixes; work dirs of killed runs (lock free) go too.
    local v d
    for v in $(ls -1dt "$CACHE"/*/VERSIONS 2>/dev/null | tail -n +$((KEEP + 1))); do
        say "pruning old prefix ${v%/VERSIONS}"
        rm -rf "${v%/VERSIONS}"
    done
    for d in "$CACHE"/work/*/; do
        [ -d "$d" ] || continue
        d=${d%/}
        flock -n "$d.lock" rm -rf "$d" || true
    done
}

# --- main ------------------------------------------------------------------------------------

check_tools
mkdir -p "$CACHE/work"
# The private apt index: exclusive while it is refreshed, shared while it is read (key, fetch).
exec 8>"$CACHE/apt.lock"
flock 8
setup_apt
flock -s 8
KEY=$(cache_key)
PREFIX=$CACHE/$KEY
# One build per key at a time; builds of different keys (other checkouts) run side by side.
exec 9>"$CACHE/work/$KEY.lock"
flock 9
if [ -f "$PREFIX/VERSIONS" ]; then
    exec 8>&-
    say "cache hit: $PREFIX ($(($(date +%s) - t0))s)"
else
    say "cache miss: building $PREFIX (3-15 minutes on 2 cores, see docs/WINDOWS.md)"
    W=$CACHE/work/$KEY
    P=$PREFIX
    rm -rf "$W" "$P"
    mkdir -p "$W"
    fetch_sources
    exec 8>&-
    build_all
    rm -rf "$W"
    prune_old
    say "built $PREFIX in $(($(date +%s) - t0))s ($(du -sh "$PREFIX" | cut -f1))"
fi
echo "$PREFIX"
