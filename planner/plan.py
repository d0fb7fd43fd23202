"""The plan as data: snapshots, realised endings, scores and forks. Round-trips through JSON.

This is the unit the store persists and the API returns; nothing here computes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from planner.config import PlanConfig


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Candidate(_Data):
    """One candidate ending (a cluster of rollouts that end the same way in meaning)."""

    text: str = Field(description="representative text from the snapshot position to the end")
    probability: float = Field(description="share of the rollouts that reached this horizon")
    count: int = Field(description="rollouts in this cluster")


class TokensToEnd(_Data):
    """Distribution of the number of tokens from the snapshot to the horizon's end."""

    mean: float | None = None
    p10: float | None = None
    p50: float | None = None
    p90: float | None = None


class HorizonSnapshot(_Data):
    """The plan for one horizon at one refresh."""

    candidates: list[Candidate] = Field(description="most probable first; probabilities sum to 1")
    entropy: float = Field(description="entropy over candidate clusters, in nats")
    tokens_to_end: TokensToEnd
    fresh_rollouts: int
    carried_rollouts: int
    reached: int = Field(description="rollouts that reached this horizon within the lookahead")
    not_reached: int = Field(description="rollouts that did not (left out of probabilities)")


class Implicit(_Data):
    """The explicit plan beside the model's implicit state at the same position."""

    total_variation: float
    js_divergence: float
    next_token_entropy: float
    empirical_entropy: float
    top_mass: float
    collision_probability: float


class RolloutView(_Data):
    """One rollout as used by a snapshot (only with ``include_rollouts``)."""

    text: str
    tokens: int
    carried: bool
    endings: dict[str, str | None]


class Snapshot(_Data):
    """The plan as it stood at one refresh."""

    position: int = Field(description="completion tokens emitted before this refresh")
    text_offset: int = Field(description="characters of completion text before this refresh")
    trigger: str = Field(description="start, sentence, interval or token")
    preceding_token: str | None = Field(description="the token just before the refresh")
    horizons: dict[str, HorizonSnapshot] = Field(
        description="the horizons this refresh planned (config.refresh_every can leave "
        "long ones out; their last earlier plan stands)"
    )
    implicit: Implicit | None = None
    latency_seconds: float = Field(description="from the refresh point to the snapshot")
    rollouts: list[RolloutView] | None = None


class Unit(_Data):
    """A realised sentence, paragraph or turn of the generated text."""

    start_position: int
    end_position: int
    text: str


class Score(_Data):
    """One snapshot's prediction for one horizon, scored against what happened."""

    position: int
    horizon: str
    realised: str
    realised_tokens: int
    log_score: float
    uniform_log_score: float
    top1: bool
    in_candidates: bool
    brier: float
    tokens_abs_error: float | None = None
    interval_covered: bool | None = None
    model_logprob: float | None = Field(
        None, description="the model's own log-probability of the realised ending"
    )


class Fork(_Data):
    """A refresh where a horizon's plan moved far from the previous snapshot."""

    position: int
    horizon: str
    divergence: float = Field(description="Jensen-Shannon divergence in bits")
    token: str | None = Field(description="the token emitted just before the fork")


class Stats(_Data):
    """What the plan cost."""

    refreshes: int = 0
    rollouts_started: int = 0
    rollouts_carried: int = 0
    rollouts_aborted: int = 0
    rollout_tokens: int = 0
    needed_rollout_tokens: int = 0
    carried_rollout_tokens: int = 0
    rollout_prompt_tokens: int = 0  # prompts of the rollouts' engine requests
    rollout_cached_prompt_tokens: int = 0  # of which the engine's prefix cache served
    wall_seconds: float = 0.0

    @property
    def carried_fraction(self) -> float | None:
        if not self.needed_rollout_tokens:
            return None
        return self.carried_rollout_tokens / self.needed_rollout_tokens


class ImplicitSummary(_Data):
    """The explicit plan beside the model's implicit state, over the whole generation."""

    snapshots: int = 0
    mean_total_variation: float | None = None
    mean_js_divergence: float | None = None
    mean_next_token_entropy: float | None = None
    mean_first_token_entropy: float | None = None
    model_logprob: float | None = Field(
        None, description="the model's own log-probability of the whole generated text"
    )


class TurnPrediction(_Data):
    """One snapshot's `user` prediction checked against the user's real next message."""

    position: int
    probability: float = Field(description="plan mass on the candidate that means the same")
    log_score: float
    top1: bool
    in_candidates: bool
    best_match: str | None


class NextTurn(_Data):
    """A plan scored against the conversation's real next user turn."""

    plan_id: str
    user: str
    assistant_matches: bool = Field(
        description="the resent assistant message equals the text this plan was made along"
    )
    model_logprob: float | None = Field(
        None, description="the model's log-probability of the real user message"
    )
    model_tokens: int = 0
    predictions: list[TurnPrediction] = Field(default_factory=list)
    comparison: dict[str, Any] | None = None


class Plan(_Data):
    """Everything Foresight knows about one generation's plan."""

    id: str
    config: PlanConfig
    prompt_tokens: int
    completion_tokens: int = 0
    text: str = ""
    finished: bool = False
    snapshots: list[Snapshot] = Field(default_factory=list)
    realised: dict[str, list[Unit]] = Field(default_factory=dict)
    scores: list[Score] = Field(default_factory=list)
    comparison: dict[str, dict[str, Any]] = Field(default_factory=dict)
    forks: list[Fork] = Field(default_factory=list)
    implicit: ImplicitSummary = Field(default_factory=ImplicitSummary)
    stats: Stats = Field(default_factory=Stats)
    unscored: dict[str, int] = Field(
        default_factory=dict, description="snapshots whose ending lay beyond the lookahead"
    )

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, data: str | bytes) -> Plan:
        return cls.model_validate_json(data)
