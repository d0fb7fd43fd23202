"""Scores of one snapshot against a realised ending, computed by hand (planner.evaluation)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from planner.clustering import ORTHOGONAL, TextClusterer
from planner.coverage import adjusted_probabilities
from planner.evaluation import Baselines, persistence_members, score_prediction
from planner.main_text import Realised
from planner.plan import Candidate, HorizonSnapshot, TokensToEnd


def _snapshot(counts: Sequence[tuple[str, int]], not_reached: int = 0) -> HorizonSnapshot:
    reached = sum(c for _, c in counts)
    probs, novel = adjusted_probabilities([c for _, c in counts])
    return HorizonSnapshot(
        candidates=[
            Candidate(text=t, probability=p, count=c)
            for (t, c), p in zip(counts, probs, strict=True)
        ],
        novel=novel,
        entropy=0.0,
        tokens_to_end=TokensToEnd(mean=4.0, p10=2.0, p50=4.0, p90=7.0)
        if reached
        else TokensToEnd(),
        fresh_rollouts=reached + not_reached,
        carried_rollouts=0,
        reached=reached,
        not_reached=not_reached,
    )


PLAN = _snapshot([(" cat sat.", 5), (" dog ran!", 2), (" cat.", 1)])  # K = n = 8, C = 3
# Chao-Jost with f1 = 1, f2 = 1: C = 1 - 1/8 * (7 * 1) / (7 * 1 + 2 * 1) = 65/72
C = 65 / 72
P = [5 / 8 * C, 2 / 8 * C, 1 / 8 * C, 1 - C]


def test_coverage_adjusted_plan_sums_to_one() -> None:
    assert [c.probability for c in PLAN.candidates] + [PLAN.novel] == pytest.approx(P)
    assert math.fsum(P) == pytest.approx(1.0)


def test_score_of_a_realised_ending_among_the_candidates() -> None:
    """Realised = 2nd candidate (same text up to punctuation): p = 2/8 * C."""
    s = score_prediction(3, "sentence", PLAN, Realised(" dog ran.", 6), TextClusterer(), -1.5)
    assert s.probability == pytest.approx(P[1]) and s.outcome == 1
    assert s.log_score == pytest.approx(math.log(P[1]))
    assert s.uniform_log_score == pytest.approx(math.log(1 / 4))
    assert s.brier == pytest.approx(P[0] ** 2 + (P[1] - 1) ** 2 + P[2] ** 2 + P[3] ** 2)
    assert (s.top1, s.in_candidates, s.ends_reply) == (False, True, False)
    assert s.tokens_abs_error == pytest.approx(abs(4.0 - 6))
    assert s.interval_covered is True  # 2 <= 6 <= 7
    assert (s.position, s.horizon, s.realised, s.realised_tokens) == (3, "sentence", " dog ran.", 6)
    assert s.model_logprob == -1.5
    # energy: members at 0 (x2) and sqrt2 (x6) from the ending; pairs apart: 5*2+5*1+2*1 = 17
    r2 = ORTHOGONAL
    expected = 6 * r2 / 8 - 2 * 17 * r2 / (2 * 8 * 7)
    assert s.energy == pytest.approx(expected)


def test_score_of_the_top_candidate() -> None:
    s = score_prediction(0, "sentence", PLAN, Realised(" Cat sat!", 9), TextClusterer())
    assert s.log_score == pytest.approx(math.log(P[0]))
    assert (s.top1, s.in_candidates) == (True, True)
    assert s.interval_covered is False  # 9 > p90 = 7
    assert s.model_logprob is None


def test_an_ending_no_rollout_sampled_gets_the_novel_mass() -> None:
    s = score_prediction(0, "sentence", PLAN, Realised(" Yes.", 2), TextClusterer())
    assert s.outcome == 3 and s.probability == pytest.approx(1 - C)
    assert s.log_score == pytest.approx(math.log(1 - C))
    assert s.brier == pytest.approx(P[0] ** 2 + P[1] ** 2 + P[2] ** 2 + (P[3] - 1) ** 2)
    assert (s.top1, s.in_candidates) == (False, False)


def test_a_plan_that_saw_nothing_says_so_and_has_no_energy() -> None:
    """All K rollouts missed the horizon: the plan states novel = 1 (it knows nothing of the
    ending), so it cannot be scored on the ending itself: energy is null."""
    empty = _snapshot([], not_reached=8)
    assert empty.novel == 1.0
    s = score_prediction(5, "turn", empty, Realised(" The cat sat.", 4), TextClusterer())
    assert (s.top1, s.in_candidates, s.energy) == (False, False, None)
    assert s.tokens_abs_error is None and s.interval_covered is None


def test_baselines_are_scored_on_the_same_ending() -> None:
    clim = [" dog ran!", " Yes."]  # one at 0, one at sqrt2; they differ: spread sqrt2
    pers = persistence_members(PLAN, " cat")  # " cat sat." -> " sat.", " cat." -> "."
    assert pers == ([" sat.", " dog ran!", "."], [5, 2, 1])
    s = score_prediction(
        0,
        "sentence",
        PLAN,
        Realised(" dog ran.", 3),
        TextClusterer(),
        baselines=Baselines(clim, pers),
    )
    r2 = ORTHOGONAL
    assert s.energy_climatology == pytest.approx(r2 / 2 - 2 * r2 / (2 * 2 * 1))
    assert s.energy_persistence == pytest.approx(s.energy)  # same partition, same counts


def test_an_ending_that_closes_the_reply_is_labelled() -> None:
    s = score_prediction(0, "sentence", PLAN, Realised("", 1, True), TextClusterer())
    assert s.ends_reply and s.outcome == 3
