"""A plan's scores as typed objects: one prediction's score, and a horizon's comparison.

Mirrors the server's schema (``Score``, ``Comparison``, ``ReliabilityBin`` in
``/openapi.json``); every model keeps fields it does not know.
"""

from __future__ import annotations

from pydantic import Field

from foresight_client._base_model import ForesightModel


class Score(ForesightModel):
    """One snapshot's prediction for one horizon, scored against what really happened."""

    position: int
    """Position of the snapshot that made the prediction."""
    horizon: str
    """The horizon scored."""
    realised: str = ""
    """The ending the text really had."""
    realised_tokens: int = 0
    """Its length in tokens."""
    ends_reply: bool = False
    """The realised ending closes the reply (scored apart in comparisons)."""
    probability: float | None = None
    """The plan's probability of what came (its candidate's, or ``novel``)."""
    novel: float | None = None
    """The plan's probability of an unseen ending."""
    probabilities: list[float] = Field(default_factory=list)
    """The forecast: each candidate's probability, then novel."""
    outcome: int | None = None
    """Index into ``probabilities`` of what came."""
    log_score: float = 0.0
    """ln of the plan's probability of what came, over candidates and novel (higher wins)."""
    uniform_log_score: float = 0.0
    """The same for a uniform guess: the baseline to beat."""
    top1: bool = False
    """The most probable candidate was the realised ending."""
    in_candidates: bool = False
    """Some candidate was the realised ending."""
    brier: float = 0.0
    """Brier score of the candidate probabilities (lower is better)."""
    energy: float | None = None
    """Fair energy score of the rollouts' endings in embedding space (lower is better)."""
    energy_climatology: float | None = None
    """The same score for climatology (endings of other texts)."""
    energy_persistence: float | None = None
    """The same score for persistence (the previous snapshot's plan of the unit)."""
    consensus_recall: float | None = None
    """Share of the plan's consensus terms found in the realised ending."""
    consensus_climatology: float | None = None
    """The same share in other texts' endings, on average (the baseline)."""
    tokens_abs_error: float | None = None
    """Absolute error of the predicted mean tokens-to-end."""
    interval_covered: bool | None = None
    """The realised length fell within the p10-p90 interval."""
    model_logprob: float | None = None
    """The model's own log-probability of the realised ending."""


class ReliabilityBin(ForesightModel):
    """Forecast probabilities in one range against how often they came true."""

    lower: float = 0.0
    """Lowest probability of the bin."""
    upper: float = 0.0
    """Upper end of the bin."""
    n: int = 0
    """Forecast probabilities in the bin."""
    predicted: float = 0.0
    """Their mean."""
    realised: float = 0.0
    """Share of them whose outcome came."""


class Comparison(ForesightModel):
    """One horizon's scores over the whole generation (means; None where nothing was scored)."""

    horizon: str = ""
    """The horizon."""
    n: int = 0
    """Predictions scored."""
    log_score: float | None = None
    """Mean log score."""
    uniform_log_score: float | None = None
    """Mean log score of a uniform guess."""
    top1_accuracy: float | None = None
    """Share of predictions whose top candidate was right."""
    in_candidates_rate: float | None = None
    """Share of predictions that had the realised ending among the candidates."""
    brier: float | None = None
    """Mean Brier score."""
    tokens_to_end_mae: float | None = None
    """Mean absolute error of the predicted tokens-to-end."""
    interval_coverage: float | None = None
    """Share of realised lengths within the predicted p10-p90 interval."""
    totals: dict[str, float] | None = None
    """The raw sums behind the means, for merging comparisons exactly."""
    ends_reply_n: int = 0
    """Predictions whose realised ending closed the reply (left out of the means)."""
    ends_reply_log_score: float | None = None
    """Their mean log score."""
    ends_reply_top1_accuracy: float | None = None
    """Their top-1 accuracy."""
    consensus_recall: float | None = None
    """Mean share of consensus terms found in what came."""
    consensus_climatology: float | None = None
    """Mean share of the same terms in other texts' endings (baseline)."""
    mean_novel: float | None = None
    """Mean ``novel`` of the plans scored."""
    energy: float | None = None
    """Mean fair energy score."""
    energy_skill_climatology: float | None = None
    """1 - energy / climatology's energy (> 0: better than knowing nothing of the text)."""
    energy_skill_climatology_interval: list[float] | None = None
    """95% bootstrap interval of that skill."""
    energy_skill_persistence: float | None = None
    """1 - energy / persistence's energy (> 0: refreshing the plan helped)."""
    energy_skill_persistence_interval: list[float] | None = None
    """95% bootstrap interval of that skill."""
    reliability: list[ReliabilityBin] = Field(default_factory=list)
    """Forecast probabilities binned against how often they came true."""
    calibration_error: float | None = None
    """Expected calibration error over those bins."""
    calibration_interval: list[float] | None = None
    """95% bootstrap interval of the calibration error."""
