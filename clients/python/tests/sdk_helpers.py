"""Helpers for the SDK's unit tests: a scripted server on httpx.MockTransport, SSE bodies
that record whether they were closed, and a real plan captured from a Foresight server."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from foresight_client import _async_client, _client

DATA = Path(__file__).parent / "data"
BASE = "http://foresight.test"

# A real second-turn chat answer: 4 snapshots, scores, forks, included rollouts and
# previous_turn (captured from the server with the default model).
CHAT: dict[str, Any] = json.loads((DATA / "chat_with_plan.json").read_text())
PLAN: dict[str, Any] = CHAT["choices"][0]["plan"]


def chat_body() -> dict[str, Any]:
    return copy.deepcopy(CHAT)


def plan_body() -> dict[str, Any]:
    return copy.deepcopy(PLAN)


def error(
    status: int,
    message: str,
    type_: str,
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return httpx.Response(status, json=body, headers=headers)


Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Scripted:
    """A MockTransport handler that answers from a script and records every request."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        if not isinstance(answer.stream, httpx.ByteStream):  # a streamed body: once only
            return answer
        # A fresh copy each time: a script may answer the same thing to several requests.
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    def json(self, i: int = -1) -> Any:
        return json.loads(self.requests[i].content)

    def client(self, **kwargs: Any) -> _client.Client:
        return _client.Client(base_url=BASE, transport=httpx.MockTransport(self), **kwargs)

    def async_client(self, **kwargs: Any) -> _async_client.AsyncClient:
        return _async_client.AsyncClient(
            base_url=BASE, transport=httpx.MockTransport(self), **kwargs
        )


class TrackedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body sent chunk by chunk that remembers how far it was read and closing."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.sent = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def sse(*events: dict[str, Any] | str, done: bool = True) -> list[bytes]:
    """One SSE frame per event (``data: ...`` and a blank line), then ``[DONE]``."""
    frames = [f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events]
    if done:
        frames.append("data: [DONE]\n\n")
    return [f.encode() for f in frames]


def text_chunk(text: str, index: int = 0, finish: str | None = None) -> dict[str, Any]:
    delta = {"role": None, "content": text}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
    }


def plan_chunk(plan: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [],
        "plan": plan,
    }


def planned_stream() -> list[dict[str, Any]]:
    """The chunks a planned stream of the captured plan would have, in the server's order."""
    plan = plan_body()
    pid = plan["id"]
    chunks = [text_chunk("")]
    words = plan["text"].split(" ")
    for i, word in enumerate(words):
        chunks.append(text_chunk(word if i == 0 else " " + word))
        if i < len(plan["snapshots"]):
            snap = plan["snapshots"][i]
            chunks.append(plan_chunk({"index": 0, "id": pid, "type": "snapshot", "snapshot": snap}))
    for fork in plan["forks"]:
        chunks.append(plan_chunk({"index": 0, "id": pid, "type": "fork", "fork": fork}))
    for score in plan["scores"][:2]:
        chunks.append(plan_chunk({"index": 0, "id": pid, "type": "score", "score": score}))
    chunks.append(text_chunk("", finish="stop"))
    chunks.append(plan_chunk({"index": 0, "type": "plan", **plan}))
    usage = {"prompt_tokens": 60, "completion_tokens": 13, "total_tokens": 73}
    chunks.append({"id": "chatcmpl-1", "choices": [], "usage": usage})
    return chunks


def sse_response(chunks: list[bytes], status: int = 200) -> tuple[httpx.Response, TrackedStream]:
    stream = TrackedStream(chunks)
    headers = {"content-type": "text/event-stream"}
    return httpx.Response(status, stream=stream, headers=headers), stream


def record_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Replace both clients' backoff sleeps; returns the delays they were asked for."""
    slept: list[float] = []

    async def async_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(_client, "_sleep", slept.append)
    monkeypatch.setattr(_async_client, "_sleep", async_sleep)
    return slept
