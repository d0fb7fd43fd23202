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
from process_group import ENGINE_START_SECONDS, ProcessGroup


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


@pytest.mark.engine  # starts the real engine in a subprocess
@pytest.mark.timeout(ENGINE_START_SECONDS + 300)
def test_sigterm_mid_run_shuts_the_engine_down(tmp_path: Path) -> None:
    """A bench stopped by SIGTERM once its engine runs exits 143 and leaves no process of its
    group (vLLM's engine core included) behind."""
    command = [sys.executable, "-m", "server.cli", "bench", "--horizons", "sentence",
               "--refresh", "sentence", "--max-tokens", "256", "--sweep-batches", "1"]  # fmt: skip
    with ProcessGroup(command, tmp_path / "bench.log") as bench:
        bench.wait_for_line("limit: calibration sweep")  # the engine is up and generating
        os.kill(bench.pid, signal.SIGTERM)
        assert bench.proc is not None
        try:
            code = bench.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            bench.fail("the bench did not exit within 120 s of SIGTERM")
        assert code == 128 + signal.SIGTERM, bench.tail()
        deadline = time.monotonic() + 60
        while bench.group_alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not bench.group_alive(), "a process of the bench outlived it"
