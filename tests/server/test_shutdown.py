"""Shutdown in-process on the synthetic engine: requests still running at the end of the
grace are aborted, and their plans are stored as far as they got, marked ``cancelled``.
(The same drain as a real process under SIGTERM: tests/server/test_process_faults.py.)"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import uvicorn
from guarded_app import CHAT, guarded
from markov_engine import MarkovEngine

from planner.store import PlanRecord, PlanStore
from server.shutdown import DrainingServer

ROUTE = "/v1/chat/completions"
PLAN = {"rollouts": 2, "horizons": ["sentence"], "max_lookahead_tokens": 8, "clustering": "text"}
LONG = 2000  # tokens; greedy, the chain never ends a turn: far longer than the grace


def _body(plan_id: str, *, stream: bool) -> dict[str, Any]:
    plan = {**PLAN, "id": plan_id}
    return {**CHAT, "max_tokens": LONG, "temperature": 0.0, "stream": stream, "plan": plan}


def _last_events(text: str) -> list[str]:
    return [line.removeprefix("data: ") for line in text.splitlines() if line][-2:]


async def test_requests_aborted_at_the_end_of_the_grace_keep_their_plans_as_cancelled(
    tmp_path: Path,
) -> None:
    async with guarded(tmp_path, step_delay=0.005) as (app, http, engine):
        adm = app.state.admission
        runs = [
            asyncio.create_task(http.post(ROUTE, json=_body("cut-json", stream=False))),
            asyncio.create_task(http.post(ROUTE, json=_body("cut-sse", stream=True))),
        ]
        await _under_way(engine)
        assert adm.admitted == 2
        server = DrainingServer(uvicorn.Config(app), adm, grace=0.2)
        started = time.monotonic()
        server.start_drain()
        plain, streamed = await asyncio.gather(*runs)
        took = time.monotonic() - started
        print(f"\naborted at the end of a 0.2 s grace after {took:.2f} s:", plain.json())
        assert plain.status_code == 503
        assert plain.json()["error"]["code"] == "cancelled_at_shutdown"
        error, done = _last_events(streamed.text)
        assert json.loads(error)["error"]["code"] == "cancelled_at_shutdown" and done == "[DONE]"
        while not server.should_exit:  # the drain ends once the aborted requests are gone
            assert time.monotonic() - started < 10
            await asyncio.sleep(0.02)
        assert not adm.tasks
    # As after a restart: the plans are there, partial and marked cancelled.
    async with guarded(tmp_path) as (_, http, _engine):
        for plan_id in ("cut-json", "cut-sse"):
            r = await http.get(f"/v1/plans/{plan_id}")
            assert r.status_code == 200, r.text
            plan = r.json()
            print(
                f"{plan_id}: cancelled={plan['cancelled']} finished={plan['finished']} "
                f"tokens={plan['completion_tokens']} snapshots={len(plan['snapshots'])}"
            )
            assert plan["cancelled"] is True and plan["finished"] is False
            assert 0 < plan["completion_tokens"] < LONG and plan["text"]
            assert plan["snapshots"] and plan["stored"] is True


class SlowWrites:
    """A real store whose writes take ``delay`` seconds (a busy Redis, a locked SQLite)."""

    def __init__(self, store: PlanStore, delay: float) -> None:
        self.store = store
        self.delay = delay

    async def put(self, record: PlanRecord) -> None:
        await asyncio.sleep(self.delay)
        await self.store.put(record)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


async def test_plans_cancelled_at_shutdown_are_stored_even_when_the_store_is_slow(
    tmp_path: Path,
) -> None:
    """The server closes its store only once the cancelled plans are written."""
    async with guarded(tmp_path, step_delay=0.005) as (app, http, engine):
        keeper = app.state.planner.keeper
        keeper.store = SlowWrites(keeper.store, delay=0.5)
        adm = app.state.admission
        runs = [
            asyncio.create_task(http.post(ROUTE, json=_body("slow-json", stream=False))),
            asyncio.create_task(http.post(ROUTE, json=_body("slow-sse", stream=True))),
        ]
        await _under_way(engine)
        server = DrainingServer(uvicorn.Config(app), adm, grace=0.1)
        server.start_drain()
        await asyncio.gather(*runs)
        while not server.should_exit:
            await asyncio.sleep(0.02)
    async with guarded(tmp_path) as (_, http, _engine):
        for plan_id in ("slow-json", "slow-sse"):
            r = await http.get(f"/v1/plans/{plan_id}")
            assert r.status_code == 200, r.text
            assert r.json()["cancelled"] is True


async def test_a_client_that_leaves_before_shutdown_still_frees_its_plan_id(
    tmp_path: Path,
) -> None:
    """Outside shutdown a cancelled request keeps no plan: its claimed id is free again."""
    async with guarded(tmp_path, step_delay=0.005) as (app, http, engine):
        run = asyncio.create_task(http.post(ROUTE, json=_body("left", stream=False)))
        await _under_way(engine, 100)
        run.cancel()  # the client went away: not a shutdown
        await asyncio.gather(run, return_exceptions=True)
        deadline = time.monotonic() + 10
        while await app.state.planner.store.get("left") is not None:
            assert time.monotonic() < deadline, "the claimed id was not freed"
            await asyncio.sleep(0.02)
        short = {**_body("left", stream=False), "max_tokens": 4}
        assert (await http.post(ROUTE, json=short)).status_code == 200


async def _under_way(engine: MarkovEngine, tokens: int = 300) -> None:
    """Wait until the engine has made ``tokens`` tokens: with a lookahead of 8, the first
    refreshes' rollouts are resolved long before (their snapshots exist)."""
    deadline = time.monotonic() + 30
    while engine.tokens_generated < tokens:
        assert time.monotonic() < deadline, "the requests did not get under way"
        await asyncio.sleep(0.02)
