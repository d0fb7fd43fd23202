"""Ending a response with an error, whatever part of it has been sent already.

Before the headers: a JSON error in the OpenAI shape with its own status. After the
headers of a stream: an ``error`` event, then ``data: [DONE]`` (the OpenAI SDK raises on
the event). After any other body has started: the body ends there.
"""

from __future__ import annotations

import json

from starlette.types import Message, Send

from server.protocol import ErrorDetail, ErrorResponse


def error_body(message: str, type_: str, code: str | None = None) -> dict[str, object]:
    """The OpenAI error object as a dict."""
    detail = ErrorDetail(message=message, type=type_, code=code)
    return ErrorResponse(error=detail).model_dump()


async def send_json_error(
    send: Send, status: int, error: dict[str, object], headers: dict[str, str] | None = None
) -> None:
    """A whole JSON error response."""
    body = json.dumps(error).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class ResponseWatch:
    """Wraps ``send`` to know how far a response got, so it can be ended with an error."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.start: Message | None = None
        self.finished = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            self.finished = True
        await self._send(message)

    async def end_with(self, status: int, error: dict[str, object]) -> None:
        """End the response with ``error`` (no-op if it has already ended)."""
        if self.finished:
            return
        self.finished = True
        if self.start is None:
            await send_json_error(self._send, status, error)
            return
        tail = b""
        if _is_event_stream(self.start):
            tail = f"data: {json.dumps(error)}\n\ndata: [DONE]\n\n".encode()
        await self._send({"type": "http.response.body", "body": tail})


def _is_event_stream(start: Message) -> bool:
    for name, value in start.get("headers", ()):
        if name.lower() == b"content-type":
            return bool(value.startswith(b"text/event-stream"))
    return False
