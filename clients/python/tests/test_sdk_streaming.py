"""Streams: typed events in order, results gathered, and the connection always closed."""

from __future__ import annotations

import asyncio
import gc

import foresight_client as fc
import httpx
import pytest
from sdk_helpers import (
    PLAN,
    Scripted,
    error,
    plan_chunk,
    planned_stream,
    record_sleeps,
    sse,
    sse_response,
    text_chunk,
)

MESSAGES = [{"role": "user", "content": "Name a colour."}]


def test_events_are_typed_and_in_order() -> None:
    response, body = sse_response(sse(*planned_stream()))
    server = Scripted(response)
    with server.client() as client:
        stream = client.stream_chat(MESSAGES, plan={"rollouts": 2}, max_tokens=16)
        events = list(stream)
    kinds = [e.type for e in events]
    assert kinds[0] == "text" and kinds[-2:] == ["plan", "usage"]
    assert kinds.count("snapshot") == len(PLAN["snapshots"])
    assert kinds.count("fork") == len(PLAN["forks"]) and kinds.count("score") == 2
    snapshots = [e for e in events if isinstance(e, fc.SnapshotEvent)]
    assert all(s.plan_id == PLAN["id"] and isinstance(s.snapshot, fc.Snapshot) for s in snapshots)
    assert isinstance(next(e for e in events if isinstance(e, fc.ForkEvent)).fork, fc.Fork)
    assert isinstance(next(e for e in events if isinstance(e, fc.ScoreEvent)).score, fc.Score)
    final = next(e for e in events if isinstance(e, fc.PlanEvent))
    assert final.plan.id == PLAN["id"] and final.plan.previous_turn is not None
    assert "index" not in (final.plan.model_extra or {}), "chunk fields leaked into the plan"
    # What the stream gathered along the way.
    assert stream.text == PLAN["text"] and stream.plan == final.plan
    assert stream.finish_reasons == {0: "stop"} and stream.done
    assert stream.usage is not None and stream.usage.total_tokens == 73
    assert body.closed
    sent = server.json()
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


def test_sse_details_comments_multiline_data_and_unknown_plan_types() -> None:
    frames = [
        b": ping - 2024-01-01\n\n",
        b'data: {"choices": [{"index": 0, "delta": {"content": "a"}}],\n',
        b'data:  "usage": null}\n\n',
        b'event: message\ndata: {"choices": [], "plan": {"index": 0, "type": "novel"}}\n\n',
        b'data: {"choices": [{"index": 1, "delta": {"content": "b"}}]}\r\n\r\n',
        b"data: [DONE]\n\n",
        b'data: {"choices": [{"index": 0, "delta": {"content": "after done"}}]}\n\n',
    ]
    response, body = sse_response(frames)
    with Scripted(response).client() as client, client.stream_chat(MESSAGES) as stream:
        events = list(stream)
    assert [(e.index, e.text) for e in events if isinstance(e, fc.TextDelta)] == [
        (0, "a"),
        (1, "b"),
    ]
    assert stream.texts == {0: "a", 1: "b"} and body.closed


def test_text_completion_chunks_are_text_deltas_too() -> None:
    chunk = {
        "object": "text_completion",
        "choices": [{"index": 0, "text": "sea", "finish_reason": None}],
    }
    response, _ = sse_response(sse(chunk))
    with Scripted(response).client() as client:
        assert [e.text for e in client.stream_chat(MESSAGES)] == ["sea"]  # type: ignore[union-attr]


def test_breaking_out_of_the_loop_closes_the_response() -> None:
    response, body = sse_response(sse(*planned_stream()))
    with Scripted(response).client() as client:
        for event in client.stream_chat(MESSAGES):
            assert isinstance(event, fc.TextDelta)
            break
        assert body.closed, "the connection stayed open after break"
        assert body.sent < len(body.chunks)


def test_leaving_with_early_closes_the_response() -> None:
    response, body = sse_response(sse(*planned_stream()))
    with Scripted(response).client() as client:
        with client.stream_chat(MESSAGES) as stream:
            next(iter(stream))
        assert body.closed


def test_an_error_event_mid_stream_raises_and_closes() -> None:
    mid = {"error": {"message": "a plan with id 'x' exists.", "type": "invalid_request_error",
                     "param": "plan.id", "code": None}}  # fmt: skip
    response, body = sse_response(sse(text_chunk("Hi"), mid, text_chunk("never")))
    seen: list[fc.StreamEvent] = []
    with Scripted(response).client() as client, pytest.raises(fc.BadRequestError) as info:
        for event in client.stream_chat(MESSAGES, plan={"id": "x"}):
            seen.append(event)
    assert [e.type for e in seen] == ["text"]
    err = info.value
    assert (
        err.param == "plan.id" and err.status_code is None and err.type == "invalid_request_error"
    )
    assert body.closed


