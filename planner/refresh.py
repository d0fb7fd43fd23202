"""One refresh: gather K rollouts consistent with the prefix, then summarise them."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from planner.clustering import Clusterer
from planner.implicit import collision_probability, first_token_distance
from planner.plan import HorizonSnapshot, Implicit, RolloutView, Snapshot
from planner.pool import RolloutPool
from planner.rollout import Rollout
from planner.summary import Member, summarise


class Refresh:
    """The plan at one position, from carried-over and fresh rollouts."""

    def __init__(self, pool: RolloutPool, position: int, trigger: str) -> None:
        self.pool = pool
        self.position = position
        self.trigger = trigger
        self.started = time.perf_counter()
        self.members: list[Rollout] = []
        self.carried: set[str] = set()
        self._fresh = 0

    def _settle(self) -> bool:
        """Update membership; True once K consistent members have resolved every horizon."""
        pool, t, k = self.pool, self.position, self.pool.config.rollouts
        tokens = pool.main.tokens
        for r in list(self.members):
            if r.aborted or r.agrees(tokens, t) is False:
                self.members.remove(r)
                r.memberships.discard(t)
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
        while len(self.members) < k:
            self.members.append(pool.fresh(t, self._fresh))
            self._fresh += 1
        done, horizons = True, pool.config.horizons
        for r in self.members:
            pool.ensure(r)
            consistent = r.agrees(tokens, t) is True
            if not consistent or any(not pool.outcome(r, h, t).resolved for h in horizons):
                done = False
        return done

    async def run(self, wait: Callable[[], Awaitable[None]]) -> None:
        """Return once the members are settled; ``wait`` blocks until anything changes."""
        while not self._settle():
            await wait()

    def snapshot(self, clusterer: Clusterer, preceding_token: str | None) -> Snapshot:
        """Summarise the settled members (clustering runs here: call off the event loop)."""
        pool, t = self.pool, self.position
        horizons: dict[str, HorizonSnapshot] = {
            h: summarise(
                [Member(pool.outcome(r, h, t), r.id in self.carried) for r in self.members],
                clusterer,
            )
            for h in pool.config.horizons
        }
        return Snapshot(
            position=t,
            text_offset=pool.main.offset(t),
            trigger=self.trigger,
            preceding_token=preceding_token,
            horizons=horizons,
            implicit=self._implicit(),
            latency_seconds=time.perf_counter() - self.started,
            rollouts=self._views() if pool.config.include_rollouts else None,
        )

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

    def _views(self) -> list[RolloutView]:
        pool, t = self.pool, self.position
        views = []
        for r in self.members:
            consumed = pool.consumed_chars(r, t)
            endings: dict[str, str | None] = {}
            for h in pool.config.horizons:
                o = pool.outcome(r, h, t)
                endings[h] = o.text if o.status == "reached" else None
            views.append(
                RolloutView(
                    text=r.text.text[consumed:],
                    tokens=len(r.tokens) - (t - r.start),
                    carried=r.id in self.carried,
                    endings=endings,
                )
            )
        return views

    def token_use(self) -> tuple[int, int]:
        """(rollout tokens this refresh needed, of which carried-over rollouts supplied)."""
        needed = carried = 0
        horizon = self.pool.config.farthest
        for r in self.members:
            o = self.pool.outcome(r, "turn" if horizon == "user" else horizon, self.position)
            used = o.tokens if o.status == "reached" else self.pool.config.max_lookahead_tokens
            needed += used
            if r.id in self.carried:
                carried += used
        return needed, carried
