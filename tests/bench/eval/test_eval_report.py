"""The report's intervals are cluster bootstraps over conversations: a conversation's
predictions are resampled together, so they widen the interval as correlated data must."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bench.eval.report import skills
from planner import Score
from planner.calibration import bootstrap


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs)


def test_the_cluster_interval_is_wider_than_the_flat_one() -> None:
    """Two conversations of 20 identical predictions each (0 and 1). Resampling the
    conversations draws A,A / A,B / B,A / B,B, so the mean is 0, 1/2 or 1 and the 95%
    interval is exactly [0, 1] (400 draws miss A,A with probability (3/4)^400). Resampling
    40 predictions one by one gives a mean near 1/2 with standard error 0.08."""
    values = [0.0] * 20 + [1.0] * 20
    groups = ["a"] * 20 + ["b"] * 20
    clustered = bootstrap(values, _mean, groups=groups)
    flat = bootstrap(values, _mean)
    assert clustered == [0.0, 1.0]
    assert flat is not None and 0.2 < flat[0] < 0.5 < flat[1] < 0.8


def test_singleton_groups_are_the_flat_bootstrap() -> None:
    values = [0.1 * i for i in range(30)]
    assert bootstrap(values, _mean, groups=list(range(30))) == bootstrap(values, _mean)


def test_one_conversation_has_no_interval() -> None:
    assert bootstrap([1.0, 2.0, 3.0], _mean, groups=["a"] * 3) is None
    with pytest.raises(ValueError, match="one label per item"):
        bootstrap([1.0, 2.0], _mean, groups=["a"])


def _score(position: int, energy: float, climatology: float) -> Score:
    return Score(
        position=position, horizon="sentence", realised=" The cat sat.", realised_tokens=4,
        probability=0.5, probabilities=[0.5, 0.5], outcome=0, log_score=-0.7,
        uniform_log_score=-0.7, top1=True, in_candidates=True, brier=0.5, energy=energy,
        energy_climatology=climatology,
    )  # fmt: skip


def test_skill_intervals_resample_conversations() -> None:
    """Conversation a: the plan always better than climatology (skill +0.5); b: always worse
    (-0.5). Per conversation the skill never varies, so only the conversations' mix does."""
    tagged = [("a", _score(t, 0.5, 1.0)) for t in range(10)]
    tagged += [("b", _score(t, 1.5, 1.0)) for t in range(10)]
    runtime = {("a", t): 2.0 for t in range(10)}
    out = skills(tagged, runtime, {})
    clim = out["climatology"]
    assert (clim["n"], clim["conversations"], clim["skill"]) == (20, 2, 0.0)
    assert clim["interval"] == pytest.approx([-0.5, 0.5])
    assert out["climatology_runtime"]["n"] == 10  # only where a row stored it
    assert out["climatology_runtime"]["skill"] == pytest.approx(0.75)
    assert out["climatology_runtime"]["interval"] is None  # one conversation
    assert out["plan_vs_ceiling"]["n"] == 0
