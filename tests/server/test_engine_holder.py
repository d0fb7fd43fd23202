"""The engine's lifecycle behind /ready: starting, warming up, ready, stopping."""

from __future__ import annotations

import asyncio

import pytest

from planner.errors import EngineUnavailableError
from server.engine_holder import EngineHolder


class FakeEngine:
    def __init__(self) -> None:
        self.stopped = False

    def shutdown(self) -> None:
        self.stopped = True


async def test_not_ready_until_the_warm_up_is_done() -> None:
    engine = FakeEngine()
    holder = EngineHolder(lambda: engine)
    release = asyncio.Event()
    starting = asyncio.create_task(holder.start(warm=release.wait))
    while holder._engine is None:  # the engine is built; the warm-up waits
        await asyncio.sleep(0.01)
    assert not holder.ready
    with pytest.raises(EngineUnavailableError, match="starting"):
        holder.get()
    release.set()
    await starting
    assert holder.ready and holder.get() is engine


async def test_a_failed_warm_up_still_serves() -> None:
    engine = FakeEngine()
    holder = EngineHolder(lambda: engine)

    async def broken() -> None:
        raise RuntimeError("no model")

    await holder.start(warm=broken)
    assert holder.ready and holder.get() is engine


async def test_shutdown_during_the_warm_up_stops_the_engine() -> None:
    engine = FakeEngine()
    holder = EngineHolder(lambda: engine)
    starting = asyncio.create_task(holder.start(warm=asyncio.Event().wait))
    while holder._engine is None:
        await asyncio.sleep(0.01)
    starting.cancel()
    holder.shutdown()
    with pytest.raises(asyncio.CancelledError):
        await starting
    assert engine.stopped and not holder.ready
