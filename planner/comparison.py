"""A horizon's scores aggregated: means, skill against the baselines, calibration.

Sentence and paragraph predictions whose realised ending closed the reply are counted apart
(``ends_reply_*``): the end of a reply is easy to see coming and would otherwise pass for
foresight in the top-1 accuracy and the log score.
"""

from __future__ import annotations

from collections.abc import Sequence

from planner.calibration import (
    Forecast,
    bootstrap,
    calibration_error,
    reliability,
    skill,
)
from planner.config import Horizon
from planner.plan import Comparison, ReliabilityBin, Score
from planner.scoring import ScoreAggregate


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _skill_of(pairs: Sequence[tuple[float, float]]) -> float | None:
    return skill([a for a, _ in pairs], [b for _, b in pairs])


def compare(horizon: Horizon, scores: Sequence[Score]) -> Comparison:
    """One horizon's scores (all of that horizon) aggregated into a Comparison."""
    apart = [s for s in scores if s.ends_reply and horizon in ("sentence", "paragraph")]
    main = [s for s in scores if s not in apart]
    agg = ScoreAggregate(horizon=horizon)
    for s in main:
        agg.add(
            log_score=s.log_score,
            uniform_log_score=s.uniform_log_score,
            top1=s.top1,
            in_candidates=s.in_candidates,
            brier=s.brier,
            tokens_abs_error=s.tokens_abs_error,
            interval_covered=s.interval_covered,
        )
    out = Comparison.model_validate(agg.to_dict())
    clim = [
        (s.energy, s.energy_climatology)
        for s in scores
        if s.energy is not None and s.energy_climatology is not None
    ]
    pers = [
        (s.energy, s.energy_persistence)
        for s in scores
        if s.energy is not None and s.energy_persistence is not None
    ]
    forecasts = [Forecast(s.probabilities, s.outcome) for s in scores if s.outcome is not None]
    return out.model_copy(
        update={
            "ends_reply_n": len(apart),
            "ends_reply_log_score": _mean([s.log_score for s in apart]),
            "ends_reply_top1_accuracy": _mean([float(s.top1) for s in apart]),
            "consensus_recall": _mean(
                [s.consensus_recall for s in scores if s.consensus_recall is not None]
            ),
            "consensus_climatology": _mean(
                [s.consensus_climatology for s in scores if s.consensus_climatology is not None]
            ),
            "mean_novel": _mean([s.novel for s in scores if s.novel is not None]),
            "energy": _mean([s.energy for s in scores if s.energy is not None]),
            "energy_skill_climatology": _skill_of(clim),
            "energy_skill_climatology_interval": bootstrap(clim, _skill_of),
            "energy_skill_persistence": _skill_of(pers),
            "energy_skill_persistence_interval": bootstrap(pers, _skill_of),
            "reliability": [
                ReliabilityBin(
                    lower=b.lower, upper=b.upper, n=b.n, predicted=b.predicted, realised=b.realised
                )
                for b in reliability(forecasts)
            ],
            "calibration_error": calibration_error(forecasts),
            "calibration_interval": bootstrap(forecasts, calibration_error),
        }
    )


def aggregate(scores: Sequence[Score], horizons: Sequence[Horizon]) -> dict[Horizon, Comparison]:
    """Per horizon, its scores aggregated (see ``compare``)."""
    return {h: compare(h, [s for s in scores if s.horizon == h]) for h in horizons}
