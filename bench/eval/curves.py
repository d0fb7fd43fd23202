"""What the scores show along the text: how early each ending becomes visible, how the
plan commits (entropy, forks), and the explicit plan beside the model's own probabilities.

Every function takes the rows' plans (``planner.Plan``) and returns plain JSON data.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

from planner import Plan, Score
from planner.calibration import bootstrap, skill
from planner.config import Horizon

# Tokens remaining to the realised ending: [1, 2), [2, 4), [4, 8), ... [64, inf).
EDGES = (1, 2, 4, 8, 16, 32, 64)
VISIBLE = 0.5  # "visible": the plan gives the ending that came more than this probability
MAX_POINTS = 3000  # scatter points kept in the report


def _bin(tokens: int) -> int:
    return max(i for i, e in enumerate(EDGES) if tokens >= e) if tokens >= 1 else 0


def _label(i: int) -> str:
    return f"{EDGES[i]}-{EDGES[i + 1] - 1}" if i + 1 < len(EDGES) else f"{EDGES[i]}+"


def hit_probability(s: Score) -> float:
    """The plan's probability of the ending that came: its candidate's, 0 if none matched
    (novel is mass on endings unseen, not on this one)."""
    return float(s.probability or 0.0) if s.in_candidates else 0.0


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def is_foresight(s: Score, horizon: Horizon) -> bool:
    """Whether a score measures foresight: a sentence or paragraph that closed the reply
    does not (the end of a reply is easy to see coming; planner.comparison does the same)."""
    return not (s.ends_reply and horizon in ("sentence", "paragraph"))


def foresight_scores(scores: Sequence[Score], horizon: Horizon) -> list[Score]:
    """The scores that measure foresight (``is_foresight``)."""
    return [s for s in scores if is_foresight(s, horizon)]


def visibility(scores: Sequence[Score], horizon: Horizon, groups: Sequence[str]) -> dict[str, Any]:
    """Per bin of tokens remaining: the plan's mean probability of what came and the energy
    skill against climatology, with 95% bootstrap intervals over conversations (``groups``:
    the conversation of each score); and ``visible_tokens``, the most tokens before its end
    at which the ending is visible in every nearer bin."""
    kept = [(g, s) for g, s in zip(groups, scores, strict=True) if is_foresight(s, horizon)]
    bins: list[dict[str, Any]] = []
    for i in range(len(EDGES)):
        inside = [(g, s) for g, s in kept if _bin(s.realised_tokens) == i]
        if not inside:
            continue
        p = [hit_probability(s) for _, s in inside]
        paired = [
            (g, (s.energy, s.energy_climatology))
            for g, s in inside
            if s.energy is not None and s.energy_climatology is not None
        ]
        pairs = [x for _, x in paired]

        def of(ps: Sequence[tuple[float, float]]) -> float | None:
            return skill([a for a, _ in ps], [b for _, b in ps])

        bins.append(
            {
                "tokens": _label(i),
                "lower": EDGES[i],
                "upper": EDGES[i + 1] - 1 if i + 1 < len(EDGES) else None,
                "n": len(inside),
                "conversations": len({g for g, _ in inside}),
                "probability": _mean(p),
                "probability_interval": bootstrap(p, _mean, groups=[g for g, _ in inside]),
                "energy_skill_climatology": of(pairs),
                "energy_skill_climatology_interval": bootstrap(
                    pairs, of, groups=[g for g, _ in paired]
                ),
            }
        )
    visible: int = 0
    for b in bins:  # nearest first
        if b["probability"] <= VISIBLE or b["upper"] is None:
            break
        visible = b["upper"]
    return {"bins": bins, "visible_tokens": visible, "threshold": VISIBLE}


def commitment(plans: Sequence[Plan], horizon: Horizon) -> dict[str, Any]:
    """Plan entropy against tokens remaining to the ending, and where forks fall."""
    by_bin: dict[int, list[float]] = {}
    for plan in plans:
        entropy = {
            s.position: s.horizons[horizon].entropy for s in plan.snapshots if horizon in s.horizons
        }
        for sc in foresight_scores([s for s in plan.scores if s.horizon == horizon], horizon):
            if sc.position in entropy:
                by_bin.setdefault(_bin(sc.realised_tokens), []).append(entropy[sc.position])
    forks = [(plan, f) for plan in plans for f in plan.forks if f.horizon == horizon]
    into_sentence = [n for plan, f in forks if (n := _into_sentence(plan, f.position)) is not None]
    return {
        "entropy": [
            {"tokens": _label(i), "lower": EDGES[i], "n": len(v), "mean": _mean(v)}
            for i, v in sorted(by_bin.items())
        ],
        "forks": len(forks),
        "snapshots": sum(1 for p in plans for s in p.snapshots if horizon in s.horizons),
        "fork_tokens_into_sentence": into_sentence,
        "fork_preceding_tokens": Counter(f.token for _, f in forks if f.token).most_common(10),
    }


def _into_sentence(plan: Plan, position: int) -> int | None:
    """Tokens between the start of the realised sentence and ``position``."""
    for unit in plan.realised.get("sentence", []):
        if unit.start_position <= position < unit.end_position:
            return position - unit.start_position
    return None


def fork_entropy(plans: Sequence[Plan]) -> dict[str, Any]:
    """The model's next-token entropy at snapshots where some plan forked vs elsewhere."""
    at: list[float] = []
    elsewhere: list[float] = []
    for plan in plans:
        forked = {f.position for f in plan.forks}
        for s in plan.snapshots:
            if s.implicit is not None:
                (at if s.position in forked else elsewhere).append(s.implicit.next_token_entropy)
    return {
        "at_forks": {"n": len(at), "mean": _mean(at) if at else None},
        "elsewhere": {"n": len(elsewhere), "mean": _mean(elsewhere) if elsewhere else None},
        "at_forks_values": at[:MAX_POINTS],
        "elsewhere_values": elsewhere[:MAX_POINTS],
    }


def implicit(plans: Sequence[Plan], scores: Sequence[Score]) -> dict[str, Any]:
    """First-token distance to the logprobs; the model's log p of the realised ending
    against the plan's probability of its cluster; each candidate's log p vs its share."""
    tv = [s.implicit.total_variation for p in plans for s in p.snapshots if s.implicit]
    js = [s.implicit.js_divergence for p in plans for s in p.snapshots if s.implicit]
    realised = [
        [s.horizon, s.model_logprob, hit_probability(s)]
        for s in scores
        if s.model_logprob is not None
    ]
    candidates = [
        [h, c.logprob, c.probability]
        for p in plans
        for s in p.snapshots
        for h, hs in s.horizons.items()
        for c in hs.candidates
        if c.logprob is not None
    ]
    shares = [hs.exact_share for p in plans for s in p.snapshots for hs in s.horizons.values()]
    known = [x for x in shares if x is not None]
    return {
        "total_variation": _summary(tv),
        "js_divergence_bits": _summary(js),
        "total_variation_values": tv[:MAX_POINTS],
        "realised": realised[:MAX_POINTS],
        "candidates": candidates[:MAX_POINTS],
        "exact_share": _summary(known),
    }


def _summary(values: Sequence[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "mean": None, "median": None}
    return {"n": len(values), "mean": _mean(values), "median": statistics.median(values)}
