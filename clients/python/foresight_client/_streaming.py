"""Streams of typed events over server-sent events; both kinds always close their response.

The request is sent when the stream is entered (``with``) or first iterated. Iterating
to the end, breaking out of the loop, an error event and leaving ``with`` all close
the connection (a loop over a sync stream is closed as soon as it is left; for an async
stream, ``async with`` makes that prompt, since Python finalises async generators later).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType

import httpx
from pydantic import ValidationError

from foresight_client._events import PlanEvent, StreamEvent, TextDelta, UsageEvent, chunk_events
from foresight_client._exceptions import (
    APIResponseValidationError,
    stream_error,
    transport_error,
)
from foresight_client._models import Usage
from foresight_client._plan import Plan


class SSEDecoder:
    """Server-sent events, line by line: returns each event's data when it completes."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> str | None:
        if not line:
            data, self._data = self._data, []
            return "\n".join(data) if data else None
        if line.startswith(":"):  # a comment, e.g. the server's keep-alive ping
            return None
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None


class _StreamBase:
    """What both stream kinds share: decoding, and the results gathered along the way."""

    def __init__(self) -> None:
        self._response: httpx.Response | None = None
        self._decoder = SSEDecoder()
        self._started = False
        self.done = False
        """The server ended the stream (``[DONE]``)."""
        self.texts: dict[int, str] = {}
        """Reply text so far, per choice."""
        self.plans: dict[int, Plan] = {}
        """Final plans, per choice, once they arrived."""
        self.finish_reasons: dict[int, str] = {}
        """Why each choice stopped."""
        self.usage: Usage | None = None
        """Token counts, once the last chunk arrived."""

    @property
    def text(self) -> str:
        """The first choice's reply text so far."""
        return self.texts.get(0, "")

    @property
    def plan(self) -> Plan | None:
        """The first choice's final plan, once it arrived."""
        return self.plans.get(0)

    @property
    def response(self) -> httpx.Response | None:
        """The HTTP response, once the request was sent."""
        return self._response

    def _start(self) -> None:
        if self._started:
            raise RuntimeError("a stream can be iterated only once")
        self._started = True

    def _events(self, line: str) -> list[StreamEvent]:
        data = self._decoder.feed(line)
        if data is None or self.done:
            return []
        if data == "[DONE]":
            self.done = True
            return []
        try:
            chunk = json.loads(data)
            if isinstance(chunk, dict) and "error" in chunk:
                raise stream_error(chunk, self._response)
            events = chunk_events(chunk)
        except (ValueError, ValidationError, KeyError, TypeError, AttributeError) as exc:
            raise APIResponseValidationError(
                f"unexpected stream data: {data[:200]}", body=data, response=self._response
            ) from exc
        for event in events:
            self._record(event)
        return events

    def _record(self, event: StreamEvent) -> None:
        if isinstance(event, TextDelta):
            self.texts[event.index] = self.texts.get(event.index, "") + event.text
            if event.finish_reason is not None:
                self.finish_reasons[event.index] = event.finish_reason
        elif isinstance(event, PlanEvent):
            self.plans[event.index] = event.plan
        elif isinstance(event, UsageEvent):
            self.usage = event.usage


class ChatStream(_StreamBase):
    """A stream of typed events (see ``StreamEvent``); use it with ``with`` or a ``for`` loop."""

    def __init__(self, open_response: Callable[[], httpx.Response]) -> None:
        super().__init__()
        self._open = open_response

    def __enter__(self) -> ChatStream:
        self._connect()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[StreamEvent]:
        self._start()
        return self._iterate()

    def _connect(self) -> httpx.Response:
        if self._response is None:
            self._response = self._open()
        return self._response

    def _iterate(self) -> Iterator[StreamEvent]:
        try:
            response = self._connect()
            try:
                for line in response.iter_lines():
                    yield from self._events(line)
                    if self.done:
                        break
            except httpx.TransportError as exc:
                raise transport_error(exc, response.request) from exc
        finally:
            self.close()

    def until_done(self) -> ChatStream:
        """Read the rest of the stream (events are still gathered); returns the stream."""
        if not self._started:
            for _ in self:
                pass
        return self

    def close(self) -> None:
        """Close the connection (idempotent); a stream that was never sent stays unsent."""
        if self._response is not None:
            self._response.close()


class AsyncChatStream(_StreamBase):
    """The async mirror of ``ChatStream``: ``async with`` and ``async for``."""

    def __init__(self, open_response: Callable[[], Awaitable[httpx.Response]]) -> None:
        super().__init__()
        self._open = open_response

    async def __aenter__(self) -> AsyncChatStream:
        await self._connect()
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        self._start()
        return self._iterate()

    async def _connect(self) -> httpx.Response:
        if self._response is None:
            self._response = await self._open()
        return self._response

    async def _iterate(self) -> AsyncIterator[StreamEvent]:
        try:
            response = await self._connect()
            try:
                async for line in response.aiter_lines():
                    for event in self._events(line):
                        yield event
                    if self.done:
                        break
            except httpx.TransportError as exc:
                raise transport_error(exc, response.request) from exc
        finally:
            await self.close()

    async def until_done(self) -> AsyncChatStream:
        """Read the rest of the stream (events are still gathered); returns the stream."""
        if not self._started:
            async for _ in self:
                pass
        return self

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._response is not None:
            await self._response.aclose()
