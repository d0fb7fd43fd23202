"""The engine behind the server: started in the background, ready when it can serve."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from planner.engine.protocol import Engine
from planner.errors import EngineUnavailableError

log = logging.getLogger(__name__)


class EngineHolder:
    """Owns the engine's lifecycle; routes ask it for the engine or get a 503."""

    def __init__(self, factory: Callable[[], Engine]) -> None:
        self._factory = factory
        self._engine: Engine | None = None
        self.error: str | None = None
        self.stopping = False
        self._warming = False

    @property
    def ready(self) -> bool:
        return self._engine is not None and not self._warming and not self.stopping

    def get(self) -> Engine:
        """The running engine, or ``EngineUnavailableError`` (HTTP 503)."""
        if self.stopping:
            raise EngineUnavailableError("the server is shutting down")
        if self._engine is None or self._warming:
            reason = "the engine failed to start" if self.error else "the engine is starting"
            raise EngineUnavailableError(reason)
        return self._engine

    async def start(self, warm: Callable[[], Awaitable[None]] | None = None) -> None:
        """Build the engine off the event loop so /health answers while it loads, then run
        ``warm`` (what the first requests would otherwise wait for) before going ready."""
        try:
            engine = await asyncio.to_thread(self._factory)
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            log.error("engine failed to start: %s", self.error)
            raise
        self._engine, self._warming = engine, warm is not None  # shutdown() stops it from here
        if warm is not None:
            try:
                await warm()
            except Exception:
                log.exception("warm-up failed; serving anyway")
            finally:
                self._warming = False

    def fail(self, reason: str) -> None:
        """The engine died while serving: not ready any more, every request a 503."""
        self.error = reason
        self._engine = None
        log.error("the engine failed: %s", reason)

    def shutdown(self) -> None:
        """Refuse new work and stop the engine."""
        self.stopping = True
        engine: Any = self._engine
        self._engine = None
        if engine is not None and hasattr(engine, "shutdown"):
            engine.shutdown()
