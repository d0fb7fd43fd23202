"""A plan as a flat table (no pandas needed) and as JSON.

``plan_rows`` gives one row per snapshot and horizon, with the score that snapshot's
prediction got once the text reached the horizon's end. Rows are plain dicts with the
same keys in the same order, so ``csv.DictWriter(f, ROW_FIELDS)``, ``json.dumps(rows)``
and ``pandas.DataFrame(rows)`` all take them as they are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypedDict

from foresight_client._plan import Plan, Score, parse_plan


class PlanRow(TypedDict):
    """One snapshot's plan for one horizon (score fields None until it was scored)."""

    plan_id: str
    position: int
    text_offset: int
    trigger: str
    horizon: str
    top_candidate: str | None
    top_probability: float | None
    candidates: int
    entropy: float
    tokens_to_end_mean: float | None
    fresh: int
    carried: int
    reached: int
    not_reached: int
    realised: str | None
    log_score: float | None
    uniform_log_score: float | None
    top1: bool | None
    in_candidates: bool | None
    brier: float | None
    tokens_abs_error: float | None


ROW_FIELDS: tuple[str, ...] = tuple(PlanRow.__annotations__)
"""The column names of ``plan_rows``, in order."""


def plan_rows(plan: Plan | Mapping[str, Any]) -> list[PlanRow]:
    """One row per snapshot and horizon, in snapshot order (a plan or its JSON object)."""
    if not isinstance(plan, Plan):
        plan = parse_plan(dict(plan))
    scores: dict[tuple[int, str], Score] = {(s.position, s.horizon): s for s in plan.scores}
    rows: list[PlanRow] = []
    for snap in plan.snapshots:
        for horizon, h in snap.horizons.items():
            top = h.top
            score = scores.get((snap.position, horizon))
            rows.append(
                PlanRow(
                    plan_id=plan.id,
                    position=snap.position,
                    text_offset=snap.text_offset,
                    trigger=snap.trigger,
                    horizon=horizon,
                    top_candidate=top.text if top else None,
                    top_probability=top.probability if top else None,
                    candidates=len(h.candidates),
                    entropy=h.entropy,
                    tokens_to_end_mean=h.tokens_to_end.mean,
                    fresh=h.fresh_rollouts,
                    carried=h.carried_rollouts,
                    reached=h.reached,
                    not_reached=h.not_reached,
                    realised=score.realised if score else None,
                    log_score=score.log_score if score else None,
                    uniform_log_score=score.uniform_log_score if score else None,
                    top1=score.top1 if score else None,
                    in_candidates=score.in_candidates if score else None,
                    brier=score.brier if score else None,
                    tokens_abs_error=score.tokens_abs_error if score else None,
                )
            )
    return rows


def plan_to_json(plan: Plan, *, indent: int | None = 2) -> str:
    """The whole plan as JSON, fields this SDK does not know included.

    ``Plan.model_validate_json`` reads it back; ``json.dumps(plan_rows(plan))`` is the
    table instead.
    """
    return json.dumps(plan.model_dump(mode="json"), indent=indent, ensure_ascii=False)
