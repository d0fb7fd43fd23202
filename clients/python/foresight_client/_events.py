"""Typed events of a stream: text deltas, plan snapshots, scores, forks, the final plan, usage.

``index`` is the choice an event belongs to (0 unless ``n`` > 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from foresight_client._models import Usage
from foresight_client._plan import Fork, Plan, Score, parse_plan
from foresight_client._snapshot import Snapshot


@dataclass(frozen=True)
class TextDelta:
    """New reply text of a choice; the last one of a choice carries ``finish_reason``."""

    index: int
    text: str
    finish_reason: str | None = None
    logprobs: Any = None
    type: Literal["text"] = field(default="text", init=False)


@dataclass(frozen=True)
class SnapshotEvent:
    """The plan at a refresh, as soon as it is ready (so not always in position order;
    the final plan lists snapshots by position)."""

    index: int
    plan_id: str
    snapshot: Snapshot
    type: Literal["snapshot"] = field(default="snapshot", init=False)


@dataclass(frozen=True)
class ScoreEvent:
    """A snapshot's prediction scored, once the text reached that horizon's end."""

    index: int
    plan_id: str
    score: Score
    type: Literal["score"] = field(default="score", init=False)


@dataclass(frozen=True)
class ForkEvent:
    """A refresh where a horizon's plan moved far from the previous one."""

    index: int
    plan_id: str
    fork: Fork
    type: Literal["fork"] = field(default="fork", init=False)


@dataclass(frozen=True)
class PlanEvent:
    """A choice's complete plan (stored, scored, with ``previous_turn``); its last event."""

    index: int
    plan: Plan
    type: Literal["plan"] = field(default="plan", init=False)


@dataclass(frozen=True)
class UsageEvent:
    """Token counts of the whole request, after every choice finished."""

    usage: Usage
    type: Literal["usage"] = field(default="usage", init=False)


StreamEvent = TextDelta | SnapshotEvent | ScoreEvent | ForkEvent | PlanEvent | UsageEvent
"""Any event a stream yields."""


def plan_event(body: dict[str, Any]) -> StreamEvent | None:
    """The event for a chunk's top-level ``plan`` object; None for a type this SDK
    does not know (a newer server may add some)."""
    index = int(body.get("index", 0))
    kind = body.get("type")
    plan_id = str(body.get("id", ""))
    if kind == "snapshot":
        return SnapshotEvent(index, plan_id, Snapshot.model_validate(body["snapshot"]))
    if kind == "score":
        return ScoreEvent(index, plan_id, Score.model_validate(body["score"]))
    if kind == "fork":
        return ForkEvent(index, plan_id, Fork.model_validate(body["fork"]))
    if kind == "plan":
        return PlanEvent(index, parse_plan(body))
    return None


def chunk_events(chunk: dict[str, Any]) -> list[StreamEvent]:
    """The events of one chat or text-completion chunk, in a sensible order."""
    events: list[StreamEvent] = []
    if isinstance(chunk.get("plan"), dict):
        event = plan_event(chunk["plan"])
        if event is not None:
            events.append(event)
    for choice in chunk.get("choices") or []:
        delta = choice.get("delta")
        # Chat chunks carry `delta.content`; text-completion chunks carry `text`.
        text = (delta.get("content") if isinstance(delta, dict) else choice.get("text")) or ""
        finish = choice.get("finish_reason")
        logprobs = choice.get("logprobs")
        if text or finish or logprobs:
            events.append(TextDelta(int(choice.get("index", 0)), text, finish, logprobs))
    if isinstance(chunk.get("usage"), dict):
        events.append(UsageEvent(Usage.model_validate(chunk["usage"])))
    return events
