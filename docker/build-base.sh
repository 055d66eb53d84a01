#!/usr/bin/env bash
# Builds threadguard-base:bookworm from Debian's own packages, for machines that can reach a
# Debian mirror but no container registry (python:3.11-slim cannot be pulled there).
# Debian bookworm's python3 is 3.11, the version the service and its pinned wheels expect.
#
#   docker/build-base.sh [TAG]        TAG defaults to threadguard-base:bookworm
#   DEBIAN_MIRROR=http://... docker/build-base.sh
#
# Needs root (debootstrap, chroot), debootstrap and a Docker daemon to import into.
set -euo pipefail

tag=${1:-threadguard-base:bookworm}
suite=bookworm

# The mirror this machine's apt already uses is the one known to be reachable; a configured
# proxy or snapshot would be missed by assuming deb.debian.org.
detect_mirror() {
    local files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
    local f
    for f in "${files[@]}"; do
        [ -r "$f" ] || continue
        awk '
            /^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }
            /^deb / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\// && $i ~ /\/debian\/?$/) { print $i; exit } }
        ' "$f"
    done | head -n 1
}
mirror=${DEBIAN_MIRROR:-$(detect_mirror)}
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}
# Security updates live beside the main archive as debian-security on the official mirrors.
security=${DEBIAN_SECURITY_MIRROR:-${mirror}-security}

[ "$(id -u)" -eq 0 ] || { echo "build-base.sh: debootstrap needs root" >&2; exit 1; }
if ! command -v debootstrap >/dev/null; then
    # A fresh development or CI machine has apt but not debootstrap; it is one Debian package.
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap
fi
docker info >/dev/null 2>&1 || { echo "build-base.sh: no Docker daemon answers" >&2; exit 1; }

root=$(mktemp -d /var/tmp/threadguard-base.XXXXXX)
# mktemp makes it 0700, which would become the image's / and lock out apt's _apt user.
chmod 0755 "$root"
cleanup() {
    # A mount left behind would make rm -rf walk into the host's /proc.
    umount "$root/proc" 2>/dev/null || true
    rm -rf --one-file-system "$root"
}
trap cleanup EXIT

echo "build-base.sh: debootstrap $suite from $mirror into $root"
# python3-venv gives the image's /opt/venv its pip (ensurepip); ca-certificates lets that pip
# and the service's PostgreSQL client verify TLS.
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$suite" "$root" "$mirror"

cat > "$root/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
SOURCES

# debootstrap takes packages from the release as it was; the updates and security suites
# are applied here so the base is not born with known holes.
mount -t proc proc "$root/proc"
chroot "$root" env DEBIAN_FRONTEND=noninteractive sh -c \
    'apt-get update -q && apt-get -y -q upgrade && apt-get clean'
umount "$root/proc"

# Nothing that a container needs; it only makes the image bigger and its digest
# depend on when it was built.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/debconf/*-old \
    "$root"/var/log/* "$root"/tmp/* "$root"/usr/share/man/* "$root"/usr/share/info/*
find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
# apt in a container never has a human to wait for, and keeps no package cache.
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
    > "$root/etc/apt/apt.conf.d/90threadguard-no-recommends"

tar --numeric-owner -C "$root" -c . | docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' \
    --message "debootstrap --variant=minbase $suite (python3, python3-venv, ca-certificates)" \
    - "$tag"
docker image ls "$tag"
