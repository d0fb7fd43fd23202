"""Real PlanRecords for the plan-store tests: small ones, and large ones (many snapshots)."""

from __future__ import annotations

import time
from typing import Any

from planner.config import PlanConfig
from planner.plan import (
    Candidate,
    HorizonSnapshot,
    Implicit,
    Plan,
    Score,
    Snapshot,
    Stats,
    TokensToEnd,
    Unit,
)
from planner.plan_evaluator import aggregate
from planner.store.record import PlanRecord


def make_snapshot(position: int, salt: int = 0) -> Snapshot:
    horizons = {
        name: HorizonSnapshot(
            candidates=[
                Candidate(
                    text=f"{name} ending {k} at {position} ({salt}) " * 3, probability=p, count=c
                )
                for k, (p, c) in enumerate([(0.5, 4), (0.25, 2), (0.125, 1), (0.125, 1)])
            ],
            entropy=1.2130075659799042,
            tokens_to_end=TokensToEnd(mean=12.5, p10=3.0, p50=11.0, p90=25.0),
            fresh_rollouts=6,
            carried_rollouts=2,
            reached=8,
            not_reached=0,
        )
        for name in ("sentence", "paragraph", "turn")
    }
    return Snapshot(
        position=position,
        text_offset=position * 4,
        trigger="start" if position == 0 else "sentence",
        preceding_token=None if position == 0 else " the",
        horizons=horizons,
        implicit=Implicit(
            total_variation=0.1,
            js_divergence=0.05,
            next_token_entropy=2.5,
            empirical_entropy=2.25,
            top_mass=0.4,
            collision_probability=0.2,
        ),
        latency_seconds=0.015625,
    )


def make_plan(plan_id: str, *, snapshots: int = 2, salt: int = 0) -> Plan:
    """A finished plan; ``salt`` shows up in the text and every snapshot (to check wholeness)."""
    scores = [
        Score(
            position=0,
            horizon="sentence",
            realised="The plan said so.",
            realised_tokens=5,
            probability=0.5,
            novel=0.25,
            probabilities=[0.5, 0.25, 0.25],
            outcome=0,
            log_score=-0.6931471805599453,
            uniform_log_score=-1.3862943611198906,
            top1=True,
            in_candidates=True,
            brier=0.25,
            tokens_abs_error=1.0,
            interval_covered=True,
            model_logprob=-0.1,
        )
    ]
    return Plan(
        id=plan_id,
        config=PlanConfig.model_validate({"rollouts": 8, "refresh": "sentence"}),
        prompt_tokens=3,
        completion_tokens=snapshots * 10,
        text=f"salt={salt} " + "The plan said so. " * 4,
        finished=True,
        snapshots=[make_snapshot(i * 10, salt) for i in range(snapshots)],
        realised={"sentence": [Unit(start_position=0, end_position=5, text="The plan said so.")]},
        scores=scores,
        comparison=aggregate(scores, ("sentence",)),
        stats=Stats(refreshes=snapshots, rollouts_started=8 * snapshots, wall_seconds=0.5),
        unscored={"turn": 1},
    )


def make_record(
    plan_id: str,
    *,
    conversation: str | None = "conv-a",
    turn_key: str | None = "turn-a",
    created: float | None = None,
    snapshots: int = 2,
    salt: int = 0,
    next_turn: dict[str, Any] | None = None,
    owner: str | None = None,
) -> PlanRecord:
    return PlanRecord(
        plan=make_plan(plan_id, snapshots=snapshots, salt=salt),
        conversation=conversation,
        turn_key=turn_key,
        model="smollm2",
        owner=owner,
        created=time.time() if created is None else created,
        next_turn=next_turn,
    )


def is_whole(record: PlanRecord, snapshots: int) -> bool:
    """True if every part of a large test record comes from the same write (one salt)."""
    salt = record.plan.text.split()[0]
    marker = f"({salt.removeprefix('salt=')})"
    return len(record.plan.snapshots) == snapshots and all(
        marker in c.text
        for s in record.plan.snapshots
        for h in s.horizons.values()
        for c in h.candidates
    )
