#!/usr/bin/env bash
# Make sure a Docker engine answers `docker info`. Idempotent.
#
#  * If `docker info` already works (DOCKER_HOST or the default socket): exit 0.
#  * Else, as root on Debian/Ubuntu: install docker.io if dockerd (or the docker
#    client) is missing, start dockerd in the background, wait for it (~60 s).
#  * Else: print one line saying what to install/start and exit 1.
#
# Env: RELEASE_BOT_DOCKERD_LOG (default /tmp/release-bot-dockerd.log)
#      RELEASE_BOT_DOCKER_WAIT (seconds, default 60)
set -euo pipefail

log() { printf 'ensure-docker: %s\n' "$*" >&2; }
die() { printf 'ensure-docker: %s\n' "$*" >&2; exit 1; }

DOCKERD_LOG="${RELEASE_BOT_DOCKERD_LOG:-/tmp/release-bot-dockerd.log}"
WAIT_SECS="${RELEASE_BOT_DOCKER_WAIT:-60}"

engine_ok() {
    command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1
}

if engine_ok; then
    exit 0
fi

# Where the engine should listen.
sock="/var/run/docker.sock"
if [[ -n "${DOCKER_HOST:-}" ]]; then
    case "$DOCKER_HOST" in
        unix://*) sock="${DOCKER_HOST#unix://}" ;;
        *) die "DOCKER_HOST=$DOCKER_HOST does not answer 'docker info'; start that engine or unset DOCKER_HOST." ;;
    esac
fi

is_debian_like() {
    [[ -r /etc/os-release ]] || return 1
    # shellcheck disable=SC1091
    . /etc/os-release
    [[ "${ID:-}" == debian || "${ID:-}" == ubuntu || " ${ID_LIKE:-} " == *" debian "* ]]
}

if [[ "$(id -u)" -ne 0 && -S "$sock" && ! -w "$sock" ]]; then
    die "$sock exists but is not writable by $(id -un): add the user to the 'docker' group (or run as root)."
fi

if [[ "$(id -u)" -ne 0 ]] || ! is_debian_like || ! command -v apt-get >/dev/null 2>&1; then
    die "no Docker engine reachable: install and start one (Debian/Ubuntu: 'apt-get install docker.io && dockerd &' as root), or point DOCKER_HOST at a running engine."
fi

# 1. Install the engine (and a client) if missing.
if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-cache policy docker.io 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        log "apt-get update"
        apt-get update -qq
    fi
    log "apt-get install docker.io"
    apt-get install -y -qq --no-install-recommends docker.io iptables ca-certificates >/dev/null
    command -v dockerd >/dev/null 2>&1 || die "apt-get install docker.io did not provide dockerd"
fi

# 2. Start it (systemd if it is PID 1, else by hand in the background).
dockerd_running() {
    local c
    for c in /proc/[0-9]*/comm; do
        [[ "$(cat "$c" 2>/dev/null || true)" == dockerd ]] && return 0
    done
    return 1
}

wait_for_engine() {
    local deadline=$((SECONDS + WAIT_SECS))
    while ((SECONDS < deadline)); do
        if [[ -S "$sock" ]] && engine_ok; then
            return 0
        fi
        # A dockerd we started and that died already: stop waiting.
        if [[ -n "${started_pid:-}" ]] && ! kill -0 "$started_pid" 2>/dev/null; then
            return 1
        fi
        sleep 1
    done
    return 1
}

start_by_hand() {
    local -a args=(-H "unix://$sock")
    args+=("$@")
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    log "starting dockerd ${args[*]} (log: $DOCKERD_LOG)"
    # setsid + nohup: survives the make/pytest process that started it.
    setsid nohup dockerd "${args[@]}" >>"$DOCKERD_LOG" 2>&1 </dev/null &
    started_pid=$!
}

started_pid=""
if [[ "$(cat /proc/1/comm 2>/dev/null || true)" == systemd ]] && [[ "$sock" == /var/run/docker.sock || "$sock" == /run/docker.sock ]]; then
    log "systemctl start docker"
    systemctl start docker >/dev/null 2>&1 || true
    if wait_for_engine; then exit 0; fi
fi

if dockerd_running; then
    log "a dockerd process exists but is not answering yet; waiting"
    if wait_for_engine; then exit 0; fi
    die "dockerd is running but 'docker info' fails after ${WAIT_SECS}s (see $DOCKERD_LOG); fix or stop it."
fi

# A stale socket from a dead engine makes dockerd refuse to start.
if [[ -S "$sock" ]]; then rm -f "$sock"; fi
start_by_hand
if wait_for_engine; then
    log "engine is up"
    exit 0
fi

# Some container sandboxes cannot do overlayfs: retry once with vfs.
if [[ -n "$started_pid" ]] && ! kill -0 "$started_pid" 2>/dev/null; then
    log "dockerd exited; retrying with --storage-driver=vfs"
    tail -n 5 "$DOCKERD_LOG" >&2 || true
    if [[ -S "$sock" ]]; then rm -f "$sock"; fi
    start_by_hand --storage-driver=vfs
    if wait_for_engine; then
        log "engine is up (vfs)"
        exit 0
    fi
fi

tail -n 20 "$DOCKERD_LOG" >&2 || true
die "dockerd did not become ready within ${WAIT_SECS}s; see $DOCKERD_LOG"
