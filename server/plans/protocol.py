"""Request and response models of the plan API (pydantic only)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

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
