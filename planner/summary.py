"""Summarise rollout outcomes into one horizon's snapshot (clusters, probabilities, entropy)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from planner.clustering import Clusterer, representatives
from planner.consensus import consensus
from planner.coverage import adjusted_probabilities, chao_shen_entropy
from planner.plan import Candidate, HorizonSnapshot, TokensToEnd
from planner.rollout import Outcome
from planner.scoring import quantiles


@dataclass(frozen=True)
class Member:
    """A rollout's outcome for one horizon at one refresh."""

    outcome: Outcome
    carried: bool
    weight: float = 1.0  # relative: stratified refreshes weigh members by stratum


def summarise(members: Sequence[Member], clusterer: Clusterer) -> HorizonSnapshot:
    """Cluster the reached endings by meaning; probabilities are coverage-adjusted shares
    of the reached rollouts (planner.coverage; shares weighted by the members' weights,
    coverage and entropy from the counts), the unseen rest is ``novel``."""
    hits = [m for m in members if m.outcome.status == "reached"]
    reached = [m.outcome for m in hits]
    texts = [o.text for o in reached]
    labels = clusterer.cluster(texts) if texts else []
    reps = representatives(texts, labels)
    counts = [labels.count(c) for c in range(len(reps))]
    total = math.fsum(m.weight for m in members)
    mass = [
        math.fsum(m.weight for m, lb in zip(hits, labels, strict=True) if lb == c)
        for c in range(len(reps))
    ]
    probs, novel = adjusted_probabilities(counts)
    if any(m.weight != members[0].weight for m in members):
        reached_mass = math.fsum(mass)
        probs = [(1.0 - novel) * w / reached_mass for w in mass]
    order = sorted(range(len(reps)), key=lambda c: (-counts[c], c))
    members_of = [[o for o, lb in zip(reached, labels, strict=True) if lb == c] for c in order]
    explicit = [_explicit(reps[c], outs) for c, outs in zip(order, members_of, strict=True)]
    candidates = [
        Candidate(text=reps[c], probability=probs[c], count=counts[c], share=mass[c] / total, **e)
        for c, e in zip(order, explicit, strict=True)
    ]
    lengths = [o.tokens for o in reached]
    tokens = TokensToEnd()
    if lengths:
        q = quantiles(lengths)
        tokens = TokensToEnd(
            mean=sum(lengths) / len(lengths), p10=q["p10"], p50=q["p50"], p90=q["p90"]
        )
    masses = [c.exact_mass for c in candidates]
    exact = (
        math.fsum(m for m in masses if m is not None) if candidates and None not in masses else None
    )
    planned = len(reached) / len(members) * (1.0 - novel) if members else 0.0
    carried = sum(m.carried for m in members)
    return HorizonSnapshot(
        candidates=candidates,
        novel=novel,
        entropy=chao_shen_entropy(counts),
        exact_mass=exact,
        exact_share=exact / planned if exact is not None and planned > 0 else None,
        tokens_to_end=tokens,
        consensus=consensus(texts, [o.ends_reply for o in reached]),
        fresh_rollouts=len(members) - carried,
        carried_rollouts=carried,
        reached=len(reached),
        not_reached=len(members) - len(reached),
    )


def _explicit(rep: str, outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The representative's log p, ends_reply, and the exact mass of the distinct endings."""
    first = next(o for o in outcomes if o.text == rep)
    distinct = {o.text: o.logprob for o in outcomes}  # one path per text: a lower bound
    known = None not in distinct.values()
    return {
        "ends_reply": first.ends_reply,
        "logprob": first.logprob,
        "exact_mass": math.fsum(math.exp(lp) for lp in distinct.values() if lp is not None)
        if known
        else None,
    }
