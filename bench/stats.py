"""The benchmark's arithmetic, free of engines and clocks so that it can be tested alone."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between ranks; None if empty."""
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError("q must be in [0, 100]")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float]) -> dict[str, float | None]:
    """p50, p90, mean and max of ``values`` (all None when there are none): a mean far
    above the p90 is a few long stalls, which max shows."""
    mean = math.fsum(values) / len(values) if values else None
    return {
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "mean": mean,
        "max": max(values) if values else None,
    }


def token_times(arrivals: Sequence[tuple[float, int]], start: float) -> list[float]:
    """One timestamp per token from (arrival time, tokens in the delta) pairs.

    A delta can carry several tokens when the consumer fell behind the engine; its tokens
    are spread evenly over the gap since the previous delta (or the request start), so a
    late multi-token delta counts as several ordinary gaps rather than one long stall and
    several zero gaps.
    """
    times: list[float] = []
    previous = start
    for arrived, n in arrivals:
        if n <= 0:
            continue
        step = (arrived - previous) / n
        times.extend(previous + step * (i + 1) for i in range(n))
        previous = arrived
    return times


def ttft_and_gaps(times: Sequence[float], start: float) -> tuple[float | None, list[float]]:
    """Time to first token from ``start``, and the gaps between consecutive tokens (ITL)."""
    if not times:
        return None, []
    return times[0] - start, [b - a for a, b in itertools.pairwise(times)]


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing or the denominator is not > 0."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def mean_or_none(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


@dataclass(frozen=True)
class SweepPoint:
    """One calibration measurement: ``batch`` requests decoding together."""

    batch: int
    step_seconds: float  # wall time per decode step (every request gains one token)
    wall_step_seconds: float | None = None  # wall / tokens, prefill included (reference only)

    @property
    def tokens_per_second(self) -> float:
        return self.batch / self.step_seconds


def step_at(sweep: Sequence[SweepPoint], batch: float) -> float:
    """Decode step time at ``batch``, linear between measured batches.

    Below the smallest batch the smallest's step is used (a step never gets cheaper with
    fewer requests); above the largest, the last segment's slope is extended.
    """
    points = sorted(sweep, key=lambda p: p.batch)
    if not points:
        raise ValueError("the sweep is empty")
    if batch <= points[0].batch or len(points) == 1:
        return points[0].step_seconds
    for lo, hi in itertools.pairwise(points):
        if batch <= hi.batch:
            share = (batch - lo.batch) / (hi.batch - lo.batch)
            return lo.step_seconds + share * (hi.step_seconds - lo.step_seconds)
    lo, hi = points[-2], points[-1]
    slope = (hi.step_seconds - lo.step_seconds) / (hi.batch - lo.batch)
    return hi.step_seconds + slope * (batch - hi.batch)


def limit_seconds(
    sweep: Sequence[SweepPoint], main_tokens: int, total_tokens: int, batch: int
) -> float:
    """The least wall time this engine allows for a planned generation.

    The main text needs ``main_tokens`` sequential steps, each at least as long as a step
    with ``batch`` requests in it; and all ``total_tokens`` (main + rollouts) need at least
    ``total / throughput(batch)``. Whichever is larger is the bound.
    """
    step = step_at(sweep, batch)
    return max(main_tokens * step, total_tokens * step / batch)


def expected_carried_fraction(collisions: Sequence[float]) -> float | None:
    """Mean Σp² over emitted positions: the share of rollouts that survive one token."""
    return mean_or_none(collisions)


@dataclass
class Timing:
    """One generation's main text as its consumer saw it (``time.perf_counter`` seconds)."""

    start: float
    arrivals: list[tuple[float, int]]  # (arrival, tokens in the delta)
    text_done: float  # the last main token arrived
    completion: float  # text and (for a planned run) the whole plan done

    @property
    def tokens(self) -> int:
        return sum(n for _, n in self.arrivals)

    @property
    def text_seconds(self) -> float:
        return self.text_done - self.start

    @property
    def completion_seconds(self) -> float:
        return self.completion - self.start

    def ttft_and_gaps(self) -> tuple[float | None, list[float]]:
        return ttft_and_gaps(token_times(self.arrivals, self.start), self.start)


def latency_summary(timings: Sequence[Timing]) -> dict[str, dict[str, float | None]]:
    """TTFT and ITL (p50, p90, mean) pooled over several generations."""
    ttfts: list[float] = []
    gaps: list[float] = []
    for t in timings:
        first, between = t.ttft_and_gaps()
        if first is not None:
            ttfts.append(first)
        gaps += between
    return {"ttft_seconds": summary(ttfts), "itl_seconds": summary(gaps)}
