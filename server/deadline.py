"""A server-side deadline per request: past it, the request's work is cancelled.

Cancelling the handler's task cancels its engine requests (the main text and every
rollout: they are tasks under it). The client gets a 504 in the OpenAI shape, or, when a
stream has started, an ``error`` event and then ``data: [DONE]``.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from server.late_errors import ResponseWatch, error_body

log = logging.getLogger(__name__)


class DeadlineMiddleware:
    """Stop any request on ``paths`` that runs past ``seconds``."""

    def __init__(self, app: ASGIApp, seconds: float, paths: frozenset[str]) -> None:
        self.app = app
        self.seconds = seconds
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        watch = ResponseWatch(send)
        try:
            async with asyncio.timeout(self.seconds):
                await self.app(scope, receive, watch.send)
        except TimeoutError:
            if watch.finished:
                return
            log.warning("a request to %s was stopped at its deadline", scope["path"])
            error = error_body(
                f"The request took longer than this server's limit of {self.seconds:g} "
                "seconds and was stopped.",
                "timeout_error",
                "request_timeout",
            )
            await watch.end_with(504, error)
