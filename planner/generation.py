"""A planned generation: the main text streams while refreshes plan ahead of it.

main stream ──► MainText ──► refresh points (policy) ──► Refresh (K rollouts)
     │                                                      │
     └─► TextDelta events                 SnapshotReady ◄───┘
realised endings (MainText) + snapshots ──► ScoreReady, ForkFound ──► PlanFinished
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterator, Sequence

from planner.clustering import Clusterer
from planner.config import PlanConfig
from planner.engine.protocol import Delta, Engine, Sampling
from planner.evaluation import plan_divergence, score_prediction
from planner.events import Event, ForkFound, PlanFinished, ScoreReady, SnapshotReady, TextDelta
from planner.main_text import MainText, Realised
from planner.plan import Fork, ImplicitSummary, Plan, Score, Snapshot, Unit
from planner.pool import RolloutPool
from planner.refresh import Refresh
from planner.rollout import Rollout
from planner.scoring import ScoreAggregate

MAIN_PRIORITY = 0
IMPLICIT_TOP_N = 20  # top logprobs the main sequence reports for the implicit-state comparison


class PlannedGeneration:
    """Generates (or follows) one text and plans along it. Iterate ``events()`` once."""

    def __init__(
        self,
        engine: Engine,
        prompt_ids: Sequence[int],
        sampling: Sampling,
        config: PlanConfig,
        clusterer: Clusterer,
        *,
        request_id: str | None = None,
        rollout_slots: asyncio.Semaphore | None = None,
        given: Sequence[Delta] | None = None,
        user_reply: tuple[Realised, float | None] | None = None,
    ) -> None:
        self.engine = engine
        self.prompt_ids = list(prompt_ids)
        self.sampling = sampling
        self.config = config
        self.clusterer = clusterer
        self.request_id = request_id or uuid.uuid4().hex
        self.plan = Plan(
            id=config.id or f"plan-{uuid.uuid4().hex}", config=config, prompt_tokens=len(prompt_ids)
        )
        self.main = MainText(engine.tokenizer.eos_token_ids)
        self._given = given
        self._user_reply = user_reply  # (realised user turn from position 0, model log p)
        self.pool = RolloutPool(
            engine,
            self.prompt_ids,
            self.main,
            config,
            sampling,
            plan_id=self.plan.id,
            stats=self.plan.stats,
            notify=self._notify,
            shared_slots=rollout_slots,
        )
        self._refreshes: dict[int, Refresh] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._snapshots: dict[int, Snapshot] = {}
        self._settling: set[int] = set()  # refreshes still gathering members
        self._scored: set[tuple[int, str]] = set()
        self._forked: set[tuple[int, int, str]] = set()
        self._queue: asyncio.Queue[Event | BaseException | None] = asyncio.Queue()
        self._next_interval = 0
        self._last_planned: dict[str, tuple[int, int]] = {}

    # -- change notification ---------------------------------------------------------------

    def _notify(self, rollout: Rollout | None = None) -> None:
        """Wake the refreshes a change can matter to (all of them for main-text changes)."""
        if rollout is None:
            for refresh in self._refreshes.values():
                refresh.changed.set()
            return
        for position in rollout.memberships:
            member_of = self._refreshes.get(position)
            if member_of is not None:
                member_of.changed.set()

    # -- public ----------------------------------------------------------------------------

    async def events(self) -> AsyncIterator[Event]:
        """Text deltas at once; snapshots, scores and forks as they are ready; then the plan."""
        started = time.perf_counter()
        driver = asyncio.create_task(self._drive(started))
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

    async def _close(self, driver: asyncio.Task[None]) -> None:
        """Cancel the main sequence, the refreshes and every rollout, and wait for them."""
        driver.cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(driver, *self._tasks, return_exceptions=True)
        await self.pool.close()

    # -- the main sequence -----------------------------------------------------------------

    def _main_stream(self) -> AsyncIterator[Delta]:
        if self._given is not None:
            return _replay(self._given)
        top = max(self.sampling.logprobs or 0, IMPLICIT_TOP_N)
        sampling = self.sampling.with_(logprobs=top)
        return self.engine.generate(
            f"{self.request_id}-main", self.prompt_ids, sampling, priority=MAIN_PRIORITY
        )

    async def _drive(self, started: float) -> None:
        try:
            self._schedule(0, "start")
            async for delta in self._main_stream():
                boundaries = self.main.add(delta)
                self._queue.put_nowait(TextDelta(delta))
                self._schedule_after(delta, [b.offset for b in boundaries if b.kind == "sentence"])
                self._score_ready()
                self._fork_ready()
                self.pool.prune(self._carry_floor())
                self._notify()
            self.pool.main_finished()
            await asyncio.gather(*self._tasks)
            self._score_ready()
            self._fork_ready()
            self._finish(started)
            self._queue.put_nowait(PlanFinished(self.plan))
        except Exception as exc:
            self._queue.put_nowait(exc)
        finally:
            self._queue.put_nowait(None)

    def _schedule_after(self, delta: Delta, sentence_ends: list[int]) -> None:
        n = len(self.main.tokens)
        limit = n - 1 if self.main.finished else n  # nothing left to plan after the end
        policy = self.config.refresh
        if policy == "token":
            for t in range(n - len(delta.token_ids) + 1, limit + 1):
                self._schedule(t, "token")
        elif policy == "sentence":
            for end in sentence_ends:
                self._schedule(self.main.index.tokens_to_cover(end), "sentence")
        else:
            if self._next_interval == 0:
                self._next_interval = policy
            while self._next_interval <= limit:
                self._schedule(self._next_interval, "interval")
                self._next_interval += policy

    def _schedule(self, position: int, trigger: str) -> None:
        if position in self._refreshes or position < 0:
            return
        if self.main.finished and position >= len(self.main.tokens):
            return
        self.pool.horizons_at[position] = self._due(position)
        refresh = Refresh(self.pool, position, trigger)
        self._refreshes[position] = refresh
        self._settling.add(position)
        self.plan.stats.refreshes += 1
        self._tasks.append(asyncio.create_task(self._run_refresh(refresh)))

    def _due(self, position: int) -> tuple[str, ...]:
        """The horizons the refresh at ``position`` plans: each at every ``every(h)``-th
        refresh point, at the first, and (paragraph) at the first of each new paragraph.
        Called once per refresh point, in position order."""
        point = len(self._refreshes)  # this point's index
        due = []
        for h in self.config.horizons:
            last = self._last_planned.get(h)  # (point index, text offset) of its last refresh
            if (
                last is None
                or point - last[0] >= self.config.every(h)
                or (
                    h == "paragraph"
                    and self.main.unit_start(h, self.main.offset(position)) > last[1]
                )
            ):
                due.append(h)
                self._last_planned[h] = (point, self.main.offset(position))
        return tuple(due)

    def _carry_floor(self) -> int:
        """The shortest prefix any refresh may still carry rollouts over to."""
        latest = max(self._refreshes, default=-1) + 1  # later refreshes come after this
        return min((t for t in self._settling), default=latest)

    async def _run_refresh(self, refresh: Refresh) -> None:
        await refresh.run()
        self._settling.discard(refresh.position)
        t = refresh.position
        frozen = refresh.freeze(self.main.token_text(t - 1) if t > 0 else None)
        snapshot = await asyncio.to_thread(frozen.snapshot, self.clusterer)
        needed, carried = frozen.token_use
        self.plan.stats.needed_rollout_tokens += needed
        self.plan.stats.carried_rollout_tokens += carried
        self.plan.stats.rollouts_carried += frozen.carried
        self._snapshots[t] = snapshot
        self._queue.put_nowait(SnapshotReady(self.plan.id, snapshot))
        self._score_ready()
        self._fork_ready()

    # -- scoring and forks -----------------------------------------------------------------

    def _realised(self, horizon: str, position: int) -> tuple[Realised, float | None] | None:
        if horizon == "user":
            if self._user_reply is None or not self.main.ended_turn:
                return None
            reply, logprob = self._user_reply
            rest = len(self.main.tokens) - position
            return Realised(reply.text, rest + reply.tokens), logprob
        realised = self.main.realised(horizon, position)
        if realised is None:
            return None
        lps = self.main.logprobs[position : position + realised.tokens]
        logprob = sum(lp.logprob for lp in lps if lp) if all(lps) else None
        return realised, logprob

    def _score_ready(self) -> None:
        for t, snapshot in sorted(self._snapshots.items()):
            for h, plan in snapshot.horizons.items():
                if (t, h) in self._scored:
                    continue
                found = self._realised(h, t)
                if found is None:
                    continue
                self._scored.add((t, h))
                realised, logprob = found
                if not self._within_lookahead(h, t, realised):
                    self.plan.unscored[h] = self.plan.unscored.get(h, 0) + 1
                    continue
                score = score_prediction(
                    t, h, plan, realised.text, realised.tokens, self.clusterer, logprob
                )
                self.plan.scores.append(score)
                self._queue.put_nowait(ScoreReady(self.plan.id, score))

    def _within_lookahead(self, horizon: str, position: int, realised: Realised) -> bool:
        """Whether a rollout could have reached this ending (the rule in planner.rollout)."""
        limit = self.config.max_lookahead_tokens
        if horizon != "user":
            return realised.tokens <= limit
        rest = len(self.main.tokens) - position
        reply = realised.tokens - rest - len(self.pool.user_header)
        return rest <= limit and reply <= limit

    def _fork_ready(self) -> None:
        """Compare neighbouring snapshots of each horizon once both exist and their units
        are known."""
        text = self.main.text
        for h in self.config.horizons:
            positions = sorted(t for t, hs in self.pool.horizons_at.items() if h in hs)
            for a, b in itertools.pairwise(positions):
                if (
                    (a, b, h) in self._forked
                    or a not in self._snapshots
                    or b not in self._snapshots
                ):
                    continue
                # A unit end at b's offset is certain only once text follows it (or the text
                # ended): until then, a and b cannot be known to share a unit.
                if not self.main.finished and not text[self._snapshots[b].text_offset :].strip():
                    continue
                self._forked.add((a, b, h))
                self._compare(a, b, h)

    def _compare(self, a: int, b: int, h: str) -> None:
        prev, cur = self._snapshots[a], self._snapshots[b]
        start_a = self.main.unit_start(h, prev.text_offset)
        start_b = self.main.unit_start(h, cur.text_offset)
        if start_a != start_b:
            return  # a new unit began between them: nothing to compare
        text = self.main.text
        divergence = plan_divergence(
            prev.horizons[h],
            text[start_a : prev.text_offset],
            cur.horizons[h],
            text[start_b : cur.text_offset],
            self.clusterer,
        )
        if divergence is not None and divergence > self.config.fork_threshold:
            fork = Fork(
                position=b,
                horizon=h,
                divergence=divergence,
                token=self.main.token_text(b - 1) if b > 0 else None,
            )
            self.plan.forks.append(fork)
            self._queue.put_nowait(ForkFound(self.plan.id, fork))

    def _finish(self, started: float) -> None:
        plan = self.plan
        plan.snapshots = [self._snapshots[t] for t in sorted(self._snapshots)]
        plan.text = self.main.text
        plan.completion_tokens = len(self.main.tokens)
        plan.finished = True
        plan.scores.sort(key=lambda s: (s.position, s.horizon))
        plan.forks.sort(key=lambda f: (f.position, f.horizon))
        plan.realised = self._units()
        plan.comparison = aggregate(plan.scores, self.config.horizons)
        plan.implicit = self._implicit_summary()
        plan.stats.wall_seconds = time.perf_counter() - started

    def _implicit_summary(self) -> ImplicitSummary:
        found = [s.implicit for s in self.plan.snapshots if s.implicit is not None]
        logprobs = self.main.logprobs
        total = sum(lp.logprob for lp in logprobs if lp) if logprobs and all(logprobs) else None
        if not found:
            return ImplicitSummary(model_logprob=total)

        def mean(values: list[float]) -> float:
            return sum(values) / len(values)

        return ImplicitSummary(
            snapshots=len(found),
            mean_total_variation=mean([i.total_variation for i in found]),
            mean_js_divergence=mean([i.js_divergence for i in found]),
            mean_next_token_entropy=mean([i.next_token_entropy for i in found]),
            mean_first_token_entropy=mean([i.empirical_entropy for i in found]),
            model_logprob=total,
        )

    def _units(self) -> dict[str, list[Unit]]:
        units: dict[str, list[Unit]] = {}
        index = self.main.index
        for h in ("sentence", "paragraph"):
            if h not in self.config.horizons:
                continue
            start, out = 0, []
            for end in self.main.ends[h]:
                out.append(
                    Unit(
                        start_position=index.tokens_to_cover(start),
                        end_position=index.tokens_to_cover(end),
                        text=self.main.text[start:end].strip(),
                    )
                )
                start = end
            units[h] = out
        if "turn" in self.config.horizons and self.main.ended_turn:
            units["turn"] = [
                Unit(start_position=0, end_position=len(self.main.tokens), text=self.main.text)
            ]
        if "user" in self.config.horizons and self._user_reply is not None:
            reply = self._user_reply[0]
            n = len(self.main.tokens)
            units["user"] = [Unit(start_position=n, end_position=n + reply.tokens, text=reply.text)]
        return units


def aggregate(scores: Sequence[Score], horizons: Sequence[str]) -> dict[str, dict[str, object]]:
    """Per-horizon means of the scores (see ScoreAggregate)."""
    out = {}
    for h in horizons:
        agg = ScoreAggregate(horizon=h)
        for s in scores:
            if s.horizon == h:
                agg.add(
                    log_score=s.log_score,
                    uniform_log_score=s.uniform_log_score,
                    top1=s.top1,
                    in_candidates=s.in_candidates,
                    brier=s.brier,
                    tokens_abs_error=s.tokens_abs_error,
                    interval_covered=s.interval_covered,
                )
        out[h] = agg.to_dict()
    return out


async def _replay(deltas: Sequence[Delta]) -> AsyncIterator[Delta]:
    for delta in deltas:
        yield delta
        await asyncio.sleep(0)
