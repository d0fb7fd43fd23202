#!/usr/bin/env bash
# The CPU image, run by hand on a machine with a Docker engine (CI has none): start it
# with a cache volume, wait for /ready, make one planned chat request, read /metrics,
# check the user and the health check, then stop it (SIGTERM) and check it exits 0.
#   deploy/cpu-smoke.sh [IMAGE]          default IMAGE: foresight:cpu
#   PORT=8000 VOLUME=foresight-cache SHM_SIZE=1g deploy/cpu-smoke.sh
# The first start on an empty volume prepares the default model into it (minutes on CPU).
# vLLM's engine needs 160 MiB of /dev/shm (Docker gives 64 MiB). The container's log,
# with timestamps, goes to deploy/cpu-smoke-out/container.log.
set -euo pipefail
image=${1:-foresight:cpu}
port=${PORT:-8010}
volume=${VOLUME:-foresight-smoke-cache}
shm=${SHM_SIZE:-1g}
out=$(dirname "$0")/cpu-smoke-out
mkdir -p "$out"
name=foresight-smoke-$$
url=http://127.0.0.1:$port

step() { printf '\n==> %s\n' "$*"; }
health() { docker inspect -f '{{.State.Health.Status}}' "$name"; }

step "starting $image as $name (cache volume $volume, port $port)"
start=$(date +%s)
docker run -d --name "$name" -p "127.0.0.1:$port:8000" -v "$volume:/cache" --shm-size "$shm" \
    "$image" >/dev/null
trap 'docker logs -t "$name" >"$out/container.log" 2>&1; docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
echo "user in the container: $(docker exec "$name" id)"
[[ $(docker exec "$name" id -u) != 0 ]] || { echo "runs as root" >&2; exit 1; }

step "waiting for /ready"
until curl -fsS "$url/ready" >/dev/null 2>&1; do
    if [[ $(docker inspect -f '{{.State.Running}}' "$name") != true ]]; then
        docker logs --tail 50 "$name"; exit 1
    fi
    if (($(date +%s) - start > 1800)); then echo "not ready after 30 min" >&2; exit 1; fi
    sleep 2
done
echo "ready after $(($(date +%s) - start)) s (health: $(health))"
docker logs "$name" 2>&1 | grep -m1 "Foresight ready" || true

step "one planned chat request"
t0=$(date +%s.%N)
curl -fsS "$url/v1/chat/completions" -H 'content-type: application/json' \
    -d '{"messages": [{"role": "user", "content": "Describe a cat in two sentences."}],
         "max_tokens": 48, "plan": {"horizons": ["sentence", "turn"], "rollouts": 4}}' \
    | python3 -c 'import json, sys; r = json.load(sys.stdin); c = r["choices"][0]; p = c["plan"]
print("text:", c["message"]["content"]); print("usage:", r["usage"])
print("plan", p["id"], "| snapshots:", len(p["snapshots"]), "| sentence:", p["comparison"].get("sentence"))'
echo "request took $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s"

step "/metrics (Foresight's and vLLM's series)"
metrics=$(curl -fsS "$url/metrics")
grep -E '^foresight_(requests|plan|rollouts)[a-z_]*(_total|_count)?[{ ]' <<<"$metrics" | head -12
echo "series: $(grep -c '^foresight_' <<<"$metrics") foresight_*, $(grep -c '^vllm:' <<<"$metrics") vllm:*"

step "waiting for the health check (every 10 s; unhealthy only while /ready was not yet 200)"
t0=$(date +%s)
until [[ $(health) == healthy ]]; do
    if (($(date +%s) - t0 > 60)); then echo "not healthy 60 s after ready: $(health)" >&2; exit 1; fi
    sleep 2
done
echo "health: healthy after $(($(date +%s) - start)) s"

step "docker stop (SIGTERM, 30 s grace)"
t0=$(date +%s)
docker stop -t 30 "$name" >/dev/null
code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
echo "stopped in $(($(date +%s) - t0)) s, exit code $code; last log lines:"
docker logs --tail 8 "$name" 2>&1
[[ $code == 0 ]]
step "done"
