"""The load generator's SSE client against a canned stream (no server, no engine)."""

from __future__ import annotations

import asyncio
import io
import json

import httpx
import pytest
from rich.console import Console

from bench.http_load import StreamResult, chat_body, compare_load, run_load, stream_chat
from bench.stats import Timing
from bench.table import render_load


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


def test_load_is_compared_with_plain_streams_and_a_lone_plan() -> None:
    """The planned run, the same requests without a plan, and planned streams one at a
    time: the plain ones send no plan, and degraded snapshots are counted."""
    sent: list[bool] = []
    degraded = {"type": "snapshot", "snapshot": {**_snapshot(5)["snapshot"], "degraded": True}}
    planned_stream = STREAM.replace(_chunk(plan=_snapshot(5)), _chunk(plan=degraded))
    plain_stream = "".join([_chunk("Hello", tokens=2), _chunk(" world."), "data: [DONE]\n\n"])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/models":
            return httpx.Response(200, json={"data": [{"id": "m"}]})
        planned = "plan" in json.loads(request.content)
        sent.append(planned)
        text = planned_stream if planned else plain_stream
        return httpx.Response(200, text=text, headers={"content-type": "text/event-stream"})

    report = asyncio.run(
        compare_load(
            "http://test",
            ["hi"],
            concurrency=3,
            requests=5,
            max_tokens=8,
            plan={"rollouts": 2},
            progress=False,
            transport=httpx.MockTransport(handler),
        )
    )
    plain, single = report["baselines"]["plain"], report["baselines"]["single"]
    assert sent == [False] * 5 + [True] * 3 + [True] * 5  # plain, one at a time, planned
    assert (plain["requests"], plain["concurrency"], plain["snapshots"]) == (5, 3, 0)
    assert (single["requests"], single["concurrency"]) == (3, 1)
    assert (report["snapshots"], report["degraded_snapshots"]) == (10, 5)
    assert report["streams_without_snapshots"] == 0 and report["errors"] == 0
    assert set(report["ratios"]) == {
        "itl_mean_vs_plain",
        "itl_p90_vs_plain",
        "snapshot_lag_p90_vs_single",
    }
    console = Console(file=io.StringIO(), width=120)
    render_load(report, console)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "snapshots (degraded)" in shown and "10 (5)" in shown
    assert "ITL planned / plain" in shown and "planned, one at a time" in shown
