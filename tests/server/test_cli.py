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


def test_the_old_name_of_rollout_budget_still_works_and_warns_once() -> None:
    # 0 is refused by the limits: the value reached them under its old name.
    old = _run("serve", "--model", "org/model", "--max-rollouts-in-flight", "0")
    assert old.returncode == 2 and "rollout_budget" in old.stderr, old.stderr
    assert old.stderr.count("--max-rollouts-in-flight is deprecated") == 1
    new = _run("serve", "--model", "org/model", "--rollout-budget", "0")
    assert new.returncode == 2 and "rollout_budget" in new.stderr
    assert "deprecated" not in new.stderr
    both = _run("serve", "--rollout-budget", "8", "--max-rollouts-in-flight", "8")
    assert both.returncode == 2 and "not allowed with" in both.stderr


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
