#!/usr/bin/env bash
# A Debian bookworm base image made with debootstrap from the Debian mirror apt uses (for the training image, where
# Docker Hub is not reachable): `debian-local:bookworm`.
#   deploy/local-debian-image.sh [podman|docker]
set -euo pipefail
ENGINE=${1:-$(command -v podman >/dev/null && echo podman || echo docker)}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Made once: debootstrap takes minutes, and a new base would make every image built on it build again.
if [[ "${FORCE:-}" != 1 ]] && "$ENGINE" image exists debian-local:bookworm 2>/dev/null; then
  echo "local-debian-image: debian-local:bookworm exists (FORCE=1 makes it again)" >&2
  exit 0
fi
command -v debootstrap >/dev/null || { echo "local-debian-image: needs debootstrap (apt-get install debootstrap)" >&2; exit 2; }
root=$(mktemp -d /tmp/ferry-debian-XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase bookworm "$root" "$MIRROR" >&2
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | "$ENGINE" import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - debian-local:bookworm >/dev/null
"$ENGINE" images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'debian-local' >&2
