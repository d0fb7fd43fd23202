"""The plan as data: snapshots, realised endings, scores and forks. Round-trips through JSON.

This is the unit the store persists and the API returns; nothing here computes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from planner.config import Horizon, PlanConfig
from planner.plan_snapshot import (
    Candidate,
    Consensus,
    ConsensusTerm,
    HorizonSnapshot,
    Implicit,
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


class Score(_Data):
    """One snapshot's prediction for one horizon, scored against what happened."""

    position: int = Field(description="completion tokens before the snapshot that predicted")
    horizon: Horizon = Field(description="the horizon predicted")
    realised: str = Field(description="the ending the text really had after the snapshot")
    realised_tokens: int = Field(description="tokens from the snapshot to that ending")
    ends_reply: bool = Field(
        False, description="the realised ending closes the reply (scored apart in comparisons)"
    )
    probability: float | None = Field(
        None,
        description="the plan's probability of what came: its candidate's, or novel if none "
        "meant the same (null in plans stored before novel existed)",
    )
    novel: float | None = Field(
        None, description="the plan's novel: its probability of an unseen ending"
    )
    probabilities: list[float] = Field(
        default_factory=list,
        description="the plan's forecast: each candidate's probability, then novel (for "
        "reliability tables)",
    )
    outcome: int | None = Field(None, description="index into probabilities of what came")
    log_score: float = Field(
        description="ln probability: the log score over the candidates and novel (higher is better)"
    )
    uniform_log_score: float = Field(
        description="the same score for a uniform guess over the candidates and novel"
    )
    top1: bool = Field(description="whether the most probable candidate was the realised ending")
    in_candidates: bool = Field(description="whether the realised ending matched any candidate")
    brier: float = Field(
        description="multi-class Brier score over the candidates and novel (lower is better)"
    )
    energy: float | None = Field(
        None,
        description="fair energy score of the rollouts' endings against the realised one, in "
        "the clusterer's embedding space (lower is better; null if none reached)",
    )
    energy_climatology: float | None = Field(
        None,
        description="the same score for climatology: the horizon's endings from other, "
        "earlier texts (null until there are some)",
    )
    energy_persistence: float | None = Field(
        None,
        description="the same score for persistence: the previous snapshot's plan of the same "
        "unit (null for a unit's first snapshot)",
    )
    consensus_recall: float | None = Field(
        None,
        description="share of the plan's consensus terms that appear in the realised ending "
        "(null without terms)",
    )
    consensus_climatology: float | None = Field(
        None,
        description="the same share in climatology's endings (other texts), on average: the "
        "baseline the recall should beat",
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


class ReliabilityBin(_Data):
    """Forecast probabilities in one range, against how often they came true."""

    lower: float = Field(description="lowest probability of the bin (inclusive)")
    upper: float = Field(description="upper end of the bin")
    n: int = Field(description="forecast probabilities in the bin")
    predicted: float = Field(description="their mean")
    realised: float = Field(description="share of them whose outcome came")


class Comparison(_Data):
    """One horizon's scores aggregated over a plan (means; null where nothing was scored)."""

    horizon: Horizon = Field(description="the horizon these scores are of")
    n: int = Field(description="scored predictions")
    log_score: float | None = Field(description="mean log score over candidates and novel (higher is better)")
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
    ends_reply_n: int = Field(
        0,
        description="sentence/paragraph predictions whose realised ending closed the reply: "
        "left out of the means above (predicting the end of a reply is not foresight)",
    )
    ends_reply_log_score: float | None = Field(None, description="their mean log score")
    ends_reply_top1_accuracy: float | None = Field(None, description="their top-1 accuracy")
    consensus_recall: float | None = Field(
        None, description="mean share of consensus terms found in what came"
    )
    consensus_climatology: float | None = Field(
        None, description="mean share of the same terms in other texts' endings (baseline)"
    )
    mean_novel: float | None = Field(
        None, description="mean novel: how often the plan expected an ending it had not seen"
    )
    energy: float | None = Field(None, description="mean fair energy score (lower is better)")
    energy_skill_climatology: float | None = Field(
        None,
        description="1 - energy / climatology's energy, over predictions that have both: "
        "> 0 when the plan beats knowing nothing of the text",
    )
    energy_skill_climatology_interval: list[float] | None = Field(
        None, description="95% bootstrap interval of that skill (over predictions)"
    )
    energy_skill_persistence: float | None = Field(
        None,
        description="1 - energy / persistence's energy: > 0 when refreshing the plan helped",
    )
    energy_skill_persistence_interval: list[float] | None = Field(
        None, description="95% bootstrap interval of that skill"
    )
    reliability: list[ReliabilityBin] = Field(
        default_factory=list,
        description="every forecast probability (candidates and novel) binned against how "
        "often it came true",
    )
    calibration_error: float | None = Field(
        None,
        description="expected calibration error: mean |predicted - realised frequency| over "
        "the bins, weighted by their counts",
    )
    calibration_interval: list[float] | None = Field(
        None, description="95% bootstrap interval of the calibration error (over predictions)"
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
