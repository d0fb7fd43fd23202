"""The plan as data: snapshots, realised endings, scores and forks. Round-trips through JSON.

This is the unit the store persists and the API returns; nothing here computes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from planner.config import Horizon, PlanConfig


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Candidate(_Data):
    """One candidate ending (a cluster of rollouts that end the same way in meaning)."""

    text: str = Field(description="representative text from the snapshot position to the end")
    probability: float = Field(description="share of the rollouts that reached this horizon")
    count: int = Field(description="rollouts in this cluster")


class TokensToEnd(_Data):
    """Distribution of the number of tokens from the snapshot to the horizon's end."""

    mean: float | None = Field(
        None,
        description="mean tokens from the snapshot to the ending, over rollouts that reached it",
    )
    p10: float | None = Field(None, description="10th percentile of those tokens")
    p50: float | None = Field(None, description="median of those tokens")
    p90: float | None = Field(None, description="90th percentile of those tokens")


class HorizonSnapshot(_Data):
    """The plan for one horizon at one refresh."""

    candidates: list[Candidate] = Field(description="most probable first; probabilities sum to 1")
    entropy: float = Field(description="entropy over candidate clusters, in nats")
    tokens_to_end: TokensToEnd = Field(
        description="tokens from the snapshot to the ending, over the rollouts"
    )
    fresh_rollouts: int = Field(description="rollouts sampled for this refresh")
    carried_rollouts: int = Field(
        description="rollouts carried over from earlier refreshes (they agreed with the text "
        "since; still exact samples)"
    )
    reached: int = Field(description="rollouts that reached this horizon within the lookahead")
    not_reached: int = Field(description="rollouts that did not (left out of probabilities)")


class Implicit(_Data):
    """The explicit plan beside the model's implicit state at the same position."""

    total_variation: float = Field(
        description="total variation distance between the rollouts' first tokens and the "
        "model's top next-token distribution"
    )
    js_divergence: float = Field(
        description="Jensen-Shannon divergence between the same two, in bits"
    )
    next_token_entropy: float = Field(
        description="entropy of the model's next-token distribution (top logprobs), in nats"
    )
    empirical_entropy: float = Field(description="entropy of the rollouts' first tokens, in nats")
    top_mass: float = Field(description="probability mass the model's top logprobs cover")
    collision_probability: float = Field(
        description="sum of squared next-token probabilities: the chance two samples agree "
        "on the next token"
    )


class RolloutView(_Data):
    """One rollout as used by a snapshot (only with ``include_rollouts``)."""

    text: str = Field(
        description="the rollout's text from the snapshot position, as far as this refresh used it"
    )
    tokens: int = Field(description="tokens of that text")
    carried: bool = Field(
        description="whether the rollout was carried over from an earlier refresh"
    )
    endings: dict[Horizon, str | None] = Field(
        description="per horizon, the rollout's ending text, or null if it did not reach it"
    )


class Snapshot(_Data):
    """The plan as it stood at one refresh."""

    position: int = Field(description="completion tokens emitted before this refresh")
    text_offset: int = Field(description="characters of completion text before this refresh")
    trigger: str = Field(description="start, sentence, interval or token")
    preceding_token: str | None = Field(description="the token just before the refresh")
    horizons: dict[Horizon, HorizonSnapshot] = Field(
        description="the horizons this refresh planned (config.refresh_every can leave "
        "long ones out; their last earlier plan stands)"
    )
    implicit: Implicit | None = Field(
        None,
        description="the rollouts' first tokens beside the model's next-token distribution "
        "here (null without logprobs)",
    )
    latency_seconds: float = Field(description="from the refresh point to the snapshot")
    rollouts: list[RolloutView] | None = Field(
        None, description="the rollouts this snapshot used (only with include_rollouts)"
    )


class Unit(_Data):
    """A realised sentence, paragraph or turn of the generated text."""

    start_position: int = Field(description="completion tokens before the unit")
    end_position: int = Field(description="completion tokens through the unit's end")
    text: str = Field(description="the unit's text")


class Score(_Data):
    """One snapshot's prediction for one horizon, scored against what happened."""

    position: int = Field(description="completion tokens before the snapshot that predicted")
    horizon: Horizon = Field(description="the horizon predicted")
    realised: str = Field(description="the ending the text really had after the snapshot")
    realised_tokens: int = Field(description="tokens from the snapshot to that ending")
    log_score: float = Field(
        description="ln of the smoothed probability the plan gave the realised ending "
        "(higher is better)"
    )
    uniform_log_score: float = Field(
        description="the same score for a uniform guess over the plan's buckets (a baseline)"
    )
    top1: bool = Field(description="whether the most probable candidate was the realised ending")
    in_candidates: bool = Field(description="whether the realised ending matched any candidate")
    brier: float = Field(
        description="multi-class Brier score over the candidates and the other buckets "
        "(lower is better)"
    )
    tokens_abs_error: float | None = Field(
        None, description="|mean predicted tokens-to-end - realised tokens|"
    )
    interval_covered: bool | None = Field(
        None, description="whether the realised tokens lay in the plan's p10-p90 interval"
    )
    model_logprob: float | None = Field(
        None, description="the model's own log-probability of the realised ending"
    )


class Comparison(_Data):
    """One horizon's scores aggregated over a plan (means; null where nothing was scored)."""

    horizon: Horizon = Field(description="the horizon these scores are of")
    n: int = Field(description="scored predictions")
    log_score: float | None = Field(description="mean smoothed log score (higher is better)")
    uniform_log_score: float | None = Field(
        description="mean log score of a uniform guess over the same buckets (the baseline)"
    )
    top1_accuracy: float | None = Field(description="share where the top candidate was right")
    in_candidates_rate: float | None = Field(
        description="share where the realised ending matched some candidate"
    )
    brier: float | None = Field(description="mean multi-class Brier score (lower is better)")
    tokens_to_end_mae: float | None = Field(description="mean error of tokens-to-end (tokens)")
    interval_coverage: float | None = Field(
        description="share of realised lengths inside the plan's p10-p90 interval"
    )
    totals: dict[str, int | float] = Field(
        description="the raw sums and counts behind the means (so aggregates merge exactly)"
    )


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
        description="share of all K rollouts on the candidate that means the same (rollouts "
        "that did not reach the reply count against it, as in scores)"
    )
    log_score: float = Field(
        description="ln of the smoothed probability of the real message (higher is better)"
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
