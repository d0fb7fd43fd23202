"""``report.json`` from the rows: per horizon, the plan's scores pooled over every
conversation (``planner.comparison``), skill against the ceiling, ``novel`` predicted vs
realised, and the curves of ``bench.eval.curves``. Pure: no engine, no model."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from bench.eval import curves
from planner import HORIZON_ORDER, Plan, Score
from planner.calibration import bootstrap, skill
from planner.comparison import compare
from planner.config import Horizon

NOVEL_BINS = 5


def _skill(pairs: Sequence[tuple[float, float]]) -> float | None:
    return skill([a for a, _ in pairs], [b for _, b in pairs])


def _with_interval(pairs: list[tuple[float, float]]) -> dict[str, Any]:
    return {"n": len(pairs), "skill": _skill(pairs), "interval": bootstrap(pairs, _skill)}


def novel_check(scores: Sequence[Score]) -> dict[str, Any]:
    """The plan's ``novel`` against how often the ending really was none of its candidates,
    overall and in equal-width bins of ``novel``."""
    pairs = [(s.novel, float(not s.in_candidates)) for s in scores if s.novel is not None]
    bins = []
    for b in range(NOVEL_BINS):
        lo, hi = b / NOVEL_BINS, (b + 1) / NOVEL_BINS
        inside = [(p, y) for p, y in pairs if lo <= p < hi or (b == NOVEL_BINS - 1 and p == 1)]
        if inside:
            bins.append(
                {
                    "lower": lo,
                    "upper": hi,
                    "n": len(inside),
                    "predicted": sum(p for p, _ in inside) / len(inside),
                    "realised": sum(y for _, y in inside) / len(inside),
                }
            )
    n = len(pairs)
    return {
        "n": n,
        "predicted": sum(p for p, _ in pairs) / n if n else None,
        "realised": sum(y for _, y in pairs) / n if n else None,
        "bins": bins,
    }


def skills(rows: Sequence[dict[str, Any]], horizon: Horizon) -> dict[str, Any]:
    """Energy-score skill of the plan against climatology, persistence and the ceiling (the
    second set of K rollouts), and of the ceiling against climatology (how much skill K
    rollouts can show at all), over the predictions that measure foresight
    (``curves.foresight_scores``)."""
    pairs: dict[str, list[tuple[float, float]]] = {
        "climatology": [],
        "persistence": [],
        "plan_vs_ceiling": [],
        "ceiling_vs_climatology": [],
    }
    for row in rows:
        second = {(c["position"], c["horizon"]): c["energy"] for c in row.get("ceiling", [])}
        for s in curves.foresight_scores(_scores(row, horizon), horizon):
            if s.energy is None:
                continue
            e = second.get((s.position, horizon))
            if s.energy_climatology is not None:
                pairs["climatology"].append((s.energy, s.energy_climatology))
            if s.energy_persistence is not None:
                pairs["persistence"].append((s.energy, s.energy_persistence))
            if e is not None:
                pairs["plan_vs_ceiling"].append((s.energy, e))
                if s.energy_climatology is not None:
                    pairs["ceiling_vs_climatology"].append((e, s.energy_climatology))
    return {key: _with_interval(p) for key, p in pairs.items()}


def _plan(row: dict[str, Any]) -> Plan:
    if "_plan" not in row:
        row["_plan"] = Plan.model_validate(row["plan"])
    plan: Plan = row["_plan"]
    return plan


def _scores(row: dict[str, Any], horizon: Horizon) -> list[Score]:
    return [s for s in _plan(row).scores if s.horizon == horizon]


def horizon_report(rows: Sequence[dict[str, Any]], horizon: Horizon) -> dict[str, Any]:
    """Everything the report says about one horizon."""
    scores = [s for row in rows for s in _scores(row, horizon)]
    plans = [_plan(row) for row in rows if horizon in _plan(row).config.horizons]
    main = curves.foresight_scores(scores, horizon)
    return {
        "conversations": len(plans),
        "scored": len(scores),
        "unscored_beyond_lookahead": sum(p.unscored.get(horizon, 0) for p in plans),
        # The planner's own aggregate (calibration over every forecast, ends of reply too).
        "comparison": compare(horizon, scores).model_dump(mode="json"),
        "skill": skills(rows, horizon),
        "novel": novel_check(main),
        "visibility": curves.visibility(scores, horizon),
        "commitment": curves.commitment(plans, horizon),
    }


def build_report(
    rows: Sequence[dict[str, Any]], settings: dict[str, Any], meta: dict[str, Any]
) -> dict[str, Any]:
    """The report of a run: its configuration, per-horizon results and the curves."""
    ok = [r for r in rows if "plan" in r]
    planned = {h for r in ok for h in _plan(r).config.horizons}
    horizons = [h for h in HORIZON_ORDER if h in planned]
    plans = [_plan(r) for r in ok]
    report = {
        "version": 1,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "config": {**settings, **meta},
        "conversations": {
            "planned": len(ok),
            "failed": [{"id": r["id"], "error": r["error"]} for r in rows if "error" in r],
            "by_kind": _count(r["kind"] for r in ok),
            "seconds": sum(r["seconds"] for r in ok),
            "completion_tokens": sum(p.completion_tokens for p in plans),
            "rollout_tokens": sum(p.stats.rollout_tokens for p in plans),
        },
        "horizons": {h: horizon_report(ok, h) for h in horizons},
        "forks": curves.fork_entropy(plans),
        "implicit": curves.implicit(plans, [s for p in plans for s in p.scores]),
    }
    for r in ok:
        r.pop("_plan", None)
    return report


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out
