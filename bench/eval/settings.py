"""What an evaluation plans, validated once: sized so the default set runs in about 20
minutes on a 2-core CPU machine."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from planner import PlanConfig
from planner.config import Horizon

# Sentence, paragraph and turn on generated replies; the user's reply on followed turns
# (the only ones with a real next user message).
GENERATE_HORIZONS: tuple[Horizon, ...] = ("sentence", "paragraph", "turn")
FOLLOW_HORIZONS: tuple[Horizon, ...] = ("user",)
# Conversations planned at once on the one engine (``--concurrency``). Not part of
# EvalSettings: it changes how fast rows come, not what they hold, so a run may be
# continued with another value.
DEFAULT_CONCURRENCY = 4  # measured: docs/eval/concurrency.md


@dataclass(frozen=True)
class EvalSettings:
    """One evaluation's configuration (recorded in the report and checked on resume).

    ``refresh`` is a token interval rather than sentence starts, so that every horizon is
    planned at many distances from its ending (the visibility curves need them).
    """

    rollouts: int = 8
    max_tokens: int = 64
    lookahead: int = 48
    refresh: int = 8
    horizons: tuple[Horizon, ...] = GENERATE_HORIZONS
    temperature: float = 1.0
    seed: int = 0
    clustering: Literal["embedding", "text"] = "embedding"
    ceiling: bool = True  # a second set of K rollouts per snapshot (doubles rollout work)

    def __post_init__(self) -> None:
        if "user" in self.horizons:
            raise ValueError(
                "the 'user' horizon is planned on followed turns only (messages ending with "
                "an assistant reply and the user's real next message); leave it out of --horizons"
            )
        for name, value in (("rollouts", self.rollouts), ("max-tokens", self.max_tokens)):
            if value < 1:
                raise ValueError(f"--{name} must be at least 1")
        if self.lookahead < 1 or self.refresh < 1:
            raise ValueError("--lookahead and --refresh must be at least 1")
        PlanConfig(rollouts=self.rollouts, max_lookahead_tokens=self.lookahead)  # its limits

    def plan_config(self, horizons: tuple[Horizon, ...]) -> PlanConfig:
        """The plan of one conversation; followed turns plan at every refresh point (they
        are short and only their ``user`` horizon is scored)."""
        return PlanConfig(
            horizons=horizons,
            rollouts=self.rollouts,
            refresh=self.refresh,
            max_lookahead_tokens=self.lookahead,
            clustering=self.clustering,
            refresh_every={} if horizons == FOLLOW_HORIZONS else None,
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["horizons"] = list(self.horizons)
        return out
