"""Climatology: the endings other texts really had, per horizon — the forecast of someone
who knows nothing of this text.

The pool lives in the Planner (process memory, one per server), not in the plan store: each
finished plan adds the endings it realised, so a plan is only ever scored against endings
of *other*, earlier requests. It starts empty after a restart (no baseline until a few plans
have finished) and keeps the most recent ``size`` endings per horizon. ``foresight eval``
builds its own pool from every prompt of the run.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable

from planner.config import Horizon

DEFAULT_SIZE = 64  # endings per horizon: enough for a stable baseline, cheap to score against
MIN_ENDINGS = 2  # an ensemble of one has no spread term


class Climatology:
    """Recent realised endings per horizon; safe to share between requests."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < MIN_ENDINGS:
            raise ValueError(f"a climatology needs room for at least {MIN_ENDINGS} endings")
        self.size = size
        self._pool: dict[Horizon, deque[str]] = {}
        self._lock = threading.Lock()

    def add(self, horizon: Horizon, endings: Iterable[str]) -> None:
        """Record endings a finished text really had."""
        with self._lock:
            pool = self._pool.setdefault(horizon, deque(maxlen=self.size))
            pool.extend(endings)

    def endings(self, horizon: Horizon) -> list[str] | None:
        """The pool of ``horizon`` as it stands, or None while it is too small to score."""
        with self._lock:
            found = list(self._pool.get(horizon, ()))
        return found if len(found) >= MIN_ENDINGS else None
