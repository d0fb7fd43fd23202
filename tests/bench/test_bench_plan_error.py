"""The plan-error measure's distance, and what --quick runs (no engine)."""

from __future__ import annotations

import math

import pytest

from bench.options import QUICK_TOKEN_REFRESH_TOKENS, configs, quick_settings
from bench.plan_error import energy_distance, settings
from bench.suite import BenchSettings
from planner.clustering import ORTHOGONAL, TextClusterer
from planner.config import PlanConfig

TEXT = TextClusterer()


def test_a_plan_equal_to_the_reference_has_no_error() -> None:
    plan = [("The cat sat.", 0.5), ("The dog ran.", 0.25), (None, 0.25)]
    assert energy_distance(plan, list(plan), TEXT) == pytest.approx(0.0, abs=1e-12)


def test_disjoint_point_masses_are_twice_their_distance_apart() -> None:
    # D = 2 d(x, y) - 0 - 0 for two certain, different endings
    d = energy_distance([("Yes.", 1.0)], [("No.", 1.0)], TEXT)
    assert d == pytest.approx(2 * ORTHOGONAL)
    assert energy_distance([(None, 1.0)], [("No.", 1.0)], TEXT) == pytest.approx(2 * ORTHOGONAL)


def test_the_distance_follows_the_weights_not_the_member_count() -> None:
    reference = [("a", 0.5), ("b", 0.5)]
    weighted = [("a", 0.5), ("b", 0.25), ("b", 0.25)]  # three members, same distribution
    assert energy_distance(weighted, reference, TEXT) == pytest.approx(0.0, abs=1e-12)
    skewed = energy_distance([("a", 0.9), ("b", 0.1)], reference, TEXT)
    # for the discrete metric, D = sqrt 2 * 2 * (sum of squared differences) / 2 ...: > 0
    assert skewed == pytest.approx(ORTHOGONAL * 2 * 0.4**2, rel=1e-9)


def test_settings_compare_plain_stratified_and_adaptive_from_one_k() -> None:
    out = settings(PlanConfig(rollouts=8))
    assert list(out) == ["default", "stratified", "adaptive"]
    assert [(c.sampling, c.refresh_policy, c.rollouts) for c in out.values()] == [
        ("plain", "fixed", 8),
        ("stratified", "fixed", 8),
        ("stratified", "adaptive", 8),
    ]
    assert all(c.include_rollouts for c in out.values())


def test_quick_measures_less_but_every_target_and_the_plan_error() -> None:
    plans = configs(None, None, rollouts=8)
    quick = quick_settings(BenchSettings(configs=plans), None, None)
    assert len(quick.configs) == 3 and len(quick.prompts) == 2
    assert list(quick.sweep_batches) == [1, 9]  # the limit reads b = 1 + K
    assert quick.token_refresh_tokens == QUICK_TOKEN_REFRESH_TOKENS
    assert quick.plan_error_prefixes >= 1 and quick.plan_error_repeats >= 2
    assert math.isclose(quick.reference_rollouts, 64)
    given = quick_settings(BenchSettings(configs=plans, sweep_batches=(1, 4)), 20, None)
    assert list(given.sweep_batches) == [1, 4] and given.token_refresh_tokens == 20


async def test_measure_on_the_chain_reports_every_setting() -> None:
    """The whole measure on the synthetic engine: prefixes, reference, plans, weights."""
    from markov_engine import MarkovEngine, chat_prompt

    from bench.plan_error import measure
    from planner.engine.protocol import Sampling

    engine = MarkovEngine()
    base = PlanConfig(rollouts=8, max_lookahead_tokens=8, clustering="text")
    out = await measure(
        engine,
        [chat_prompt(engine)],
        Sampling(max_tokens=12),
        settings(base),
        TEXT,
        per_prompt=2,
        repeats=3,
        reference_rollouts=32,
        say=lambda _: None,
    )
    assert out["prefixes"] == 2 and out["reference_rollout_tokens"] > 0
    rows = out["settings"]
    assert rows["default"]["stratified_plans"] == 0
    assert rows["stratified"]["stratified_plans"] == 6 == rows["adaptive"]["stratified_plans"]
    for row in rows.values():
        assert row["plans"] == 6 and 0 <= row["plan_error"] < 2 and row["rollout_tokens"] > 0
    assert rows["default"]["error_x_tokens_ratio"] == pytest.approx(1.0)


async def test_a_time_budget_keeps_the_first_configuration_and_the_plan_error() -> None:
    """run_bench on the synthetic engine: the plan-error stage comes right after the first
    configuration, and once the budget is spent the rest are skipped and named."""
    import time

    from markov_engine import MarkovEngine

    from bench.suite import run_bench

    engine = MarkovEngine()
    plans = configs(None, None, rollouts=4, max_lookahead_tokens=8, clustering="text")
    settings_ = BenchSettings(
        configs=plans,
        prompts=[" The cat"],
        max_tokens=8,
        sweep_batches=(1, 5),
        sweep_tokens=4,
        sweep_prompt=" The dog ran",
        plan_error_prefixes=1,
        plan_error_repeats=2,
        reference_rollouts=8,
        deadline=time.perf_counter() + 3600,
    )
    said: list[str] = []
    whole = await run_bench(engine, settings_, TEXT, said.append)
    assert len(whole["runs"]) == len(plans) == 3 and whole["skipped_stages"] == []
    stages = [s.split(":")[0] for s in said if "prompt 1/1" in s]
    assert stages[1] == "plan error"  # right after the first configuration

    settings_.deadline = time.perf_counter()  # spent: only the first stage runs
    said.clear()
    cut = await run_bench(engine, settings_, TEXT, said.append)
    assert [r["horizons"] for r in cut["runs"]] == [["sentence"]] and cut["plan_error"] is None
    assert cut["skipped_stages"] == [
        "plan error",
        "K=4 horizons=sentence,paragraph,turn refresh=sentence",
        "K=4 horizons=sentence refresh=token",
    ]
    assert sum("skipped" in s for s in said) == 3
