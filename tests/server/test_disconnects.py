"""A client that goes away leaves no engine work running one second later (real engine).

For each kind of request — streamed or not, planned or not — the test opens it, waits
until the engine runs it, drops the connection, and counts the engine's unfinished
requests (main text and rollouts alike) for a few seconds after; the plan's share of the
server's rollout budget must be back by then too.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from live_server import LiveServer

MESSAGES = [{"role": "user", "content": "Write a long story about a cat and a dog."}]
PLAN = {"rollouts": 4, "horizons": ["sentence", "paragraph", "turn", "user"], "clustering": "text"}


def _unfinished(live: LiveServer) -> int:
    return int(live.engine.vllm.output_processor.get_num_unfinished_requests())  # type: ignore[attr-defined]


async def _open_then_drop(live: LiveServer, body: dict[str, Any]) -> tuple[int, list[int]]:
    """Start the request, drop it once the engine runs it; unfinished counts every 0.25 s."""
    async with httpx.AsyncClient(base_url=live.url, timeout=120) as http:

        async def go() -> None:
            if body.get("stream"):
                async with http.stream("POST", "/v1/chat/completions", json=body) as r:
                    async for _ in r.aiter_lines():
                        pass
            else:
                await http.post("/v1/chat/completions", json=body)

        task = asyncio.create_task(go())
        deadline = time.monotonic() + 120
        peak = 0
        while time.monotonic() < deadline:
            peak = max(peak, _unfinished(live))
            if peak >= (2 if "plan" in body else 1):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # let the plan's rollouts get going
        peak = max(peak, _unfinished(live))
        task.cancel()  # closes the connection
        await asyncio.gather(task, return_exceptions=True)
    after = []
    for _ in range(12):
        await asyncio.sleep(0.25)
        after.append(_unfinished(live))
    return peak, after


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("planned", [False, True], ids=["plain", "planned"])
async def test_a_dropped_request_leaves_no_engine_work(
    live: LiveServer, stream: bool, planned: bool
) -> None:
    body: dict[str, Any] = {"messages": MESSAGES, "max_tokens": 600, "stream": stream}
    body["temperature"] = 1.0
    if planned:
        body["plan"] = PLAN
    assert _unfinished(live) == 0
    peak, after = await _open_then_drop(live, body)
    kind = f"{'planned' if planned else 'plain'} {'streamed' if stream else 'whole'}"
    print(f"\ndisconnect {kind}: engine requests peak={peak} then every 0.25 s {after}")
    assert peak >= 1
    assert after[3:] == [0] * 9, after  # none from 1 s after the client left
    budget = live.app.state.planner.budget
    assert (budget.plans, budget.in_use) == (0, 0), "the plan gave its rollout budget back"
