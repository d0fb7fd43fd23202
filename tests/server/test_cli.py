"""The `foresight` command refuses bad configuration with a message, not a traceback."""

from __future__ import annotations

import subprocess
import sys


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_serve_rejects_a_missing_model_directory() -> None:
    r = _run("serve", "--model", "/no/such/model")
    assert r.returncode == 2
    assert "model directory not found" in r.stderr
    assert "Traceback" not in r.stderr


def test_serve_rejects_a_bad_store_url() -> None:
    r = _run("serve", "--model", "/no/such/model", "--store", "mysql://x")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_model_check_reports_the_prepared_model() -> None:
    r = _run("model", "prepare", "--check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("ok: ")


def test_chat_is_the_sdks_terminal_chat() -> None:
    r = _run("chat", "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: foresight chat")
    assert "--api-key" in r.stdout and "--rollouts" in r.stdout
    assert "chat" in _run("--help").stdout
