"""What every finished plan in a response carries, whichever engine made it."""

from __future__ import annotations

import math
from typing import Any


def plan_of(choice: Any) -> dict[str, Any]:
    extra = choice.model_extra or {}
    assert "plan" in extra, "choice carries no plan"
    return dict(extra["plan"])


def check_plan_shape(plan: dict[str, Any], horizons: list[str]) -> None:
    assert plan["id"] and plan["object"] == "plan"
    assert plan["stored"] is True and plan["finished"] is True
    assert plan["snapshots"], "no snapshot"
    every = plan["config"]["refresh_every"]
    assert set(plan["snapshots"][0]["horizons"]) == set(horizons)  # the first plans them all
    positions = [s["position"] for s in plan["snapshots"]]
    assert positions == sorted(positions)  # the final plan lists them sorted
    for snapshot in plan["snapshots"]:
        # refresh_every thins long horizons; those due at every point are always there
        assert {h for h in horizons if every.get(h, 1) == 1} <= set(snapshot["horizons"])
        assert set(snapshot["horizons"]) <= set(horizons)
        assert snapshot["position"] >= 0 and snapshot["text_offset"] >= 0
        for h in snapshot["horizons"].values():
            total = sum(c["probability"] for c in h["candidates"])
            assert math.isclose(total + h["novel"], 1.0)
            assert h["fresh_rollouts"] + h["carried_rollouts"] == plan["config"]["rollouts"]
            assert h["reached"] + h["not_reached"] == plan["config"]["rollouts"]
            assert h["entropy"] >= 0
            assert set(h["tokens_to_end"]) == {"mean", "p10", "p50", "p90"}
    for h in horizons:
        assert set(plan["comparison"][h]) >= {"n", "log_score", "top1_accuracy", "brier"}
        assert "tokens_to_end_mae" in plan["comparison"][h]
    stats = plan["stats"]
    assert stats["rollout_tokens"] > 0 and stats["wall_seconds"] > 0
    assert "carried_rollout_tokens" in stats
    assert "implicit" in plan and "forks" in plan and "realised" in plan
