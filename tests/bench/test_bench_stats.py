"""The benchmark's arithmetic on synthetic numbers: percentiles, ITL, the engine's limit."""

from __future__ import annotations

import math

import pytest

from bench.stats import (
    SweepPoint,
    Timing,
    expected_carried_fraction,
    latency_summary,
    limit_seconds,
    percentile,
    ratio,
    step_at,
    summary,
    token_times,
    ttft_and_gaps,
)


def test_percentile_interpolates_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(values, 90) == pytest.approx(3.7)
    assert percentile([7.0], 90) == 7.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_summary_of_nothing_is_all_none() -> None:
    assert summary([]) == {"p50": None, "p90": None, "mean": None, "max": None}
    assert summary([1.0, 3.0])["mean"] == 2.0 and summary([1.0, 3.0])["max"] == 3.0


def test_multi_token_deltas_are_spread_over_their_gap() -> None:
    # Start at 10; a 1-token delta at 10.1, then a 3-token delta at 10.4.
    times = token_times([(10.1, 1), (10.4, 3), (10.5, 0)], start=10.0)
    assert times == pytest.approx([10.1, 10.2, 10.3, 10.4])
    ttft, gaps = ttft_and_gaps(times, 10.0)
    assert ttft == pytest.approx(0.1)
    assert gaps == pytest.approx([0.1, 0.1, 0.1])
    assert ttft_and_gaps([], 0.0) == (None, [])


def test_a_first_delta_with_several_tokens_spreads_from_the_start() -> None:
    times = token_times([(1.0, 2)], start=0.0)
    assert times == pytest.approx([0.5, 1.0])


def test_timing_pools_latencies_over_generations() -> None:
    a = Timing(0.0, [(0.2, 1), (0.3, 1), (0.4, 1)], 0.4, 0.9)
    b = Timing(5.0, [(5.1, 1), (5.4, 1)], 5.4, 5.4)
    assert a.tokens == 3 and a.text_seconds == pytest.approx(0.4)
    assert a.completion_seconds == pytest.approx(0.9)
    lat = latency_summary([a, b])
    assert lat["ttft_seconds"]["mean"] == pytest.approx(0.15)
    assert lat["itl_seconds"]["mean"] == pytest.approx((0.1 + 0.1 + 0.3) / 3)


SWEEP = [SweepPoint(1, 0.020), SweepPoint(8, 0.034), SweepPoint(16, 0.050)]


def test_step_interpolates_linearly_and_extends_the_last_slope() -> None:
    assert step_at(SWEEP, 1) == pytest.approx(0.020)
    assert step_at(SWEEP, 0.5) == pytest.approx(0.020)  # never cheaper than the smallest
    assert step_at(SWEEP, 9) == pytest.approx(0.034 + 0.016 / 8)
    assert step_at(SWEEP, 24) == pytest.approx(0.050 + 0.016)
    assert step_at([SweepPoint(4, 0.03)], 9) == 0.03
    assert SWEEP[1].tokens_per_second == pytest.approx(8 / 0.034)
    with pytest.raises(ValueError):
        step_at([], 1)


def test_limit_is_the_larger_of_sequential_steps_and_throughput() -> None:
    step9 = step_at(SWEEP, 9)
    # Few rollout tokens: the main text's steps bound it.
    assert limit_seconds(SWEEP, 100, 300, 9) == pytest.approx(100 * step9)
    # Many: throughput at batch 9 bounds it.
    assert limit_seconds(SWEEP, 100, 2000, 9) == pytest.approx(2000 * step9 / 9)


def test_ratio_and_expected_carry() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(None, 2.0) is None and ratio(1.0, None) is None and ratio(1.0, 0.0) is None
    assert expected_carried_fraction([0.2, 0.4]) == pytest.approx(0.3)
    assert expected_carried_fraction([]) is None
    assert math.isclose(ratio(1.0, 3.0) or 0.0, 1 / 3)
