"""What a planned generation yields, in order of occurrence."""

from __future__ import annotations

from dataclasses import dataclass

from planner.engine.protocol import Delta
from planner.plan import Fork, Plan, PlanResult, Score, Snapshot


@dataclass(frozen=True)
class TextDelta:
    """New main text (with plan.pace "plan", held back until the plan for it is out)."""

    delta: Delta


@dataclass(frozen=True)
class SnapshotReady:
    """The plan at one refresh, as soon as its rollouts are resolved."""

    plan_id: str
    snapshot: Snapshot


@dataclass(frozen=True)
class ScoreReady:
    """One snapshot's prediction scored, as soon as its ending was realised."""

    plan_id: str
    score: Score


@dataclass(frozen=True)
class ForkFound:
    """A refresh where the plan moved far from the one before."""

    plan_id: str
    fork: Fork


@dataclass(frozen=True)
class PlanFinished:
    """The complete plan, after the text and every refresh are done."""

    plan: Plan


@dataclass(frozen=True)
class PlanStored:
    """The planner's face yields this last for each choice: the finished plan as the API
    returns it (stored, linked to its conversation, with the previous turn's score)."""

    result: PlanResult


Event = TextDelta | SnapshotReady | ScoreReady | ForkFound | PlanFinished
ChoiceEvent = TextDelta | SnapshotReady | ScoreReady | ForkFound | PlanStored
