"""The refresh policy: K everywhere, or fewer where the next token is nearly certain and
more where the text branches; decided from the next-token distribution alone."""

from __future__ import annotations

import math

import pytest
from markov_engine import ID, MarkovEngine, chat_prompt

from planner.clustering import TextClusterer
from planner.config import PlanConfig
from planner.engine.protocol import Delta, Sampling, TokenLogprob
from planner.events import SnapshotReady
from planner.generation import generate
from planner.main_text import MainText
from planner.refresh_policy import decide, next_token_entropy


def main_with(*probs: float) -> MainText:
    top = tuple((i, math.log(p), f"t{i}") for i, p in enumerate(probs))
    main = MainText(frozenset({99}))
    main.add(Delta([0], "t0", [TokenLogprob(0, top[0][1], "t0", top)]))
    return main


@pytest.mark.parametrize(
    ("probs", "rollouts", "reason"),
    [
        ((0.95, 0.05), 4, "adaptive: next token nearly certain"),
        ((0.5, 0.3, 0.2), 8, "adaptive: usual"),
        ((0.1,) * 10, 16, "adaptive: text branches"),
    ],
)
def test_adaptive_spends_by_the_next_token_distribution(
    probs: tuple[float, ...], rollouts: int, reason: str
) -> None:
    decision = decide(PlanConfig(rollouts=8, refresh_policy="adaptive"), main_with(*probs), 0)
    assert decision is not None
    assert decision.rollouts == rollouts and decision.reason == reason


def test_fixed_is_k_at_once_and_adaptive_waits_for_the_next_token() -> None:
    empty = MainText(frozenset({99}))
    assert decide(PlanConfig(rollouts=8), empty, 0) == decide(PlanConfig(rollouts=8), empty, 5)
    assert decide(PlanConfig(rollouts=8, refresh_policy="adaptive"), empty, 0) is None
    empty.finished = True
    late = decide(PlanConfig(rollouts=8, refresh_policy="adaptive"), empty, 0)
    assert late is not None and late.rollouts == 8 and late.reason == "adaptive: no next token"


def test_entropy_counts_the_unreported_rest_as_one_outcome() -> None:
    top1, h = next_token_entropy(TokenLogprob(0, math.log(0.5), "", ((0, math.log(0.5), ""),)))
    assert top1 == pytest.approx(0.5) and h == pytest.approx(math.log(2))


async def test_snapshots_say_why_they_gathered_what_they_did() -> None:
    """On the chain, " and" is always followed by " the": half of K there, K elsewhere."""
    engine = MarkovEngine()
    cfg = PlanConfig(
        horizons=("sentence",),
        rollouts=8,
        refresh="token",
        max_lookahead_tokens=8,
        clustering="text",
        refresh_policy="adaptive",
    )
    prompt = [*chat_prompt(engine), ID[" The"], ID[" cat"], ID[" sat"], ID[" and"]]
    seen = {}
    gen = generate(engine, prompt, Sampling(max_tokens=3, seed=3), cfg, TextClusterer())
    async for event in gen.events():
        if isinstance(event, SnapshotReady):
            h = event.snapshot.horizons["sentence"]
            seen[event.snapshot.position] = (
                h.fresh_rollouts + h.carried_rollouts,
                event.snapshot.refresh_reason,
            )
    assert seen[0] == (4, "adaptive: next token nearly certain")
    assert seen[1] == (8, "adaptive: usual")
