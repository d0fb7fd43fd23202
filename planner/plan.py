"""The plan as data: snapshots, realised endings, scores and forks. Round-trips through JSON.

This is the unit the store persists and the API returns; nothing here computes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from planner.config import Horizon, PlanConfig
from planner.plan_scores import Comparison, ReliabilityBin, Score
from planner.plan_snapshot import (
    Candidate,
    Consensus,
    ConsensusTerm,
    HorizonSnapshot,
    Implicit,
    RefreshReason,
    RolloutView,
    Snapshot,
    TokensToEnd,
)

__all__ = [
    "Candidate",
    "Comparison",
    "Consensus",
    "ConsensusTerm",
    "Fork",
    "HorizonSnapshot",
    "Implicit",
    "ImplicitSummary",
    "NextTurn",
    "Plan",
    "PlanResult",
    "RefreshReason",
    "ReliabilityBin",
    "RolloutView",
    "Score",
    "Snapshot",
    "Stats",
    "TokensToEnd",
    "TurnPrediction",
    "Unit",
]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Unit(_Data):
    """A realised sentence, paragraph or turn of the generated text."""

    start_position: int = Field(description="completion tokens before the unit")
    end_position: int = Field(description="completion tokens through the unit's end")
    text: str = Field(description="the unit's text")


class Fork(_Data):
    """A refresh where a horizon's plan moved far from the previous snapshot."""

    position: int = Field(description="completion tokens before the refresh that forked")
    horizon: Horizon = Field(description="the horizon whose plan moved")
    divergence: float = Field(description="Jensen-Shannon divergence in bits")
    token: str | None = Field(description="the token emitted just before the fork")


class Stats(_Data):
    """What the plan cost."""

    refreshes: int = Field(0, description="refreshes scheduled")
    rollouts_started: int = Field(0, description="fresh rollouts sampled")
    rollouts_carried: int = Field(
        0, description="rollouts reused by a later refresh (counted per refresh)"
    )
    rollouts_aborted: int = Field(
        0, description="rollouts stopped early because no refresh needed more of them"
    )
    rollout_tokens: int = Field(0, description="tokens the rollouts generated")
    needed_rollout_tokens: int = Field(0, description="rollout tokens the snapshots used")
    carried_rollout_tokens: int = Field(
        0, description="of those, tokens that carried-over rollouts supplied"
    )
    rollout_prompt_tokens: int = Field(
        0, description="prompt tokens of the rollouts' engine requests"
    )
    rollout_cached_prompt_tokens: int = Field(
        0, description="of those, tokens the engine's prefix cache served"
    )
    wall_seconds: float = Field(
        0.0, description="wall time from the request's start to the finished plan"
    )

    @property
    def carried_fraction(self) -> float | None:
        if not self.needed_rollout_tokens:
            return None
        return self.carried_rollout_tokens / self.needed_rollout_tokens


class ImplicitSummary(_Data):
    """The explicit plan beside the model's implicit state, over the whole generation."""

    snapshots: int = Field(
        0, description="snapshots that had the model's next-token distribution beside them"
    )
    mean_total_variation: float | None = Field(
        None, description="mean of the snapshots' total variation"
    )
    mean_js_divergence: float | None = Field(
        None, description="mean of the snapshots' Jensen-Shannon divergence (bits)"
    )
    mean_next_token_entropy: float | None = Field(
        None, description="mean entropy of the model's next-token distribution (nats)"
    )
    mean_first_token_entropy: float | None = Field(
        None, description="mean entropy of the rollouts' first tokens (nats)"
    )
    model_logprob: float | None = Field(
        None, description="the model's own log-probability of the whole generated text"
    )


class TurnPrediction(_Data):
    """One snapshot's `user` prediction checked against the user's real next message."""

    position: int = Field(description="completion tokens before the snapshot that predicted")
    probability: float = Field(
        description="the plan's probability of the real message: its candidate's, or novel "
        "if none meant the same (as in scores)"
    )
    log_score: float = Field(
        description="ln probability: the log score over the candidates and novel (higher is better)"
    )
    top1: bool = Field(
        description="whether the most probable candidate meant the same as the real message"
    )
    in_candidates: bool = Field(description="whether any candidate meant the same")
    best_match: str | None = Field(description="the candidate that means the same, if any")


class NextTurn(_Data):
    """A plan scored against the conversation's real next user turn."""

    plan_id: str = Field(description="the plan whose predictions were scored")
    user: str = Field(description="the user's real next message")
    assistant_matches: bool = Field(
        description="the resent assistant message equals the text this plan was made along"
    )
    model_logprob: float | None = Field(
        None, description="the model's log-probability of the real user message"
    )
    model_tokens: int = Field(0, description="tokens of that message (with its end-of-turn token)")
    predictions: list[TurnPrediction] = Field(
        default_factory=list, description="each snapshot's `user` prediction against it"
    )
    comparison: Comparison | None = Field(
        None, description="those predictions' scores aggregated (null if none)"
    )


class Plan(_Data):
    """Everything Foresight knows about one generation's plan."""

    id: str = Field(description="the plan's id (plan.id of the request, else generated)")
    config: PlanConfig = Field(description="the plan settings in force, defaults filled in")
    prompt_tokens: int = Field(description="tokens of the prompt the text continues")
    completion_tokens: int = Field(0, description="tokens of the text the plan was made along")
    text: str = Field(
        "",
        description="the text the plan was made along (generated, or given to /v1/plans/analyze)",
    )
    finished: bool = Field(
        False, description="false while the request that makes the plan is still running"
    )
    cancelled: bool = Field(
        False,
        description="true if the server shut down before the plan finished: it holds the "
        "text, snapshots and scores made until then",
    )
    snapshots: list[Snapshot] = Field(
        default_factory=list, description="the plan at each refresh, in position order"
    )
    realised: dict[Horizon, list[Unit]] = Field(
        default_factory=dict, description="the units the text really had, per horizon"
    )
    scores: list[Score] = Field(
        default_factory=list,
        description="each snapshot's prediction per horizon, scored once its ending was realised",
    )
    comparison: dict[Horizon, Comparison] = Field(
        default_factory=dict, description="the scores per horizon, aggregated over the plan"
    )
    forks: list[Fork] = Field(
        default_factory=list,
        description="refreshes where a horizon's plan moved far from the one before",
    )
    implicit: ImplicitSummary = Field(
        default_factory=ImplicitSummary,
        description="the explicit plan beside the model's own next-token distributions",
    )
    stats: Stats = Field(default_factory=Stats, description="what the plan cost")
    unscored: dict[Horizon, int] = Field(
        default_factory=dict, description="snapshots whose ending lay beyond the lookahead"
    )

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, data: str | bytes) -> Plan:
        return cls.model_validate_json(data)


class PlanResult(Plan):
    """A plan as the API returns it: the plan, where it is kept, and what it was scored
    against since."""

    object: Literal["plan"] = Field("plan", description="always 'plan'")
    stored: bool = Field(description="whether the plan store kept this plan")
    store_error: str | None = Field(None, description="why the store did not keep it")
    conversation: str | None = Field(
        None, description="stable id of the conversation (chat requests)"
    )
    model: str | None = Field(None, description="the model that generated the text")
    created: float | None = Field(None, description="unix time the plan was first stored")
    next_turn: NextTurn | None = Field(
        None,
        description="this plan's `user` predictions scored against the conversation's real "
        "next user message, once a later request sent it",
    )
    previous_turn: NextTurn | None = Field(
        None,
        description="the previous turn's plan scored against this request's user message",
    )
