"""A budget of rollout decode slots shared by every plan of the process, max-min fair.

Each running plan holds a ``Lease`` that asks for some slots (its rollouts in flight). The
budget gives every lease its max-min fair share: leases asking for less than an equal
split get all they ask, the rest split what is left evenly; shares are recomputed as
plans start, change what they ask, and finish. A plan whose share is short of what it
asked samples proportionally fewer fresh rollouts per refresh (``Lease.rollouts``), so
its snapshots keep pace with the text instead of queueing behind other plans.

Invariant: shares depend only on how many plans run and what each asked for, never on a
rollout's tokens, so a degraded plan's rollouts are still exact samples (only fewer).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


def fair_shares(total: int, demands: list[int]) -> list[int]:
    """Max-min fair integer split of ``total`` slots over ``demands``.

    Every share is at most its demand and at least 1 (a plan always makes progress, even
    when more plans run than there are slots); the shares sum to at most ``total`` unless
    that floor forces more.
    """
    shares = [0] * len(demands)
    left = total
    open_ = sorted(range(len(demands)), key=lambda i: demands[i])
    while open_:
        even = left // len(open_)
        i = open_[0]
        if demands[i] <= even:  # asks for less than an equal split: give it all
            shares[i] = demands[i]
            left -= demands[i]
            open_.pop(0)
            continue
        # Everyone left asks for more than an equal split: split evenly, the remainder to
        # the first ones (the order is the leases' order, stable between recomputations).
        extra = left - even * len(open_)
        for j, i in enumerate(sorted(open_)):
            shares[i] = even + (1 if j < extra else 0)
        break
    return [max(1, s) if d > 0 else 0 for s, d in zip(shares, demands, strict=True)]


class RolloutBudget:
    """Rollout decode slots across all plans (``slots=None``: no cap, every plan gets what
    it asks). Single event loop; not thread-safe."""

    def __init__(self, slots: int | None = None) -> None:
        if slots is not None and slots < 1:
            raise ValueError("a rollout budget needs at least one slot")
        self.slots = slots
        self._leases: list[Lease] = []
        # Waiting rollouts, oldest first (a dict keeps order: wake-ups, and so which rollout
        # gets a slot, must not depend on hashes, or a seeded plan would not repeat).
        self._waiters: dict[asyncio.Future[None], None] = {}
        self.degraded_refreshes = 0  # refreshes that got fewer rollouts than they asked
        self.shortfall = 0  # rollouts those refreshes asked for and did not get

    @property
    def in_use(self) -> int:
        """Slots held by running rollouts now."""
        return sum(lease.in_use for lease in self._leases)

    @property
    def plans(self) -> int:
        """Plans holding a lease now."""
        return len(self._leases)

    @property
    def asked(self) -> int:
        """Slots the running plans ask for together (above ``slots``: plans are degraded)."""
        return sum(lease.demand for lease in self._leases)

    def lease(self, demand: int) -> Lease:
        """A lease for one plan, asking for ``demand`` slots; close it when the plan ends."""
        lease = Lease(self, demand)
        self._leases.append(lease)
        self._rebalance()
        return lease

    def _rebalance(self) -> None:
        if self.slots is None:
            for lease in self._leases:
                lease.share = lease.demand
        else:
            shares = fair_shares(self.slots, [lease.demand for lease in self._leases])
            for lease, share in zip(self._leases, shares, strict=True):
                lease.share = share
        self._wake()

    def _wake(self) -> None:
        """Let every waiting rollout look again whether its lease has a free slot."""
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _close(self, lease: Lease) -> None:
        if lease in self._leases:
            self._leases.remove(lease)
            self._rebalance()

    def _free(self, lease: Lease) -> bool:
        if lease.in_use >= lease.share:
            return False
        return self.slots is None or self.in_use < self.slots


class Lease:
    """One plan's claim on the budget: a share of slots that changes as plans come and go."""

    def __init__(self, budget: RolloutBudget, demand: int) -> None:
        self._budget = budget
        self.demand = demand
        self.share = demand
        self.in_use = 0
        self.closed = False

    def ask(self, demand: int) -> None:
        """Ask for another number of slots (e.g. more once the text is done)."""
        if not self.closed and demand != self.demand:
            self.demand = demand
            self._budget._rebalance()

    def rollouts(self, k: int) -> int:
        """Fresh rollouts a refresh that wants ``k`` may start now: all of them while the
        share covers what the plan asked for, else fewer in proportion (at least one), so
        that a refresh takes about as long as it would have with its full share. A plan that
        asks for more than the whole budget is capped by it, not degraded."""
        slots = self._budget.slots
        wanted = self.demand if slots is None else min(self.demand, slots)
        if self.share >= wanted:
            return k
        got = max(1, -(-k * self.share // wanted))
        if got < k:
            self._budget.degraded_refreshes += 1
            self._budget.shortfall += k - got
        return got

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one decode slot while the block runs."""
        budget = self._budget
        while not budget._free(self):
            waiter = asyncio.get_running_loop().create_future()
            budget._waiters[waiter] = None
            try:
                await waiter
            finally:
                budget._waiters.pop(waiter, None)
        self.in_use += 1
        try:
            yield
        finally:
            self.in_use -= 1
            self._budget._wake()

    def close(self) -> None:
        """Give the share back (idempotent): the plan finished, failed or was cancelled."""
        self.closed = True
        self._budget._close(self)
