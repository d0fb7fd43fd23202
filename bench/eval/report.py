"""``report.json`` from the rows: per horizon, the plan's scores pooled over every
conversation (``planner.comparison``), skill against the baselines, ``novel`` predicted vs
realised, and the curves of ``bench.eval.curves``. No engine; the clusterer's encoder only,
for the leave-one-out climatology (``bench.eval.climatology``).

Every interval is a 95% cluster bootstrap over conversations: the predictions of one
conversation move together, so resampling them one by one would make intervals too narrow.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from bench.eval import curves
from bench.eval.climatology import leave_one_out
from planner import HORIZON_ORDER, Plan, Score
from planner.calibration import Forecast, bootstrap, calibration_error, skill
from planner.clustering import Clusterer
from planner.comparison import compare
from planner.config import Horizon

NOVEL_BINS = 5
INTERVALS = "95% percentile bootstrap over conversations (all predictions of a drawn one)"

Tagged = tuple[str, Score]  # a score and the id of its conversation
Paired = list[tuple[str, tuple[float, float]]]  # (conversation, (score, baseline score))


def _skill(pairs: Sequence[tuple[float, float]]) -> float | None:
    return skill([a for a, _ in pairs], [b for _, b in pairs])


def _with_interval(paired: Paired) -> dict[str, Any]:
    pairs = [p for _, p in paired]
    groups = [g for g, _ in paired]
    return {
        "n": len(pairs),
        "conversations": len(set(groups)),
        "skill": _skill(pairs),
        "interval": bootstrap(pairs, _skill, groups=groups),
    }


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


def skills(
    tagged: Sequence[Tagged],
    runtime: dict[tuple[str, int], float],
    ceiling: dict[tuple[str, int], float],
) -> dict[str, Any]:
    """Energy-score skill of the plan against climatology (leave-one-conversation-out),
    persistence and the ceiling (the second set of K rollouts), and of the ceiling against
    climatology (how much skill K rollouts can show at all), over the predictions of one
    horizon that measure foresight; and against the climatology the planner scored at run
    time (``climatology_runtime``: earlier conversations only, where a row stores it).

    ``runtime`` and ``ceiling`` map (conversation, position) to that energy score."""
    pairs: dict[str, Paired] = {
        "climatology": [],
        "persistence": [],
        "plan_vs_ceiling": [],
        "ceiling_vs_climatology": [],
        "climatology_runtime": [],
    }
    for g, s in tagged:
        if s.energy is None:
            continue
        e = ceiling.get((g, s.position))
        r = runtime.get((g, s.position))
        if s.energy_climatology is not None:
            pairs["climatology"].append((g, (s.energy, s.energy_climatology)))
        if s.energy_persistence is not None:
            pairs["persistence"].append((g, (s.energy, s.energy_persistence)))
        if r is not None:
            pairs["climatology_runtime"].append((g, (s.energy, r)))
        if e is not None:
            pairs["plan_vs_ceiling"].append((g, (s.energy, e)))
            if s.energy_climatology is not None:
                pairs["ceiling_vs_climatology"].append((g, (e, s.energy_climatology)))
    return {key: _with_interval(p) for key, p in pairs.items()}


def comparison(tagged: Sequence[Tagged], horizon: Horizon) -> dict[str, Any]:
    """The planner's own aggregate of one horizon (calibration over every forecast, ends of
    reply too), its intervals drawn again by conversation: ``planner.comparison`` resamples
    predictions one by one, as a server comparing its own requests does."""
    scores = [s for _, s in tagged]
    out = compare(horizon, scores).model_dump(mode="json")
    for key, attr in (
        ("energy_skill_climatology_interval", "energy_climatology"),
        ("energy_skill_persistence_interval", "energy_persistence"),
    ):
        paired = [
            (g, (s.energy, getattr(s, attr)))
            for g, s in tagged
            if s.energy is not None and getattr(s, attr) is not None
        ]
        out[key] = bootstrap([p for _, p in paired], _skill, groups=[g for g, _ in paired])
    forecasts = [
        (g, Forecast(s.probabilities, s.outcome)) for g, s in tagged if s.outcome is not None
    ]
    out["calibration_interval"] = bootstrap(
        [f for _, f in forecasts], calibration_error, groups=[g for g, _ in forecasts]
    )
    return out


def horizon_report(
    rows: Sequence[dict[str, Any]], horizon: Horizon, scored: dict[str, list[Score]]
) -> dict[str, Any]:
    """Everything the report says about one horizon; ``scored`` holds each conversation's
    scores with the leave-one-out climatology."""
    tagged = [(r["id"], s) for r in rows for s in scored[r["id"]] if s.horizon == horizon]
    scores = [s for _, s in tagged]
    plans = [_plan(row) for row in rows if horizon in _plan(row).config.horizons]
    runtime = {
        (r["id"], s.position): s.energy_climatology
        for r in rows
        for s in _plan(r).scores
        if s.horizon == horizon and s.energy_climatology is not None
    }
    ceiling = {
        (r["id"], c["position"]): c["energy"]
        for r in rows
        for c in r.get("ceiling", [])
        if c["horizon"] == horizon and c["energy"] is not None
    }
    main = [(g, s) for g, s in tagged if curves.is_foresight(s, horizon)]
    return {
        "conversations": len(plans),
        "scored": len(scores),
        "unscored_beyond_lookahead": sum(p.unscored.get(horizon, 0) for p in plans),
        "comparison": comparison(tagged, horizon),
        "skill": skills(main, runtime, ceiling),
        "novel": novel_check([s for _, s in main]),
        "visibility": curves.visibility(scores, horizon, [g for g, _ in tagged]),
        "commitment": curves.commitment(plans, horizon),
    }


def _plan(row: dict[str, Any]) -> Plan:
    if "_plan" not in row:
        row["_plan"] = Plan.model_validate(row["plan"])
    plan: Plan = row["_plan"]
    return plan


def build_report(
    rows: Sequence[dict[str, Any]],
    settings: dict[str, Any],
    meta: dict[str, Any],
    clusterer: Clusterer,
) -> dict[str, Any]:
    """The report of a run: its configuration, per-horizon results and the curves.
    ``clusterer`` is the run's (``settings["clustering"]``): its distance is the space the
    energy scores live in, and the leave-one-out climatology is scored in it too."""
    ok = [r for r in rows if "plan" in r]
    planned = {h for r in ok for h in _plan(r).config.horizons}
    horizons = [h for h in HORIZON_ORDER if h in planned]
    plans = [_plan(r) for r in ok]
    scored = leave_one_out({r["id"]: _plan(r) for r in ok}, clusterer)
    report = {
        "version": 2,
        "intervals": INTERVALS,
        "climatology": "leave-one-conversation-out: the realised endings of the same horizon "
        "from every other conversation of the run (a seeded sample of 64 if more)",
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
        "horizons": {h: horizon_report(ok, h, scored) for h in horizons},
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
