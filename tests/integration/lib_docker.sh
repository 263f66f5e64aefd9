#!/bin/bash
# SPDX-License-Identifier: MIT
# A private Docker engine for scenarios (sourced after lib.sh): its own dockerd (no bridge, no
# iptables) on a socket in $IT_TMP, stopped by PID at the end; a persistent data root and base
# image cache in $ECA_DOCKER_CACHE (default /var/cache/eca-docker, serialised with flock), and
# the base image debian:12-slim built locally with debootstrap from the host's own apt mirror,
# since no image registry is reachable.
#
# Usage: . lib.sh; . lib_docker.sh; it_init; docker_start; docker_base_image

ECA_DOCKER_CACHE=${ECA_DOCKER_CACHE:-/var/cache/eca-docker}
# Debian's CLI (docker.io): it has BuildKit and speaks to the 20.10 engine; a newer CLI
# elsewhere on PATH may not.
DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}
DOCKERD_PID=

docker() { "$DOCKER_CLI" "$@"; }

# docker_need: every tool the engine needs, or FAIL naming the package (never a SKIP: CI
# installs them with scripts/deps.sh).
docker_need() {
    local t
    for t in /usr/sbin/dockerd "$DOCKER_CLI" /usr/bin/docker-compose /usr/sbin/debootstrap flock; do
        [ -x "$t" ] || command -v "$t" >/dev/null 2>&1 ||
            die "$t not found: run scripts/deps.sh (docker.io, docker-compose, debootstrap)"
    done
    [ "$(id -u)" = 0 ] || die "dockerd and debootstrap need root (run as root, as CI does)"
}

# docker_start: lock the cache (one engine per data root; a concurrent run waits), start
# dockerd, export DOCKER_HOST. Its PID joins IT_PIDS; docker_stop ends it first.
docker_start() {
    docker_need
    mkdir -p "$ECA_DOCKER_CACHE/data" "$ECA_DOCKER_CACHE/base"
    chmod 0700 "$ECA_DOCKER_CACHE"
    exec 9>"$ECA_DOCKER_CACHE/lock"
    if ! flock -n 9; then
        log "waiting for another run holding $ECA_DOCKER_CACHE/lock"
        flock -w "${DOCKER_LOCK_WAIT:-900}" 9 || die "$ECA_DOCKER_CACHE/lock still held"
    fi
    docker_reap_orphan
    local run=$IT_TMP/dockerd
    mkdir -p "$run"
    # 9>&-: dockerd must not hold the lock, or a dockerd that outlived a killed run would
    # keep every later run waiting.
    bg_start dockerd /usr/sbin/dockerd --bridge=none --iptables=false --ip-masq=false \
        --ip6tables=false --data-root "$ECA_DOCKER_CACHE/data" --exec-root "$run/exec" \
        --pidfile "$run/dockerd.pid" -H "unix://$run/docker.sock" --log-level warn 9>&-
    DOCKERD_PID=$BG_PID
    echo "$DOCKERD_PID" >"$ECA_DOCKER_CACHE/dockerd.pid"
    export DOCKER_HOST="unix://$run/docker.sock"
    local _
    for _ in $(seq 120); do
        docker version >/dev/null 2>&1 && break
        kill -0 "$DOCKERD_PID" 2>/dev/null || { tail -n 20 "$IT_TMP/dockerd.log" >&2; die "dockerd exited"; }
        sleep 0.5
    done
    docker version >/dev/null 2>&1 || die "dockerd did not answer on $DOCKER_HOST within 60 s"
    log "dockerd $DOCKERD_PID up: $DOCKER_HOST, data root $ECA_DOCKER_CACHE/data"
    # The engine is this test's alone: whatever a killed run left (containers, which a restart
    # policy would start again, and their volumes) goes now.
    local left
    left=$(docker ps -aq)
    if [ -n "$left" ]; then
        log "removing containers of an interrupted run: $(printf '%s ' $left)"
        # shellcheck disable=SC2086
        timeout 120 docker rm -f -v $left >/dev/null || die "cannot remove old containers"
    fi
    timeout 120 docker volume prune -f >/dev/null || die "cannot remove old volumes"
}

# docker_prune: dangling images of earlier builds and old build cache, so that the cache does
# not grow with every day's new base image.
docker_prune() {
    timeout 120 docker image prune -f >/dev/null 2>&1 || true
    timeout 120 docker builder prune -f --keep-storage "${DOCKER_KEEP_STORAGE:-4GB}" >/dev/null 2>&1 || true
}