def test_a_server_error_event_is_an_internal_server_error() -> None:
    mid = {"error": {"message": "internal server error", "type": "server_error"}}
    response, body = sse_response(sse(mid))
    with Scripted(response).client() as client, pytest.raises(fc.InternalServerError):
        list(client.stream_chat(MESSAGES))
    assert body.closed


def test_bad_stream_data_raises_a_validation_error() -> None:
    response, body = sse_response(sse("{not json"))
    with Scripted(response).client() as client, pytest.raises(fc.APIResponseValidationError):
        list(client.stream_chat(MESSAGES))
    assert body.closed


def test_a_dropped_connection_mid_stream_raises_a_connection_error() -> None:
    class Dropping(httpx.SyncByteStream):
        closed = False

        def __iter__(self):  # type: ignore[no-untyped-def]
            yield b'data: {"choices": [{"index": 0, "delta": {"content": "a"}}]}\n\n'
            raise httpx.RemoteProtocolError("peer closed connection")

        def close(self) -> None:
            Dropping.closed = True

    server = Scripted(httpx.Response(200, stream=Dropping()))
    with server.client() as client, pytest.raises(fc.APIConnectionError):
        list(client.stream_chat(MESSAGES))
    assert Dropping.closed


def test_an_error_status_raises_on_entering_and_is_not_retried() -> None:
    bad = error(400, "bad", "invalid_request_error", param="plan.rollouts")
    response, body = sse_response([bad.content], status=400)
    server = Scripted(response)
    with server.client() as client:
        stream = client.stream_chat(MESSAGES, plan={"rollouts": 0})
        with pytest.raises(fc.BadRequestError) as info:
            stream.__enter__()
    assert info.value.param == "plan.rollouts" and info.value.status_code == 400
    assert body.closed and len(server.requests) == 1


def test_a_stream_is_retried_until_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    slept = record_sleeps(monkeypatch)
    ok, body = sse_response(sse(text_chunk("hi")))
    server = Scripted(error(503, "engine starting", "service_unavailable"), ok)
    with server.client() as client, client.stream_chat(MESSAGES) as stream:
        assert stream.until_done().text == "hi"
    assert len(server.requests) == 2 and len(slept) == 1 and body.closed


def test_a_stream_is_iterated_once_and_sent_lazily() -> None:
    response, _ = sse_response(sse(text_chunk("hi")))
    server = Scripted(response)
    with server.client() as client:
        stream = client.stream_chat(MESSAGES)
        assert server.requests == [] and stream.response is None
        assert stream.until_done().text == "hi"
        with pytest.raises(RuntimeError):
            list(stream)


async def test_async_stream_mirrors_the_sync_one() -> None:
    response, body = sse_response(sse(*planned_stream()))
    client = Scripted(response).async_client()
    async with client, client.stream_chat(MESSAGES, plan=True) as stream:
        kinds = [event.type async for event in stream]
    assert kinds[-2:] == ["plan", "usage"] and stream.plan is not None
    assert stream.text == PLAN["text"] and body.closed


async def test_async_early_exit_closes_the_response() -> None:
    response, body = sse_response(sse(*planned_stream()))
    async with Scripted(response).async_client() as client:
        async with client.stream_chat(MESSAGES) as stream:
            async for _ in stream:
                break
        assert body.closed
        # Without `async with`, Python finalises the abandoned generator soon after.
        response2, body2 = sse_response(sse(*planned_stream()))
        client._http._transport = httpx.MockTransport(Scripted(response2))
        async for _ in client.stream_chat(MESSAGES):
            break
        for _ in range(5):
            gc.collect()
            await asyncio.sleep(0)
        assert body2.closed


async def test_async_error_event_raises_and_closes() -> None:
    mid = {"error": {"message": "gone", "type": "not_found_error", "param": "plan.previous_id",
                     "code": "plan_not_found"}}  # fmt: skip
    response, body = sse_response(sse(mid))
    async with Scripted(response).async_client() as client:
        with pytest.raises(fc.NotFoundError) as info:
            await client.stream_chat(MESSAGES).until_done()
    assert info.value.code == "plan_not_found" and body.closed


def test_plan_chunk_helper_matches_the_server_shape() -> None:
    # The helper must produce what server/chat/serving.py sends: empty choices + `plan`.
    chunk = plan_chunk({"index": 0, "type": "plan", "id": "p"})
    assert chunk["choices"] == [] and chunk["object"] == "chat.completion.chunk"
