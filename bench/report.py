"""One JSON entry per measured configuration, its ratios, and the targets it is held to.

Pure functions of measured numbers: ``suite`` feeds them real timings, tests synthetic ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from bench.stats import (
    SweepPoint,
    Timing,
    expected_carried_fraction,
    latency_summary,
    limit_seconds,
    ratio,
    summary,
)
from planner.config import PlanConfig
from planner.plan import Plan

# Every entry of ``runs`` has at least these keys (values may be None where not measured).
REQUIRED_KEYS = (
    "rollouts",
    "horizons",
    "refresh",
    "wall_seconds",
    "ttft_seconds",
    "itl_seconds",
    "rollout_tokens",
    "carried_fraction",
    "expected_carried_fraction",
    "snapshot_latency_seconds",
    "itl_ratio",
    "completion_ratio",
    "speedup",
    "limit_ratio",
    "limit_seconds",
    "limit_batch",
    "plain",
    "naive",
)
RATIOS = ("itl_ratio", "completion_ratio", "speedup", "limit_ratio")

# (horizons, refresh) -> [(metric, op, bound)] for K = 8 on the default model (the issue's).
TARGETS: dict[tuple[tuple[str, ...], str], list[tuple[str, str, float]]] = {
    (("sentence",), "sentence"): [("completion_ratio", "<=", 2.0), ("itl_ratio", "<=", 1.6)],
    (("sentence", "paragraph", "turn"), "sentence"): [
        ("limit_ratio", "<=", 1.3),
        ("speedup", ">=", 3.0),
        ("itl_ratio", "<=", 1.6),
    ],
    # carried_fraction >= 0.9 x expected_carried_fraction, checked as their ratio
    (("sentence",), "token"): [("carried_vs_expected", ">=", 0.9)],
}
TARGET_ROLLOUTS = 8


def _mean_itl(timings: Sequence[Timing]) -> float | None:
    return latency_summary(timings)["itl_seconds"]["mean"]


def build_run(
    config: PlanConfig,
    plain: Sequence[Timing],
    planned: Sequence[tuple[Timing, Plan]],
    collisions: Sequence[float],
    sweep: Sequence[SweepPoint],
    naive: Sequence[tuple[float, list[float], int]] | None,
    identical: int | None = None,
) -> dict[str, Any]:
    """The entry of one configuration, from its plain and planned runs (one each per prompt).

    ``naive`` holds, per prompt, (plain main seconds, refresh seconds, rollout tokens).
    """
    timings = [t for t, _ in planned]
    plans = [p for _, p in planned]
    stats = [p.stats for p in plans]
    needed = sum(s.needed_rollout_tokens for s in stats)
    carried = sum(s.carried_rollout_tokens for s in stats)
    rollout_tokens = sum(s.rollout_tokens for s in stats)
    # One refresh's worth: the main sequence and K rollouts decoding together. (A plan keeps
    # fewer beside the text, `rollouts_in_flight`, and more after it: the bound stays K.)
    batch = 1 + config.rollouts
    limit = math.fsum(
        limit_seconds(sweep, t.tokens, t.tokens + p.stats.rollout_tokens, batch) for t, p in planned
    )
    wall = math.fsum(t.completion_seconds for t in timings)
    plain_wall = math.fsum(t.completion_seconds for t in plain)
    latencies = [s.latency_seconds for p in plans for s in p.snapshots]
    naive_entry: dict[str, Any] | None = None
    if naive is not None:
        refreshes = [s for _, secs, _ in naive for s in secs]
        naive_entry = {
            "wall_seconds": math.fsum(m + math.fsum(secs) for m, secs, _ in naive),
            "main_seconds": math.fsum(m for m, _, _ in naive),
            "refreshes": len(refreshes),
            "refresh_seconds": summary(refreshes),
            "rollout_tokens": sum(n for _, _, n in naive),
        }
    expected = expected_carried_fraction(collisions)
    carried_fraction = carried / needed if needed else None
    mine, theirs = latency_summary(timings), latency_summary(plain)
    return {
        "rollouts": config.rollouts,
        "horizons": list(config.horizons),
        "refresh": config.refresh,
        "max_lookahead_tokens": config.max_lookahead_tokens,
        "rollouts_in_flight": config.in_flight,
        "refresh_every": config.refresh_every,
        # snapshots that planned each horizon (refresh_every thins long ones; naive plans
        # every horizon at every refresh point)
        "horizon_plans": {
            h: sum(h in s.horizons for p in plans for s in p.snapshots) for h in config.horizons
        },
        "prompts": len(planned),
        "main_tokens": sum(t.tokens for t in timings),
        "wall_seconds": wall,
        "text_seconds": math.fsum(t.text_seconds for t in timings),
        # how long the plan kept working after the text was done
        "plan_tail_seconds": math.fsum(t.completion_seconds - t.text_seconds for t in timings),
        **mine,
        "rollout_tokens": rollout_tokens,
        "needed_rollout_tokens": needed,
        "carried_rollout_tokens": carried,
        "carried_fraction": carried_fraction,
        # share of the rollouts' prompt tokens the engine's prefix cache served
        "rollout_prompt_cached_fraction": ratio(
            sum(s.rollout_cached_prompt_tokens for s in stats),
            sum(s.rollout_prompt_tokens for s in stats),
        ),
        "expected_carried_fraction": expected,
        "carried_vs_expected": ratio(carried_fraction, expected),
        "snapshots": len(latencies),
        "snapshot_latency_seconds": summary(latencies),
        "identical_texts": identical,
        "plain": {
            "wall_seconds": plain_wall,
            "main_tokens": sum(t.tokens for t in plain),
            **theirs,
        },
        "naive": naive_entry,
        "itl_ratio": ratio(_mean_itl(timings), _mean_itl(plain)),
        "itl_p50_ratio": ratio(mine["itl_seconds"]["p50"], theirs["itl_seconds"]["p50"]),
        "itl_p90_ratio": ratio(mine["itl_seconds"]["p90"], theirs["itl_seconds"]["p90"]),
        "completion_ratio": ratio(wall, plain_wall),
        "speedup": ratio(naive_entry["wall_seconds"], wall) if naive_entry else None,
        "limit_ratio": ratio(wall, limit),
        "limit_seconds": limit,
        "limit_batch": batch,
    }


def check_targets(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target whose configuration was measured, with its value and whether it is met."""
    out = []
    for run in runs:
        key = (tuple(run["horizons"]), str(run["refresh"]))
        if run["rollouts"] != TARGET_ROLLOUTS or key not in TARGETS:
            continue
        for metric, op, bound in TARGETS[key]:
            value = run.get(metric)
            met = None
            if value is not None:
                met = value <= bound if op == "<=" else value >= bound
            out.append(
                {
                    "horizons": list(key[0]),
                    "refresh": key[1],
                    "rollouts_in_flight": run.get("rollouts_in_flight"),
                    "refresh_every": run.get("refresh_every"),
                    "metric": metric,
                    "op": op,
                    "bound": bound,
                    "value": value,
                    "met": met,
                }
            )
    return out


def missing_keys(report: dict[str, Any]) -> list[str]:
    """Required keys absent from the report's runs (empty when the schema holds)."""
    missing = [] if isinstance(report.get("runs"), list) else ["runs"]
    for i, run in enumerate(report.get("runs") or []):
        missing += [f"runs[{i}].{k}" for k in REQUIRED_KEYS if k not in run]
    return missing
