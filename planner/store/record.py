"""What the plan store keeps: a plan and the facts needed to find it again."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from planner.plan import Plan


class PlanRecord(BaseModel):
    """A stored plan with its conversation keys; round-trips through JSON exactly."""

    model_config = ConfigDict(extra="forbid")

    plan: Plan
    conversation: str | None = Field(None, description="stable id of the conversation")
    turn_key: str | None = Field(None, description="hash of the messages this plan answered")
    model: str = ""
    owner: str | None = Field(
        None,
        description="the tenant (API-key identity) that made the plan; None without auth and "
        "for records stored before tenancy",
    )
    created: float = Field(description="unix time of the first write")
    next_turn: dict[str, Any] | None = Field(
        None, description="the plan's predictions scored against the real next user turn"
    )

    @property
    def id(self) -> str:
        return self.plan.id
