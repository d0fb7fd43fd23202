"""When a planned generation refreshes its plan, and which horizons each refresh plans.

Invariant: every decision here depends only on the main text emitted so far (its tokens
and the sentence and paragraph ends already certain), never on a rollout, so where the
plan is refreshed cannot bias what it predicts.
"""

from __future__ import annotations

from collections.abc import Mapping

from planner.config import Horizon, PlanConfig
from planner.main_text import MainText

Trigger = str  # "start", "sentence", "interval" or "token"


class RefreshSchedule:
    """The refresh points of one generation, the horizons due at each, and the carry floor."""

    def __init__(self, config: PlanConfig, main: MainText) -> None:
        self.config = config
        self.main = main
        self._horizons_at: dict[int, tuple[Horizon, ...]] = {}  # in scheduling order
        self._points: set[int] = set()  # every refresh point, planned or not
        self._settling: set[int] = set()  # refreshes still gathering members
        self._next_interval = 0
        self._last_planned: dict[Horizon, tuple[int, int]] = {}  # (point index, text offset)

    @property
    def horizons_at(self) -> Mapping[int, tuple[Horizon, ...]]:
        """The horizons each scheduled refresh plans, by position (read-only)."""
        return self._horizons_at

    def start(self) -> list[tuple[int, Trigger]]:
        """The refresh before the first token."""
        return self._add([(0, "start")])

    def after(self, new_tokens: int, sentence_ends: list[int]) -> list[tuple[int, Trigger]]:
        """Refresh points that became due with the last delta (``new_tokens`` tokens,
        ``sentence_ends`` the character offsets of sentence ends it made certain)."""
        n = len(self.main.tokens)
        limit = n - 1 if self.main.finished else n  # nothing left to plan after the end
        policy = self.config.refresh
        points: list[tuple[int, Trigger]] = []
        if policy == "token":
            points = [(t, "token") for t in range(n - new_tokens + 1, limit + 1)]
        elif policy == "sentence":
            points = [(self.main.index.tokens_to_cover(e), "sentence") for e in sentence_ends]
        else:
            if self._next_interval == 0:
                self._next_interval = policy
            while self._next_interval <= limit:
                points.append((self._next_interval, "interval"))
                self._next_interval += policy
        return self._add(points)

    def settled(self, position: int) -> None:
        """The refresh at ``position`` has its members: it carries nothing over any more."""
        self._settling.discard(position)

    def carry_floor(self) -> int:
        """The shortest prefix any refresh may still carry rollouts over to."""
        latest = max(self._points, default=-1) + 1  # later refreshes come after this
        return min(self._settling, default=latest)

    def _add(self, points: list[tuple[int, Trigger]]) -> list[tuple[int, Trigger]]:
        """Register the new points within the text; return those that plan a horizon (a
        point where every horizon is thinned out by ``refresh_every`` needs no refresh)."""
        added = []
        for position, trigger in points:
            if position in self._points or position < 0:
                continue
            if self.main.finished and position >= len(self.main.tokens):
                continue
            due = self._due(position)
            self._points.add(position)
            if due:
                self._horizons_at[position] = due
                self._settling.add(position)
                added.append((position, trigger))
        return added

    def _due(self, position: int) -> tuple[Horizon, ...]:
        """The horizons the refresh at ``position`` plans: each at every ``every(h)``-th
        refresh point, at the first, and (paragraph) at the first of each new paragraph.
        Called once per refresh point, in position order."""
        point = len(self._points)  # this point's index
        offset = self.main.offset(position)
        due = []
        for h in self.config.horizons:
            last = self._last_planned.get(h)
            if (
                last is None
                or point - last[0] >= self.config.every(h)
                or (h == "paragraph" and self.main.unit_start(h, offset) > last[1])
            ):
                due.append(h)
                self._last_planned[h] = (point, offset)
        return tuple(due)
