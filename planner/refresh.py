"""One refresh: gather K rollouts consistent with the prefix, then summarise them."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Literal

from planner.clustering import Clusterer
from planner.config import Horizon, assistant_horizon
from planner.errors import RolloutsFailedError
from planner.implicit import collision_probability, first_token_distance
from planner.plan import HorizonSnapshot, Implicit, RefreshReason, RolloutView, Snapshot
from planner.pool import RolloutPool
from planner.refresh_policy import Decision, decide
from planner.rollout import Rollout
from planner.stratify import FreshDraws
from planner.summary import Member, summarise


class Refresh:
    """The plan at one position, from carried-over and fresh rollouts."""

    def __init__(
        self, pool: RolloutPool, position: int, trigger: str, horizons: tuple[Horizon, ...]
    ) -> None:
        self.pool = pool
        self.position = position
        self.trigger = trigger
        self.horizons = horizons
        self.started = time.perf_counter()
        self.members: list[Rollout] = []
        self.carried: set[str] = set()
        self._fresh = 0
        self.draws = FreshDraws(pool.stratified)  # the fresh rollouts' first-token strata
        self.decision: Decision | None = None  # how many rollouts, and why
        self.changed = asyncio.Event()  # set when a member or the main text changed
        # Fresh rollouts top the members up to ``k`` only: fewer than K when the server's
        # rollout budget is short (carried-over rollouts, which cost no decode, still fill K).
        self.k = pool.refresh_size()

    def _settle(self) -> bool:
        """Update membership; True once the members have resolved every horizon.

        The target is the refresh policy's (K, or the adaptive K/2 or 2 K); carried-over
        rollouts may fill all of it, fresh ones top up to the budget's share of it."""
        pool, t = self.pool, self.position
        self.decision = self.decision or decide(pool.config, pool.main, t)
        if self.decision is None:
            return False  # awaiting the next token's distribution
        k, tokens = self.decision.rollouts, pool.main.tokens
        # The rollout budget's share of K, applied to this refresh's target (carried-over
        # rollouts, which cost no decode, may still fill it).
        k_fresh = min(k, -(-k * self.k // pool.config.rollouts))
        for r in list(self.members):
            if r.aborted or r.agrees(tokens, t) is False:
                self.members.remove(r)
                self.carried.discard(r.id)
                r.memberships.discard(t)
                if r.start == t and r.stratum is not None:
                    self.draws.give_back(r.stratum)
        if len(self.members) < k:
            # Carry over: older rollouts that reproduce the emitted tokens, oldest first.
            # Which ones are taken depends only on their age, never on their future.
            for r in pool.rollouts:
                if len(self.members) >= k:
                    break
                if r.start >= t or r.aborted or r in self.members:
                    continue
                if r.agrees(tokens, t) is not False:
                    self.members.append(r)
                    self.carried.add(r.id)
                    r.memberships.add(t)
        if len(self.members) < k_fresh and not self.draws.decide(
            pool.main, t, k_fresh - len(self.members)
        ):
            for r in self.members:  # carried ones go on while the distribution is awaited
                pool.ensure(r)
            return False
        while len(self.members) < k_fresh:
            # A fresh rollout leaves only by failing: replacing the failures of a broken
            # engine for ever would spin, so K of them end the refresh with an error.
            # (Counted against the target, not the budget's share: a short budget must not
            # make two transient failures fatal.)
            if self._fresh - k_fresh >= k:
                last = type(pool.failures[-1]).__name__ if pool.failures else "unknown"
                raise RolloutsFailedError(
                    f"the engine failed {k} rollouts of the plan at position {t} ({last})."
                )
            self.members.append(pool.fresh(t, self._fresh, self.draws.next()))
            self._fresh += 1
        done, horizons = True, self.horizons
        for r in self.members:
            pool.ensure(r)
            consistent = r.agrees(tokens, t) is True
            if not consistent or any(not pool.outcome(r, h, t).resolved for h in horizons):
                done = False
        return done

    async def run(self) -> None:
        """Return once the members are settled; sleeps until one of them changes."""
        while True:
            self.changed.clear()
            if self._settle():
                return
            await self.changed.wait()

    def freeze(self, preceding_token: str | None) -> FrozenRefresh:
        """Copy what the snapshot needs, on the event loop, before rollouts move on."""
        pool, t = self.pool, self.position
        carried = {r.id for r in self.members} & self.carried
        weights = self.draws.weights(self.members, t)
        members: dict[Horizon, list[Member]] = {
            h: [
                Member(pool.outcome(r, h, t), r.id in carried, w)
                for r, w in zip(self.members, weights, strict=True)
            ]
            for h in self.horizons
        }
        return FrozenRefresh(
            position=t,
            text_offset=pool.main.offset(t),
            trigger=self.trigger,
            preceding_token=preceding_token,
            members=members,
            implicit=self._implicit(),
            views=self._views(carried, weights) if pool.config.include_rollouts else None,
            sampling="stratified" if self.draws.design is not None else "plain",
            refresh_reason=self._reason(),
            started=self.started,
            carried=len(carried),
            token_use=self._token_use(carried),
            rollouts_asked=self.decision.rollouts if self.decision else pool.config.rollouts,
        )

    def _reason(self) -> RefreshReason:
        return self.decision.reason if self.decision else "fixed"

    def _implicit(self) -> Implicit | None:
        t, main = self.position, self.pool.main
        lp = main.logprobs[t] if t < len(main.logprobs) else None
        if lp is None or not lp.top:
            return None
        top = [(tid, logprob) for tid, logprob, _ in lp.top]
        firsts = [r.tokens[t - r.start] for r in self.members if len(r.tokens) > t - r.start]
        if not firsts:
            return None
        d = first_token_distance(firsts, top)
        return Implicit(**d, collision_probability=collision_probability(top))

    def _used(self, r: Rollout) -> int:
        """Tokens of ``r`` after the position that this refresh needed."""
        horizon = self.horizons[-1]
        o = self.pool.outcome(r, assistant_horizon(horizon), self.position)
        return o.tokens if o.status == "reached" else self.pool.config.max_lookahead_tokens

    def _views(self, carried: set[str], weights: list[float]) -> list[RolloutView]:
        pool, t = self.pool, self.position
        views = []
        for r, w in zip(self.members, weights, strict=True):
            consumed = pool.consumed_chars(r, t)
            k = t - r.start
            used = min(self._used(r), len(r.tokens) - k)
            endings: dict[Horizon, str | None] = {}
            for h in self.horizons:
                o = pool.outcome(r, h, t)
                endings[h] = o.text if o.status == "reached" else None
            views.append(
                RolloutView(
                    text=r.text.text[consumed : r.text.offset_at(k + used)],
                    tokens=used,
                    carried=r.id in carried,
                    endings=endings,
                    weight=w,
                )
            )
        return views

    def _token_use(self, carried: set[str]) -> tuple[int, int]:
        """(rollout tokens this refresh needed, of which carried-over rollouts supplied)."""
        needed = supplied = 0
        for r in self.members:
            used = self._used(r)
            needed += used
            if r.id in carried:
                supplied += used
        return needed, supplied


@dataclass(frozen=True)
class FrozenRefresh:
    """A settled refresh, copied so that clustering can run off the event loop."""

    position: int
    text_offset: int
    trigger: str
    preceding_token: str | None
    members: dict[Horizon, list[Member]]
    implicit: Implicit | None
    views: list[RolloutView] | None
    started: float
    carried: int
    token_use: tuple[int, int]
    rollouts_asked: int
    sampling: Literal["plain", "stratified"] = "plain"
    refresh_reason: RefreshReason = "fixed"

    def snapshot(self, clusterer: Clusterer) -> Snapshot:
        """Summarise each horizon (clustering is the slow part: call it in a thread)."""
        horizons: dict[Horizon, HorizonSnapshot] = {
            h: summarise(members, clusterer) for h, members in self.members.items()
        }
        used = len(next(iter(self.members.values()), []))
        return Snapshot(
            position=self.position,
            text_offset=self.text_offset,
            trigger=self.trigger,
            preceding_token=self.preceding_token,
            horizons=horizons,
            implicit=self.implicit,
            latency_seconds=time.perf_counter() - self.started,
            rollouts=self.views,
            rollouts_asked=self.rollouts_asked,
            rollouts_used=used,
            degraded=used < self.rollouts_asked,
            sampling=self.sampling,
            refresh_reason=self.refresh_reason,
        )
