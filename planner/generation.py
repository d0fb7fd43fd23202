"""A planned generation: the main text streams while refreshes plan ahead of it.

main text ──► MainText ──► RefreshSchedule ──► Refresh (K rollouts from the RolloutPool)
     │                                              │
     └─► Pacer ──► TextDelta, SnapshotReady ◄───────┘   (pace 'plan': text waits for its plan)
snapshots + realised endings ──► PlanEvaluator ──► ScoreReady, ForkFound ──► PlanFinished

Two entries: ``generate`` samples the main text from the engine; ``planner.follow``
plans along a text that is given.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence

from planner.budget import RolloutBudget
from planner.climatology import Climatology
from planner.clustering import Clusterer
from planner.config import PlanConfig
from planner.engine.protocol import Delta, Engine, Sampling
from planner.events import Event, PlanFinished
from planner.main_text import MainText
from planner.pacing import Pace, Pacer
from planner.plan import Plan
from planner.plan_evaluator import PlanEvaluator
from planner.pool import RolloutPool
from planner.refresh import Refresh
from planner.rollout import Rollout
from planner.schedule import RefreshSchedule, Trigger
from planner.user_reply import UserReply

MAIN_PRIORITY = 0
IMPLICIT_TOP_N = 20  # top logprobs the main sequence reports for the implicit-state comparison


class PlannedGeneration:
    """Plans along one main text as it arrives. Iterate ``events()`` once."""

    def __init__(
        self,
        engine: Engine,
        prompt_ids: Sequence[int],
        text: AsyncIterator[Delta],
        sampling: Sampling,
        config: PlanConfig,
        clusterer: Clusterer,
        *,
        budget: RolloutBudget | None = None,
        user_reply: UserReply | None = None,
        climatology: Climatology | None = None,
        pace: Pace | None = None,
    ) -> None:
        self._text = text
        self.plan = Plan(
            id=config.id or f"plan-{uuid.uuid4().hex}", config=config, prompt_tokens=len(prompt_ids)
        )
        self.main = MainText(engine.tokenizer.eos_token_ids)
        self.schedule = RefreshSchedule(config, self.main)
        self._queue: asyncio.Queue[Event | BaseException | None] = asyncio.Queue()
        # ``pace`` None: a given text (planner.follow), sent to nobody as it goes.
        self.pacer = Pacer(config, self.main, self._queue.put_nowait, pace)
        self.evaluator = PlanEvaluator(
            self.plan,
            self.main,
            clusterer,
            self.schedule.horizons_at,
            self._queue.put_nowait,
            user_reply=user_reply,
            climatology=climatology,
        )
        self.pool = RolloutPool(
            engine,
            list(prompt_ids),
            self.main,
            config,
            sampling,
            plan_id=self.plan.id,
            stats=self.plan.stats,
            notify=self._notify,
            horizons_at=self.schedule.horizons_at,
            budget=budget,
        )
        self._clusterer = clusterer
        self._refreshes: dict[int, Refresh] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._started: float | None = None

    def _notify(self, rollout: Rollout | None = None) -> None:
        """Wake the refreshes a change can matter to (all of them for main-text changes)."""
        if rollout is None:
            wake = list(self._refreshes.values())
        else:
            wake = [self._refreshes[t] for t in rollout.memberships if t in self._refreshes]
        for refresh in wake:
            refresh.changed.set()

    async def events(self) -> AsyncGenerator[Event, None]:
        """Text deltas at once; snapshots, scores and forks as they are ready; then the plan."""
        self._started = time.perf_counter()
        self.pool.open()  # the plan's share of the rollout budget, given back in _close
        driver = asyncio.create_task(self._drive(self._started))
        try:
            while True:
                item = await self._queue.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            # Shielded: inside an anyio cancel scope (sse-starlette when the client goes,
            # a deadline) every await here is cancelled again, and the rollouts ran on
            # for tens of seconds. The shielded task finishes the clean-up regardless.
            await asyncio.shield(asyncio.ensure_future(self._close(driver)))

    def cancelled_plan(self) -> Plan:
        """The plan as far as it got, marked cancelled (after ``events()`` was closed)."""
        started = self._started if self._started is not None else time.perf_counter()
        return self.evaluator.cancelled(time.perf_counter() - started)

    async def _close(self, driver: asyncio.Task[None]) -> None:
        """Cancel the main sequence, the refreshes and every rollout, and wait for them."""
        self.pacer.close()
        driver.cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(driver, *self._tasks, return_exceptions=True)
        await self.pool.close()

    async def _drive(self, started: float) -> None:
        try:
            self._start(self.schedule.start())
            async for delta in self._text:
                boundaries = self.main.add(delta)
                ends = [b.offset for b in boundaries if b.kind == "sentence"]
                self._start(self.schedule.after(len(delta.token_ids), ends))
                self.pacer.text(delta)  # after the refreshes it makes due: they may hold it
                self.evaluator.update()
                self.pool.prune(self.schedule.carry_floor())
                self._notify()
            self.pool.main_finished()
            await asyncio.gather(*self._tasks)
            self.evaluator.update()
            plan = self.evaluator.finish(time.perf_counter() - started)
            self.pacer.flush()
            self._queue.put_nowait(PlanFinished(plan))
        except Exception as exc:
            self.pacer.flush()  # the client keeps the text it was owed before the error
            self._queue.put_nowait(exc)
        finally:
            self._queue.put_nowait(None)

    def _start(self, points: list[tuple[int, Trigger]]) -> None:
        for position, trigger in points:
            horizons = self.schedule.horizons_at[position]
            refresh = Refresh(self.pool, position, trigger, horizons)
            self._refreshes[position] = refresh
            self.pacer.scheduled(position)
            self.plan.stats.refreshes += 1
            self._tasks.append(asyncio.create_task(self._run_refresh(refresh)))

    async def _run_refresh(self, refresh: Refresh) -> None:
        await refresh.run()
        t = refresh.position
        self.schedule.settled(t)
        frozen = refresh.freeze(self.main.token_text(t - 1) if t > 0 else None)
        snapshot = await asyncio.to_thread(frozen.snapshot, self._clusterer)
        needed, carried = frozen.token_use
        self.plan.stats.needed_rollout_tokens += needed
        self.plan.stats.carried_rollout_tokens += carried
        self.plan.stats.rollouts_carried += frozen.carried
        snapshot = self.pacer.snapshot(self.plan.id, snapshot)
        self.evaluator.add(snapshot)


def generate(
    engine: Engine,
    prompt_ids: Sequence[int],
    sampling: Sampling,
    config: PlanConfig,
    clusterer: Clusterer,
    *,
    request_id: str | None = None,
    budget: RolloutBudget | None = None,
    climatology: Climatology | None = None,
) -> PlannedGeneration:
    """Sample a text from the engine exactly as an unplanned request would, and plan along
    it (the main sequence only asks for more logprobs, which do not change sampling)."""
    top = max(sampling.logprobs or 0, IMPLICIT_TOP_N)
    request_id = request_id or uuid.uuid4().hex
    text = engine.generate(
        f"{request_id}-main", list(prompt_ids), sampling.with_(logprobs=top), priority=MAIN_PRIORITY
    )
    return PlannedGeneration(
        engine,
        prompt_ids,
        text,
        sampling,
        config,
        clusterer,
        budget=budget,
        climatology=climatology,
        pace=config.pace,
    )
