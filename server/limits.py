"""Request caps: the body's size (before it is read in full) and the fields that cost work.

Each cap is a server setting (``ServerConfig``); going over it is a 413 (body) or a 400
naming the field, with the cap in the message, in the OpenAI error shape.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from planner.errors import ForesightError, InvalidRequestError
from server.config import ServerConfig
from server.protocol import ErrorDetail, ErrorResponse, SamplingFields


class BodyTooLargeError(ForesightError):
    """The request body is over the server's size cap (HTTP 413)."""

    status_code = 413
    error_type = "invalid_request_error"


def _too_large_message(limit: int) -> str:
    return f"The request body is larger than this server's limit of {limit} bytes."


def _too_large(limit: int) -> bytes:
    detail = ErrorDetail(
        message=_too_large_message(limit), type="invalid_request_error", code="request_too_large"
    )
    return json.dumps(ErrorResponse(error=detail).model_dump()).encode()


class BodyLimitMiddleware:
    """Refuse bodies over ``limit`` bytes: at once when Content-Length says so, else as soon
    as the bytes received pass it (a chunked body is never read in full first)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.limit:
                    await self._refuse(send)
                    return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLargeError(
                        _too_large_message(self.limit), code="request_too_large"
                    )
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLargeError:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = _too_large(self.limit)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _cap(value: int, cap: int, param: str) -> None:
    if value > cap:
        raise InvalidRequestError(f"{param} must be at most {cap} on this server.", param=param)


def check_sampling(request: SamplingFields, config: ServerConfig) -> None:
    """Caps shared by both completion endpoints: n, max_tokens, stop sequences."""
    _cap(request.n, config.max_n, "n")
    for name in ("max_tokens", "max_completion_tokens"):
        value = getattr(request, name, None)
        if config.max_tokens is not None and value is not None:
            _cap(value, config.max_tokens, name)
    stop = request.stop
    stops: Sequence[str] = [stop] if isinstance(stop, str) else (stop or [])
    for i, s in enumerate(stops):
        param = "stop" if isinstance(stop, str) else f"stop[{i}]"
        if len(s) > config.max_stop_chars:
            raise InvalidRequestError(
                f"{param} must be at most {config.max_stop_chars} characters on this server.",
                param=param,
            )


def check_messages(texts: Sequence[str], config: ServerConfig, param: str = "messages") -> None:
    """Caps on a conversation: how many messages, how long each."""
    if len(texts) > config.max_messages:
        raise InvalidRequestError(
            f"{param} must hold at most {config.max_messages} messages on this server.",
            param=param,
        )
    for i, text in enumerate(texts):
        check_text(text, config, f"{param}[{i}].content")


def check_text(text: str | None, config: ServerConfig, param: str) -> None:
    """Cap on one message's text."""
    if text is not None and len(text) > config.max_message_chars:
        raise InvalidRequestError(
            f"{param} must be at most {config.max_message_chars} characters on this server.",
            param=param,
        )


def check_prompt(prompt: object, config: ServerConfig) -> None:
    """Cap on a /v1/completions prompt: characters (or token ids) over all its parts."""
    if isinstance(prompt, str):
        size = len(prompt)
    elif isinstance(prompt, list):
        size = sum(len(p) if isinstance(p, (str, list)) else 1 for p in prompt)
    else:
        return
    if size > config.max_prompt_chars:
        raise InvalidRequestError(
            f"prompt must be at most {config.max_prompt_chars} characters (or token ids) "
            "on this server.",
            param="prompt",
        )
