#!/usr/bin/env bash
# Build the local "stack" images used by the tests, without any registry:
#
#   debootstrap --variant=minbase bookworm <rootfs> [$DEBIAN_MIRROR]
#   tar -C <rootfs> -c . | docker import - <tag>
#
# The mirror is debootstrap's own default unless DEBIAN_MIRROR names one; the image's apt
# sources are this machine's own (when it runs the same suite), else debootstrap's.
# Runs as root, or as a user with sudo (GitHub's runners): only debootstrap and the rootfs
# need root; docker needs the user in the docker group.
#
# Tags (one import, tagged twice):
#   release-bot-test/bookworm:build   minbase + ca-certificates
#   release-bot-test/bookworm:run     same image
#
# STACK_ARCH=arm64 on a machine of another architecture builds the foreign images, tagged
# :build-arm64 and :run-arm64, under QEMU user-mode emulation: Debian's qemu-user-static and
# binfmt-support are installed and registered when missing, debootstrap runs its second
# stage under QEMU by itself, and the image is made by the classic builder (`FROM scratch`
# + `ADD rootfs.tar /`, `--platform linux/ARCH`), which records the architecture (Docker
# 20.10's `docker import --platform` records the host's).
#
# Reuses the images when both tags exist with the current STACK_VERSION label.
# Env: STACK_FORCE=1 rebuilds; DEBIAN_MIRROR overrides the mirror;
#      STACK_SUITE (default bookworm); STACK_ARCH (amd64 or arm64; default this machine's).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

SUITE="${STACK_SUITE:-bookworm}"
MIRROR="${DEBIAN_MIRROR:-}"
HOST_ARCH="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
ARCH="${STACK_ARCH:-$HOST_ARCH}"
case "$ARCH" in
    amd64|arm64) ;;
    *) printf 'make-stack-images: unknown STACK_ARCH %s: use amd64 or arm64\n' "$ARCH" >&2; exit 2 ;;
esac
# the host's architecture keeps the plain tags; a foreign one gets a suffix
SUFFIX=""
if [[ "$ARCH" != "$HOST_ARCH" ]]; then SUFFIX="-$ARCH"; fi
BUILD_TAG="release-bot-test/${SUITE}:build${SUFFIX}"
RUN_TAG="release-bot-test/${SUITE}:run${SUFFIX}"
# Bump when the recipe below changes so old images are rebuilt.
STACK_VERSION="2"
LABEL="org.release-bot.stack-version"

log() { printf 'make-stack-images: %s\n' "$*" >&2; }
die() { printf 'make-stack-images: %s\n' "$*" >&2; exit 1; }

"$repo/tests/harness/ensure-docker.sh"

image_current() {
    local v
    v="$(docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null)" || return 1
    [[ "$v" == "$STACK_VERSION" ]]
}

both_current() { image_current "$BUILD_TAG" && image_current "$RUN_TAG"; }

if [[ "${STACK_FORCE:-0}" != 1 ]] && both_current; then
    echo "reusing $BUILD_TAG and $RUN_TAG"
    exit 0
fi

# Serialise concurrent builders (make + pytest fixture, parallel CI jobs).
lock="${TMPDIR:-/tmp}/release-bot-stack-images.lock"
# (another user's lock file can still be read-locked)
{ exec 9>>"$lock"; } 2>/dev/null || exec 9<"$lock"
if command -v flock >/dev/null 2>&1; then
    flock -w 900 9 || die "timed out waiting for $lock"
    if [[ "${STACK_FORCE:-0}" != 1 ]] && both_current; then
        echo "reusing $BUILD_TAG and $RUN_TAG (built by a concurrent run)"
        exit 0
    fi
fi

# root for debootstrap, apt-get and the rootfs: ourselves, else sudo without a password
if [[ "$(id -u)" -eq 0 ]]; then
    as_root() { "$@"; }
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root() { sudo -n "$@"; }
else
    die "debootstrap needs root: run as root, or as a user with passwordless sudo"
fi

if ! command -v debootstrap >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "debootstrap is missing; install it (apt-get install debootstrap)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-cache policy debootstrap 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        log "apt-get update"
        as_root apt-get update -qq
    fi
    log "apt-get install debootstrap"
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
# Debian's archive key, to check what debootstrap fetches (not on Ubuntu by default)
if [[ ! -e /usr/share/keyrings/debian-archive-keyring.gpg ]] && command -v apt-get >/dev/null 2>&1; then
    log "apt-get install debian-archive-keyring"
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends debian-archive-keyring >/dev/null
fi

