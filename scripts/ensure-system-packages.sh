#!/usr/bin/env bash
# The test suite runs the Redis plan store against a real redis-server (Debian's).
set -euo pipefail
command -v redis-server >/dev/null && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null
else
    echo "redis-server is missing: install it (e.g. sudo apt-get install redis-server)" >&2
    exit 1
fi
