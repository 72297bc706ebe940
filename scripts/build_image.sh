#!/usr/bin/env bash
# Build the SayZhong container image (deploy/Dockerfile) and check what it promises.
#
#   scripts/build_image.sh [--debian-base] [--check] [TAG]      (TAG: default localhost/sayzhong:dev)
#
# The builder: docker when its daemon answers, else buildah (Debian's `buildah` package; no daemon,
# RUN steps isolated by chroot, so it also works inside a VM without cgroup delegation).
# --debian-base: where the public image registry is out of reach (the build box reaches only the
#   package registries), first build a stand-in for python:3.11-slim-bookworm from Debian's own
#   packages with debootstrap — Debian 12 and its Python 3.11, as the official image — and build
#   on it (the Dockerfile's PYTHON_IMAGE argument). The machine's own extra CA certificates
#   (/usr/local/share/ca-certificates) go into that base so that pip and npm trust the same TLS as
#   the host does; nothing of the kind is in the Dockerfile or in an image built on the real base.
# --check: then open the image (buildah mount) and run scripts/image_check.py against it: non-root
#   user, no compilers or package-build tools, the compiled front end, the app importable by the
#   image's own Python, and the command it runs answering /healthz (run inside the image's
#   filesystem as its user, on loopback). Needs root (chroot); the build box runs as root.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE_TAG="localhost/debian-python:3.11-bookworm"
debian_base=0 check=0 tag="localhost/sayzhong:dev"
for arg in "$@"; do
  case "$arg" in
    --debian-base) debian_base=1 ;;
    --check) check=1 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "unknown option: $arg" >&2; exit 2 ;;
    *) tag="$arg" ;;
  esac
done

if docker info >/dev/null 2>&1; then
  builder=docker
elif command -v buildah >/dev/null 2>&1; then
  builder=buildah
else
  echo "No image builder: start a docker daemon, or install buildah (apt-get install buildah)." >&2
  exit 1
fi

build_args=()
if [ "$debian_base" = 1 ]; then
  if [ "$builder" != buildah ]; then
    echo "--debian-base is made for buildah (the stand-in base is imported into its store)." >&2
    exit 2
  fi
  if ! buildah inspect --type image "$BASE_TAG" >/dev/null 2>&1; then
    command -v debootstrap >/dev/null || { echo "--debian-base needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }
    rootfs="$(mktemp -d "${TMPDIR:-/tmp}/sayzhong-base.XXXXXX")"
    trap 'umount "$rootfs/proc" "$rootfs/sys" 2>/dev/null || true; rm -rf "$rootfs"' EXIT
    mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)"
    echo "==> Stand-in base $BASE_TAG from Debian 12 packages"
    debootstrap --variant=minbase \
      --include=python3.11,python3-venv,python3-pip,python-is-python3,ca-certificates \
      bookworm "$rootfs" ${mirror:+"$mirror"} >/dev/null
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
      cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
      chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
    fi
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    bundle=/etc/ssl/certs/ca-certificates.crt
    base="$(buildah from scratch)"
    tar -C "$rootfs" --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' -c . \
      | tar -C "$(buildah mount "$base")" -x
    buildah umount "$base" >/dev/null
    buildah config --env LANG=C.UTF-8 --env PIP_CERT=$bundle --env NODE_EXTRA_CA_CERTS=$bundle --env SSL_CERT_FILE=$bundle \
      --cmd python3 "$base"
    buildah commit --rm "$base" "$BASE_TAG" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
  fi
  build_args=(--build-arg "PYTHON_IMAGE=$BASE_TAG")
fi

echo "==> Building $tag with $builder"
cd "$ROOT"
if [ "$builder" = docker ]; then
  docker build "${build_args[@]}" -f deploy/Dockerfile -t "$tag" .
else
  # chroot isolation: no OCI runtime, so no cgroups or rlimits to set up.
  # docker format: the OCI format has no HEALTHCHECK and buildah would drop it.
  buildah bud --isolation chroot --format docker "${build_args[@]}" -f deploy/Dockerfile -t "$tag" .
fi

if [ "$check" = 1 ]; then
  if [ "$builder" != buildah ]; then
    echo "--check opens the image with buildah; build with buildah to check it." >&2
    exit 2
  fi
  container="$(buildah from "$tag")"
  trap 'buildah umount "$container" >/dev/null 2>&1 || true; buildah rm "$container" >/dev/null 2>&1 || true' EXIT
  mountpoint="$(buildah mount "$container")"
  buildah inspect --type image "$tag" > "${TMPDIR:-/tmp}/sayzhong-image-config.json"
  python3 "$ROOT/scripts/image_check.py" "$mountpoint" "${TMPDIR:-/tmp}/sayzhong-image-config.json"
fi
