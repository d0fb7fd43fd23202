"""The `user` prediction scored at the next turn exactly as during generation."""

from __future__ import annotations

import pytest

from planner.clustering import TextClusterer
from planner.config import PlanConfig
from planner.evaluation import score_prediction
from planner.main_text import Realised
from planner.next_turn import score_next_turn
from planner.plan import Candidate, HorizonSnapshot, Plan, Snapshot, TokensToEnd
from planner.user_reply import UserReply

C = 1 - 1 / 4  # Chao-Jost coverage of counts (3, 1): f1 = 1, f2 = 0


def user_plan(not_reached: int) -> Plan:
    horizon = HorizonSnapshot(
        candidates=[
            Candidate(text="Thanks!", probability=0.75 * C, count=3),
            Candidate(text="Why?", probability=0.25 * C, count=1),
        ],
        novel=1 - C,
        entropy=0.56,
        tokens_to_end=TokensToEnd(),
        fresh_rollouts=4 + not_reached,
        carried_rollouts=0,
        reached=4,
        not_reached=not_reached,
    )
    snapshot = Snapshot(
        position=0,
        text_offset=0,
        trigger="start",
        preceding_token=None,
        horizons={"user": horizon},
        latency_seconds=0.0,
    )
    config = PlanConfig(horizons=("turn", "user"))
    return Plan(id="p", config=config, prompt_tokens=1, text="Hi.", snapshots=[snapshot])


@pytest.mark.parametrize("real", ["Thanks!", "Why?", "Something else."])
def test_next_turn_and_generation_use_the_same_buckets(real: str) -> None:
    """Both score the plan's distribution given that the reply came within the lookahead:
    candidates and novel, the rollouts that did not reach it left out alike."""
    plan = user_plan(not_reached=4)
    clusterer = TextClusterer()
    turn = score_next_turn(plan, UserReply(real, 1, 3, -2.0), "Hi.", clusterer)
    during = score_prediction(
        0, "user", plan.snapshots[0].horizons["user"], Realised(real, 9), clusterer
    )
    [prediction] = turn.predictions
    assert prediction.log_score == pytest.approx(during.log_score)
    assert prediction.top1 == during.top1
    assert turn.comparison is not None
    assert turn.comparison.brier == pytest.approx(during.brier)
    assert turn.comparison.uniform_log_score == pytest.approx(during.uniform_log_score)
    if real == "Thanks!":
        assert prediction.probability == pytest.approx(3 / 4 * C)
    if real == "Something else.":
        assert prediction.probability == pytest.approx(1 - C)


def test_model_logprob_and_tokens_come_from_the_reply() -> None:
    turn = score_next_turn(user_plan(0), UserReply("Why?", 1, 3, -2.5), " Hi. ", TextClusterer())
    assert (turn.model_logprob, turn.model_tokens, turn.assistant_matches) == (-2.5, 3, True)
