"""Admission: bounded work and queue; beyond them an immediate 429 with Retry-After."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from guarded_app import CHAT, PLANNED, ThreadServer, guarded

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


def _until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> float:
    """Poll ``condition``; the seconds it took to hold."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, what
        time.sleep(0.005)
    return time.monotonic() - start


def test_a_queued_request_whose_client_leaves_never_runs(tmp_path: Path) -> None:
    """On a real socket: the client closes its connection while its request waits in the
    queue; the request leaves the queue at once and never reaches the engine."""
    with ThreadServer(tmp_path, step_delay=0.01, max_running_cost=1, max_queued=4) as server:
        adm, engine = server.app.state.admission, server.engine
        with ThreadPoolExecutor(1) as pool:
            slow = {**CHAT, "max_tokens": 300, "temperature": 0.0}  # ~3 s, greedy never ends
            running = pool.submit(httpx.post, server.url + ROUTE, json=slow, timeout=60)
            _until(lambda: adm.admitted == 1, "the first request was not admitted")
            body = json.dumps({**CHAT, "max_tokens": 4}).encode()
            head = (
                f"POST {ROUTE} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            with socket.create_connection(("127.0.0.1", server.port)) as sock:
                sock.sendall(head.encode() + body)
                _until(lambda: adm.queued == 1, "the second request was not queued")
            left_after = _until(lambda: adm.queued == 0, "the queued request stayed queued")
            print(f"\nqueued request left the queue {left_after * 1000:.0f} ms after its client")
            assert not running.done() and adm.admitted == 1  # it did not take the free room
            assert running.result().status_code == 200
        _until(lambda: adm.admitted == 0, "the first request did not finish")
        time.sleep(0.2)
        assert engine.requests_started == 1  # only the request whose client stayed ran
        assert not adm.queued and adm.admitted_cost == 0
