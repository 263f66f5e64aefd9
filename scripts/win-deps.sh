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
#   J               parallel make jobs (default: nproc)
# The key hashes the candidate source versions (apt-cache showsrc), the mingw toolchain
# versions and this script, so a Debian security update or an edit here rebuilds by itself.
set -euo pipefail

CACHE=${ECA_WIN_CACHE:-/var/cache/eca-wincross}
KEEP=${ECA_WIN_KEEP:-3}
WIN_SSLDIR=${ECA_WIN_SSLDIR:-C:/Program Files/eca/ssl}
J=${J:-$(nproc)}
HOST=x86_64-w64-mingw32
SRCPKGS="openssl curl json-c libconfig check"
TOOLS="gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 mingw-w64-x86-64-dev dpkg-dev cmake make
perl pkg-config patch"
WINE_TOOLS="wine64 wine"
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

missing_pkgs() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            printf '%s ' "$p"
    done
}

apt_install() {
    [ "$(id -u)" = 0 ] || die "missing Debian packages: $*; install them with: sudo apt-get install $*"
    say "installing missing Debian packages: $*"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2068
    apt-get install -y -q --no-install-recommends $@ >&2 ||
        { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends $@ >&2; }
}

# wine64 first: `wine` alone would pull wine32 through the multiarch alternative.
ensure_tools() {
    local m
    m=$(missing_pkgs $TOOLS)
    [ -z "$m" ] || apt_install $m
    for p in $WINE_TOOLS; do
        m=$(missing_pkgs "$p")
        [ -z "$m" ] || apt_install $m
    done
}

# deb-src entries derived from the machine's own Debian entries, so that no host is hard-coded.
has_deb_src() {
    grep -rqsE '^Types:.*deb-src' /etc/apt/sources.list.d/ && return 0
    grep -qsE '^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list
}

ensure_deb_src() {
    has_deb_src && return 0
    [ "$(id -u)" = 0 ] || die "no deb-src entries in apt sources and not root to add them"
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        say "adding /etc/apt/sources.list.d/eca-deb-src.sources (derived from debian.sources)"
        sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
            >/etc/apt/sources.list.d/eca-deb-src.sources
    elif grep -qs '^deb ' /etc/apt/sources.list; then
        say "adding /etc/apt/sources.list.d/eca-deb-src.list (derived from sources.list)"
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >/etc/apt/sources.list.d/eca-deb-src.list
    else
        die "cannot derive deb-src entries: no debian.sources and no deb lines in sources.list"
    fi
    say "apt-get update (new deb-src entries)"
    apt-get update -q >&2
}

cache_key() {
    {
        for p in $SRCPKGS; do
            echo "src $p"
            apt-cache showsrc --only-source "$p" 2>/dev/null | sed -n 's/^Version: //p' | sort -u
        done
        dpkg-query -W -f='${Package} ${Version}\n' gcc-mingw-w64-x86-64-win32 \
            mingw-w64-x86-64-dev binutils-mingw-w64-x86-64
        echo "ssldir $WIN_SSLDIR"
        cat "$SELF"
    } | sha256sum | cut -c1-16
}

# --- fetch -----------------------------------------------------------------------------------

fetch_one() {
    local p=$1 dl=$W/dl/$1 dsc
    mkdir -p "$dl"
    cd "$dl"
    # Newest first; the security pool has answered 404 for a .dsc it lists, so fall back to the
    # point release (the version actually used goes to VERSIONS).
    if ! apt-get source -q --download-only "$p" >>"$W/logs/fetch.log" 2>&1; then
        rm -f ./*
        apt-get source -q --download-only "$p/bookworm" >>"$W/logs/fetch.log" 2>&1 ||
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

# --- build -----------------------------------------------------------------------------------

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

prune_old() {
    # Keep the newest $KEEP complete prefixes; stale work dirs of killed runs go too.
    local v
    for v in $(ls -1dt "$CACHE"/*/VERSIONS 2>/dev/null | tail -n +$((KEEP + 1))); do
        say "pruning old prefix ${v%/VERSIONS}"
        rm -rf "${v%/VERSIONS}"
    done
    rm -rf "$CACHE"/*.work
}

# --- main ------------------------------------------------------------------------------------

ensure_tools
ensure_deb_src
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
KEY=$(cache_key)
PREFIX=$CACHE/$KEY
if [ -f "$PREFIX/VERSIONS" ]; then
    say "cache hit: $PREFIX ($(($(date +%s) - t0))s)"
else
    say "cache miss: building $PREFIX (about 3 minutes on 2 cores)"
    prune_old
    W=$CACHE/$KEY.work
    P=$PREFIX
    rm -rf "$W" "$P"
    mkdir -p "$W"
    fetch_sources
    build_all
    rm -rf "$W"
    prune_old
    say "built $PREFIX in $(($(date +%s) - t0))s ($(du -sh "$PREFIX" | cut -f1))"
fi
echo "$PREFIX"
