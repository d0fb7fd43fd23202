"""Statistical guarantees of planning, checked on the Markov engine of known distribution.

1. Planning never changes the main text: token for token under a seed, and in distribution.
2. Carried-over rollouts are exact samples, distributed as fresh ones.
3. A plan's probabilities approach the exact ending probabilities at the sampling rate
   1/sqrt(K).

Every run uses a fixed Sampling.seed (rollout seeds derive from it and the rollout's position
and ordinal, never from the plan id), so
for given planner code the samples, and therefore the p-values, are the same on every run: the
chi-square tests cannot flake, and they pass because the planner is right. A test that makes
several comparisons splits P_MIN between them (Bonferroni), so that a change in the planner's
scheduling, which redraws the samples, trips a correct planner with probability < P_MIN.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping, Sequence
from itertools import pairwise
from typing import Any, TypeVar

import numpy as np
import pytest
from markov_engine import MarkovEngine, chat_prompt
from scipy.stats import chi2_contingency, chisquare

from planner.clustering import TextClusterer, normalise
from planner.config import PlanConfig
from planner.engine.protocol import Sampling
from planner.events import PlanFinished, SnapshotReady, TextDelta
from planner.follow import follow
from planner.generation import generate
from planner.plan import Plan

P_MIN = 1e-3  # reject "same distribution" below this; fixed seeds make each p a constant
MIN_EXPECTED = 5  # chi-square bins expected fewer times than this are pooled

Outcome = TypeVar("Outcome", bound=Hashable | None)


@pytest.fixture
def engine() -> MarkovEngine:
    return MarkovEngine()


def carry_config(lookahead: int, plan_id: str) -> PlanConfig:
    """K = 8 sentence plans refreshed at every token, listing which rollouts were carried."""
    return PlanConfig(
        horizons=("sentence",),
        rollouts=8,
        refresh="token",
        max_lookahead_tokens=lookahead,
        clustering="text",
        include_rollouts=True,
        id=plan_id,
    )


def chi_square_p(observed: Mapping[Outcome, int], expected: Mapping[Outcome, float]) -> float:
    """Goodness of fit of counts to exact probabilities; rare outcomes share one bin."""
    n = sum(observed.values())
    assert set(observed) <= set(expected), f"impossible outcomes {set(observed) - set(expected)}"
    big = [k for k, p in expected.items() if p * n >= MIN_EXPECTED]
    obs = [observed.get(k, 0) for k in big]
    exp = [expected[k] * n for k in big]
    rest_obs, rest_exp = n - sum(obs), n - sum(exp)
    if rest_exp >= MIN_EXPECTED:
        obs.append(rest_obs)
        exp.append(rest_exp)
    else:  # too little left for a bin of its own: fold it into the smallest one
        i = int(np.argmin(exp))
        obs[i] += rest_obs
        exp[i] += rest_exp
    assert len(obs) >= 2
    return float(chisquare(obs, exp).pvalue)


def contingency_p(
    a: Mapping[Outcome, int], b: Mapping[Outcome, int], expected: Mapping[Outcome, float]
) -> float:
    """Whether two samples come from one distribution (bins chosen from the exact one)."""
    n = min(sum(a.values()), sum(b.values()))
    big = [k for k, p in expected.items() if p * n >= MIN_EXPECTED]
    rows = []
    for counts in (a, b):
        row = [counts.get(k, 0) for k in big]
        rows.append([*row, sum(counts.values()) - sum(row)])
    if rows[0][-1] + rows[1][-1] == 0:
        rows = [row[:-1] for row in rows]
    return float(chi2_contingency(rows).pvalue)


async def plan_of(
    engine: MarkovEngine, prompt: Sequence[int], sampling: Sampling, cfg: PlanConfig
) -> tuple[list[int], Plan]:
    """(main tokens as streamed, finished plan) of one planned generation."""
    tokens: list[int] = []
    plan = None
    async for event in generate(engine, prompt, sampling, cfg, TextClusterer()).events():
        if isinstance(event, TextDelta):
            tokens += event.delta.token_ids
        elif isinstance(event, PlanFinished):
            plan = event.plan
    assert plan is not None
    return tokens, plan


# -- 1. the main text is the text plain generation would give -----------------------------


@pytest.mark.parametrize("refresh", ["token", "sentence"])
async def test_main_text_is_the_unplanned_text_for_the_same_seed(
    engine: MarkovEngine, refresh: str
) -> None:
    """With K = 8 rollouts running beside it, the main text equals, token for token, what
    the engine generates for the same seed without any plan."""
    prompt = chat_prompt(engine)
    planned_rollouts = 0
    for seed in range(30):
        sampling = Sampling(max_tokens=20, seed=seed)
        cfg = PlanConfig(
            horizons=("sentence", "turn"),
            rollouts=8,
            refresh=refresh,
            max_lookahead_tokens=8,
            clustering="text",
            id=f"same-{seed}",
        )
        tokens, plan = await plan_of(engine, prompt, sampling, cfg)
        plain = [
            t
            async for d in engine.generate(f"plain-{refresh}-{seed}", prompt, sampling)
            for t in d.token_ids
        ]
        assert tokens == plain, f"seed {seed}"
        assert plan.text == engine.tokenizer.decode(plain)
        planned_rollouts += plan.stats.rollouts_started
    assert planned_rollouts > 30 * 8  # rollouts really ran beside the main text
    assert not engine.active


@pytest.mark.parametrize(
    "knobs", [{}, {"temperature": 0.7, "top_k": 4, "top_p": 0.95}], ids=["plain", "knobs"]
)
async def test_main_text_distribution_is_the_chains(
    engine: MarkovEngine, knobs: dict[str, Any]
) -> None:
    """Over 1500 planned runs with distinct seeds (50 plans at a time sharing the engine),
    the first three main tokens follow the chain's exact sequence distribution, with or
    without temperature / top-k / top-p (which the rollouts share)."""
    prompt = chat_prompt(engine)
    n_runs, batch = 1500, 50
    counts: Counter[tuple[int, ...]] = Counter()
    for first in range(0, n_runs, batch):
        runs = [
            plan_of(
                engine,
                prompt,
                Sampling(max_tokens=3, seed=100_000 + i, **knobs),
                PlanConfig(
                    horizons=("sentence",),
                    rollouts=2,
                    refresh="token",
                    max_lookahead_tokens=3,
                    clustering="text",
                    id=f"dist-{i}",
                ),
            )
            for i in range(first, first + batch)
        ]
        for tokens, plan in await asyncio.gather(*runs):
            assert plan.stats.rollouts_started >= 2
            counts[tuple(tokens)] += 1
    exact = engine.sequence_distribution(prompt, 3, **knobs)
    p = chi_square_p(counts, exact)
    assert p > P_MIN, f"main text distribution differs from the chain's (p = {p:.3g})"


# -- 2. carried-over rollouts are exact samples --------------------------------------------

GIVEN = " The cat sat and the dog ran."  # positions 1..7 are inside the one sentence


async def test_carried_rollouts_are_distributed_as_fresh_ones(engine: MarkovEngine) -> None:
    """Following a fixed text with a refresh at every token (K = 8), the sentence endings of
    carried-over rollouts and of fresh ones at each position inside the sentence both match
    the chain's exact ending distribution, and match each other.

    An ending is the rollout's text from the position through the sentence's end ("." or "!"),
    or "not reached" within the lookahead: exactly what ``ending_distribution`` enumerates.
    """
    tok = engine.tokenizer
    prompt = chat_prompt(engine)
    given = tok.encode(GIVEN)
    lookahead, n_runs = 8, 300
    seen: dict[int, dict[bool, Counter[str | None]]] = defaultdict(
        lambda: {True: Counter(), False: Counter()}
    )
    for i in range(n_runs):
        cfg = carry_config(lookahead, f"carry-{i}")
        async for event in (
            await follow(engine, prompt, GIVEN, cfg, TextClusterer(), sampling=Sampling(seed=i))
        ).events():
            if isinstance(event, SnapshotReady) and event.snapshot.rollouts is not None:
                for r in event.snapshot.rollouts:
                    seen[event.snapshot.position][r.carried][r.endings["sentence"]] += 1
    # How K splits into carried and fresh depends on scheduling, not on the text's future;
    # test every position where both groups are large enough, and require most of them.
    positions = [
        t
        for t in range(1, len(given))
        if min(sum(seen[t][True].values()), sum(seen[t][False].values())) >= 400
    ]
    assert len(positions) >= 4, {
        t: (sum(seen[t][True].values()), sum(seen[t][False].values())) for t in seen
    }
    p_min = P_MIN / (3 * len(positions))
    failures = []
    for t in positions:
        dist = engine.ending_distribution([*prompt, *given[:t]], "sentence", lookahead)
        exact = {(tok.decode(k) if k is not None else None): p for k, p in dist.items()}
        carried, fresh = seen[t][True], seen[t][False]
        assert sum(carried.values()) + sum(fresh.values()) == 8 * n_runs
        ps = {
            "carried": chi_square_p(carried, exact),
            "fresh": chi_square_p(fresh, exact),
            "carried vs fresh": contingency_p(carried, fresh, exact),
        }
        failures += [f"position {t}, {name}: p = {p:.3g}" for name, p in ps.items() if p <= p_min]
    assert not failures


async def test_carried_rollouts_are_exact_during_live_generation(engine: MarkovEngine) -> None:
    """In live generation (the main text racing its rollouts, refresh every token, K = 8),
    the sentence endings of carried-over rollouts match the exact ending distribution.

    The chain is first-order, so inside a sentence the ending depends on the last emitted
    token only: endings are pooled per last token. Positions right after "." or "!" are left
    out: there the chain counts a paragraph-break token as a sentence of its own, while the
    text's sentence splitter runs on to the next sentence's end.
    """
    tok = engine.tokenizer
    prompt = chat_prompt(engine)
    lookahead = 8
    skip = {tok.encode(".")[0], tok.encode("!")[0]}
    seen: dict[int, dict[bool, Counter[str | None]]] = defaultdict(
        lambda: {True: Counter(), False: Counter()}
    )
    for i in range(120):
        cfg = carry_config(lookahead, f"live-{i}")
        tokens, plan = await plan_of(engine, prompt, Sampling(max_tokens=16, seed=i), cfg)
        for snapshot in plan.snapshots:
            t = snapshot.position
            if t == 0 or tokens[t - 1] in skip or snapshot.rollouts is None:
                continue
            for r in snapshot.rollouts:
                seen[tokens[t - 1]][r.carried][r.endings["sentence"]] += 1
    tested = [
        (last, kinds[True], kinds[False])
        for last, kinds in sorted(seen.items())
        if min(sum(kinds[True].values()), sum(kinds[False].values())) >= 300
    ]
    assert len(tested) >= 4
    p_min = P_MIN / (3 * len(tested))
    failures = []
    for last, carried, fresh in tested:
        dist = engine.ending_distribution([last], "sentence", lookahead)
        exact = {(tok.decode(k) if k is not None else None): p for k, p in dist.items()}
        ps = {
            "carried": chi_square_p(carried, exact),
            "fresh": chi_square_p(fresh, exact),
            "carried vs fresh": contingency_p(carried, fresh, exact),
        }
        failures += [
            f"after {tok.decode([last])!r}, {n}: p = {p:.3g}" for n, p in ps.items() if p <= p_min
        ]
    assert not failures


# -- 3. plan probabilities converge at the sampling rate -----------------------------------


async def test_plan_probabilities_converge_at_the_sampling_rate(engine: MarkovEngine) -> None:
    """The sentence plan at position 0 estimates the exact ending probabilities (among
    reached endings, clustered by normalised text) with error ~ 1/sqrt(K).

    This checks the sampling, so it reads the clusters' raw shares (count / reached); the
    coverage adjustment on top of them is checked in test_calibration.py.

    For a multinomial share, E ||p_hat - p||^2 = (1 - sum p^2) / K exactly, so the RMS L2
    error times sqrt(K) must stay at sqrt(1 - sum p^2) for every K. The mean total variation
    distance is checked to fall as K grows.
    """
    tok = engine.tokenizer
    prompt = chat_prompt(engine)
    lookahead = 12
    exact: dict[str, float] = defaultdict(float)
    for ending, p in engine.ending_distribution(prompt, "sentence", lookahead).items():
        if ending is not None:
            exact[normalise(tok.decode(ending))] += p
    reached = math.fsum(exact.values())
    exact = {text: p / reached for text, p in exact.items()}
    floor = math.sqrt(1 - math.fsum(p * p for p in exact.values()))

    rms, tv = {}, {}
    for k, n_runs in ((4, 150), (16, 80), (64, 40), (256, 16)):
        sq, abs_ = [], []
        for i in range(n_runs):
            cfg = PlanConfig(
                horizons=("sentence",),
                rollouts=k,
                refresh="sentence",
                max_lookahead_tokens=lookahead,
                clustering="text",
                id=f"rate-{k}-{i}",
            )
            _, plan = await plan_of(engine, prompt, Sampling(max_tokens=1, seed=i), cfg)
            (snapshot,) = plan.snapshots  # one token, no sentence end: the plan at 0 only
            horizon = snapshot.horizons["sentence"]
            found = {normalise(c.text): c.count / horizon.reached for c in horizon.candidates}
            diff = np.array([found.get(t, 0.0) - exact.get(t, 0.0) for t in {*found, *exact}])
            sq.append(float(diff @ diff))
            abs_.append(float(np.abs(diff).sum() / 2))
        rms[k], tv[k] = math.sqrt(float(np.mean(sq))), float(np.mean(abs_))

    ks = sorted(rms)
    assert all(rms[a] > rms[b] and tv[a] > tv[b] for a, b in pairwise(ks))
    scaled = {k: rms[k] * math.sqrt(k) for k in ks}
    assert max(scaled.values()) / min(scaled.values()) < 1.6, scaled
    for k in ks:  # and at the level sampling theory predicts
        assert scaled[k] == pytest.approx(floor, rel=0.2), (k, scaled[k], floor)
