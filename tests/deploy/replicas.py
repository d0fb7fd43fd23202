"""Replicas for the scale-out tests: Foresight apps and a front on the live server's loop."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from live_server import ExtraServer, LiveServer, free_port


class Replica(ExtraServer):
    """A second Foresight app on the shared engine that can also die abruptly."""

    @property
    def stopped(self) -> bool:
        return bool(getattr(self, "_task", None) is None or self._task.done())

    def kill(self) -> None:
        """As a crash looks from outside: every connection reset at once, the port closed.

        What the app was doing for those connections sees them disconnect (and cancels),
        as it would if its process vanished; whatever is still running after a second is
        cancelled. (The app then closes its store connection, which a dead process's
        operating system would do for it.)
        """

        async def go() -> None:
            server: Any = self._server
            server.config.timeout_graceful_shutdown = 1
            for connection in list(server.server_state.connections):
                connection.transport.abort()
            server.should_exit = True
            await self._task

        self.live.run(go(), timeout=60)


class LoopServer:
    """Any ASGI app served on the live server's loop, on a free loopback port."""

    def __init__(self, live: LiveServer, app: Any) -> None:
        self.live = live
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )

    def start(self) -> LoopServer:
        async def go() -> None:
            self._task = asyncio.create_task(self._server.serve())
            while not self._server.started:
                await asyncio.sleep(0.02)

        self.live.run(go(), timeout=30)
        return self

    def stop(self) -> None:
        async def go() -> None:
            self._server.should_exit = True
            await self._task

        self.live.run(go(), timeout=60)
