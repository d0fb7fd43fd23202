"""Calibration of plans (planner.calibration, planner.coverage) on the Markov engine's exact
ending distributions, and the calibration helpers by hand.

Plans here are summarised from K endings drawn from the exact distribution of the first
sentence after a one-token prefix (what K rollouts sample), with the planner's own
summarise and Match; the realised ending is one more draw. Fixed seeds: same numbers on
every run.

Measured (K = 8, 1500 plans over nine prefix states): the mean ``novel`` is within 0.02 of
the true unseen probability; candidates' calibration error is about 0.02, but a chi-square
goodness-of-fit test on the ten reliability bins rejects exact diagonality (p ~ 1e-5):
clusters seen 3-5 times of 8 come true about 0.09 more often than C k / n says, and eight
identical endings less often. ``novel`` itself is right on average but, from 8 samples, too
noisy to be calibrated bin by bin (its reliability curve is nearly flat on this chain, whose
true unseen mass hardly varies). The tests below assert what holds, with stated tolerances.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from markov_engine import ID, MarkovEngine
from scipy.stats import norm

from planner.calibration import Forecast, bootstrap, calibration_error, reliability, skill
from planner.clustering import TextClusterer, normalise
from planner.evaluation import Match
from planner.rollout import Outcome
from planner.summary import Member, summarise

K = 8
STATES = (" cat", ".", " Yes", " and", " dog")
FALSE_ALARM = 1e-3  # two-sided z-test level of the calibration-in-the-large check


@functools.cache
def _endings(state: str) -> tuple[list[str], np.ndarray, dict[str, float]]:
    """Ending texts, their probabilities given the sentence ends, and the mass per meaning."""
    engine = MarkovEngine()
    dist = engine.ending_distribution([ID[state]], "sentence", 24)
    dist.pop(None, None)
    seqs = list(dist)
    p = np.array([dist[s] for s in seqs])
    p /= p.sum()
    texts = [engine.tokenizer.decode(s) for s in seqs]
    by_meaning: dict[str, float] = {}
    for t, q in zip(texts, p, strict=True):
        by_meaning[normalise(t)] = by_meaning.get(normalise(t), 0.0) + float(q)
    return texts, p, by_meaning


def _plans(reps: int, seed: int) -> list[tuple[Match, float, float]]:
    """(match of the realised ending, plan's novel, true unseen probability) per plan."""
    rng, clusterer, out = np.random.default_rng(seed), TextClusterer(), []
    for i in range(reps):
        texts, p, by_meaning = _endings(STATES[i % len(STATES)])
        drawn = rng.choice(len(texts), K, p=p)
        plan = summarise([Member(Outcome("reached", texts[j], 1), False) for j in drawn], clusterer)
        seen = {normalise(texts[j]) for j in drawn}
        unseen = 1.0 - math.fsum(by_meaning[k] for k in seen)
        real = texts[rng.choice(len(texts), p=p)]
        out.append((Match.of(plan, real, clusterer), plan.novel, unseen))
    return out


def test_mean_novel_is_the_true_unseen_probability() -> None:
    plans = _plans(1000, seed=0)
    novel = np.array([n for _, n, _ in plans])
    unseen = np.array([u for _, _, u in plans])
    came_unseen = np.array([m.index is None for m, _, _ in plans], dtype=float)
    # the estimator's own bias (its small-sample conventions) is below 0.03
    assert novel.mean() == pytest.approx(unseen.mean(), abs=0.03)
    # calibration in the large: as often unseen as said, within sampling noise
    se = math.sqrt(float((novel * (1 - novel)).sum())) / len(novel)
    z = (came_unseen.mean() - novel.mean()) / se
    assert abs(z) < norm.ppf(1 - FALSE_ALARM / 2), z


def test_reliability_is_near_the_diagonal() -> None:
    plans = _plans(1000, seed=1)
    forecasts = [Forecast(m.probs, m.outcome) for m, _, _ in plans]
    error = calibration_error(forecasts)
    interval = bootstrap(forecasts, calibration_error)
    assert error is not None and interval is not None
    assert error < 0.05 and interval[1] < 0.06, (error, interval)
    for b in reliability(forecasts):
        if b.n >= 200:  # well-filled bins: within 0.12 of the diagonal
            assert abs(b.predicted - b.realised) < 0.12, b


def test_reliability_and_error_by_hand() -> None:
    forecasts = [Forecast([0.75, 0.25], 0), Forecast([0.75, 0.25], 1)]
    bins = reliability(forecasts)
    assert [(b.lower, b.n, b.predicted, b.realised) for b in bins] == [
        (0.2, 2, 0.25, 0.5),
        (0.7, 2, 0.75, 0.5),
    ]
    assert calibration_error(forecasts) == pytest.approx(0.25)
    assert calibration_error([]) is None


def test_skill_and_bootstrap() -> None:
    assert skill([1.0, 1.0], [2.0, 2.0]) == pytest.approx(0.5)
    assert skill([], []) is None
    pairs = [(1.0, 2.0)] * 5
    assert bootstrap(pairs, lambda d: skill([a for a, _ in d], [b for _, b in d])) == [0.5, 0.5]
    assert bootstrap([(1.0, 2.0)], lambda d: 0.0) is None
