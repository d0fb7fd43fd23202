"""Calibration of plans (planner.calibration, planner.coverage) on the Markov engine's exact
ending distributions, and the calibration helpers by hand.

Plans here are summarised from K endings drawn from the exact distribution of the first
sentence after a one-token prefix (what K rollouts sample), with the planner's own
summarise and Match; the realised ending is one more draw. Fixed seeds: same numbers on
every run. ``scripts/calibration_study.py`` (which imports this module's helpers) prints
the numbers quoted here.

The reliability table is diagonal against the truth. Binned by the plan's probabilities
(candidates and novel), each bin's hits are compared with its true expected hits: the sum
of the true probabilities of its entries, known exactly here. ``reliability_gof`` is a
multinomial chi-square: bins expecting >= MIN_EXPECTED hits and as many misses are tested
alone, the others merged into one group, df = groups - 1 (8 on the test's plans). This is
the goodness of fit of "the realised ending is one more draw of the rollouts'
distribution", so it holds for a correct sampling, clustering and matching whatever the
estimator. It is tested at FALSE_ALARM = 1e-3. Measured over 500 seeds of the test's
set-up (``calibration_study.py --false-alarm-seeds 500``): rejected 0 times at 1e-3 (too
rare to see in 500; the rate's 95 % upper bound is 0.6 %), once at 0.01, 25 times at 0.05
(5.0 %) and 44 at 0.1; the p-values are uniform (Kolmogorov-Smirnov p = 0.66, least 0.005).
It has power: the same plans scored against the next state's ending are rejected at
p < 1e-37.

Against the plan's own probabilities the table is not diagonal, and no estimator from the
counts makes it so (K = 8, 3000 plans per population): C k / n fails the chi-square
(p < 1e-20) on every chain tried (the five STATES, a concentrated, a flat and a long-tailed
one) and on mixes of them, and so do absolute discounting to the same novel (unseen mass
taken mostly from singletons), Pitman-Yor / Kneser-Ney with d = f1 / (f1 + 2 f2), and
add-half smoothing. Not a bad formula: the same counts mean different truths on different chains
(after counts (4, 1, 1, 1, 1) the most-seen cluster's true probability is 0.15 on one chain,
0.75 on another), so a function of the counts can be calibrated only for one population of
distributions, and from 8 samples its estimates regress to that population's mean (on the
STATES: clusters seen 3-6 times come true 0.04-0.06 more often than C k / n says, eight
identical endings 0.13 less). What holds is asserted, with stated tolerances: the mean
``novel`` is the true unseen probability, and the calibration error is small (0.026).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pytest
from markov_engine import ID, MarkovEngine
from scipy.stats import chi2, norm

from planner.calibration import BINS, Forecast, bootstrap, calibration_error, reliability, skill
from planner.clustering import TextClusterer, normalise
from planner.evaluation import Match
from planner.rollout import Outcome
from planner.summary import Member, summarise

K = 8
STATES = (" cat", ".", " Yes", " and", " dog")
FALSE_ALARM = 1e-3  # two-sided z-test level of the calibration-in-the-large check
MIN_EXPECTED = 10  # a reliability bin is tested alone if it expects >= 10 hits and misses


@functools.cache
def ending_law(
    state: str,
    temperature: float = 1.0,
    horizon: Literal["sentence", "turn"] = "sentence",
    max_tokens: int = 24,
) -> tuple[list[str], np.ndarray, dict[str, float]]:
    """Ending texts, their cumulative probabilities given the horizon ends, and the mass per
    meaning (normalised text), after the one-token prefix ``state``."""
    engine = MarkovEngine()
    dist = engine.ending_distribution([ID[state]], horizon, max_tokens, temperature=temperature)
    seqs = [s for s in dist if s is not None]  # None: the horizon not reached
    p = np.array([dist[s] for s in seqs])
    p /= p.sum()
    texts = [engine.tokenizer.decode(s) for s in seqs]
    by_meaning: dict[str, float] = {}
    for t, q in zip(texts, p, strict=True):
        by_meaning[normalise(t)] = by_meaning.get(normalise(t), 0.0) + float(q)
    return texts, np.cumsum(p), by_meaning


@dataclass(frozen=True)
class Plan:
    """One plan against one realised ending, with the truth the synthetic chain knows."""

    match: Match
    counts: list[int]  # the candidates' counts, in the plan's order
    truth: list[float]  # true probability of each candidate's meaning, then of the unseen


def draw_plans(
    laws: Sequence[tuple[list[str], np.ndarray, dict[str, float]]],
    reps: int,
    seed: int,
    lag: int = 0,
) -> list[Plan]:
    """``reps`` plans of K endings each (round robin over ``laws``), summarised by the planner
    and matched against one more draw: from the plan's own law, or with ``lag`` from the law
    ``lag`` places on (a plan scored against another prefix's ending)."""
    rng, clusterer, out = np.random.default_rng(seed), TextClusterer(), []
    for i in range(reps):
        texts, cdf, by_meaning = laws[i % len(laws)]
        draws = np.searchsorted(cdf, rng.random(K) * cdf[-1], side="right")
        real_texts, real_cdf, _ = laws[(i + lag) % len(laws)]
        real = real_texts[np.searchsorted(real_cdf, rng.random() * real_cdf[-1], side="right")]
        members = [Member(Outcome("reached", texts[j], 1), False) for j in draws]
        plan = summarise(members, clusterer)
        truth = [by_meaning[normalise(c.text)] for c in plan.candidates]
        out.append(
            Plan(
                Match.of(plan, real, clusterer),
                [c.count for c in plan.candidates],
                [*truth, 1.0 - math.fsum(truth)],
            )
        )
    return out


def reliability_gof(
    predicted: Sequence[Sequence[float]],
    expected: Sequence[Sequence[float]],
    outcomes: Sequence[int],
    bins: int = BINS,
) -> tuple[float, int, float]:
    """(chi-square, df, p) of the reliability table's hit counts against ``expected``.

    Entries are binned by their ``predicted`` probability (equal-width bins); bin b's hit
    count O_b is compared with E_b, the sum of ``expected`` over its entries. A forecast's
    hits form one multinomial draw over its entries, so the counts' covariance is
    diag(E) - sum_f m_f m_f^T (m_f: forecast f's expected mass per bin); its diagonal is the
    Poisson-binomial variance. Bins with E_b < MIN_EXPECTED or n_b - E_b < MIN_EXPECTED are
    merged into one group; the G groups' counts sum to the number of forecasts, so one is
    dropped and the statistic (O - E)^T Cov^-1 (O - E) is chi-square with G - 1 df.
    """
    rows = len(outcomes)
    mass, hits, size = np.zeros((rows, bins)), np.zeros(bins), np.zeros(bins)
    for f, (pred, exp, came) in enumerate(zip(predicted, expected, outcomes, strict=True)):
        for i, (p, e) in enumerate(zip(pred, exp, strict=True)):
            b = min(int(p * bins), bins - 1)
            mass[f, b] += e
            size[b] += 1
            hits[b] += i == came
    e_bin = mass.sum(axis=0)
    full = (e_bin >= MIN_EXPECTED) & (size - e_bin >= MIN_EXPECTED)
    groups = [np.flatnonzero(full)[i : i + 1] for i in range(int(full.sum()))]
    if (size[~full] > 0).any():
        groups.append(np.flatnonzero(~full))
    merge = np.zeros((bins, len(groups)))
    for g, members in enumerate(groups):
        merge[members, g] = 1.0
    m, o = mass @ merge, hits @ merge
    cov = np.diag(m.sum(axis=0)) - m.T @ m
    d = (o - m.sum(axis=0))[:-1]
    df = len(groups) - 1
    if df < 1:
        return 0.0, 0, 1.0
    stat = float(d @ np.linalg.solve(cov[:-1, :-1], d))
    return stat, df, float(chi2.sf(stat, df))


def test_mean_novel_is_the_true_unseen_probability() -> None:
    plans = draw_plans([ending_law(s) for s in STATES], 1000, seed=0)
    novel = np.array([p.match.probs[-1] for p in plans])
    unseen = np.array([p.truth[-1] for p in plans])
    came_unseen = np.array([p.match.index is None for p in plans], dtype=float)
    # the estimator's own bias (its small-sample conventions) is below 0.03
    assert novel.mean() == pytest.approx(unseen.mean(), abs=0.03)
    # calibration in the large: as often unseen as said, within sampling noise
    se = math.sqrt(float((novel * (1 - novel)).sum())) / len(novel)
    z = (came_unseen.mean() - novel.mean()) / se
    assert abs(z) < norm.ppf(1 - FALSE_ALARM / 2), z


def test_reliability_is_near_the_diagonal() -> None:
    plans = draw_plans([ending_law(s) for s in STATES], 1000, seed=1)
    forecasts = [Forecast(p.match.probs, p.match.outcome) for p in plans]
    error = calibration_error(forecasts)
    interval = bootstrap(forecasts, calibration_error)
    assert error is not None and interval is not None
    assert error < 0.05 and interval[1] < 0.06, (error, interval)
    for b in reliability(forecasts):
        if b.n >= 200:  # well-filled bins: within 0.12 of the diagonal
            assert abs(b.predicted - b.realised) < 0.12, b


@functools.cache
def _state_plans(seed: int, lag: int = 0) -> list[Plan]:
    return draw_plans([ending_law(s) for s in STATES], 1500, seed, lag)


def _true_gof(plans: Sequence[Plan]) -> tuple[float, int, float]:
    outcomes = [x.match.outcome for x in plans]
    return reliability_gof([x.match.probs for x in plans], [x.truth for x in plans], outcomes)


def test_realised_endings_are_draws_of_the_true_distribution() -> None:
    """The reliability table, binned by the plan's probabilities, against the true expected
    hits: the goodness of fit of a correct sampling, clustering and matching."""
    stat, df, p = _true_gof(_state_plans(seed=2))
    assert df >= 5, df  # enough well-filled bins for the test to see a bias
    assert p > FALSE_ALARM, (stat, df, p)


def test_the_fit_test_sees_plans_scored_against_another_prefix() -> None:
    """Power: the realised ending drawn after the next state instead (a misaligned score)."""
    stat, df, p = _true_gof(_state_plans(seed=2, lag=1))
    assert p < FALSE_ALARM, (stat, df, p)


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
