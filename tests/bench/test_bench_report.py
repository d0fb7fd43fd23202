"""Run entries, ratios, targets and the report's schema, from synthetic measurements."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from bench.options import (
    configs,
    load_prompts,
    parse_counts,
    parse_refresh,
    parse_refresh_every,
    sweep_batches,
)
from bench.report import REQUIRED_KEYS, build_run, check_targets, missing_keys
from bench.stats import SweepPoint, Timing
from bench.table import render, write_json
from planner.config import PlanConfig
from planner.plan import Plan, Snapshot, Stats

CONFIG = PlanConfig(horizons=("sentence", "paragraph", "turn"), rollouts=8)
SWEEP = [SweepPoint(1, 0.02), SweepPoint(8, 0.03), SweepPoint(16, 0.05)]


def _timing(start: float, gap: float, tokens: int, tail: float = 0.0) -> Timing:
    arrivals = [(start + gap * (i + 1), 1) for i in range(tokens)]
    done = arrivals[-1][0]
    return Timing(start, arrivals, done, done + tail)


def _plan(latencies: list[float], rollout: int, needed: int, carried: int) -> Plan:
    snaps = [
        Snapshot(
            position=i,
            text_offset=i,
            trigger="sentence",
            preceding_token=None,
            horizons={},
            latency_seconds=lat,
        )
        for i, lat in enumerate(latencies)
    ]
    stats = Stats(
        rollout_tokens=rollout,
        needed_rollout_tokens=needed,
        carried_rollout_tokens=carried,
        rollout_prompt_tokens=10 * rollout,
        rollout_cached_prompt_tokens=8 * rollout,
    )
    return Plan(id="p", config=CONFIG, prompt_tokens=10, snapshots=snaps, stats=stats)


def _run() -> dict:
    plain = [_timing(0.0, 0.02, 10), _timing(10.0, 0.02, 10)]
    planned = [
        (_timing(1.0, 0.03, 10, tail=0.1), _plan([0.5, 0.7], 300, 400, 100)),
        (_timing(20.0, 0.03, 10, tail=0.1), _plan([0.6], 100, 100, 0)),
    ]
    naive = [(0.2, [0.5, 0.5], 200), (0.2, [0.4], 100)]
    return build_run(CONFIG, plain, planned, [0.2, 0.4], SWEEP, naive, identical=1)


def test_ratios_follow_their_definitions() -> None:
    run = _run()
    assert run["itl_ratio"] == pytest.approx(1.5)  # 30 ms over 20 ms per token
    assert run["wall_seconds"] == pytest.approx(2 * 0.4)  # 10 x 30 ms + 0.1 s of plan tail
    assert run["plain"]["wall_seconds"] == pytest.approx(2 * 0.2)
    assert run["completion_ratio"] == pytest.approx(2.0)
    assert run["naive"]["wall_seconds"] == pytest.approx(0.2 + 1.0 + 0.2 + 0.4)
    assert run["speedup"] == pytest.approx(1.8 / 0.8)
    assert run["carried_fraction"] == pytest.approx(100 / 500)
    assert run["expected_carried_fraction"] == pytest.approx(0.3)
    assert run["carried_vs_expected"] == pytest.approx(0.2 / 0.3)
    assert run["limit_batch"] == 9
    step9 = 0.03 + 0.02 / 8
    limit = max(10 * step9, 310 * step9 / 9) + max(10 * step9, 110 * step9 / 9)
    assert run["limit_seconds"] == pytest.approx(limit)
    assert run["limit_ratio"] == pytest.approx(0.8 / limit)
    assert run["snapshots"] == 3
    assert run["snapshot_latency_seconds"]["p50"] == pytest.approx(0.6)
    assert run["rollout_tokens"] == 400 and run["main_tokens"] == 20
    assert run["rollout_prompt_cached_fraction"] == pytest.approx(0.8)
    # the plan's defaults are recorded as used: long horizons thinned, K/2 beside the text
    assert run["refresh_every"] == {"paragraph": 2, "turn": 4}
    assert run["rollouts_in_flight"] == 4
    assert run["horizon_plans"] == {"sentence": 0, "paragraph": 0, "turn": 0}  # no horizons


def test_every_run_has_the_required_keys_and_the_report_is_json() -> None:
    run = _run()
    assert set(REQUIRED_KEYS) <= set(run)
    report = {"runs": [run], "limit": {"sweep": []}}
    assert missing_keys(report) == []
    assert missing_keys({"runs": [{"rollouts": 8}]})  # incomplete entries are reported
    assert missing_keys({}) == ["runs"]
    json.dumps(report, allow_nan=False)


def test_without_naive_speedup_is_none() -> None:
    planned = [(_timing(0, 0.03, 5), _plan([], 0, 0, 0))]
    run = build_run(CONFIG, [_timing(0.0, 0.02, 5)], planned, [], SWEEP, None)
    assert run["naive"] is None and run["speedup"] is None
    assert run["carried_fraction"] is None and run["expected_carried_fraction"] is None


def test_targets_apply_to_their_configurations_only() -> None:
    run = _run()
    targets = check_targets([run])
    assert {t["metric"] for t in targets} == {"limit_ratio", "speedup", "itl_ratio"}
    itl = next(t for t in targets if t["metric"] == "itl_ratio")
    assert itl["met"] is True and itl["bound"] == 1.6
    assert check_targets([{**run, "rollouts": 4}]) == []
    token = {**run, "horizons": ["sentence"], "refresh": "token"}
    (carry,) = check_targets([token])
    assert carry["metric"] == "carried_vs_expected" and carry["met"] is False


def test_table_renders_and_json_is_written_atomically(tmp_path: Path) -> None:
    run = _run()
    report = {
        "runs": [run],
        "limit": {"sweep": [{"batch": 1, "step_seconds": 0.02, "tokens_per_second": 50.0}]},
        "targets": check_targets([run]),
        "machine": {"load_average": [3.0, 2.0, 1.0], "cpus": 2},
    }
    out = io.StringIO()
    render(report, Console(file=out, width=100))
    assert "limit_ratio" in out.getvalue() and "speedup" in out.getvalue()
    path = tmp_path / "bench.json"
    write_json(report, path)
    assert json.loads(path.read_text())["runs"][0]["limit_batch"] == 9
    assert not list(tmp_path.glob("*.tmp"))


def test_configurations_from_the_command_line(tmp_path: Path) -> None:
    three = configs(None, None, rollouts=8, max_lookahead_tokens=64, clustering="text")
    assert [(c.horizons, c.refresh) for c in three] == [
        (("sentence",), "sentence"),
        (("sentence", "paragraph", "turn"), "sentence"),
        (("sentence",), "token"),
    ]
    assert [c.refresh_every for c in three] == [{}, {"paragraph": 2, "turn": 4}, {}]
    (one,) = configs("turn,sentence", "12", rollouts=4, in_flight=[2])
    assert one.horizons == ("sentence", "turn") and one.refresh == 12 and one.rollouts == 4
    assert one.in_flight == 2
    # each --refresh-every applies to the horizons a configuration plans; variants multiply,
    # and a variant that changes nothing for a configuration is measured once
    every = parse_refresh_every("turn=2, paragraph=3")
    assert every == {"turn": 2, "paragraph": 3}
    thinned = configs(None, None, every=[every, parse_refresh_every("every")], in_flight=[4, 8])
    assert [(c.horizons, c.refresh_every, c.in_flight) for c in thinned] == [
        (("sentence",), {}, 4),
        (("sentence",), {}, 8),
        (("sentence", "paragraph", "turn"), {"paragraph": 3, "turn": 2}, 4),
        (("sentence", "paragraph", "turn"), {"paragraph": 3, "turn": 2}, 8),
        (("sentence", "paragraph", "turn"), {}, 4),
        (("sentence", "paragraph", "turn"), {}, 8),
        (("sentence",), {}, 4),
        (("sentence",), {}, 8),
    ]
    for bad in ("turn", "turn=x", "turn=2,"):
        with pytest.raises(ValueError, match="horizon=N"):
            parse_refresh_every(bad)
    assert parse_counts("4, 8") == [4, 8]
    for bad in ("0", ""):
        with pytest.raises(ValueError):
            parse_counts(bad)
    assert parse_refresh("token") == "token"
    with pytest.raises(ValueError):
        parse_refresh("paragraph")
    assert list(sweep_batches("1, 2,4")) == [1, 2, 4]
    prompts = tmp_path / "p.txt"
    prompts.write_text("# comment\n\nfirst prompt\n  second  \n")
    assert load_prompts(str(prompts)) == ["first prompt", "second"]
    assert len(load_prompts(None)) >= 2
