"""First-token comparison between rollouts and the model's next-token distribution."""

from __future__ import annotations

import math

import pytest

from planner.implicit import collision_probability, first_token_distance


def test_first_token_distance_hand_computed() -> None:
    top = [(10, math.log(0.5)), (11, math.log(0.3))]  # model: 10 .5, 11 .3, rest .2
    got = first_token_distance([10, 10, 11, 99], top)  # empirical: 10 .5, 11 .25, rest .25
    assert got["total_variation"] == pytest.approx((0.0 + 0.05 + 0.05) / 2)
    m = {"10": 0.5, "11": 0.275, "rest": 0.225}
    kl_emp = 0.5 * math.log2(0.5 / m["10"]) + 0.25 * math.log2(0.25 / m["11"])
    kl_emp += 0.25 * math.log2(0.25 / m["rest"])
    kl_model = 0.5 * math.log2(0.5 / m["10"]) + 0.3 * math.log2(0.3 / m["11"])
    kl_model += 0.2 * math.log2(0.2 / m["rest"])
    assert got["js_divergence"] == pytest.approx((kl_emp + kl_model) / 2)
    expected_h = -(0.5 * math.log(0.5) + 0.3 * math.log(0.3) + 0.2 * math.log(0.2))
    assert got["next_token_entropy"] == pytest.approx(expected_h)
    assert got["empirical_entropy"] == pytest.approx(-(0.5 * math.log(0.5) + 0.5 * math.log(0.25)))
    assert got["top_mass"] == pytest.approx(0.8)


def test_first_token_distance_matching_distributions() -> None:
    top = [(1, math.log(0.5)), (2, math.log(0.25)), (3, math.log(0.25))]  # rest = 0
    got = first_token_distance([1, 2, 1, 3], top)
    assert got["total_variation"] == pytest.approx(0.0, abs=1e-12)
    assert got["js_divergence"] == pytest.approx(0.0, abs=1e-12)
    assert got["next_token_entropy"] == pytest.approx(got["empirical_entropy"])


def test_all_rollouts_outside_top_n() -> None:
    got = first_token_distance([7, 8], [(1, 0.0)])  # model: token 1 with p = 1
    assert got["total_variation"] == pytest.approx(1.0)
    assert got["js_divergence"] == pytest.approx(1.0)
    assert got["empirical_entropy"] == 0.0  # both land in the one "rest" bucket


def test_first_token_distance_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="at least one"):
        first_token_distance([], [(1, 0.0)])
    with pytest.raises(ValueError, match="twice"):
        first_token_distance([1], [(1, -1.0), (1, -2.0)])
    with pytest.raises(ValueError, match="not a log probability"):
        first_token_distance([1], [(1, 0.5)])


def test_collision_probability() -> None:
    assert collision_probability([(1, math.log(0.5)), (2, math.log(0.3))]) == pytest.approx(
        0.25 + 0.09
    )
    assert collision_probability([(1, 0.0)]) == 1.0
    assert collision_probability([]) == 0.0