# A foreign architecture runs under QEMU user mode: binfmt_misc must know its ELF machine.
if [[ -n "$SUFFIX" ]]; then
    case "$ARCH" in arm64) q=aarch64 ;; *) q=x86_64 ;; esac
    if [[ ! -e "/usr/libexec/qemu-binfmt/$q-binfmt-P" && ! -e "/usr/bin/qemu-$q-static" ]]; then
        command -v apt-get >/dev/null 2>&1 || die "qemu-user-static is missing; install it and binfmt-support"
        log "apt-get install qemu-user-static binfmt-support"
        if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                --no-install-recommends qemu-user-static binfmt-support >/dev/null; then
            as_root apt-get update -qq
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                --no-install-recommends qemu-user-static binfmt-support >/dev/null
        fi
    fi
    if [[ ! -e /proc/sys/fs/binfmt_misc/status ]]; then
        as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
            die "cannot mount binfmt_misc: $ARCH binaries cannot run here"
    fi
    if [[ ! -e "/proc/sys/fs/binfmt_misc/qemu-$q" ]]; then
        as_root update-binfmts --enable "qemu-$q" >/dev/null 2>&1 || true
    fi
    [[ -e "/proc/sys/fs/binfmt_misc/qemu-$q" ]] ||
        die "QEMU for $ARCH is not registered with binfmt_misc (update-binfmts --enable qemu-$q)"
fi

workdir="$(mktemp -d "${TMPDIR:-/var/tmp}/release-bot-stack.XXXXXX")"
rootfs="$workdir/rootfs"

cleanup() {
    # debootstrap mounts proc/sys inside the target; never rm -rf through a mount.
    local m
    if [[ -r /proc/mounts ]]; then
        awk -v p="$workdir/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r |
            while read -r m; do as_root umount -l "$m" 2>/dev/null || true; done
    fi
    as_root rm -rf --one-file-system "$workdir"
}
trap cleanup EXIT

log "debootstrap --arch=$ARCH --variant=minbase $SUITE (mirror: ${MIRROR:-the default of debootstrap})"
start=$SECONDS
if ! as_root "$(command -v debootstrap)" --arch="$ARCH" --variant=minbase --include=ca-certificates \
        "$SUITE" "$rootfs" ${MIRROR:+"$MIRROR"} >"$workdir/debootstrap.log" 2>&1; then
    tail -n 30 "$workdir/debootstrap.log" >&2
    [[ -f "$rootfs/debootstrap/debootstrap.log" ]] && tail -n 30 "$rootfs/debootstrap/debootstrap.log" >&2
    die "debootstrap failed"
fi
log "debootstrap took $((SECONDS - start))s"

# Slim down: apt caches and lists (containers run apt-get update themselves).
as_root rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
       "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/* "$rootfs"/debootstrap
# Docker provides these at run time.
as_root truncate -s 0 "$rootfs/etc/hostname"
as_root rm -f "$rootfs/etc/resolv.conf"
# apt sources: this machine's own when it runs the same suite (updates and security
# included), else the one debootstrap wrote for its mirror.
if [[ -z "$MIRROR" && -r /etc/os-release ]] && grep -qx "VERSION_CODENAME=$SUITE" /etc/os-release; then
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] && grep -qs "debian" "$f" && as_root cp "$f" "$rootfs$f"
    done
fi

if [[ -z "$SUFFIX" ]]; then
    log "docker import -> $BUILD_TAG"
    as_root tar --numeric-owner -C "$rootfs" -c . | docker import \
        --change "LABEL $LABEL=$STACK_VERSION" \
        --change "LABEL org.release-bot.stack-suite=$SUITE" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["/bin/bash"]' \
        - "$BUILD_TAG" >/dev/null
else
    log "docker build --platform linux/$ARCH (FROM scratch + ADD rootfs.tar) -> $BUILD_TAG"
    ctx="$workdir/context"
    mkdir -p "$ctx"
    as_root tar --numeric-owner -C "$rootfs" -cf "$ctx/rootfs.tar" .
    as_root chown "$(id -u):$(id -g)" "$ctx/rootfs.tar"
    printf '%s\n' 'FROM scratch' 'ADD rootfs.tar /' \
        "LABEL $LABEL=\"$STACK_VERSION\" org.release-bot.stack-suite=\"$SUITE\"" \
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
        'CMD ["/bin/bash"]' >"$ctx/Dockerfile"
    DOCKER_BUILDKIT=0 docker build -q --platform "linux/$ARCH" -t "$BUILD_TAG" "$ctx" >/dev/null
    got="$(docker image inspect --format '{{.Architecture}}' "$BUILD_TAG")"
    [[ "$got" == "$ARCH" ]] || die "$BUILD_TAG records architecture $got, not $ARCH"
fi
docker tag "$BUILD_TAG" "$RUN_TAG"
echo "built $BUILD_TAG and $RUN_TAG in $((SECONDS - start))s"
