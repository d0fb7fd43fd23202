"""The real app on the Markov engine, in-process, with the guards configured per test.

``guarded(**overrides)`` runs ``create_app`` with a ``MarkovEngine`` (its lifespan too)
and yields the app and an ``httpx.AsyncClient`` over ``ASGITransport``: no socket, no
vLLM, milliseconds per request. ``step_delay`` slows the engine to keep requests running.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI
from markov_engine import MarkovEngine

from planner.engine.config import EngineConfig
from server.app import create_app
from server.config import ServerConfig

BASE_URL = "http://foresight.test"
CHAT = {"messages": [{"role": "user", "content": " The cat"}], "max_tokens": 8}
PLANNED = {**CHAT, "plan": {"rollouts": 2, "horizons": ["sentence"], "clustering": "text"}}


def guarded_config(tmp: Path, **overrides: object) -> ServerConfig:
    engine = EngineConfig(model="synthetic/markov-test", max_model_len=4096)
    settings: dict[str, object] = {"max_n": 8, "store": f"sqlite:///{tmp / 'plans.db'}"}
    return ServerConfig(engine=engine, **{**settings, **overrides})  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def guarded(
    tmp: Path, *, step_delay: float = 0.0, **overrides: object
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, MarkovEngine]]:
    """A ready app with ``overrides`` in its config, a client on it, and its engine."""
    engine = MarkovEngine(step_delay=step_delay)
    app = create_app(guarded_config(tmp, **overrides), engine_factory=lambda: engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=60) as http:
            deadline = time.monotonic() + 120
            while (await http.get("/ready")).status_code != 200:
                assert time.monotonic() < deadline, "the app did not become ready"
                await asyncio.sleep(0.02)
            yield app, http, engine


class ThreadServer:
    """The same app on a loopback port (uvicorn in a thread), for clients out of process."""

    def __init__(self, tmp: Path, *, step_delay: float = 0.0, **overrides: object) -> None:
        import uvicorn
        from live_server import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.engine = engine = MarkovEngine(step_delay=step_delay)
        config = guarded_config(tmp, port=self.port, **overrides)
        self.app = create_app(config, engine_factory=lambda: engine)
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self._thread.start()
        deadline = time.monotonic() + 120
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while time.monotonic() < deadline:
                try:
                    if client.get("/ready").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise TimeoutError("the app did not become ready")

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
