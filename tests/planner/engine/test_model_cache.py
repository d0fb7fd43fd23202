"""Default-model preparation: idempotent, atomic, and an interruption is detected."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planner.engine.model_cache import (
    DEFAULT_MODEL_NAME,
    MANIFEST,
    default_model_dir,
    prepare_default_model,
    verify,
)


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FORESIGHT_CACHE_DIR", str(tmp_path))
    return tmp_path


def _prepare_in_subprocess(cache: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FORESIGHT_CACHE_DIR": str(cache)}
    return subprocess.Popen(
        [sys.executable, "-m", "server.cli", "model", "prepare"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_interrupted_preparation_is_detected_then_completed(cache: Path) -> None:
    proc = _prepare_in_subprocess(cache)
    partial = cache / "models"
    deadline = time.monotonic() + 120
    # Kill it while the conversion is writing its work directory.
    while time.monotonic() < deadline:
        if partial.exists() and any(p.name.startswith(".") for p in partial.iterdir()):
            break
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    target = default_model_dir()
    assert not target.exists(), "a killed conversion left a model directory that would load"
    assert verify(target) is not None
    leftovers = [p for p in partial.iterdir() if p.name.startswith(f".{DEFAULT_MODEL_NAME}")]
    assert leftovers, "expected the interrupted work directory to remain for cleanup"

    messages: list[str] = []
    path = prepare_default_model(say=messages.append)
    assert path == target
    assert verify(target, checksums=True) is None
    assert any("interrupted" in m for m in messages)
    assert not [p for p in partial.iterdir() if p.name.startswith(".")]

    # Idempotent: a second call does nothing (no rewrite of any file).
    stamp = {p.name: p.stat().st_mtime_ns for p in target.iterdir()}
    again: list[str] = []
    assert prepare_default_model(say=again.append) == target
    assert again == []
    assert {p.name: p.stat().st_mtime_ns for p in target.iterdir()} == stamp

    # A damaged model (truncated weights) is detected and rebuilt.
    weights = target / "model.safetensors"
    with weights.open("r+b") as fh:
        fh.truncate(1024)
    assert "truncated" in (verify(target) or "")
    prepare_default_model(say=messages.append)
    assert verify(target, checksums=True) is None
    manifest = json.loads((target / MANIFEST).read_text())
    assert manifest["files"]["model.safetensors"]["size"] == weights.stat().st_size


def test_processes_preparing_at_once_share_one_conversion(cache: Path) -> None:
    env = {**os.environ, "FORESIGHT_CACHE_DIR": str(cache)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "server.cli", "model", "prepare"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    assert sum("[1/3] converting" in out for out in outputs) == 1, outputs
    assert not any("removing" in out for out in outputs), outputs
    assert verify(default_model_dir(), checksums=True) is None
    assert not [p for p in (cache / "models").iterdir() if p.name.startswith(".")]
