"""One short benchmark on the session's real engine: the report's shape, not its timings
(performance targets belong in `foresight bench`, not in tests)."""

from __future__ import annotations

import json
import math

from live_server import LiveServer

from bench.report import RATIOS, missing_keys
from bench.suite import BenchSettings, run_bench
from planner.clustering import TextClusterer
from planner.config import PlanConfig


def test_bench_on_the_real_engine(live: LiveServer) -> None:
    config = PlanConfig(
        horizons=("sentence",), rollouts=2, max_lookahead_tokens=16, clustering="text"
    )
    settings = BenchSettings(
        configs=[config],
        prompts=["Describe a walk through a forest in autumn."],
        max_tokens=16,
        sweep_batches=(1, 2),
        sweep_tokens=4,
        plan_error_prefixes=1,
        plan_error_repeats=2,
        reference_rollouts=6,
    )
    said: list[str] = []
    report = live.run(run_bench(live.engine, settings, TextClusterer(), said.append))

    assert missing_keys(report) == []
    json.dumps(report, allow_nan=False)
    assert [p["batch"] for p in report["limit"]["sweep"]] == [1, 2]
    assert all(p["step_seconds"] > 0 for p in report["limit"]["sweep"])
    (run,) = report["runs"]
    assert run["rollouts"] == 2 and run["horizons"] == ["sentence"]
    assert run["refresh"] == "sentence" and run["limit_batch"] == 3
    for key in RATIOS:
        assert isinstance(run[key], float) and math.isfinite(run[key]) and run[key] > 0, key
    # ignore_eos: plain and planned texts have the same length
    assert run["main_tokens"] == run["plain"]["main_tokens"] == 16
    assert run["snapshots"] >= 1 and run["rollout_tokens"] > 0
    assert run["naive"]["refreshes"] == run["snapshots"]
    assert 0 < run["expected_carried_fraction"] <= 1
    assert run["itl_seconds"]["p50"] > 0 and run["ttft_seconds"]["p90"] > 0
    assert report["targets"] == []  # K=2 is held to no target
    assert said  # progress was reported
    errors = report["plan_error"]
    assert errors["prefixes"] == 1 and errors["reference_rollout_tokens"] > 0
    default, stratified = errors["settings"]["default"], errors["settings"]["stratified"]
    for row in (default, stratified, errors["settings"]["adaptive"]):
        assert row["rollouts"] == 2 and row["plans"] == 2
        assert 0 <= row["plan_error"] < 2 and row["rollout_tokens"] > 0
    assert default["stratified_plans"] == 0
    # K = 2 stratifies wherever one token holds half the mass: the ban path ran on vLLM
    assert stratified["sampling"] == "stratified"
