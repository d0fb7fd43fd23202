"""Fork detection over a series of outcome distributions."""

from __future__ import annotations

import math

import pytest

from planner.forks import detect_forks, fork_divergence


def test_fork_divergence_bounds() -> None:
    assert fork_divergence({"yes": 0.6, "no": 0.4}, {"yes": 0.6, "no": 0.4}) == 0.0
    assert fork_divergence({"yes": 1.0}, {"no": 1.0}) == pytest.approx(1.0)


def test_detect_forks_reports_later_position() -> None:
    series = [
        (0, {"a": 0.9, "b": 0.1}),
        (5, {"a": 0.88, "b": 0.12}),  # small drift, no fork
        (9, {"c": 1.0}),  # disjoint from the previous snapshot: JSD = 1 bit
        (12, {"c": 1.0}),
    ]
    forks = detect_forks(series)
    assert [pos for pos, _ in forks] == [9]
    assert forks[0][1] == pytest.approx(1.0)


def test_detect_forks_threshold_is_strict() -> None:
    # JSD({a: 1}, {a: .5, b: .5}) = (log2(4/3) + .5 log2(2/3) + .5) / 2 ~= 0.311 bits
    jsd = (math.log2(4 / 3) + 0.5 * math.log2(2 / 3) + 0.5) / 2
    series = [(0, {"a": 1.0}), (3, {"a": 0.5, "b": 0.5})]
    assert detect_forks(series, threshold=0.3) == [(3, pytest.approx(jsd))]
    assert detect_forks(series, threshold=0.5) == []
    assert detect_forks([(0, {"a": 1.0}), (1, {"b": 1.0})], threshold=1.0) == []


def test_detect_forks_edge_cases() -> None:
    assert detect_forks([]) == []
    assert detect_forks([(4, {"a": 1.0})]) == []
    with pytest.raises(ValueError, match="increase"):
        detect_forks([(4, {"a": 1.0}), (4, {"a": 1.0})])
    with pytest.raises(ValueError, match="threshold"):
        detect_forks([], threshold=2.0)
