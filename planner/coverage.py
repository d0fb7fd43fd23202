"""How much of a horizon's ending distribution the rollouts have not seen, and the
entropy that accounts for it.

K rollouts of a space as large as "all sentences" leave most clusters as singletons, so the
clusters' shares overstate what was seen. The sample coverage C (the probability that one
more draw falls in a cluster already seen) is estimated from the rollouts themselves, with
Chao & Jost's (2012) estimator, which refines Good-Turing's 1 - f1/n with the doubletons:

    C = 1 - f1/n * (n - 1) f1 / ((n - 1) f1 + 2 f2)

(f1 singleton and f2 doubleton clusters among n endings). Seen clusters share C in
proportion to their counts (Chao & Shen 2003); the rest, 1 - C, is ``novel``.

Two conventions keep every probability above 0, so no log score is -inf and no sample
looks certain. (1) C >= 1 / (n + 1), Laplace's rule of succession: with every ending a
singleton the estimators give C = 0, which would put probability 0 on endings the rollouts
did see (and at n = 1, Chao & Shen's own fix f1 -> n - 1 gives C = 1, certainty from one
sample); with the floor one reached rollout says "half new". (2) With no singleton the
estimators give C = 1, probability 0 for anything new; then f1 is taken as 1 (one ending
could have been a singleton), so eight identical endings leave 1/8 for the unseen.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def coverage(counts: Sequence[int]) -> float:
    """Estimated probability that one more draw repeats a seen cluster (0 for no sample)."""
    if any(c < 0 for c in counts):
        raise ValueError("counts must be non-negative")
    n = sum(counts)
    if n == 0:
        return 0.0
    f1 = sum(1 for c in counts if c == 1)
    f2 = sum(1 for c in counts if c == 2)
    f1 = max(f1, 1)
    if n == 1:
        return 0.5  # Chao-Jost's factor is 0/0; Good-Turing's 1 - f1/n = 0, floored
    estimate = 1.0 - f1 / n * ((n - 1) * f1 / ((n - 1) * f1 + 2 * f2))
    return max(estimate, 1.0 / (n + 1))


def adjusted_probabilities(counts: Sequence[int]) -> tuple[list[float], float]:
    """(probability per seen cluster, novel mass); they sum to 1.

    p_i = C k_i / n (Chao & Shen). Absolute discounting (the Pitman-Yor predictive, which
    takes the unseen mass mostly from singletons) was measured on the synthetic chain too:
    its reliability table was further from the diagonal.
    """
    n = sum(counts)
    if n == 0:
        return [0.0 for _ in counts], 1.0
    c = coverage(counts)
    return [c * k / n for k in counts], 1.0 - c


def chao_shen_entropy(counts: Sequence[int]) -> float:
    """Coverage-adjusted entropy in nats (Chao & Shen 2003), a Horvitz-Thompson sum.

    H = -sum_i p_i ln p_i / (1 - (1 - p_i)^n), p_i = C k_i / n: each seen cluster is weighed up
    by the chance it would be missing from a sample of n, which stands for the unseen ones.
    An empty sample has no estimate; 0.0 is returned and ``novel`` = 1 says why.
    """
    n = sum(counts)
    if n == 0:
        return 0.0
    probs, _ = adjusted_probabilities(counts)
    h = -math.fsum(p * math.log(p) / (1.0 - (1.0 - p) ** n) for p in probs if p > 0)
    return h if h > 0 else 0.0
