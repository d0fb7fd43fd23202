"""Sample coverage and coverage-adjusted entropy (planner.coverage), by hand."""

from __future__ import annotations

import math

import pytest

from planner.coverage import adjusted_probabilities, chao_shen_entropy, coverage


def test_chao_jost_coverage_by_hand() -> None:
    # n = 8, f1 = 2, f2 = 1: 1 - 2/8 * (7 * 2) / (7 * 2 + 2 * 1) = 1 - 0.25 * 14/16
    assert coverage([4, 1, 1, 2]) == pytest.approx(1 - 0.25 * 14 / 16)
    # f2 = 0: Good-Turing's 1 - f1/n
    assert coverage([5, 1, 1, 1]) == pytest.approx(1 - 3 / 8)


def test_no_sample_never_looks_certain() -> None:
    """One reached rollout: half new, not probability 1 and entropy 0."""
    probs, novel = adjusted_probabilities([1])
    assert probs == [pytest.approx(0.5)] and novel == pytest.approx(0.5)
    assert chao_shen_entropy([1]) == pytest.approx(math.log(2))
    # all singletons: the floor 1/(n+1) keeps seen endings possible
    probs, novel = adjusted_probabilities([1] * 8)
    assert novel == pytest.approx(8 / 9) and all(p > 0 for p in probs)
    # no singleton: f1 taken as 1, something new stays possible
    assert adjusted_probabilities([8])[1] == pytest.approx(1 / 8)
    assert adjusted_probabilities([])[1] == 1.0 and chao_shen_entropy([]) == 0.0


def test_probabilities_and_novel_sum_to_one() -> None:
    for counts in ([3], [2, 2, 1], [1, 1, 1, 5], [6, 2], [1, 1]):
        probs, novel = adjusted_probabilities(counts)
        assert math.fsum(probs) + novel == pytest.approx(1.0)
        assert novel > 0 and all(p > 0 for p in probs)


def test_chao_shen_entropy_exceeds_the_plug_in() -> None:
    counts = [4, 2, 1, 1]
    plug_in = -sum(c / 8 * math.log(c / 8) for c in counts)
    assert chao_shen_entropy(counts) > plug_in


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        coverage([2, -1])
