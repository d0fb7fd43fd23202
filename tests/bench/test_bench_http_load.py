"""The load generator's SSE client against a canned stream (no server, no engine)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from bench.http_load import StreamResult, chat_body, run_load, stream_chat
from bench.stats import Timing


def _chunk(content: str | None = None, tokens: int = 1, plan: dict | None = None) -> str:
    body: dict = {"choices": [], "plan": plan}
    if content is not None:
        logprobs = {"content": [{"token": "x", "logprob": -0.1}] * tokens}
        body["choices"] = [{"index": 0, "delta": {"content": content}, "logprobs": logprobs}]
    return f"data: {json.dumps(body)}\n\n"


def _snapshot(offset: int) -> dict:
    return {"type": "snapshot", "snapshot": {"text_offset": offset, "latency_seconds": 0.25}}


STREAM = "".join(
    [
        _chunk(plan=_snapshot(0)),
        _chunk("Hello", tokens=2),
        ": ping\n\n",  # SSE comments and other fields are ignored
        _chunk(" world."),
        _chunk(plan=_snapshot(5)),
        _chunk(plan={"type": "plan", "id": "plan-1"}),
        "data: [DONE]\n\n",
    ]
)


def _handler(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/v1/models":
        return httpx.Response(200, json={"data": [{"id": "m"}]})
    body = json.loads(request.content)
    if body["messages"][0]["content"] == "fail":
        return httpx.Response(400, json={"error": {"message": "bad"}})
    return httpx.Response(200, text=STREAM, headers={"content-type": "text/event-stream"})


async def _one(prompt: str) -> StreamResult:
    transport = httpx.MockTransport(_handler)
    async with httpx.AsyncClient(base_url="http://test", transport=transport) as client:
        return await stream_chat(client, chat_body("m", prompt, 8, 1, {"rollouts": 2}))


def test_stream_counts_tokens_and_snapshots() -> None:
    result = asyncio.run(_one("hi"))
    assert result.error is None and result.timing is not None
    assert result.timing.tokens == 3  # from logprobs: 2 + 1
    assert [s[1] for s in result.snapshots] == [0, 5]
    assert [length for length, _ in result.chars] == [5, 12]
    lags = result.snapshot_lags()
    assert len(lags) == 2 and all(lag >= 0 for lag in lags)


def test_an_http_error_is_recorded_not_raised() -> None:
    result = asyncio.run(_one("fail"))
    assert result.error is not None and "400" in result.error


def test_snapshot_lag_is_measured_from_the_text_at_its_position() -> None:
    r = StreamResult(timing=Timing(0.0, [(1.0, 1), (2.0, 1)], 2.0, 3.0))
    r.chars = [(4, 1.0), (9, 2.0)]
    r.snapshots = [(0.5, 0, 0.1), (2.5, 6, 0.2), (9.0, 99, 0.3)]  # the last never reached
    assert r.snapshot_lags() == pytest.approx([0.5, 0.5])


def test_load_mode_reports_percentiles_and_errors() -> None:
    report = asyncio.run(
        run_load(
            "http://test",
            ["hi", "fail"],
            concurrency=2,
            requests=4,
            max_tokens=8,
            plan={"rollouts": 2},
            progress=False,
            transport=httpx.MockTransport(_handler),
        )
    )
    assert report["requests"] == 4 and report["errors"] == 2
    assert report["tokens"] == 6
    assert report["ttft_seconds"]["p50"] is not None
    assert report["snapshot_latency_seconds"]["p50"] == pytest.approx(0.25)
    assert report["snapshot_lag_seconds"]["p90"] is not None
