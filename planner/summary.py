"""Summarise rollout outcomes into one horizon's snapshot (clusters, probabilities, entropy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from planner.clustering import Clusterer, representatives
from planner.plan import Candidate, HorizonSnapshot, TokensToEnd
from planner.rollout import Outcome
from planner.scoring import entropy, quantiles


@dataclass(frozen=True)
class Member:
    """A rollout's outcome for one horizon at one refresh."""

    outcome: Outcome
    carried: bool


def summarise(members: Sequence[Member], clusterer: Clusterer) -> HorizonSnapshot:
    """Cluster the reached endings by meaning; probabilities are shares of reached rollouts."""
    reached = [m for m in members if m.outcome.status == "reached"]
    texts = [m.outcome.text for m in reached]
    labels = clusterer.cluster(texts) if texts else []
    reps = representatives(texts, labels)
    counts = [labels.count(c) for c in range(len(reps))]
    total = len(reached)
    order = sorted(range(len(reps)), key=lambda c: (-counts[c], c))
    candidates = [
        Candidate(text=reps[c], probability=counts[c] / total, count=counts[c]) for c in order
    ]
    lengths = [m.outcome.tokens for m in reached]
    tokens = TokensToEnd()
    if lengths:
        q = quantiles(lengths)
        tokens = TokensToEnd(
            mean=sum(lengths) / len(lengths), p10=q["p10"], p50=q["p50"], p90=q["p90"]
        )
    carried = sum(m.carried for m in members)
    return HorizonSnapshot(
        candidates=candidates,
        entropy=entropy([c.probability for c in candidates]) if candidates else 0.0,
        tokens_to_end=tokens,
        fresh_rollouts=len(members) - carried,
        carried_rollouts=carried,
        reached=total,
        not_reached=len(members) - total,
    )
