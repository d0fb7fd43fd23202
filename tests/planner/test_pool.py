"""How many rollouts of one plan share the engine with its main text, and after it."""

from __future__ import annotations

import asyncio

import pytest
from markov_engine import MarkovEngine, chat_prompt

from planner.clustering import TextClusterer
from planner.config import PlanConfig
from planner.engine.protocol import Sampling
from planner.events import PlanFinished
from planner.generation import generate
from planner.pool import TAIL_IN_FLIGHT_FACTOR


async def _concurrency(cfg: PlanConfig, seed: int) -> tuple[int, int]:
    """(most rollouts running beside the main text, most running after it), polled."""
    engine = MarkovEngine(step_delay=0.002)
    gen = generate(
        engine,
        chat_prompt(engine),
        Sampling(max_tokens=40, seed=seed, ignore_eos=True),
        cfg,
        TextClusterer(),
        request_id="req",
    )
    during = after = 0

    async def watch() -> None:
        nonlocal during, after
        while True:
            rollouts = sum(1 for r in engine.active if r != "req-main")
            if "req-main" in engine.active:
                during = max(during, rollouts)
            else:
                after = max(after, rollouts)
            await asyncio.sleep(0.0005)

    watcher = asyncio.create_task(watch())
    try:
        events = [e async for e in gen.events()]
    finally:
        watcher.cancel()
    assert isinstance(events[-1], PlanFinished)
    return during, after


@pytest.mark.parametrize(
    ("rollouts", "in_flight", "expected"), [(8, None, 4), (5, None, 3), (8, 2, 2), (4, 8, 8)]
)
def test_in_flight_defaults_to_half_of_k(
    rollouts: int, in_flight: int | None, expected: int
) -> None:
    cfg = PlanConfig(rollouts=rollouts, rollouts_in_flight=in_flight)
    assert cfg.in_flight == expected


@pytest.mark.parametrize("in_flight", [2, 8])
async def test_rollouts_beside_the_main_text_never_exceed_the_cap(in_flight: int) -> None:
    """While the text streams at most ``in_flight`` rollouts decode; once it is done the cap
    rises to TAIL_IN_FLIGHT_FACTOR x K, so a backlog is worked off in bigger batches."""
    cfg = PlanConfig(
        horizons=("sentence", "turn"),
        rollouts=8,
        refresh="token",
        max_lookahead_tokens=12,
        clustering="text",
        rollouts_in_flight=in_flight,
    )
    during, after = await _concurrency(cfg, seed=3)
    assert during == in_flight  # token refresh makes a backlog: the cap is reached
    assert in_flight < after <= TAIL_IN_FLIGHT_FACTOR * cfg.rollouts
