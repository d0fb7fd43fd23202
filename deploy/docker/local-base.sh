#!/bin/sh
# Build the images' base without Docker Hub: a Debian bookworm root file system from a
# Debian mirror (debootstrap), with Python 3.11, venv and its headers (torch's compiler,
# which vLLM's CPU engine runs, builds against Python.h, as the official python images
# have it), imported as a local image.
#   sudo deploy/docker/local-base.sh [TAG]          default TAG: foresight-base:bookworm
#   DEBIAN_MIRROR=http://mirror.example/debian sudo deploy/docker/local-base.sh
#   EXTRA_CA_DIR=/path/to/certs   *.crt the site's TLS proxy needs (default: this host's
#                                 /usr/local/share/ca-certificates; empty: none)
# Then build on it:
#   docker build -f deploy/docker/Dockerfile.cpu --build-arg BASE_IMAGE=foresight-base:bookworm .
# Needs root (debootstrap), debootstrap and a Docker engine; nothing from Docker Hub.
set -eu
tag=${1:-foresight-base:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ca_dir=${EXTRA_CA_DIR-/usr/local/share/ca-certificates}
rootfs=$(mktemp -d /tmp/foresight-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT

echo "local-base: debootstrap bookworm from $mirror into $rootfs"
debootstrap --variant=minbase --include=python3,python3-venv,python3-dev,ca-certificates \
    bookworm "$rootfs" "$mirror"
# The Dockerfiles run `python` (as python:3.11-slim has it); Debian names it python3.
ln -sf python3 "$rootfs/usr/bin/python"
# The images' own apt-get steps use the same mirror, and keep no caches in their layers
# (as Debian's official images: debuerreotype's docker-clean).
echo "deb $mirror bookworm main" >"$rootfs/etc/apt/sources.list"
clean='"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"'
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<CONF
DPkg::Post-Invoke { $clean; };
APT::Update::Post-Invoke { $clean; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"

set -- --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
if [ -n "$ca_dir" ] && ls "$ca_dir"/*.crt >/dev/null 2>&1; then
    # A TLS-intercepting proxy between the site and PyPI: trust its CA in the image, and
    # make pip and requests (which bring their own CA bundle) use the system's.
    echo "local-base: adding $(ls "$ca_dir"/*.crt | wc -l) CA certificate(s) from $ca_dir"
    cp "$ca_dir"/*.crt "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates
    bundle=/etc/ssl/certs/ca-certificates.crt
    set -- "$@" --change "ENV PIP_CERT=$bundle" --change "ENV REQUESTS_CA_BUNDLE=$bundle" \
        --change "ENV SSL_CERT_FILE=$bundle"
fi
chroot "$rootfs" apt-get clean
rm -rf "$rootfs/var/lib/apt/lists/"* "$rootfs/var/cache/apt/"*.bin

echo "local-base: importing as $tag"
tar -C "$rootfs" -c . | docker import "$@" - "$tag"
docker image ls "$tag"
