#!/usr/bin/env bash
# The compose `replicas` profile, run by hand on a machine with a Docker engine (CI has
# none): two Foresight replicas on one Redis behind the nginx front. One conversation's
# turns stay on one replica (the SDK's affinity header); that replica is stopped, and the
# next turn, on the other one, finds the earlier plans in Redis (`previous_turn`).
#   deploy/replicas-smoke.sh                 images as compose.yaml names them (or its
#                                            *_IMAGE variables); Grafana is not started
# Needs `docker compose` (v2), the images built, and the Python SDK (PYTHON, default
# .venv/bin/python). Leaves the stack running: `docker compose -f deploy/compose.yaml
# --profile replicas down` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
compose=(docker compose -f deploy/compose.yaml --profile replicas)
url=http://127.0.0.1:8000

step() { printf '\n==> %s\n' "$*"; }
health() { docker inspect -f '{{.State.Health.Status}}' "$("${compose[@]}" ps -q "$1")"; }

step "starting redis, prometheus, two replicas and the front"
start=$(date +%s)
"${compose[@]}" up -d --no-build redis prometheus foresight-a foresight-b front
for replica in foresight-a foresight-b; do
    until [[ $(health "$replica") == healthy ]]; do
        if (($(date +%s) - start > 1800)); then echo "$replica not healthy in 30 min" >&2; exit 1; fi
        sleep 5
    done
    echo "$replica healthy after $(($(date +%s) - start)) s"
done

step "one conversation through the front; the replica serving it is stopped after turn 2"
"$python" - "$url" "${compose[*]}" <<'PY'
import subprocess
import sys

from foresight_client import Client

url, compose = sys.argv[1], sys.argv[2].split()
plan = {"horizons": ["sentence", "turn", "user"], "rollouts": 2, "max_lookahead_tokens": 16}


def served(replica: str) -> int:
    logs = subprocess.run([*compose, "logs", "--no-log-prefix", replica],
                          capture_output=True, text=True, check=True)
    return (logs.stdout + logs.stderr).count("POST /v1/chat/completions")


def which(before: dict[str, int]) -> str:
    after = {r: served(r) for r in before}
    (replica,) = [r for r in before if after[r] > before[r]]
    return replica


replicas = ["foresight-a", "foresight-b"]
with Client(base_url=url, max_retries=0) as client:
    messages = [{"role": "user", "content": "What is 2+2? Answer in one short sentence."}]
    before = {r: served(r) for r in replicas}
    first = client.chat(messages, plan=plan, max_tokens=16, seed=1)
    p1, one = first.plan, which(before)
    print(f"turn 1 on {one}: plan {p1.id} stored={p1.stored} conversation={p1.conversation}")

    turn2 = [*messages, first.choices[0].message, {"role": "user", "content": "Why?"}]
    before = {r: served(r) for r in replicas}
    second = client.chat(turn2, plan=plan, max_tokens=16, seed=1)
    p2, two = second.plan, which(before)
    print(f"turn 2 on {two} (affinity: {two == one}): previous_turn={p2.previous_turn.plan_id}")
    assert two == one and p2.previous_turn.plan_id == p1.id

    subprocess.run([*compose, "stop", one], check=True)
    turn3 = [*turn2, second.choices[0].message, {"role": "user", "content": "OK."}]
    other = [r for r in replicas if r != one][0]
    before = {other: served(other)}
    third = client.chat(turn3, plan=plan, max_tokens=16, seed=1)
    p3 = third.plan
    print(f"turn 3 with {one} stopped, on {which(before)}: "
          f"previous_turn={p3.previous_turn.plan_id} (turn 2's plan, from Redis)")
    assert p3.previous_turn.plan_id == p2.id and p3.stored
    for p in (p1, p2, p3):
        assert client.plans.get(p.id).finished
    print("all three plans readable through the front from", other)
PY
step "done (the stopped replica: \`${compose[*]} start\` it again)"
