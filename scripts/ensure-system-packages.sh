#!/usr/bin/env bash
# What the test suite needs from Debian: a real redis-server (the Redis plan store is
# tested against it), tmux (the terminal client is tested in a real terminal),
# promtool, from the prometheus package (deploy/prometheus is checked with it), nginx
# (the compose front, deploy/nginx/replicas.conf, runs in a test) and chromium (the plan
# explorer is tested in a real browser, driven by Playwright at /usr/bin/chromium). The
# Kubernetes manifests are rendered with `kubectl kustomize` (kustomize v5); kubectl is
# not installed here: the machine image carries it (Debian 12 has none recent enough).
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v tmux >/dev/null || missing+=(tmux)
command -v promtool >/dev/null || missing+=(prometheus)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
browser=()
[[ -x /usr/bin/chromium ]] || browser=(chromium)  # with its recommends: fonts for the page
[[ ${#missing[@]} -eq 0 && ${#browser[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -q >/dev/null
    export DEBIAN_FRONTEND=noninteractive
    if [[ ${#missing[@]} -gt 0 ]]; then
        apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    fi
    if [[ ${#browser[@]} -gt 0 ]]; then
        apt-get install -y -q "${browser[@]}" >/dev/null
    fi
else
    missing+=("${browser[@]}")
    echo "missing: ${missing[*]} (install them, e.g. sudo apt-get install ${missing[*]})" >&2
    exit 1
fi
