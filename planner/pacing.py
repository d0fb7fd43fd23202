"""When the client gets the text: at once (pace ``text``) or after the plan for it (``plan``).

With pace ``plan`` a text delta waits while it would pass the position of a refresh whose
snapshot is not out yet, and while it could still pass one that is not known yet (with
sentence refreshes: text after a character that may end a sentence, until the next word
has begun, which is when the sentence splitter decides). No delta waits longer than
``max_hold_ms``; a snapshot that comes after text past its position is marked ``late``,
and once text has passed a position no more text waits for that snapshot (so a slow
snapshot costs the text one hold, not one per token).

Invariant: pacing changes only when already sampled text is sent, never what is sampled,
and the text goes out in order, token for token as the engine produced it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Literal

from planner.boundaries import possible_end_after
from planner.config import PlanConfig
from planner.engine.protocol import Delta
from planner.events import Event, SnapshotReady, TextDelta
from planner.main_text import MainText
from planner.plan import Snapshot

Pace = Literal["text", "plan"]


class Pacer:
    """Orders one generation's text deltas and snapshots for the client.

    ``pace=None``: the text was given, not streamed to anyone (``planner.follow``); nothing
    is held and no snapshot is late.
    """

    def __init__(
        self, config: PlanConfig, main: MainText, emit: Callable[[Event], None], pace: Pace | None
    ) -> None:
        self._pace = pace
        self._hold = config.max_hold_ms / 1000
        self._sentences = config.refresh == "sentence"
        self._main = main
        self._emit = emit
        self._held: deque[tuple[Delta, int, float]] = deque()  # (delta, tokens through it, by)
        self._sent = 0  # main tokens the client has been sent
        self._waiting: set[int] = set()  # refresh positions whose snapshot is not out yet
        self._timer: asyncio.TimerHandle | None = None

    def scheduled(self, position: int) -> None:
        """A refresh at ``position`` started: text past it waits for its snapshot."""
        self._waiting.add(position)

    def text(self, delta: Delta) -> None:
        """A delta the main text already holds (so the schedule has seen it)."""
        end = len(self._main.tokens)
        if self._pace != "plan":
            self._sent = end
            self._emit(TextDelta(delta))
            return
        now = asyncio.get_running_loop().time()
        self._held.append((delta, end, now + self._hold))
        self._pump()

    def snapshot(self, plan_id: str, snapshot: Snapshot) -> Snapshot:
        """Send a snapshot (marked late if text past its position went first), then the text
        that waited for it; returns the snapshot as sent."""
        self._waiting.discard(snapshot.position)
        if self._pace is not None and self._sent > snapshot.position:
            snapshot = snapshot.model_copy(update={"late": True})
        self._emit(SnapshotReady(plan_id, snapshot))
        self._pump()
        return snapshot

    def flush(self) -> None:
        """Send whatever text still waits (the plan is finished, or failed)."""
        self._waiting.clear()
        self._pump(force=True)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- holding -----------------------------------------------------------------------------

    def _blocked(self, end: int) -> bool:
        """Whether sending the main text through token ``end`` could pass a plan not out."""
        if any(t < end for t in self._waiting):
            return True
        if self._sentences and not self._main.finished:
            undecided = self._undecided()
            return undecided is not None and undecided < end
        return False

    def _undecided(self) -> int | None:
        """The earliest position a sentence refresh may yet be found at: after a character
        that can end a sentence, with no word begun after it yet."""
        text = self._main.text
        i = len(text)
        while i > 0 and not (text[i - 1].isalnum() or text[i - 1] == "_"):
            i -= 1
        end = possible_end_after(text, i)
        return None if end is None else self._main.index.tokens_to_cover(end)

    def _pump(self, *, force: bool = False) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._held:
            delta, end, by = self._held[0]
            if not force and now < by and self._blocked(end):
                break
            self._held.popleft()
            # The text passed these positions: their snapshots are late whatever comes now,
            # so holding more text for them would only slow the text.
            self._waiting = {t for t in self._waiting if t >= end}
            self._sent = end
            self._emit(TextDelta(delta))
        self.close()
        if self._held:  # wake at the head's deadline even if no snapshot comes by then
            self._timer = loop.call_at(self._held[0][2], self._pump)
