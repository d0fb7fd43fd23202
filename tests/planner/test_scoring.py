"""Scores and distances against hand-computed values."""

from __future__ import annotations

import json
import math

import pytest

from planner.scoring import (
    ScoreAggregate,
    abs_error,
    brier,
    entropy,
    in_candidates,
    interval_covers,
    js_divergence,
    quantiles,
    top1_hit,
    total_variation,
    uniform_log_score,
)


def test_uniform_log_scores() -> None:
    assert uniform_log_score(2) == pytest.approx(math.log(1 / 3))
    assert uniform_log_score(0) == 0.0


def test_brier_hand_computed() -> None:
    # other = 1 - 0.8 = 0.2; realised 1: 0.5^2 + (0.3 - 1)^2 + 0.2^2 = 0.25 + 0.49 + 0.04
    assert brier([0.5, 0.3], 1) == pytest.approx(0.78)
    # realised "other": 0.5^2 + 0.3^2 + (0.2 - 1)^2 = 0.25 + 0.09 + 0.64
    assert brier([0.5, 0.3], None) == pytest.approx(0.98)
    # probabilities over 1 clip "other" to 0: (0.7 - 1)^2 + 0.5^2 + 0
    assert brier([0.7, 0.5], 0) == pytest.approx(0.34)
    assert brier([1.0], 0) == 0.0
    assert brier([], None) == 0.0


def test_top1_and_in_candidates() -> None:
    assert top1_hit([0.4, 0.4, 0.2], 0)  # tie: the first wins
    assert not top1_hit([0.4, 0.4, 0.2], 1)
    assert top1_hit([0.1, 0.6, 0.3], 1)
    assert not top1_hit([0.1, 0.6], None)
    assert not top1_hit([], None)
    assert in_candidates(0) and not in_candidates(None)


def test_quantiles_intervals_errors() -> None:
    # linear interpolation on 1..10: position q * 9 from the first value
    assert quantiles(list(range(1, 11))) == pytest.approx({"p10": 1.9, "p50": 5.5, "p90": 9.1})
    assert quantiles([7], qs=(0.25, 0.975)) == {"p25": 7.0, "p97.5": 7.0}
    with pytest.raises(ValueError):
        quantiles([])
    assert interval_covers(2, 5, 2) and interval_covers(2, 5, 5)
    assert not interval_covers(2, 5, 6)
    assert abs_error(10.5, 8) == 2.5


def test_entropy_nats() -> None:
    assert entropy([0.5, 0.5, 0.0]) == pytest.approx(math.log(2))
    assert entropy([1.0]) == 0.0
    assert entropy([0.25] * 4) == pytest.approx(math.log(4))


def test_js_divergence_bits() -> None:
    assert js_divergence({"a": 0.3, "b": 0.7}, {"b": 0.7, "a": 0.3}) == 0.0
    assert js_divergence({"a": 1.0}, {"b": 1.0}) == pytest.approx(1.0)
    # p = {a: 1}, q = {a: .5, b: .5}, m = {a: .75, b: .25}:
    # KL(p||m) = log2(1 / .75); KL(q||m) = .5 log2(.5 / .75) + .5 log2(.5 / .25)
    kl_p = math.log2(1 / 0.75)
    kl_q = 0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25)
    expected = (kl_p + kl_q) / 2
    assert js_divergence({"a": 1.0}, {"a": 0.5, "b": 0.5}) == pytest.approx(expected)
    assert js_divergence({"a": 0.5, "b": 0.5}, {"a": 1.0}) == pytest.approx(expected)
    # counts are scaled to distributions
    assert js_divergence({"a": 2, "b": 2}, {"a": 0.5, "b": 0.5}) == 0.0
    with pytest.raises(ValueError):
        js_divergence({}, {"a": 1.0})


def test_total_variation() -> None:
    assert total_variation({"a": 0.5, "b": 0.5}, {"a": 1.0}) == pytest.approx(0.5)
    assert total_variation({"a": 1.0}, {"b": 1.0}) == pytest.approx(1.0)
    assert total_variation({"a": 0.2, "b": 0.8}, {"a": 0.2, "b": 0.8}) == 0.0


def _filled() -> ScoreAggregate:
    agg = ScoreAggregate(horizon="sentence")
    agg.add(
        log_score=-0.5,
        uniform_log_score=-1.0,
        top1=True,
        in_candidates=True,
        brier=0.25,
        tokens_abs_error=3.0,
        interval_covered=True,
    )
    agg.add(
        log_score=-2.5,
        uniform_log_score=-1.0,
        top1=False,
        in_candidates=False,
        brier=1.0,
        interval_covered=False,
    )
    return agg


def test_aggregate_means() -> None:
    d = _filled().to_dict()
    assert d["n"] == 2
    assert d["log_score"] == pytest.approx((-0.5 - 2.5) / 2)
    assert d["uniform_log_score"] == pytest.approx(-1.0)
    assert d["top1_accuracy"] == 0.5
    assert d["in_candidates_rate"] == 0.5
    assert d["brier"] == pytest.approx((0.25 + 1.0) / 2)
    assert d["tokens_to_end_mae"] == 3.0  # only one record had a token prediction
    assert d["interval_coverage"] == 0.5


def test_aggregate_empty_has_no_nan() -> None:
    d = ScoreAggregate(horizon="turn").to_dict()
    assert d["n"] == 0 and d["log_score"] is None and d["interval_coverage"] is None
    json.dumps(d, allow_nan=False)


def test_aggregate_json_round_trip_is_exact() -> None:
    agg = _filled()
    agg.add(
        log_score=math.log(0.1),
        uniform_log_score=math.log(1 / 3),
        top1=True,
        in_candidates=True,
        brier=0.1 + 0.2,
    )
    text = json.dumps(agg.to_dict(), allow_nan=False)
    back = ScoreAggregate.from_dict(json.loads(text))
    assert back == agg
    assert isinstance(back.sum_brier, float) and isinstance(back.n, int)
    assert json.dumps(back.to_dict(), allow_nan=False) == text


def test_aggregate_merge_and_validation() -> None:
    merged = _filled().merge(_filled())
    assert merged.n == 4 and merged.sum_log_score == -6.0 and merged.n_tokens == 2
    assert merged.to_dict()["top1_accuracy"] == 0.5
    with pytest.raises(ValueError, match="horizon"):
        _filled().merge(ScoreAggregate(horizon="paragraph"))
    with pytest.raises(ValueError, match="finite"):
        ScoreAggregate().add(
            log_score=-math.inf, uniform_log_score=-1.0, top1=False, in_candidates=False, brier=1.0
        )
