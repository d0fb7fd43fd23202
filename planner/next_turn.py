"""Score a plan's `user` predictions against the user's real next message."""

from __future__ import annotations

from planner.clustering import Clusterer
from planner.plan import NextTurn, Plan, TurnPrediction
from planner.scoring import ScoreAggregate, brier, in_candidates, log_score, top1_hit
from planner.scoring import uniform_log_score as uniform


def score_next_turn(
    plan: Plan,
    user: str,
    assistant: str,
    clusterer: Clusterer,
    *,
    model_logprob: float | None,
    model_tokens: int,
) -> NextTurn:
    """Each snapshot's `user` horizon against ``user``; the model's own log p beside it."""
    predictions = []
    agg = ScoreAggregate(horizon="user")
    real = user.strip()
    for snapshot in plan.snapshots:
        horizon = snapshot.horizons.get("user")
        if horizon is None or not horizon.candidates:
            continue
        texts = [c.text for c in horizon.candidates]
        counts = [c.count for c in horizon.candidates]
        probs = [c.probability for c in horizon.candidates]
        index = clusterer.match(real, texts)
        score = log_score(counts, index)
        predictions.append(
            TurnPrediction(
                position=snapshot.position,
                probability=probs[index] if index is not None else 0.0,
                log_score=score,
                top1=top1_hit(probs, index),
                in_candidates=in_candidates(index),
                best_match=texts[index] if index is not None else None,
            )
        )
        agg.add(
            log_score=score,
            uniform_log_score=uniform(len(texts)),
            top1=top1_hit(probs, index),
            in_candidates=in_candidates(index),
            brier=brier(probs, index),
        )
    return NextTurn(
        plan_id=plan.id,
        user=real,
        assistant_matches=assistant.strip() == plan.text.strip(),
        model_logprob=model_logprob,
        model_tokens=model_tokens,
        predictions=predictions,
        comparison=agg.to_dict() if predictions else None,
    )
