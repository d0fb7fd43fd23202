"""Plan configuration: one validated, typed object per planned request."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Horizon = Literal["sentence", "paragraph", "turn", "user"]
HORIZON_ORDER: tuple[Horizon, ...] = ("sentence", "paragraph", "turn", "user")
DEFAULT_HORIZONS: tuple[Horizon, ...] = ("sentence", "paragraph", "turn")


class PlanConfig(BaseModel):
    """What to plan: horizons, rollouts per refresh, when to refresh, how far to look."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    horizons: tuple[Horizon, ...] = Field(DEFAULT_HORIZONS, min_length=1)
    rollouts: int = Field(8, ge=1, le=256, description="K: rollouts summarised per refresh")
    refresh: Literal["sentence", "token"] | int = Field(
        "sentence", description="at each sentence start, every token, or every N tokens"
    )
    max_lookahead_tokens: int = Field(64, ge=1, le=4096)
    clustering: Literal["embedding", "text"] = "embedding"
    include_rollouts: bool = False
    fork_threshold: float = Field(0.5, ge=0.0, le=1.0)
    id: str | None = Field(None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")

    @field_validator("horizons", mode="after")
    @classmethod
    def _unique_in_order(cls, value: tuple[Horizon, ...]) -> tuple[Horizon, ...]:
        if len(set(value)) != len(value):
            raise ValueError("horizons must not repeat")
        return tuple(h for h in HORIZON_ORDER if h in value)

    @field_validator("refresh", mode="after")
    @classmethod
    def _positive_interval(cls, value: str | int) -> str | int:
        if isinstance(value, int) and (isinstance(value, bool) or value < 1):
            raise ValueError("an integer refresh must be >= 1 (tokens between refreshes)")
        return value

    @property
    def farthest(self) -> Horizon:
        """The horizon that keeps rollouts running longest."""
        return self.horizons[-1]


class PlanLimits(BaseModel):
    """Server-side caps that a request's plan must fit in."""

    model_config = ConfigDict(frozen=True)

    max_rollouts: int = Field(16, ge=1)
    max_lookahead_tokens: int = Field(256, ge=1)
    allowed_horizons: tuple[Horizon, ...] = HORIZON_ORDER
    max_rollouts_in_flight: int = Field(32, ge=1)
