"""Proper scores of a plan's predictions against the realised text, and distribution distances.

A plan predicts, per horizon, C candidate clusters plus "novel": the realised ending may match
none of the candidates (planner.coverage says how likely that is).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import numpy as np

_K = TypeVar("_K", bound=Hashable)


def uniform_log_score(num_candidates: int) -> float:
    """ln(1 / (C + 1)): the log score of a plan uniform over the C candidates and novel."""
    if num_candidates < 0:
        raise ValueError("num_candidates must be >= 0")
    return -math.log(num_candidates + 1)


def brier(probs: Sequence[float], index: int | None) -> float:
    """Multi-class Brier score sum_j (p_j - y_j)^2 over the candidates plus novel (lower wins).

    p_novel = max(0, 1 - sum(probs)); y is one-hot on the realised candidate, or on novel when
    index is None. Ranges over [0, 2].
    """
    outcome = len(probs) if index is None else _checked(index, len(probs))
    full = [*probs, max(0.0, 1.0 - math.fsum(probs))]
    return math.fsum((p - (1.0 if j == outcome else 0.0)) ** 2 for j, p in enumerate(full))


def top1_hit(probs: Sequence[float], index: int | None) -> bool:
    """Whether the realised ending is the most probable candidate (ties: the first wins)."""
    if index is None or not probs:
        return False
    return max(range(len(probs)), key=probs.__getitem__) == _checked(index, len(probs))


def in_candidates(index: int | None) -> bool:
    """Whether the realised ending matched any candidate at all."""
    return index is not None


def quantiles(values: Sequence[int], qs: Sequence[float] = (0.1, 0.5, 0.9)) -> dict[str, float]:
    """Linearly interpolated quantiles keyed "p10", "p50", ... (JSON-safe string keys)."""
    if not values:
        raise ValueError("quantiles of an empty sample are undefined")
    if any(not 0.0 <= q <= 1.0 for q in qs):
        raise ValueError("quantile levels must lie in [0, 1]")
    found = np.quantile(np.asarray(values, dtype=np.float64), list(qs))
    return {f"p{q * 100:g}": float(v) for q, v in zip(qs, found, strict=True)}


def interval_covers(lo: float, hi: float, value: float) -> bool:
    """Whether lo <= value <= hi (both ends inclusive)."""
    return lo <= value <= hi


def abs_error(mean: float, value: float) -> float:
    """|mean - value|."""
    return abs(mean - value)


def entropy(probs: Sequence[float]) -> float:
    """Shannon entropy -sum p ln p in nats; zero entries contribute nothing."""
    h = -math.fsum(p * math.log(p) for p in probs if p > 0)
    return h if h > 0 else 0.0  # never -0.0: one certain outcome has entropy exactly 0


def js_divergence(p: Mapping[_K, float], q: Mapping[_K, float]) -> float:
    """Jensen-Shannon divergence in bits, in [0, 1]: (KL(p||m) + KL(q||m)) / 2, m = (p + q) / 2.

    Taken over the union of keys, a missing key weighing 0. Each input is scaled to sum to 1
    first, so counts work as well as probabilities.
    """
    a, b = _aligned(p, q)
    m = (a + b) / 2
    kl_a = np.sum(a[a > 0] * np.log2(a[a > 0] / m[a > 0]))
    kl_b = np.sum(b[b > 0] * np.log2(b[b > 0] / m[b > 0]))
    return float(min(1.0, max(0.0, (kl_a + kl_b) / 2)))  # clamp float noise at the bounds


def total_variation(p: Mapping[_K, float], q: Mapping[_K, float]) -> float:
    """Total variation distance sum |p - q| / 2 in [0, 1], with js_divergence's key convention."""
    a, b = _aligned(p, q)
    return float(min(1.0, np.abs(a - b).sum() / 2))


def _aligned(p: Mapping[_K, float], q: Mapping[_K, float]) -> tuple[np.ndarray, np.ndarray]:
    keys = list(dict.fromkeys([*p, *q]))
    out = []
    for d in (p, q):
        v = np.array([d.get(k, 0.0) for k in keys], dtype=np.float64)
        if (v < 0).any() or not np.isfinite(v).all() or v.sum() <= 0:
            raise ValueError("a distribution needs finite non-negative weights with a positive sum")
        out.append(v / v.sum())
    return out[0], out[1]


def _checked(index: int, size: int) -> int:
    if not 0 <= index < size:
        raise ValueError(f"candidate index {index} out of range for {size} candidates")
    return index


@dataclass
class ScoreAggregate:
    """Running sums of one horizon's scores; means are derived, so merging stays exact.

    Token-count predictions (tokens-to-end error, interval coverage) may be missing for some
    records, so they keep their own counts.
    """

    horizon: str = ""
    n: int = 0
    sum_log_score: float = 0.0
    sum_uniform_log_score: float = 0.0
    top1_hits: int = 0
    in_candidates_hits: int = 0
    sum_brier: float = 0.0
    n_tokens: int = 0
    sum_tokens_abs_error: float = 0.0
    n_intervals: int = 0
    interval_hits: int = 0

    def add(
        self,
        *,
        log_score: float,
        uniform_log_score: float,
        top1: bool,
        in_candidates: bool,
        brier: float,
        tokens_abs_error: float | None = None,
        interval_covered: bool | None = None,
    ) -> None:
        """Record one scored prediction."""
        values = (log_score, uniform_log_score, brier, tokens_abs_error or 0.0)
        if not all(math.isfinite(v) for v in values):
            raise ValueError("scores must be finite (smooth probabilities before taking logs)")
        self.n += 1
        self.sum_log_score += log_score
        self.sum_uniform_log_score += uniform_log_score
        self.top1_hits += bool(top1)
        self.in_candidates_hits += bool(in_candidates)
        self.sum_brier += brier
        if tokens_abs_error is not None:
            self.n_tokens += 1
            self.sum_tokens_abs_error += tokens_abs_error
        if interval_covered is not None:
            self.n_intervals += 1
            self.interval_hits += bool(interval_covered)

    def merge(self, other: ScoreAggregate) -> ScoreAggregate:
        """Add another aggregate of the same horizon into this one, in place; returns self."""
        if other.horizon != self.horizon:
            raise ValueError(f"cannot merge horizon {other.horizon!r} into {self.horizon!r}")
        for name, value in asdict(other).items():
            if name != "horizon":
                setattr(self, name, getattr(self, name) + value)
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready means (None where nothing was recorded) plus the raw sums in "totals"."""

        def mean(total: float, count: int) -> float | None:
            return float(total) / count if count else None

        totals = asdict(self)
        totals.pop("horizon")
        return {
            "horizon": self.horizon,
            "n": self.n,
            "log_score": mean(self.sum_log_score, self.n),
            "uniform_log_score": mean(self.sum_uniform_log_score, self.n),
            "top1_accuracy": mean(self.top1_hits, self.n),
            "in_candidates_rate": mean(self.in_candidates_hits, self.n),
            "brier": mean(self.sum_brier, self.n),
            "tokens_to_end_mae": mean(self.sum_tokens_abs_error, self.n_tokens),
            "interval_coverage": mean(self.interval_hits, self.n_intervals),
            "totals": {k: float(v) if k.startswith("sum_") else int(v) for k, v in totals.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoreAggregate:
        """Rebuild from ``to_dict`` output; only "horizon" and "totals" are read."""
        totals = data["totals"]
        kwargs: dict[str, Any] = {
            k: float(v) if k.startswith("sum_") else int(v) for k, v in totals.items()
        }
        return cls(horizon=str(data.get("horizon", "")), **kwargs)
