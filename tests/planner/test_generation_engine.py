"""The planner on the real vLLM engine with the default model (session-shared server)."""

from __future__ import annotations

import math

from live_server import LiveServer

from planner.clustering import TextClusterer
from planner.config import PlanConfig
from planner.engine.protocol import Sampling
from planner.events import Event, PlanFinished, SnapshotReady, TextDelta
from planner.follow import follow
from planner.generation import PlannedGeneration, generate

MESSAGES = [{"role": "user", "content": "What is 2+2? Answer in one short sentence."}]


def _prompt(live: LiveServer) -> list[int]:
    tok = live.engine.tokenizer
    return tok.encode_rendered(tok.render_chat(MESSAGES, add_generation_prompt=True))


async def _events(gen: PlannedGeneration) -> list[Event]:
    return [e async for e in gen.events()]


def test_chat_plan_with_all_four_horizons(live: LiveServer) -> None:
    config = PlanConfig(
        horizons=("sentence", "paragraph", "turn", "user"),
        refresh_every={},  # every horizon at every point
        rollouts=4,
        refresh="token",
        max_lookahead_tokens=32,
        clustering="text",
    )
    gen = generate(
        live.engine, _prompt(live), Sampling(max_tokens=24, seed=3), config, TextClusterer()
    )
    events = live.run(_events(gen))
    plan = next(e.plan for e in events if isinstance(e, PlanFinished))
    text = "".join(e.delta.text for e in events if isinstance(e, TextDelta))
    assert plan.text == text
    assert plan.snapshots and len(plan.snapshots) == plan.stats.refreshes
    for snapshot in plan.snapshots:
        assert set(snapshot.horizons) == {"sentence", "paragraph", "turn", "user"}
        for h in snapshot.horizons.values():
            assert h.fresh_rollouts + h.carried_rollouts == 4
            assert h.reached + h.not_reached == 4
            assert math.isclose(sum(c.probability for c in h.candidates) + h.novel, 1.0)
        assert snapshot.implicit is not None
    # Carry-over happened and was counted.
    assert plan.stats.rollouts_carried > 0
    assert any(h.carried_rollouts for s in plan.snapshots for h in s.horizons.values())
    assert 0 < plan.stats.carried_rollout_tokens < plan.stats.needed_rollout_tokens
    # The rollouts' prompts extend the main sequence's: its full cache blocks are reused.
    stats = plan.stats
    assert 0 < stats.rollout_cached_prompt_tokens < stats.rollout_prompt_tokens
    assert stats.rollout_cached_prompt_tokens % 32 == 0  # whole blocks (block size 32)
    # Every horizon the text reached within the lookahead was scored.
    scored = {s.horizon for s in plan.scores}
    if plan.realised.get("sentence"):
        assert "sentence" in scored
    if "turn" in plan.realised:
        assert "turn" in scored
    snapshot_events = [e for e in events if isinstance(e, SnapshotReady)]
    assert len(snapshot_events) == len(plan.snapshots)


def test_follow_scores_a_given_reply_and_user_turn(live: LiveServer) -> None:
    config = PlanConfig(
        horizons=("sentence", "turn", "user"),
        rollouts=3,
        max_lookahead_tokens=24,
        clustering="text",
    )

    async def run() -> list[Event]:
        return [
            e
            async for e in (
                await follow(
                    live.engine,
                    _prompt(live),
                    "2 + 2 is 4. That is basic arithmetic.",
                    config,
                    TextClusterer(),
                    sampling=Sampling(seed=1),
                    user="Thanks!",
                )
            ).events()
        ]

    plan = next(e.plan for e in live.run(run()) if isinstance(e, PlanFinished))
    assert [u.text for u in plan.realised["sentence"]] == [
        "2 + 2 is 4.",
        "That is basic arithmetic.",
    ]
    user_scores = [s for s in plan.scores if s.horizon == "user"]
    assert user_scores and all(s.realised == "Thanks!" for s in user_scores)
    assert all(s.model_logprob is not None and s.model_logprob < 0 for s in user_scores)
    assert plan.implicit.model_logprob is not None and plan.implicit.model_logprob < 0
