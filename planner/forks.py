"""Fork detection: positions where the plan's distribution over outcomes shifts sharply."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise

from planner.scoring import js_divergence


def fork_divergence(prev: Mapping[str, float], cur: Mapping[str, float]) -> float:
    """Jensen-Shannon divergence in bits (0 = same distribution, 1 = disjoint outcomes)."""
    return js_divergence(prev, cur)


def detect_forks(
    series: Sequence[tuple[int, Mapping[str, float]]], threshold: float = 0.5
) -> list[tuple[int, float]]:
    """(position, divergence) of each snapshot whose JSD from the one before exceeds threshold.

    ``series`` holds (token position, outcome label -> probability) snapshots in increasing
    position order; labels must already be aligned across snapshots by the caller (a renamed
    outcome would read as a fork). The position reported is the later snapshot's: the text up
    to it is what moved the distribution.
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must lie in [0, 1] (JSD in bits), got {threshold}")
    forks = []
    for (prev_pos, prev), (pos, cur) in pairwise(series):
        if pos <= prev_pos:
            raise ValueError(f"snapshot positions must increase, got {prev_pos} then {pos}")
        divergence = fork_divergence(prev, cur)
        if divergence > threshold:
            forks.append((pos, divergence))
    return forks
