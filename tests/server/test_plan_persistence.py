"""Plans outlive a server: restart on SQLite, two replicas on one Redis, kill -9 mid-request."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_server import ExtraServer, LiveServer, free_port
from process_group import ENGINE_START_SECONDS, ProcessGroup

from planner.store import SQLitePlanStore
from tests.planner.store.redis_server import RedisServer

PLAN = {"horizons": ["sentence", "turn", "user"], "rollouts": 2, "max_lookahead_tokens": 16}
MESSAGES = [{"role": "user", "content": "What is 2+2? Answer in one short sentence."}]


def _chat(url: str, messages: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    body = {"messages": messages, "max_tokens": 16, "seed": 1, "plan": PLAN, **extra}
    r = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=300)
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    server = RedisServer.start()
    try:
        yield server.url
    finally:
        server.stop()


def test_plans_survive_a_restart_on_sqlite(live: LiveServer, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'plans.db'}"
    first = ExtraServer(live, store).start()
    try:
        answer = _chat(first.url, MESSAGES)
    finally:
        first.stop()
    plan = answer["choices"][0]["plan"]
    second = ExtraServer(live, store).start()
    try:
        got = httpx.get(f"{second.url}/v1/plans/{plan['id']}", timeout=30)
        assert got.status_code == 200
        assert got.json()["snapshots"] == plan["snapshots"]
        # The conversation continues on the restarted server and is scored.
        reply = answer["choices"][0]["message"]["content"]
        turn = [
            *MESSAGES,
            {"role": "assistant", "content": reply},
            {"role": "user", "content": "Why?"},
        ]
        later = _chat(second.url, turn)
        assert later["choices"][0]["plan"]["previous_turn"]["plan_id"] == plan["id"]
    finally:
        second.stop()


def test_two_servers_share_plans_through_redis(live: LiveServer, redis_url: str) -> None:
    a = ExtraServer(live, redis_url).start()
    b = ExtraServer(live, redis_url).start()
    try:
        answer = _chat(a.url, MESSAGES)
        plan = answer["choices"][0]["plan"]
        assert plan["stored"] is True
        got = httpx.get(f"{b.url}/v1/plans/{plan['id']}", timeout=30).json()
        assert got["scores"] == plan["scores"]
        listed = httpx.get(
            f"{b.url}/v1/plans", params={"conversation": plan["conversation"]}, timeout=30
        ).json()
        assert plan["id"] in [p["id"] for p in listed["data"]]
        reply = answer["choices"][0]["message"]["content"]
        turn = [
            *MESSAGES,
            {"role": "assistant", "content": reply},
            {"role": "user", "content": "OK."},
        ]
        later = _chat(b.url, turn)
        assert later["choices"][0]["plan"]["previous_turn"]["plan_id"] == plan["id"]
        assert httpx.get(f"{a.url}/v1/plans/{plan['id']}", timeout=30).json()["next_turn"]
    finally:
        a.stop()
        b.stop()


def test_a_store_that_is_down_still_delivers_the_text(live: LiveServer) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    server = ExtraServer(live, closed).start()
    try:
        answer = _chat(server.url, MESSAGES)
        plan = answer["choices"][0]["plan"]
        assert answer["choices"][0]["message"]["content"]
        assert plan["stored"] is False and "unavailable" in plan["store_error"]
        metrics = httpx.get(f"{live.url}/metrics").text
        assert 'foresight_store_errors_total{operation="put"}' in metrics
    finally:
        server.stop()


@pytest.mark.timeout(ENGINE_START_SECONDS + 300)
def test_killing_the_server_mid_request_leaves_the_store_consistent(tmp_path: Path) -> None:
    db = tmp_path / "plans.db"
    port = free_port()
    command = [
        sys.executable, "-m", "server.cli", "serve", "--port", str(port),
        "--store", f"sqlite:///{db}", "--max-model-len", "1024",
        "--gpu-memory-utilization", "0.15",
    ]  # fmt: skip
    env = {**os.environ, "FORESIGHT_DATA_DIR": str(tmp_path)}
    url = f"http://127.0.0.1:{port}"
    with ProcessGroup(command, tmp_path / "serve.log", env) as server:
        server.wait_ready(url)
        done = _chat(url, MESSAGES)["choices"][0]["plan"]["id"]

        # Several planned requests in flight, then kill -9 while they run.
        def fire(i: int) -> None:
            with contextlib.suppress(httpx.HTTPError):  # the server is killed under it
                question = [{"role": "user", "content": f"Tell me a fact about number {i}."}]
                _chat(url, question, max_tokens=48)

        threads = [threading.Thread(target=fire, args=(i,), daemon=True) for i in range(3)]
        for t in threads:
            t.start()
        time.sleep(4.0)
        server.kill()

    async def check() -> None:
        store = SQLitePlanStore(db)
        try:
            record = await store.get(done)
            assert record is not None and record.plan.finished
        finally:
            await store.close()

    asyncio.run(check())
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        ids = [row[0] for row in conn.execute("SELECT id FROM plans")]

    async def every() -> None:
        store = SQLitePlanStore(db)
        try:
            for plan_id in ids:
                record = await store.get(plan_id)
                assert record is not None and record.plan.finished  # only complete plans
        finally:
            await store.close()

    asyncio.run(every())
