"""Request and response models of the plan API and of plan chunks in streams (pydantic only).

The plan itself is ``planner.PlanResult``: its schema, with a description on each field,
is the contract ``/openapi.json`` publishes and the SDK is checked against.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field

from planner import Fork, PlanRequest, PlanResult, Score, Snapshot
from server.protocol import ChatMessage, StrictModel


def _plan_flag(value: object) -> object:
    """``"plan": true`` asks for a plan with the server's defaults; ``false`` for none."""
    if value is True:
        return {}
    if value is False:
        return None
    return value


def _also_boolean(schema: dict[str, Any]) -> None:
    schema["anyOf"] = [*schema.get("anyOf", []), {"type": "boolean"}]


PlanField = Annotated[
    PlanRequest | None,
    BeforeValidator(_plan_flag),
    Field(
        description="a plan object, or true for the server's defaults",
        json_schema_extra=_also_boolean,
    ),
]
"""The `plan` field of a completion request: an object, ``true``, ``false`` or null."""


class AnalyzeRequest(StrictModel):
    """POST /v1/plans/analyze: plan along a given reply without generating."""

    model: str | None = None
    messages: list[ChatMessage] = Field(..., min_length=1)
    assistant: str = Field(..., min_length=1)
    user: str | None = Field(None, min_length=1)
    plan: PlanRequest = Field(default_factory=PlanRequest)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    top_k: int | None = Field(None, ge=-1)
    seed: int | None = None


class AnalyzeResponse(BaseModel):
    plan: PlanResult


class PlanList(BaseModel):
    object: Literal["list"] = "list"
    data: list[PlanResult] = Field(description="the conversation's plans, newest first")


class Deleted(BaseModel):
    id: str
    object: Literal["plan.deleted"] = "plan.deleted"
    deleted: bool


class _PlanEvent(BaseModel):
    index: int = Field(description="the choice this event belongs to")
    id: str = Field(description="the plan's id")


class SnapshotChunk(_PlanEvent):
    """The plan at one refresh, as soon as its rollouts are resolved."""

    type: Literal["snapshot"] = "snapshot"
    snapshot: Snapshot


class ScoreChunk(_PlanEvent):
    """One snapshot's prediction scored, as soon as its ending was realised."""

    type: Literal["score"] = "score"
    score: Score


class ForkChunk(_PlanEvent):
    """A refresh where a horizon's plan moved far from the one before."""

    type: Literal["fork"] = "fork"
    fork: Fork


class PlanChunk(PlanResult):
    """The complete plan of one choice: its last plan event, before ``[DONE]``."""

    index: int = Field(description="the choice this plan belongs to")
    type: Literal["plan"] = "plan"


PlanEvent = Annotated[
    SnapshotChunk | ScoreChunk | ForkChunk | PlanChunk, Field(discriminator="type")
]
