"""A planned generation stopped early: nothing stays running in the engine or the loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import pytest
from markov_engine import MarkovEngine, chat_prompt
from test_generation import config

from planner.clustering import TextClusterer
from planner.engine.protocol import Delta, Sampling
from planner.errors import RolloutsFailedError
from planner.events import Event, SnapshotReady
from planner.generation import generate


def _other_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def test_closing_the_event_stream_early_stops_all_engine_work() -> None:
    """Closing the events iterator after the first snapshot aborts the main request and every
    rollout: nothing stays running in the engine or the event loop."""
    engine = MarkovEngine(step_delay=0.001)
    before = _other_tasks()
    gen = generate(
        engine,
        chat_prompt(engine),
        Sampling(max_tokens=10_000, seed=2, ignore_eos=True),
        config(id="close-2"),
        TextClusterer(),
    )
    events = gen.events()
    assert isinstance(events, AsyncGenerator)
    try:
        async for event in events:
            if isinstance(event, SnapshotReady) and event.snapshot.position > 0:
                assert len(engine.active) > 1  # the main text and rollouts were running
                break
    finally:
        await events.aclose()
    assert engine.active == set()
    assert _other_tasks() == before
    settled = engine.tokens_generated
    await asyncio.sleep(0.02)
    assert engine.tokens_generated == settled, "nothing generates after the close"


async def test_cancelling_the_consumer_stops_all_engine_work() -> None:
    """Cancelling the task that consumes the events leaves no engine request or task behind."""
    engine = MarkovEngine(step_delay=0.001)
    before = _other_tasks()
    seen: list[Event] = []

    async def consume() -> None:
        gen = generate(
            engine,
            chat_prompt(engine),
            Sampling(max_tokens=10_000, seed=4, ignore_eos=True),
            config(id="cancel-4"),
            TextClusterer(),
        )
        async for event in gen.events():
            seen.append(event)

    task = asyncio.create_task(consume())
    while not any(isinstance(e, SnapshotReady) for e in seen):
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert engine.active == set()
    assert _other_tasks() == before


class RolloutsFailEngine(MarkovEngine):
    """The synthetic engine, whose rollout requests all fail (a broken engine)."""

    def generate(self, request_id: str, *args: Any, **kwargs: Any) -> AsyncIterator[Delta]:
        if not request_id.endswith("-main"):
            raise RuntimeError("engine core died")
        return super().generate(request_id, *args, **kwargs)


async def test_rollouts_that_keep_failing_end_the_plan_with_an_error() -> None:
    """A refresh does not replace failed rollouts for ever (before, it spun on the event loop
    starting fresh ones): after K failures the generation raises a clear error."""
    engine = RolloutsFailEngine()
    gen = generate(
        engine, chat_prompt(engine), Sampling(max_tokens=8, seed=1), config(), TextClusterer()
    )
    with pytest.raises(RolloutsFailedError, match=r"failed 8 rollouts .* \(RuntimeError\)"):
        async for _ in gen.events():
            pass
    assert engine.active == set()
