"""The real server as a process: SIGKILL, SIGTERM under load, and an engine that dies.

Each test prints what it did and what it measured.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from server_process import ServerProcess, alive, descendants, shared_memory

# Each test starts `foresight serve` (the real engine) in a subprocess.
pytestmark = pytest.mark.engine

MESSAGES = [{"role": "user", "content": "Describe a cat in two sentences."}]
PLAN = {"rollouts": 2, "horizons": ["sentence"], "clustering": "text"}


def _stream(url: str, max_tokens: int, started: threading.Event | None = None) -> str:
    """One streamed planned chat; returns how it ended: done, cancelled, refused or lost."""
    body = {"messages": MESSAGES, "max_tokens": max_tokens, "stream": True, "plan": PLAN}
    body["temperature"] = 1.0
    last: list[str] = []
    try:
        with (
            httpx.Client(base_url=url, timeout=120) as client,
            client.stream("POST", "/v1/chat/completions", json=body) as r,
        ):
            if r.status_code != 200:
                return f"refused {r.status_code}"
            for line in r.iter_lines():
                if line.startswith("data: "):
                    last = [*last[-1:], line.removeprefix("data: ")]
                    if started is not None and '"content"' in line:
                        started.set()
    except httpx.TransportError:
        return "lost"
    if last[-1:] != ["[DONE]"]:
        return "lost"
    final = json.loads(last[0])
    if "error" in final:
        return f"error {final['error']['code']}"
    return "done" if final.get("plan", {}).get("type") == "plan" else "lost"


def _wait_gone(pids: set[int], timeout: float) -> float:
    start = time.monotonic()
    while alive(pids) and time.monotonic() - start < timeout:
        time.sleep(0.1)
    return time.monotonic() - start


def test_sigkill_mid_stream_leaves_no_engine_and_the_store_intact(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'plans.db'}"
    server = ServerProcess(store).wait_ready()
    try:
        r = httpx.post(
            f"{server.url}/v1/chat/completions",
            json={"messages": MESSAGES, "max_tokens": 24, "plan": PLAN},
            timeout=120,
        )
        plan_id = r.json()["choices"][0]["plan"]["id"]
        engine = descendants(server.proc.pid)
        assert engine, "expected the EngineCore as a child process"
        segments = shared_memory(engine | {server.proc.pid})
        started = threading.Event()
        with ThreadPoolExecutor(1) as pool:
            outcome = pool.submit(_stream, server.url, 400, started)
            assert started.wait(120)
            server.signal(signal.SIGKILL)
            assert outcome.result(60) == "lost"
        gone_after = _wait_gone(engine, 20)
        left = alive(engine)
        time.sleep(1.0)  # the resource tracker unlinks what the dead processes registered
        kept = {s for s in segments if s.exists()}
        print(
            f"\nSIGKILL mid-stream: engine processes={len(engine)} gone_after={gone_after:.1f}s "
            f"shared_memory={len(segments)} left={len(kept)}"
        )
        assert not left, f"engine processes outlived the server: {left}"
        assert not kept, f"shared memory left behind: {kept}"
    finally:
        server.stop()
    db = sqlite3.connect(tmp_path / "plans.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    again = ServerProcess(store).wait_ready()
    try:
        assert httpx.get(f"{again.url}/v1/plans/{plan_id}", timeout=30).status_code == 200
    finally:
        again.stop()


def test_sigterm_under_load_drains_then_exits_zero(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite:///{tmp_path / 'plans.db'}", "--shutdown-grace", "20")
    server.wait_ready()
    try:
        engine = descendants(server.proc.pid)
        started = [threading.Event() for _ in range(4)]
        # Two short replies finish within the grace; two long ones are cancelled at its end.
        lengths = [24, 24, 1500, 1500]
        with ThreadPoolExecutor(len(lengths)) as pool:
            pairs = zip(lengths, started, strict=True)
            runs = [pool.submit(_stream, server.url, n, s) for n, s in pairs]
            for s in started:
                assert s.wait(180)
            sent = time.monotonic()
            server.signal(signal.SIGTERM)
            time.sleep(0.5)
            with httpx.Client(base_url=server.url, timeout=10) as client:
                assert client.get("/ready").status_code == 503
                late = client.post("/v1/chat/completions", json={"messages": MESSAGES})
                assert late.status_code == 503 and late.headers["retry-after"]
                assert client.get("/health").status_code == 200
            outcomes = [run.result(120) for run in runs]
        code = server.proc.wait(60)
        took = time.monotonic() - sent
        gone_after = _wait_gone(engine, 20)
        done = outcomes.count("done")
        cancelled = outcomes.count("error cancelled_at_shutdown")
        print(
            f"\nSIGTERM under load: requests={len(outcomes)} completed={done} "
            f"cancelled={cancelled} lost={len(outcomes) - done - cancelled} exit={code} "
            f"exit_after={took:.1f}s engine_gone_after={gone_after:.1f}s"
        )
        assert outcomes[:2] == ["done", "done"] and done + cancelled == len(outcomes), outcomes
        assert code == 0
        assert not alive(engine)
    finally:
        server.stop()


def test_a_dead_engine_makes_the_server_exit_non_zero(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite:///{tmp_path / 'plans.db'}").wait_ready()
    try:
        engine = descendants(server.proc.pid)
        for pid in engine:
            signal_pid(pid)
        start = time.monotonic()
        code = server.proc.wait(60)
        print(f"\nengine killed: server exited {code} after {time.monotonic() - start:.1f} s")
        assert code != 0
    finally:
        server.stop()


def signal_pid(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
