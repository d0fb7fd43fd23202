"""Score a snapshot against what really happened, and compare consecutive snapshots."""

from __future__ import annotations

from dataclasses import dataclass

from planner.clustering import Clusterer
from planner.config import Horizon
from planner.forks import fork_divergence
from planner.plan import HorizonSnapshot, Score
from planner.scoring import (
    abs_error,
    brier,
    in_candidates,
    interval_covers,
    log_score,
    top1_hit,
    uniform_log_score,
)


@dataclass(frozen=True)
class Match:
    """A horizon's plan set against one realised ending.

    Only endings realised within the lookahead are scored, so rollouts that did not reach
    the horizon were wrong: they form one more bucket that the realised ending never
    matches, and ``probs`` are shares of all K rollouts (the candidates' reported
    probabilities are shares of the reached ones).
    """

    index: int | None  # the candidate that means the same as the ending, if any
    counts: list[int]  # rollouts per candidate, then the not-reached bucket if non-empty
    probs: list[float]

    @classmethod
    def of(cls, plan: HorizonSnapshot, realised_text: str, clusterer: Clusterer) -> Match:
        texts = [c.text for c in plan.candidates]
        index = clusterer.match(realised_text, texts) if texts else None
        counts = [c.count for c in plan.candidates]
        if plan.not_reached:
            counts.append(plan.not_reached)
        total = sum(counts)
        return cls(index, counts, [c / total for c in counts] if total else [])


def score_prediction(
    position: int,
    horizon: Horizon,
    plan: HorizonSnapshot,
    realised_text: str,
    realised_tokens: int,
    clusterer: Clusterer,
    model_logprob: float | None = None,
) -> Score:
    """Every score of one horizon's plan against the realised ending (see planner.scoring)."""
    m = Match.of(plan, realised_text, clusterer)
    t2e = plan.tokens_to_end
    return Score(
        position=position,
        horizon=horizon,
        realised=realised_text,
        realised_tokens=realised_tokens,
        log_score=log_score(m.counts, m.index),
        uniform_log_score=uniform_log_score(len(m.counts)),
        top1=top1_hit(m.probs, m.index),
        in_candidates=in_candidates(m.index),
        brier=brier(m.probs, m.index),
        tokens_abs_error=abs_error(t2e.mean, realised_tokens) if t2e.mean is not None else None,
        interval_covered=(
            interval_covers(t2e.p10, t2e.p90, realised_tokens)
            if t2e.p10 is not None and t2e.p90 is not None
            else None
        ),
        model_logprob=model_logprob,
    )


def plan_divergence(
    prev: HorizonSnapshot,
    prev_prefix: str,
    cur: HorizonSnapshot,
    cur_prefix: str,
    clusterer: Clusterer,
) -> float | None:
    """Jensen-Shannon divergence between two snapshots of one unit, in bits.

    Candidates end the same unit from different positions, so they are compared as whole
    units: the unit's text emitted before each snapshot plus the candidate's remainder.
    """
    if not prev.candidates or not cur.candidates:
        return None
    prev_units = [prev_prefix + c.text for c in prev.candidates]
    p = {str(i): c.probability for i, c in enumerate(prev.candidates)}
    q: dict[str, float] = {}
    for j, c in enumerate(cur.candidates):
        match = clusterer.match(cur_prefix + c.text, prev_units)
        key = str(match) if match is not None else f"new{j}"
        q[key] = q.get(key, 0.0) + c.probability
    return fork_divergence(p, q)
