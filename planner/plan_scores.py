"""A plan's scores as data: each prediction against what came, and their aggregate per
horizon. Re-exported by ``planner.plan``; nothing here computes.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from planner.config import Horizon


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
    log_score: float | None = Field(
        description="mean log score over candidates and novel (higher is better)"
    )
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