# docker_reap_orphan: a run killed with SIGKILL leaves its dockerd running on the data root;
# stop it by the PID that run recorded, if that process is still a dockerd on this data root.
docker_reap_orphan() {
    local pid
    pid=$(cat "$ECA_DOCKER_CACHE/dockerd.pid" 2>/dev/null) || return 0
    rm -f "$ECA_DOCKER_CACHE/dockerd.pid"
    case "$pid" in '' | *[!0-9]*) return 0 ;; esac
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "dockerd .*--data-root $ECA_DOCKER_CACHE/data " ||
        return 0
    local exec_root
    exec_root=$(tr '\0' '\n' <"/proc/$pid/cmdline" | sed -n '/^--exec-root$/{n;p;}')
    log "stopping dockerd $pid, left running by an interrupted run"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    [ -n "$exec_root" ] && docker_umount_under "$exec_root/"
    return 0
}

# docker_umount_under DIR/: what dockerd leaves mounted in its exec root (its default network
# namespace), deepest first.
docker_umount_under() {
    local m
    for m in $(awk -v r="$1" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
}

# docker_stop: SIGTERM dockerd by PID (it stops its containers and its containerd), then wait.
docker_stop() {
    [ -n "$DOCKERD_PID" ] || return 0
    kill "$DOCKERD_PID" 2>/dev/null || true
    local _
    for _ in $(seq 200); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$DOCKERD_PID" 2>/dev/null || true
    wait "$DOCKERD_PID" 2>/dev/null || true
    rm -f "$ECA_DOCKER_CACHE/dockerd.pid"
    DOCKERD_PID=
    docker_umount_under "$IT_TMP/dockerd/"
}

# apt_mirror: the host's Debian mirror (first URIs:/deb line), which the image uses too.
apt_mirror() {
    local m
    m=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
    [ -n "$m" ] || m=$(sed -n 's/^deb  *\(\[[^]]*\] *\)\{0,1\}\(http[^ ]*\) .*/\2/p' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1)
    [ -n "$m" ] || die "no Debian mirror in /etc/apt/sources.list{,.d}"
    printf '%s\n' "$m"
}

# docker_base_image: debian:12-slim from debootstrap (minbase, bookworm) with the host's apt
# sources, imported once per day and mirror; the tarball is cached so a warm run only imports
# it if the engine lacks it, and skips both when the image carries the same key.
docker_base_image() {
    local mirror key tar root
    mirror=$(apt_mirror)
    key="bookworm-$(printf '%s' "$mirror" | sha256sum | cut -c1-12)-$(date -u +%Y%m%d)"
    if [ "$(docker image inspect -f '{{index .Config.Labels "eca.base"}}' debian:12-slim 2>/dev/null)" = "$key" ]; then
        log "base image debian:12-slim is current ($key)"
        return 0
    fi
    tar="$ECA_DOCKER_CACHE/base/$key.tar"
    if [ ! -s "$tar" ]; then
        root="$ECA_DOCKER_CACHE/base/root.$$"
        rm -rf "$root"
        log "debootstrap --variant=minbase bookworm from $mirror"
        timeout --foreground 600 /usr/sbin/debootstrap --variant=minbase bookworm "$root" "$mirror" \
            </dev/null >"$IT_TMP/debootstrap.log" 2>&1 ||
            { tail -n 20 "$IT_TMP/debootstrap.log" >&2; rm -rf "$root"; die "debootstrap failed"; }
        # The image's apt uses the host's sources (same mirror, same suites and keyring).
        rm -f "$root/etc/apt/sources.list"
        if [ -s /etc/apt/sources.list.d/debian.sources ]; then
            cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
        else
            grep -h '^deb ' /etc/apt/sources.list >"$root/etc/apt/sources.list"
        fi
        rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
        tar -C "$root" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
        rm -rf "$root"
        # Older days' tarballs are superseded.
        find "$ECA_DOCKER_CACHE/base" -name 'bookworm-*.tar' ! -name "$key.tar" -delete
    fi
    docker import --change "LABEL eca.base=$key" --change 'CMD ["/bin/bash"]' "$tar" debian:12-slim \
        >/dev/null || die "docker import of $tar failed"
    log "base image debian:12-slim imported ($key)"
}

# wait_until SECONDS CMD...: poll CMD (a command or a function) every 0.5 s until it succeeds,
# for SECONDS of wall-clock time (a slow CMD does not stretch the bound).
wait_until() {
    local end=$((SECONDS + $1))
    shift
    while :; do
        if "$@"; then return 0; fi
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.5
    done
}
