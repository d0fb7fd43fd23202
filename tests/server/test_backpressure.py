"""Admission: bounded work and queue; beyond them an immediate 429 with Retry-After."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from guarded_app import CHAT, PLANNED, guarded

from server.backpressure import cost_of

ROUTE = "/v1/chat/completions"


def test_the_cost_rule() -> None:
    path = ROUTE
    assert cost_of(path, {"messages": []}) == 1
    assert cost_of(path, {"n": 3}) == 3
    assert cost_of(path, {"plan": True}) == 1 + 8 * 3  # server defaults: K=8, 3 horizons
    assert cost_of(path, {"plan": {"rollouts": 4, "horizons": ["sentence"]}, "n": 2}) == 10
    assert cost_of("/v1/plans/analyze", {"plan": {"rollouts": 2}}) == 1 + 2 * 3
    assert cost_of(path, [1, 2]) == 1 and cost_of(path, {"n": "x", "plan": 5}) == 1 + 8 * 3


async def test_past_capacity_and_queue_requests_get_an_immediate_429(tmp_path: Path) -> None:
    # Planned cost 1 + 2 x 1 = 3: two fit in 6, one more may queue, the rest are refused.
    async with guarded(tmp_path, step_delay=0.02, max_running_cost=6, max_queued=1) as (
        app,
        http,
        _engine,
    ):
        body = {**PLANNED, "max_tokens": 30}

        async def one() -> tuple[int, float, httpx.Response]:
            start = time.perf_counter()
            r = await http.post(ROUTE, json=body)
            return r.status_code, time.perf_counter() - start, r

        results = await asyncio.gather(*(one() for _ in range(8)))
        codes = sorted(code for code, _, _ in results)
        assert codes == [200, 200, 200, 429, 429, 429, 429, 429], codes
        for code, seconds, r in results:
            if code == 429:
                assert seconds < 0.5 and r.headers["retry-after"] == "1"
                assert r.json()["error"]["type"] == "rate_limit_error"
        admission = app.state.admission
        assert admission.admitted == 0 and admission.admitted_cost == 0 and not admission.queued
        assert (await http.post(ROUTE, json=CHAT)).status_code == 200


async def test_plain_requests_are_cheap_and_a_dear_one_runs_alone(tmp_path: Path) -> None:
    async with guarded(tmp_path, step_delay=0.01, max_running_cost=4, max_queued=0) as (
        _,
        http,
        _engine,
    ):
        plain = await asyncio.gather(*(http.post(ROUTE, json=CHAT) for _ in range(4)))
        assert [r.status_code for r in plain] == [200] * 4
        dear = {**PLANNED, "plan": {**PLANNED["plan"], "rollouts": 8}}  # cost 9 > 4
        assert (await http.post(ROUTE, json=dear)).status_code == 200
