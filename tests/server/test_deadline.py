"""The server-side deadline: past it the work stops and the client gets an error."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from guarded_app import CHAT, PLANNED, guarded

ROUTE = "/v1/chat/completions"
SLOW = {"max_tokens": 400, "temperature": 0.0}


async def test_a_request_past_its_deadline_is_a_504_and_its_engine_work_stops(
    tmp_path: Path,
) -> None:
    async with guarded(tmp_path, step_delay=0.01, request_timeout=0.3) as (_, http, engine):
        for body in ({**CHAT, **SLOW}, {**PLANNED, **SLOW}):
            r = await http.post(ROUTE, json=body)
            assert r.status_code == 504, r.text
            error = r.json()["error"]
            assert error["type"] == "timeout_error" and "0.3 seconds" in error["message"]
            await asyncio.sleep(0.1)
            assert not engine.active, engine.active


async def test_a_stream_past_its_deadline_ends_with_an_error_event_then_done(
    tmp_path: Path,
) -> None:
    async with guarded(tmp_path, step_delay=0.01, request_timeout=0.3) as (_, http, engine):
        for body in ({**CHAT, **SLOW}, {**PLANNED, **SLOW}):
            async with http.stream("POST", ROUTE, json={**body, "stream": True}) as r:
                assert r.status_code == 200
                lines = [line async for line in r.aiter_lines() if line.startswith("data: ")]
            assert lines[-1] == "data: [DONE]"
            error = json.loads(lines[-2].removeprefix("data: "))["error"]
            assert error["code"] == "request_timeout"
            assert len(lines) > 3  # text had streamed before the deadline
            await asyncio.sleep(0.1)
            assert not engine.active, engine.active
