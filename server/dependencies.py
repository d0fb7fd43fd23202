"""What routes take from the app: the engine, the config, and cancellation on disconnect."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request

from planner import Planner
from planner.engine.protocol import Engine
from server.config import ServerConfig
from server.engine_holder import EngineHolder

R = TypeVar("R")


def holder_of(request: Request) -> EngineHolder:
    holder: EngineHolder = request.app.state.engine_holder
    return holder


def engine_of(request: Request) -> Engine:
    """The running engine, or a 503 in the OpenAI shape."""
    return holder_of(request).get()


def planner_of(request: Request) -> Planner:
    """The planner (store, limits, clusterers)."""
    planner: Planner = request.app.state.planner
    return planner


def tenant(request: Request) -> str | None:
    """Whose plans this request may make and see: its API key's identity (server.auth);
    None on a server without keys."""
    value: str | None = getattr(request.state, "tenant", None)
    return value


def server_config(request: Request) -> ServerConfig:
    config: ServerConfig = request.app.state.config
    return config


async def _wait_for_disconnect(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


def cancel_on_disconnect(
    handler: Callable[..., Awaitable[R]],
) -> Callable[..., Awaitable[R | None]]:
    """Cancel a non-streaming handler (and so its engine requests) when the client leaves.

    Streaming responses cancel themselves: the SSE response stops its iterator on
    disconnect. The body has been read by FastAPI already, so the next receive()
    only ever yields the disconnect.
    """

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> R | None:
        raw: Request = kwargs["raw"]
        work: asyncio.Future[R] = asyncio.ensure_future(handler(*args, **kwargs))
        watch = asyncio.create_task(_wait_for_disconnect(raw))
        racing: set[asyncio.Future[Any]] = {work, watch}
        try:
            done, _ = await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            # Cancelled from outside (deadline, shutdown): the work is a task of its own,
            # so it must be cancelled too, or its engine requests would run on.
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            raise
        finally:
            watch.cancel()
        if work in done:
            return work.result()
        work.cancel()
        await asyncio.gather(work, return_exceptions=True)
        return None

    return wrapper
