"""Plan events as the `plan` object of a streamed chunk (choices stay empty)."""

from __future__ import annotations

from planner import ChoiceEvent, ForkFound, PlanStored, ScoreReady, SnapshotReady
from server.plans.protocol import ForkChunk, PlanChunk, PlanEvent, ScoreChunk, SnapshotChunk


def plan_event(index: int, event: ChoiceEvent) -> PlanEvent | None:
    """The chunk-level `plan` for a plan event of choice ``index``; None for text events."""
    if isinstance(event, SnapshotReady):
        return SnapshotChunk(index=index, id=event.plan_id, snapshot=event.snapshot)
    if isinstance(event, ScoreReady):
        return ScoreChunk(index=index, id=event.plan_id, score=event.score)
    if isinstance(event, ForkFound):
        return ForkChunk(index=index, id=event.plan_id, fork=event.fork)
    if isinstance(event, PlanStored):
        return PlanChunk(index=index, **dict(event.result))
    return None
