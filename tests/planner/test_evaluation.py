"""Scores of one snapshot against a realised ending, computed by hand (planner.evaluation)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from planner.clustering import TextClusterer
from planner.evaluation import score_prediction
from planner.plan import Candidate, HorizonSnapshot, TokensToEnd


def _snapshot(counts: Sequence[tuple[str, int]], not_reached: int = 0) -> HorizonSnapshot:
    reached = sum(c for _, c in counts)
    return HorizonSnapshot(
        candidates=[Candidate(text=t, probability=c / reached, count=c) for t, c in counts],
        entropy=0.0,
        tokens_to_end=TokensToEnd(mean=4.0, p10=2.0, p50=4.0, p90=7.0)
        if reached
        else TokensToEnd(),
        fresh_rollouts=reached + not_reached,
        carried_rollouts=0,
        reached=reached,
        not_reached=not_reached,
    )


PLAN = _snapshot([(" cat sat.", 5), (" dog ran!", 2), (" cat.", 1)])  # K = 8, C = 3


def test_score_of_a_realised_ending_among_the_candidates() -> None:
    """Realised = 2nd candidate (same text up to punctuation): p = (2 + .5) / (8 + .5 * 4)."""
    s = score_prediction(3, "sentence", PLAN, " dog ran.", 6, TextClusterer(), -1.5)
    assert s.log_score == pytest.approx(math.log(2.5 / 10))
    assert s.uniform_log_score == pytest.approx(math.log(1 / 4))
    # (p - y)^2 over [5/8, 2/8, 1/8, other 0] against y = [0, 1, 0, 0]
    assert s.brier == pytest.approx((5 / 8) ** 2 + (2 / 8 - 1) ** 2 + (1 / 8) ** 2 + 0.0)
    assert (s.top1, s.in_candidates) == (False, True)
    assert s.tokens_abs_error == pytest.approx(abs(4.0 - 6))
    assert s.interval_covered is True  # 2 <= 6 <= 7
    assert (s.position, s.horizon, s.realised, s.realised_tokens) == (3, "sentence", " dog ran.", 6)
    assert s.model_logprob == -1.5


def test_score_of_the_top_candidate() -> None:
    """Realised = the most probable candidate: p = (5 + .5) / 10, a top-1 hit."""
    s = score_prediction(0, "sentence", PLAN, " Cat sat!", 9, TextClusterer())
    assert s.log_score == pytest.approx(math.log(5.5 / 10))
    assert s.brier == pytest.approx((5 / 8 - 1) ** 2 + (2 / 8) ** 2 + (1 / 8) ** 2)
    assert (s.top1, s.in_candidates) == (True, True)
    assert s.tokens_abs_error == pytest.approx(5.0)
    assert s.interval_covered is False  # 9 > p90 = 7
    assert s.model_logprob is None


def test_score_of_a_realised_ending_no_rollout_sampled() -> None:
    """Realised in no candidate: it gets the "other" bucket, p = .5 / 10; Brier counts the
    whole miss (other had probability 0)."""
    s = score_prediction(0, "sentence", PLAN, " Yes.", 2, TextClusterer())
    assert s.log_score == pytest.approx(math.log(0.5 / 10))
    assert s.brier == pytest.approx((5 / 8) ** 2 + (2 / 8) ** 2 + (1 / 8) ** 2 + 1.0)
    assert (s.top1, s.in_candidates) == (False, False)
    assert s.interval_covered is True


def test_a_plan_with_no_reached_rollout_does_not_score_perfectly() -> None:
    """All K rollouts missed the horizon, yet the text reached it within the lookahead (only
    such endings are scored): the plan predicted nothing right and must score worse than
    certainty.

    A regression guard: were ``not_reached`` ignored, with no candidates the smoothed
    "other" bucket would get p = .5 / (0 + .5) = 1, so log score 0 and Brier 0, the best
    possible values, would enter the comparison.
    """
    empty = _snapshot([], not_reached=8)
    s = score_prediction(5, "turn", empty, " The cat sat.", 4, TextClusterer())
    assert (s.top1, s.in_candidates) == (False, False)
    assert s.tokens_abs_error is None and s.interval_covered is None
    assert s.log_score < 0.0
    assert s.brier > 0.0
