"""`foresight bench` refuses bad input with a message and exit code 2, before any engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


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


def test_bench_help_names_the_issue_flags() -> None:
    out = _bench("--help").stdout
    for flag in ("--rollouts", "--horizons", "--refresh", "--prompts", "--max-tokens",
                 "--concurrency", "--json", "--quick", "--vllm-openai", "--load"):  # fmt: skip
        assert flag in out
