"""Plans outlive a server: restart on SQLite, two replicas on one Redis, kill -9 mid-request.

The first three run the real app in-process on the Markov engine (the store and the HTTP
layer are what they test); the last kills a real ``foresight serve`` process.
"""

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
from live_server import free_port
from markov_server import MarkovServer, markov_server
from process_group import ENGINE_START_SECONDS, ProcessGroup

from planner.store import SQLitePlanStore
from tests.planner.store.redis_server import RedisServer

PLAN = {"horizons": ["sentence", "turn", "user"], "rollouts": 2, "max_lookahead_tokens": 16}
MESSAGES = [{"role": "user", "content": " Yes."}]
REAL_MESSAGES = [{"role": "user", "content": "What is 2+2? Answer in one short sentence."}]


async def _chat(server: MarkovServer, messages: list[dict[str, str]]) -> dict[str, Any]:
    body = {"messages": messages, "max_tokens": 16, "seed": 1, "plan": PLAN}
    r = await server.http.post("/v1/chat/completions", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _next_turn(answer: dict[str, Any], user: str) -> list[dict[str, str]]:
    reply = answer["choices"][0]["message"]["content"]
    return [*MESSAGES, {"role": "assistant", "content": reply}, {"role": "user", "content": user}]


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    server = RedisServer.start()
    try:
        yield server.url
    finally:
        server.stop()


async def test_plans_survive_a_restart_on_sqlite(tmp_path: Path) -> None:
    store = tmp_path / "plans.db"
    async with markov_server(store) as first:
        answer = await _chat(first, MESSAGES)
    plan = answer["choices"][0]["plan"]
    async with markov_server(store) as second:
        got = await second.http.get(f"/v1/plans/{plan['id']}")
        assert got.status_code == 200
        assert got.json()["snapshots"] == plan["snapshots"]
        # The conversation continues on the restarted server and is scored.
        later = await _chat(second, _next_turn(answer, " No."))
        assert later["choices"][0]["plan"]["previous_turn"]["plan_id"] == plan["id"]


@pytest.mark.redis
async def test_two_servers_share_plans_through_redis(redis_url: str) -> None:
    async with markov_server(redis_url) as a, markov_server(redis_url) as b:
        answer = await _chat(a, MESSAGES)
        plan = answer["choices"][0]["plan"]
        assert plan["stored"] is True
        got = (await b.http.get(f"/v1/plans/{plan['id']}")).json()
        assert got["scores"] == plan["scores"]
        conversation = {"conversation": plan["conversation"]}
        listed = (await b.http.get("/v1/plans", params=conversation)).json()
        assert plan["id"] in [p["id"] for p in listed["data"]]
        later = await _chat(b, _next_turn(answer, " No."))
        assert later["choices"][0]["plan"]["previous_turn"]["plan_id"] == plan["id"]
        assert (await a.http.get(f"/v1/plans/{plan['id']}")).json()["next_turn"]


async def test_a_store_that_is_down_still_delivers_the_text() -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    async with markov_server(closed) as server:
        before = (await server.http.get("/metrics")).text
        answer = await _chat(server, MESSAGES)
        plan = answer["choices"][0]["plan"]
        assert answer["choices"][0]["message"]["content"]
        assert plan["stored"] is False and "unavailable" in plan["store_error"]
        after = (await server.http.get("/metrics")).text
        line = 'foresight_store_errors_total{operation="put"}'
        assert line in after
        count = [float(ln.rsplit(" ", 1)[1]) for ln in after.splitlines() if ln.startswith(line)]
        was = [float(ln.rsplit(" ", 1)[1]) for ln in before.splitlines() if ln.startswith(line)]
        assert count[0] > (was[0] if was else 0)
        got = await server.http.get(f"/v1/plans/{plan['id']}")
        assert got.status_code == 503, got.text  # the store, not the plan, is missing


def _chat_real(url: str, messages: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    body = {"messages": messages, "max_tokens": 16, "seed": 1, "plan": PLAN, **extra}
    r = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=300)
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.mark.engine
@pytest.mark.timeout(ENGINE_START_SECONDS + 300)
def test_killing_the_server_mid_request_leaves_the_store_consistent(tmp_path: Path) -> None:
    db = tmp_path / "plans.db"
    port = free_port()
    command = [
        sys.executable, "-m", "server.cli", "serve", "--port", str(port),
        "--store", f"sqlite:///{db}", "--max-model-len", "1024",
    ]  # fmt: skip
    env = {**os.environ, "FORESIGHT_DATA_DIR": str(tmp_path)}
    url = f"http://127.0.0.1:{port}"
    with ProcessGroup(command, tmp_path / "serve.log", env) as server:
        server.wait_ready(url)
        done = _chat_real(url, REAL_MESSAGES)["choices"][0]["plan"]["id"]

        # Several planned requests in flight, then kill -9 while they run.
        def fire(i: int) -> None:
            with contextlib.suppress(httpx.HTTPError):  # the server is killed under it
                question = [{"role": "user", "content": f"Tell me a fact about number {i}."}]
                _chat_real(url, question, max_tokens=48)

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
