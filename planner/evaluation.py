"""Score a snapshot against what really happened, and compare consecutive snapshots."""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.clustering import Clusterer
from planner.config import Horizon
from planner.consensus import base_rate, recall
from planner.energy import ensemble_energy
from planner.forks import fork_divergence
from planner.main_text import Realised
from planner.plan import HorizonSnapshot, Score
from planner.scoring import (
    abs_error,
    brier,
    in_candidates,
    interval_covers,
    top1_hit,
    uniform_log_score,
)

_TINY = 1e-300  # probabilities are > 0 by construction (planner.coverage); guards rounding


@dataclass(frozen=True)
class Match:
    """A horizon's plan set against one realised ending.

    Only endings realised within the lookahead are scored, so the forecast scored is the
    plan's distribution given that the horizon ends within it: the candidates' probabilities
    and ``novel`` (the plan's own estimate that the ending is none of them). Rollouts that
    did not reach the horizon are not in that sample; they shrink it, which raises ``novel``.
    Scoring them as a bucket the ending never falls in would make the score improper: a plan
    would gain by hiding the chance that the horizon is far away.
    """

    index: int | None  # the candidate that means the same as the ending, if any
    probs: list[float]  # the candidates' probabilities, then novel

    @classmethod
    def of(cls, plan: HorizonSnapshot, realised_text: str, clusterer: Clusterer) -> Match:
        texts = [c.text for c in plan.candidates]
        index = clusterer.match(realised_text, texts) if texts else None
        return cls(index, [*(c.probability for c in plan.candidates), plan.novel])

    @property
    def outcome(self) -> int:
        """Index into ``probs`` of what came: a candidate, or the last entry (novel)."""
        return len(self.probs) - 1 if self.index is None else self.index

    @property
    def probability(self) -> float:
        """The plan's probability of what came."""
        return self.probs[self.outcome]


def score_prediction(
    position: int,
    horizon: Horizon,
    plan: HorizonSnapshot,
    realised: Realised,
    clusterer: Clusterer,
    model_logprob: float | None = None,
    *,
    baselines: Baselines | None = None,
) -> Score:
    """Every score of one horizon's plan against the realised ending (see planner.scoring)."""
    m = Match.of(plan, realised.text, clusterer)
    t2e = plan.tokens_to_end
    candidates = m.probs[:-1]
    b = baselines or Baselines()
    energy = _energy(plan, realised.text, clusterer)
    agreed = [t.term for t in plan.consensus.terms] if plan.consensus else []
    return Score(
        position=position,
        horizon=horizon,
        realised=realised.text,
        realised_tokens=realised.tokens,
        ends_reply=realised.ends_reply,
        probability=m.probability,
        novel=plan.novel,
        probabilities=m.probs,
        outcome=m.outcome,
        log_score=math.log(max(m.probability, _TINY)),
        uniform_log_score=uniform_log_score(len(candidates)),
        top1=top1_hit(candidates, m.index),
        in_candidates=in_candidates(m.index),
        brier=brier(candidates, m.index),
        energy=energy,
        energy_climatology=_pool_energy(b.climatology, realised.text, clusterer),
        energy_persistence=(
            ensemble_energy(b.persistence[0], b.persistence[1], realised.text, clusterer)
            if b.persistence
            else None
        ),
        consensus_recall=recall(agreed, realised.text),
        consensus_climatology=base_rate(agreed, b.climatology),
        tokens_abs_error=abs_error(t2e.mean, realised.tokens) if t2e.mean is not None else None,
        interval_covered=(
            interval_covers(t2e.p10, t2e.p90, realised.tokens)
            if t2e.p10 is not None and t2e.p90 is not None
            else None
        ),
        model_logprob=model_logprob,
    )


@dataclass(frozen=True)
class Baselines:
    """Forecasts that know less than the plan, scored against the same ending.

    ``climatology``: endings of the same horizon from other texts (planner.climatology);
    ``persistence``: the previous snapshot's candidates for the same unit, as seen from this
    snapshot's position, with their counts.
    """

    climatology: list[str] | None = None
    persistence: tuple[list[str], list[int]] | None = None


def _energy(plan: HorizonSnapshot, realised: str, clusterer: Clusterer) -> float | None:
    texts = [c.text for c in plan.candidates]
    return ensemble_energy(texts, [c.count for c in plan.candidates], realised, clusterer)


def _pool_energy(pool: list[str] | None, realised: str, clusterer: Clusterer) -> float | None:
    if not pool:
        return None
    return ensemble_energy(pool, [1] * len(pool), realised, clusterer)


def persistence_members(prev: HorizonSnapshot, emitted: str) -> tuple[list[str], list[int]] | None:
    """The previous plan's candidates as endings from a later position, ``emitted`` text on.

    A candidate that began with the emitted text loses it; one that did not was already
    wrong and stays as it was (a persistence forecast does not learn from the text).
    """
    if not prev.candidates:
        return None
    texts = [
        c.text[len(emitted) :] if c.text.startswith(emitted) else c.text for c in prev.candidates
    ]
    return texts, [c.count for c in prev.candidates]


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
