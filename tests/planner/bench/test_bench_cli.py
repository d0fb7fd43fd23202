"""`foresight bench` as a command: bad input is refused with exit code 2 before any engine
starts, and SIGTERM stops a run without leaving vLLM's engine process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "bench", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bench_rejects_a_missing_prompts_file() -> None:
    r = _bench("--prompts", "/no/such/prompts.txt")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "/no/such/prompts.txt" in r.stderr


def test_bench_rejects_a_bad_refresh_and_an_empty_prompts_file(tmp_path: Path) -> None:
    r = _bench("--refresh", "paragraph")
    assert r.returncode == 2 and "refresh" in r.stderr and "Traceback" not in r.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    r = _bench("--prompts", str(empty))
    assert r.returncode == 2 and "no prompts" in r.stderr
    r = _bench("--refresh-every", "turn")
    assert r.returncode == 2 and "horizon=N" in r.stderr and "Traceback" not in r.stderr
    r = _bench("--refresh-every", "decade=2")
    assert r.returncode == 2 and "not a horizon" in r.stderr and "Traceback" not in r.stderr


def test_bench_help_names_the_issue_flags() -> None:
    out = _bench("--help").stdout
    for flag in ("--rollouts", "--horizons", "--refresh", "--prompts", "--max-tokens",
                 "--concurrency", "--json", "--quick", "--vllm-openai", "--load"):  # fmt: skip
        assert flag in out


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.engine  # starts the real engine in a subprocess
def test_sigterm_mid_run_shuts_the_engine_down(tmp_path: Path) -> None:
    """A bench stopped by SIGTERM once its engine runs exits 143 and leaves no process of its
    group (vLLM's engine core included) behind."""
    log = tmp_path / "bench.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "bench", "--horizons", "sentence",
             "--refresh", "sentence", "--max-tokens", "256", "--sweep-batches", "1"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,  # its own process group: whatever it spawns is in it
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while "limit: calibration sweep" not in log.read_text():  # the engine is up
            assert proc.poll() is None, f"the bench ended before its sweep:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no engine in 180 s; output:\n{log.read_text()}"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM
        deadline = time.monotonic() + 20
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _group_alive(proc.pid), "a process of the bench outlived it"
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
