"""Score a plan's `user` predictions against the user's real next message."""

from __future__ import annotations

import math

from planner.clustering import Clusterer
from planner.evaluation import Match
from planner.plan import Comparison, NextTurn, Plan, TurnPrediction
from planner.scoring import ScoreAggregate, brier, in_candidates, top1_hit
from planner.scoring import uniform_log_score as uniform
from planner.user_reply import UserReply


def score_next_turn(plan: Plan, reply: UserReply, assistant: str, clusterer: Clusterer) -> NextTurn:
    """Each snapshot's `user` horizon against ``reply``; the model's own log p beside it.

    Scored exactly as during generation (planner.evaluation.Match): over the candidates and
    novel, the plan's probabilities given that the reply came within the lookahead.
    """
    predictions = []
    agg = ScoreAggregate(horizon="user")
    for snapshot in plan.snapshots:
        horizon = snapshot.horizons.get("user")
        if horizon is None or not horizon.candidates:
            continue
        m = Match.of(horizon, reply.text, clusterer)
        score = math.log(m.probability)
        candidates = m.probs[:-1]
        predictions.append(
            TurnPrediction(
                position=snapshot.position,
                probability=m.probability,
                log_score=score,
                top1=top1_hit(candidates, m.index),
                in_candidates=in_candidates(m.index),
                best_match=horizon.candidates[m.index].text if m.index is not None else None,
            )
        )
        agg.add(
            log_score=score,
            uniform_log_score=uniform(len(candidates)),
            top1=top1_hit(candidates, m.index),
            in_candidates=in_candidates(m.index),
            brier=brier(candidates, m.index),
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
