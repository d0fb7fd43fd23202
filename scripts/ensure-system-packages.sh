#!/usr/bin/env bash
# What the test suite needs from Debian: a real redis-server (the Redis plan store is
# tested against it), tmux (the terminal client is tested in a real terminal) and chromium
# (the plan explorer is tested in a real browser, driven by Playwright at /usr/bin/chromium).
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v tmux >/dev/null || missing+=(tmux)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
else
    echo "missing: ${missing[*]} (install them, e.g. sudo apt-get install ${missing[*]})" >&2
    exit 1
fi
