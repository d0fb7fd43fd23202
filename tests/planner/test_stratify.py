"""Stratified first tokens: the allocation, and on the Markov engine of known distribution
that the weighted plan is unbiased (also with carried rollouts) and varies less than plain.

Every run uses a fixed seed, so each statistic below is a constant for given planner code;
a correct planner trips a test with probability < P_MIN when a change redraws the samples
(Bonferroni over the outcomes tested).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pytest
from markov_engine import ID, MarkovEngine, chat_prompt
from scipy.stats import norm

from planner.clustering import TextClusterer
from planner.config import PlanConfig
from planner.engine.protocol import Sampling, TokenLogprob
from planner.events import SnapshotReady, TextDelta
from planner.generation import generate
from planner.stratify import REST, allocate, can_stratify, weights

P_MIN = 1e-3


def top(*probs: tuple[int, float]) -> TokenLogprob:
    return TokenLogprob(probs[0][0], math.log(probs[0][1]), "", tuple(
        (t, math.log(p), f"t{t}") for t, p in probs
    ))  # fmt: skip


# -- the allocation ------------------------------------------------------------------------


def test_each_likely_token_gets_its_floor_share_and_the_rest_the_remainder() -> None:
    design = allocate(top((1, 0.6), (2, 0.2), (3, 0.1), (4, 0.05)), 8, frozenset())
    assert design is not None
    assert [(s.token, n) for s, n in zip(design.strata, design.counts, strict=True)] == [
        (1, 4),
        (2, 1),
    ]
    assert design.rest is not None and design.rest.banned == {1, 2}
    assert design.rest_count == 3 and math.exp(design.rest.logprob) == pytest.approx(0.2)
    labels = [s.index for s in design.draws()]
    w = weights(design, labels)
    assert math.fsum(w) == pytest.approx(1.0)
    assert w[0] == pytest.approx(0.15) and w[4] == pytest.approx(0.2)
    assert w[-1] == pytest.approx(0.2 / 3)


def test_a_distribution_without_rest_hands_the_leftover_to_the_largest_remainders() -> None:
    design = allocate(top((5, 0.6), (6, 0.25), (7, 0.15)), 8, frozenset({7}))
    assert design is not None and design.rest is None and design.rest_count == 0
    assert design.counts == (5, 2, 1)
    assert design.strata[2].text == ""  # an end-of-turn token has no text


def test_no_design_when_no_token_earns_a_rollout() -> None:
    assert allocate(top((1, 0.3), (2, 0.3), (3, 0.4)), 2, frozenset()) is None
    assert weights(None, [REST, REST, REST, REST]) == [0.25] * 4


def test_a_free_draw_joins_the_stratum_of_its_first_token() -> None:
    design = allocate(top((1, 0.6), (2, 0.2), (3, 0.1)), 8, frozenset())
    assert design is not None
    assert design.stratum_of(1) == 0 and design.stratum_of(2) == 1
    assert design.stratum_of(3) == REST and design.stratum_of(None) == REST


@pytest.mark.parametrize(
    ("change", "ok"),
    [({}, True), ({"top_p": 0.9}, False), ({"top_k": 5}, False), ({"temperature": 0.0}, False)],
)
def test_stratified_only_where_a_ban_samples_the_rest_exactly(
    change: dict[str, float], ok: bool
) -> None:
    assert can_stratify(Sampling(**change)) is ok  # type: ignore[arg-type]


# -- the weighted plan on the chain -------------------------------------------------------

Key = str | None


async def estimates(
    engine: MarkovEngine,
    prompt: Sequence[int],
    sampling: Literal["plain", "stratified"],
    run: int,
    main_tokens: int,
    policy: Literal["fixed", "adaptive"] = "fixed",
) -> list[tuple[list[int], dict[Key, float], str]]:
    """Per snapshot: (main tokens before it, weighted share of each sentence ending, how its
    fresh rollouts were drawn)."""
    cfg = PlanConfig(
        horizons=("sentence",),
        rollouts=8,
        refresh="token" if main_tokens > 1 else "sentence",
        max_lookahead_tokens=8,
        clustering="text",
        include_rollouts=True,
        sampling=sampling,
        refresh_policy=policy,
        id=f"{sampling}-{run}",
    )
    out, tokens = [], []
    gen = generate(engine, prompt, Sampling(max_tokens=main_tokens, seed=run), cfg, TextClusterer())
    async for event in gen.events():
        if isinstance(event, TextDelta):
            tokens += event.delta.token_ids
        elif isinstance(event, SnapshotReady):
            s = event.snapshot
            assert s.rollouts is not None
            share: dict[Key, float] = defaultdict(float)
            for r in s.rollouts:
                share[r.endings["sentence"]] += r.weight
            out.append((s.position, dict(share), s.sampling))
    return [(tokens[:pos], share, how) for pos, share, how in out]


def exact_endings(engine: MarkovEngine, prefix: Sequence[int]) -> dict[Key, float]:
    tok = engine.tokenizer
    out: dict[Key, float] = defaultdict(float)
    for k, p in engine.ending_distribution(list(prefix), "sentence", 8).items():
        out[tok.decode(k) if k is not None else None] += p
    return dict(out)


def unbiased_failures(
    pairs: list[tuple[dict[Key, float], dict[Key, float]]], p_min: float
) -> list[str]:
    """Outcomes whose mean error (estimate - exact) is not 0 at level ``p_min`` (z-test).

    Outcomes expected fewer than 20 times over all rollouts share one bin, so that each
    tested mean is close to normal.
    """
    n = len(pairs)
    mean_exact: dict[Key, float] = defaultdict(float)
    for _, exact in pairs:
        for k, p in exact.items():
            mean_exact[k] += p / n
    tested = {k for k, p in mean_exact.items() if p * n * 8 >= 20}
    z_max = norm.isf(p_min / (2 * (len(tested) + 1)))
    errors: dict[Key | tuple[()], list[float]] = defaultdict(list)
    for share, exact in pairs:
        rare = 0.0
        for k in {*share, *exact}:
            e = share.get(k, 0.0) - exact.get(k, 0.0)
            if k in tested:
                errors[k].append(e)
            else:
                rare += e
        errors[()].append(rare)
    failures = []
    for k, values in errors.items():
        x = np.array(values + [0.0] * (n - len(values)))
        se = x.std(ddof=1) / math.sqrt(n)
        if abs(x.mean()) > z_max * se + 1e-12:
            failures.append(f"{k!r}: mean error {x.mean():.4f} ± {se:.4f}")
    return failures


def errors_of(
    engine: MarkovEngine,
    prompt: Sequence[int],
    runs: list[list[tuple[list[int], dict[Key, float], str]]],
) -> list[tuple[dict[Key, float], dict[Key, float]]]:
    """(estimate, exact) per snapshot inside a sentence or after a paragraph break.

    Right after "." or "!" a rollout may open with "\\n\\n", which the chain counts as a
    sentence of its own but the text's segmentation joins to the next one: the exact
    distribution would be of other endings than the plan's.
    """
    return [
        (share, exact_endings(engine, [*prompt, *before]))
        for snapshots in runs
        for before, share, _ in snapshots
        if [*prompt, *before][-1] not in (ID["."], ID["!"])
    ]


def mse(pairs: list[tuple[dict[Key, float], dict[Key, float]]]) -> float:
    return float(
        np.mean([sum((s.get(k, 0.0) - e.get(k, 0.0)) ** 2 for k in {*s, *e}) for s, e in pairs])
    )


@pytest.mark.parametrize("where", ["reply start", "new paragraph"])
async def test_the_weighted_plan_is_unbiased_and_varies_less_than_plain(where: str) -> None:
    """At a refresh, each sentence ending's weighted share has mean equal to its exact
    probability (z-test over 400 plans); its mean squared error is lower than plain's.

    "new paragraph" has a rest stratum (the end of the reply, at 0.1 too unlikely for a
    rollout of its own, drawn with the likely tokens banned); "reply start" has none.
    """
    engine = MarkovEngine()
    prompt = chat_prompt(engine) + (
        [ID[" The"], ID[" cat"], ID["."], ID["\n\n"]] if where != "reply start" else []
    )
    n = 400
    error = {}
    for how in ("stratified", "plain"):
        runs = [await estimates(engine, prompt, how, i, 1) for i in range(n)]
        assert all(s == how for run in runs for _, _, s in run)
        errors = errors_of(engine, prompt, runs)
        if how == "stratified":
            assert not unbiased_failures(errors, P_MIN)
        error[how] = mse(errors)
    assert error["stratified"] < error["plain"], error  # reply start 0.104 vs 0.118


@pytest.mark.parametrize("policy", ["fixed", "adaptive"])
async def test_carried_rollouts_keep_the_weighted_plan_unbiased(
    policy: Literal["fixed", "adaptive"],
) -> None:
    """Refreshing at every token of a sampled text, carried rollouts (free draws, joining the
    stratum of their token) and designed fresh ones together estimate the exact endings;
    also where the adaptive policy gathers K/2 or 2K from the next-token distribution."""
    engine = MarkovEngine()
    prompt = chat_prompt(engine)
    runs = [await estimates(engine, prompt, "stratified", i, 4, policy) for i in range(250)]
    assert any(how == "stratified" for run in runs for _, _, how in run[1:])
    assert not unbiased_failures(errors_of(engine, prompt, runs), P_MIN)
