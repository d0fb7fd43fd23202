"""Score a plan's `user` predictions against the user's real next message."""

from __future__ import annotations

from planner.clustering import Clusterer
from planner.evaluation import Match
from planner.plan import Comparison, NextTurn, Plan, TurnPrediction
from planner.scoring import ScoreAggregate, brier, in_candidates, log_score, top1_hit
from planner.scoring import uniform_log_score as uniform
from planner.user_reply import UserReply


def score_next_turn(plan: Plan, reply: UserReply, assistant: str, clusterer: Clusterer) -> NextTurn:
    """Each snapshot's `user` horizon against ``reply``; the model's own log p beside it.

    Scored exactly as during generation (planner.evaluation.Match): rollouts that did not
    reach the user's reply are a bucket the real reply never matches.
    """
    predictions = []
    agg = ScoreAggregate(horizon="user")
    for snapshot in plan.snapshots:
        horizon = snapshot.horizons.get("user")
        if horizon is None or not horizon.candidates:
            continue
        m = Match.of(horizon, reply.text, clusterer)
        score = log_score(m.counts, m.index)
        predictions.append(
            TurnPrediction(
                position=snapshot.position,
                probability=m.probs[m.index] if m.index is not None else 0.0,
                log_score=score,
                top1=top1_hit(m.probs, m.index),
                in_candidates=in_candidates(m.index),
                best_match=horizon.candidates[m.index].text if m.index is not None else None,
            )
        )
        agg.add(
            log_score=score,
            uniform_log_score=uniform(len(m.counts)),
            top1=top1_hit(m.probs, m.index),
            in_candidates=in_candidates(m.index),
            brier=brier(m.probs, m.index),
        )
    return NextTurn(
        plan_id=plan.id,
        user=reply.text,
        assistant_matches=assistant.strip() == plan.text.strip(),
        model_logprob=reply.logprob,
        model_tokens=reply.reply_tokens,
        predictions=predictions,
        comparison=Comparison.model_validate(agg.to_dict()) if predictions else None,
    )
