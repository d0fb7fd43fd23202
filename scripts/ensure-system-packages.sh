#!/usr/bin/env bash
# What the test suite needs from Debian: a real redis-server (the Redis plan store is
# tested against it), tmux (the terminal client is tested in a real terminal),
# promtool, from the prometheus package (deploy/prometheus is checked with it), and nginx
# (the compose front, deploy/nginx/replicas.conf, runs in a test). The
# Kubernetes manifests are rendered with `kubectl kustomize` (kustomize v5); kubectl is
# not installed here: the machine image carries it (Debian 12 has none recent enough).
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v tmux >/dev/null || missing+=(tmux)
command -v promtool >/dev/null || missing+=(prometheus)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "missing: ${missing[*]} (install them, e.g. sudo apt-get install ${missing[*]})" >&2
    exit 1
fi
