"""How well the rollouts' first tokens reflect the model's own next-token distribution.

The rollouts' empirical first-token distribution is an estimate of the distribution the model
samples from at the prefix; comparing it with the reported top-N logprobs shows how much of the
model's "implicit state" at this point the K rollouts capture. The model side is the top-N
probabilities plus one "rest" bucket holding 1 - sum (clipped at 0); an empirical token outside
the top-N counts towards "rest".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from planner.scoring import entropy, js_divergence, total_variation

_REST = "rest"


def first_token_distance(
    first_tokens: Sequence[int], top_logprobs: Sequence[tuple[int, float]]
) -> dict[str, float]:
    """Distances between the rollouts' first tokens and the model's top-N next-token distribution.

    Returns total_variation and js_divergence (bits) between the two bucketed distributions,
    next_token_entropy and empirical_entropy in nats over the same buckets (so they compare; both
    treat "rest" as one outcome, which makes them lower bounds on the true entropies), and
    top_mass, the summed top-N probability.
    """
    if not first_tokens:
        raise ValueError("first_token_distance needs at least one rollout")
    model = _model_distribution(top_logprobs)
    counts = Counter(t if t in model else _REST for t in first_tokens)
    empirical = {k: n / len(first_tokens) for k, n in counts.items()}
    return {
        "total_variation": total_variation(empirical, model),
        "js_divergence": js_divergence(empirical, model),
        "next_token_entropy": entropy(list(model.values())),
        "empirical_entropy": entropy(list(empirical.values())),
        "top_mass": math.fsum(math.exp(lp) for _, lp in top_logprobs),
    }


def collision_probability(top_logprobs: Sequence[tuple[int, float]]) -> float:
    """sum p^2 over the top-N: the chance two independent samples agree on this token.

    The tokens in the unreported tail add a little more, so this is a lower bound.
    """
    return math.fsum(math.exp(2 * lp) for _, lp in top_logprobs)


def _model_distribution(top_logprobs: Sequence[tuple[int, float]]) -> dict[int | str, float]:
    dist: dict[int | str, float] = {}
    for token, lp in top_logprobs:
        if token in dist:
            raise ValueError(f"token {token} appears twice in top_logprobs")
        if math.isnan(lp) or lp > 1e-6:  # a little slack for float noise around ln 1 = 0
            raise ValueError(f"logprob {lp} of token {token} is not a log probability")
        dist[token] = math.exp(lp)
    # The rest bucket is always present (possibly 0) so "rest" never collides with a token id.
    dist[_REST] = max(0.0, 1.0 - math.fsum(dist.values()))
    return dist
