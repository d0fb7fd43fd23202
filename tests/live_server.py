"""One real Foresight server with the real vLLM engine, shared by the whole test session.

It runs uvicorn in a background thread with its own event loop; tests talk to it
over HTTP, and planner tests run coroutines on its loop (the engine belongs to it).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx
import uvicorn

from planner.engine.config import EngineConfig
from planner.engine.model_cache import prepare_default_model
from planner.engine.protocol import Engine
from server.app import create_app
from server.config import ServerConfig

T = TypeVar("T")
START_TIMEOUT = 300.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A started server; ``url``, ``engine`` and ``run(coro)`` for tests."""

    def __init__(self, store: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        engine = EngineConfig(model=str(prepare_default_model()), max_model_len=2048)
        self.config = ServerConfig(engine=engine, port=self.port, max_n=8, store=store)
        self.app = create_app(self.config)
        self.loop = asyncio.new_event_loop()
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self._thread = threading.Thread(target=self._serve, name="live-server", daemon=True)
        self.ready_statuses: list[int] = []  # /ready answers seen while starting

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._server.serve())

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while time.monotonic() < deadline:
                try:
                    status = client.get("/ready").status_code
                except httpx.TransportError:
                    time.sleep(0.2)
                    continue
                self.ready_statuses.append(status)
                if status == 200:
                    return self
                if self.app.state.engine_holder.error:
                    raise RuntimeError(self.app.state.engine_holder.error)
                time.sleep(0.5)
        raise TimeoutError("the test server did not become ready")

    @property
    def engine(self) -> Engine:
        return self.app.state.engine_holder.get()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 300) -> T:
        """Run a coroutine on the server's loop (where the engine lives)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=60)


class BorrowedEngine:
    """The session's engine lent to another app: everything but shutdown passes through."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def shutdown(self) -> None:
        """The lender owns the engine; another app stopping must not stop it."""


class ExtraServer:
    """A second Foresight app on the live server's loop and engine (e.g. another replica)."""

    def __init__(self, live: LiveServer, store: str, **overrides: Any) -> None:
        self.live = live
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = ServerConfig(engine=live.config.engine, port=self.port, store=store, **overrides)
        self.app = create_app(config, engine_factory=lambda: BorrowedEngine(live.engine))  # type: ignore[arg-type, return-value]
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        )

    def start(self) -> ExtraServer:
        async def go() -> None:
            self._task = asyncio.create_task(self._server.serve())
            while not self._server.started or not self.app.state.engine_holder.ready:
                await asyncio.sleep(0.05)

        self.live.run(go(), timeout=60)
        return self

    def stop(self) -> None:
        async def go() -> None:
            self._server.should_exit = True
            await self._task

        self.live.run(go(), timeout=60)
