"""The rollout budget shared by plans: fair shares, degraded snapshots marked, no leaks."""

from __future__ import annotations

import asyncio

import pytest
from markov_engine import MarkovEngine, chat_prompt
from test_generation import config
from test_generation_cancel import RolloutsFailEngine

from planner.budget import RolloutBudget, fair_shares
from planner.clustering import TextClusterer
from planner.config import PlanConfig
from planner.engine.protocol import Sampling
from planner.errors import RolloutsFailedError
from planner.events import PlanFinished, SnapshotReady
from planner.generation import PlannedGeneration, generate
from planner.plan import Plan


@pytest.mark.parametrize(
    ("total", "demands", "shares"),
    [
        (8, [16, 2], [6, 2]),  # the small plan gets all it asks, the big one the rest
        (8, [4, 4], [4, 4]),
        (8, [16, 16], [4, 4]),
        (9, [16, 16], [5, 4]),  # the remainder to the first lease
        (16, [4, 4, 4], [4, 4, 4]),  # no shortage: everyone gets its demand
        (2, [4, 4, 4], [1, 1, 1]),  # more plans than slots: each still makes progress
        (10, [1, 3, 100], [1, 3, 6]),
    ],
)
def test_fair_shares_are_max_min_fair(total: int, demands: list[int], shares: list[int]) -> None:
    assert fair_shares(total, demands) == shares


async def _plan(
    engine: MarkovEngine, cfg: PlanConfig, budget: RolloutBudget, seed: int
) -> tuple[Plan, list[SnapshotReady]]:
    gen = generate(
        engine, chat_prompt(engine), Sampling(40, seed=seed), cfg, TextClusterer(), budget=budget
    )
    streamed, plan = [], None
    async for event in gen.events():
        if isinstance(event, SnapshotReady):
            streamed.append(event)
        elif isinstance(event, PlanFinished):
            plan = event.plan
    assert plan is not None
    return plan, streamed


async def test_a_big_plan_does_not_starve_a_small_one() -> None:
    """Budget 8, plans of K = 32 and K = 4 at once: the small one gets its 4 rollouts at every
    refresh; the big one gets fewer than 32, and each such snapshot says so."""
    engine = MarkovEngine(step_delay=0.0005)
    budget = RolloutBudget(8)
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, budget.in_use)
            await asyncio.sleep(0)

    watcher = asyncio.create_task(watch())
    base = {"refresh": "sentence", "max_lookahead_tokens": 10}
    try:
        (big, _), (small, _) = await asyncio.gather(
            _plan(engine, config(**base, rollouts=32, id="big"), budget, 1),
            _plan(engine, config(**base, rollouts=4, id="small"), budget, 2),
        )
    finally:
        watcher.cancel()
    assert peak <= 8, "never more rollouts decoding than the budget"
    assert small.snapshots and big.snapshots
    for s in small.snapshots:
        assert (s.rollouts_asked, s.rollouts_used, s.degraded) == (4, 4, False)
    assert any(s.degraded for s in big.snapshots), "32 asked, a share of 8 slots given"
    for s in big.snapshots:
        assert s.rollouts_asked == 32 and 1 <= s.rollouts_used <= 32
        assert s.degraded == (s.rollouts_used < 32)
        assert all(
            h.fresh_rollouts + h.carried_rollouts == s.rollouts_used for h in s.horizons.values()
        )
    assert budget.degraded_refreshes >= sum(s.degraded for s in big.snapshots)
    assert (budget.plans, budget.in_use, budget.asked) == (0, 0, 0), "every share given back"


async def test_a_plan_alone_under_a_big_enough_budget_is_never_degraded() -> None:
    engine = MarkovEngine()
    plan, streamed = await _plan(engine, config(rollouts=8), RolloutBudget(8), 3)
    assert all(not e.snapshot.degraded and e.snapshot.rollouts_used == 8 for e in streamed)
    assert len(streamed) == len(plan.snapshots) > 1


def test_a_lone_plan_asking_for_more_than_the_budget_is_capped_not_degraded() -> None:
    """``rollouts_in_flight`` above the whole budget: the budget caps it, as the old
    cross-plan cap did; its refreshes keep all K. Beside another plan it is degraded."""
    budget = RolloutBudget(8)
    lease = budget.lease(64)
    assert lease.share == 8 and lease.rollouts(8) == 8
    other = budget.lease(4)
    assert (lease.share, other.share) == (4, 4) and lease.rollouts(8) == 4
    other.close()
    assert lease.rollouts(8) == 8


def _endless(budget: RolloutBudget, seed: int) -> PlannedGeneration:
    """A planned generation that runs until its consumer stops it."""
    engine = MarkovEngine(step_delay=0.001)
    sampling = Sampling(max_tokens=10_000, seed=seed, ignore_eos=True)
    return generate(engine, chat_prompt(engine), sampling, config(), TextClusterer(), budget=budget)


async def test_closing_the_stream_early_gives_the_share_back() -> None:
    budget = RolloutBudget(4)
    events = _endless(budget, seed=2).events()
    try:
        async for event in events:
            if isinstance(event, SnapshotReady) and event.snapshot.position > 0:
                assert budget.plans == 1 and budget.in_use > 0
                break
    finally:
        await events.aclose()
    assert (budget.plans, budget.in_use) == (0, 0)


async def test_cancelling_the_consumer_gives_the_share_back() -> None:
    """What a client that disconnects does to its stream: the consumer task is cancelled."""
    budget = RolloutBudget(4)
    seen = asyncio.Event()

    async def consume() -> None:
        async for event in _endless(budget, seed=4).events():
            if isinstance(event, SnapshotReady):
                seen.set()

    task = asyncio.create_task(consume())
    await seen.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (budget.plans, budget.in_use) == (0, 0)


async def test_a_failed_plan_gives_the_share_back() -> None:
    engine = RolloutsFailEngine()
    budget = RolloutBudget(4)
    gen = generate(
        engine, chat_prompt(engine), Sampling(8, seed=1), config(), TextClusterer(), budget=budget
    )
    with pytest.raises(RolloutsFailedError):
        async for _ in gen.events():
            pass
    assert (budget.plans, budget.in_use) == (0, 0)
