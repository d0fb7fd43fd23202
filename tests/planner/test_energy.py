"""The fair energy score (planner.energy) by hand, and its skill against climatology on the
Markov engine: clearly positive where endings depend on the prefix, indistinguishable from
zero where they do not.

Each run is one planned generation from a one-token prompt, planned only at its start, so
each plan predicts how the first sentence ends; its climatology is the first sentences of the
runs before it. Seeds are fixed, so the bootstrap intervals are the same on every run.
"""

from __future__ import annotations

import numpy as np
import pytest
from markov_engine import ID, MarkovEngine

from planner.calibration import bootstrap, skill
from planner.climatology import Climatology
from planner.clustering import TextClusterer
from planner.config import PlanConfig
from planner.energy import fair_energy
from planner.engine.protocol import Sampling
from planner.events import PlanFinished
from planner.generation import generate
from planner.plan import Score

RUNS = 120


def test_fair_energy_by_hand() -> None:
    # members a (x2), b (x1); outcome at 0 from a, 1 from b; d(a, b) = 1
    es = fair_energy(np.array([0.0, 1.0]), np.array([[0.0, 1.0], [1.0, 0.0]]), [2, 1])
    # accuracy 1/3; spread: ordered pairs apart 2*2*1 = 4 -> 4 / (2 * 3 * 2)
    assert es == pytest.approx(1 / 3 - 4 / 12)
    assert fair_energy(np.array([0.7]), np.zeros((1, 1)), [1]) == pytest.approx(0.7)
    with pytest.raises(ValueError):
        fair_energy(np.array([]), np.zeros((0, 0)), [])


def test_fair_energy_is_fair_in_ensemble_size() -> None:
    """Members and outcome from one distribution: every ensemble size scores the same in
    expectation (the unfair form favours large ensembles)."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=(4000, 9))
    means = []
    for m in (2, 8):
        x, y = values[:, :m], values[:, 8]
        acc = np.abs(x - y[:, None]).mean(axis=1)
        spread = np.abs(x[:, :, None] - x[:, None, :]).sum(axis=(1, 2)) / (2 * m * (m - 1))
        means.append(float((acc - spread).mean()))
    assert means[0] == pytest.approx(means[1], abs=0.03)


async def _first_sentence_scores(prompts: list[int]) -> list[Score]:
    engine, clim, scores = MarkovEngine(), Climatology(size=64), []
    config = PlanConfig(
        horizons=("sentence",), rollouts=8, refresh=64, max_lookahead_tokens=24, clustering="text"
    )
    for i in range(RUNS):
        sampling = Sampling(max_tokens=24, seed=1000 + i)
        prompt = [prompts[i % len(prompts)]]
        gen = generate(engine, prompt, sampling, config, TextClusterer(), climatology=clim)
        async for event in gen.events():
            if isinstance(event, PlanFinished):
                scores += [s for s in event.plan.scores if s.position == 0]
    return [s for s in scores if s.energy is not None and s.energy_climatology is not None]


def _skill(pairs: list[tuple[float, float]]) -> float | None:
    return skill([a for a, _ in pairs], [b for _, b in pairs])


async def test_energy_skill_is_positive_where_endings_depend_on_the_prefix() -> None:
    scores = await _first_sentence_scores([ID[" cat"], ID[" and"], ID[" Yes"], ID[" dog"]])
    pairs = [(s.energy, s.energy_climatology) for s in scores]
    assert len(pairs) > RUNS // 2
    value, interval = _skill(pairs), bootstrap(pairs, _skill)
    assert value is not None and interval is not None
    assert interval[0] > 0.05, (value, interval)


async def test_energy_skill_is_zero_where_endings_do_not_depend_on_the_prefix() -> None:
    """All prompts end in "." (a first-order chain forgets the rest): the plan knows no more
    than climatology, and the fair score says so."""
    scores = await _first_sentence_scores([ID["."]])
    pairs = [(s.energy, s.energy_climatology) for s in scores]
    value, interval = _skill(pairs), bootstrap(pairs, _skill)
    assert value is not None and interval is not None
    assert interval[0] < 0 < interval[1], (value, interval)
    assert abs(value) < 0.1
