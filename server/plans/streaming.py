"""Plan events as the `plan` object of a streamed chunk (choices stay empty)."""

from __future__ import annotations

from typing import Any

from planner.events import ForkFound, ScoreReady, SnapshotReady
from server.choices import ChoiceEvent, FinalPlan


def plan_object(index: int, event: ChoiceEvent) -> dict[str, Any] | None:
    """The chunk-level `plan` for a plan event of choice ``index``; None for text events."""
    if isinstance(event, SnapshotReady):
        body = event.snapshot.model_dump(mode="json")
        return {"index": index, "id": event.plan_id, "type": "snapshot", "snapshot": body}
    if isinstance(event, ScoreReady):
        body = event.score.model_dump(mode="json")
        return {"index": index, "id": event.plan_id, "type": "score", "score": body}
    if isinstance(event, ForkFound):
        body = event.fork.model_dump(mode="json")
        return {"index": index, "id": event.plan_id, "type": "fork", "fork": body}
    if isinstance(event, FinalPlan):
        return {"index": index, "type": "plan", **event.payload}
    return None
