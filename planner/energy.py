"""The fair energy score of an ensemble of endings against the realised one.

    ES(x, y) = 1/m sum_i d(x_i, y) - 1/(2 m (m - 1)) sum_{i != j} d(x_i, x_j)

over m members x_i (Gneiting & Raftery 2007, with Ferro's 2014 "fair" ensemble-size
correction: m - 1 rather than m in the spread term, so an m-member ensemble drawn from the
true distribution scores, in expectation, what the distribution itself scores, whatever m).
Lower is better. d is the clusterer's distance (Euclidean between unit sentence embeddings,
or 0 / sqrt(2) for exact text), so the score needs no partition into candidates: a plan is
rewarded for endings close in meaning even when none matches.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from planner.clustering import Clusterer


def fair_energy(to_outcome: np.ndarray, pairwise: np.ndarray, weights: Sequence[int]) -> float:
    """ES of an ensemble given as distinct members with multiplicities ``weights``.

    ``to_outcome[i]`` = d(member i, outcome); ``pairwise[i, j]`` = d(member i, member j).
    Copies of one member are at distance 0 from each other. With one member the spread
    term is empty and ES = d(x, y).
    """
    w = np.asarray(weights, dtype=np.float64)
    m = float(w.sum())
    if m <= 0 or len(w) != len(to_outcome) or pairwise.shape != (len(w), len(w)):
        raise ValueError("an ensemble needs members with positive total weight")
    accuracy = float(w @ to_outcome) / m
    if m < 2:
        return accuracy
    spread = float(w @ pairwise @ w) / (2 * m * (m - 1))
    return accuracy - spread


def ensemble_energy(
    members: Sequence[str], weights: Sequence[int], outcome: str, clusterer: Clusterer
) -> float | None:
    """ES of texts with multiplicities against ``outcome`` in the clusterer's space."""
    if not members or sum(weights) <= 0:
        return None
    d = clusterer.distances([outcome, *members], list(members))
    return fair_energy(d[0], d[1:], weights)
