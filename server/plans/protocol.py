"""Request and response models of the plan API (pydantic only)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from planner.config import PlanConfig
from server.protocol import ChatMessage, StrictModel


class PlanRequest(PlanConfig):
    """The `plan` object of a completion request."""

    previous_id: str | None = Field(
        None,
        min_length=1,
        max_length=160,
        description="the plan of the previous turn, if not found by the conversation hash",
    )

    def config(self) -> PlanConfig:
        return PlanConfig(**self.model_dump(exclude={"previous_id"}))


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
    plan: dict[str, Any]


class PlanList(BaseModel):
    object: str = "list"
    data: list[dict[str, Any]]


class Deleted(BaseModel):
    id: str
    object: str = "plan.deleted"
    deleted: bool
