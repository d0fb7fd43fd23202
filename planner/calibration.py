"""Calibration and skill of many forecasts: reliability bins, calibration error, skill
against a baseline, and bootstrap intervals for both.

A forecast here is one scored prediction: its probabilities (candidates, then novel) and
the index of what came. Each probability is one (p, came) pair of the reliability table.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

_T = TypeVar("_T")

BINS = 10
BOOTSTRAP_DRAWS = 400
BOOTSTRAP_SEED = 0  # intervals are reproducible for the same scores


@dataclass(frozen=True)
class Forecast:
    probabilities: Sequence[float]
    outcome: int


@dataclass(frozen=True)
class Bin:
    lower: float
    upper: float
    n: int
    predicted: float
    realised: float


def _pairs(forecasts: Sequence[Forecast]) -> tuple[np.ndarray, np.ndarray]:
    p = [x for f in forecasts for x in f.probabilities]
    y = [float(i == f.outcome) for f in forecasts for i in range(len(f.probabilities))]
    return np.asarray(p, dtype=np.float64), np.asarray(y, dtype=np.float64)


def _binned(p: np.ndarray, y: np.ndarray, bins: int) -> list[tuple[int, int, float, float]]:
    """(bin index, count, mean p, mean y) of every non-empty bin; p = 1 goes in the last."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        sel = idx == b
        n = int(sel.sum())
        if n:
            out.append((b, n, float(p[sel].mean()), float(y[sel].mean())))
    return out


def reliability(forecasts: Sequence[Forecast], bins: int = BINS) -> list[Bin]:
    """Equal-width bins of forecast probability with their mean and realised frequency."""
    p, y = _pairs(forecasts)
    return [
        Bin(b / bins, (b + 1) / bins, n, pred, real) for b, n, pred, real in _binned(p, y, bins)
    ]


def calibration_error(forecasts: Sequence[Forecast], bins: int = BINS) -> float | None:
    """Expected calibration error: sum over bins of n_b / N * |mean p - frequency|."""
    p, y = _pairs(forecasts)
    if not len(p):
        return None
    return sum(n * abs(pred - real) for _, n, pred, real in _binned(p, y, bins)) / len(p)


def skill(scores: Sequence[float], reference: Sequence[float]) -> float | None:
    """1 - sum(scores) / sum(reference) for a negatively oriented score (0: no better)."""
    total = float(np.sum(reference))
    if not len(scores) or total <= 0:
        return None
    return 1.0 - float(np.sum(scores)) / total


def bootstrap(
    items: Sequence[_T],
    statistic: Callable[[Sequence[_T]], float | None],
    groups: Sequence[Hashable] | None = None,
) -> list[float] | None:
    """95% percentile interval of ``statistic`` over resamples of ``items`` (fixed seed).

    Without ``groups`` every item is drawn on its own. With ``groups`` (one label per item,
    e.g. the conversation it came from) it is a cluster bootstrap: the distinct labels are
    drawn with replacement and each draw brings all of its items, so items that move
    together (predictions of one text) widen the interval as they should. Fewer than two
    items (or groups) give None.
    """
    if groups is None:
        clusters = [[item] for item in items]
    else:
        if len(groups) != len(items):
            raise ValueError("bootstrap groups need one label per item")
        by: dict[Hashable, list[_T]] = {}
        for item, g in zip(items, groups, strict=True):
            by.setdefault(g, []).append(item)
        clusters = list(by.values())
    if len(clusters) < 2:
        return None
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    values = []
    for _ in range(BOOTSTRAP_DRAWS):
        draw = [x for i in rng.integers(0, len(clusters), len(clusters)) for x in clusters[i]]
        v = statistic(draw)
        if v is not None:
            values.append(v)
    if not values:
        return None
    lo, hi = np.quantile(values, [0.025, 0.975])
    return [float(lo), float(hi)]
