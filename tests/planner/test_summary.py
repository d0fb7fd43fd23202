"""Each candidate beside the model's own probability (planner.summary): the log-probability
of its representative ending and the exact mass of its distinct endings, checked against the
Markov chain's exact probabilities."""

from __future__ import annotations

import math

import pytest
from markov_engine import ASSISTANT, EOS, MarkovEngine, chat_prompt

from planner.clustering import TextClusterer
from planner.config import PlanConfig
from planner.engine.protocol import Sampling
from planner.events import PlanFinished, TextDelta
from planner.generation import generate


async def test_candidates_carry_the_models_probability_of_their_ending() -> None:
    engine = MarkovEngine()
    tok = engine.tokenizer
    cfg = PlanConfig(
        horizons=("sentence", "turn"),
        rollouts=8,
        refresh="sentence",
        max_lookahead_tokens=16,
        clustering="text",
        refresh_every={},
    )
    sampling = Sampling(max_tokens=30, seed=5, temperature=0.7)
    tokens: list[int] = []
    plan = None
    async for event in generate(
        engine, chat_prompt(engine), sampling, cfg, TextClusterer()
    ).events():
        if isinstance(event, TextDelta):
            tokens += event.delta.token_ids
        elif isinstance(event, PlanFinished):
            plan = event.plan
    assert plan is not None
    checked = 0
    for snap in plan.snapshots:
        previous = tokens[snap.position - 1] if snap.position else ASSISTANT
        for name, h in snap.horizons.items():
            masses = []
            for c in h.candidates:
                if not c.text.strip():  # the reply ends (maybe after whitespace tokens)
                    assert c.ends_reply and c.logprob is not None
                    masses.append(c.exact_mass)
                    continue
                ids = [*tok.encode(c.text), *([EOS] if name == "turn" else [])]
                # the rollouts' distribution: the chain at temperature 0.7, not the raw one
                rows = [
                    engine.next_token_distribution(a, temperature=0.7) for a in [previous, *ids]
                ]
                exact = math.fsum(math.log(r[b]) for r, b in zip(rows, ids, strict=False))
                assert c.logprob == pytest.approx(exact), (name, c, snap.position)
                assert c.exact_mass is not None and math.exp(c.logprob) <= c.exact_mass + 1e-12
                masses.append(c.exact_mass)
                checked += 1
            if h.candidates:
                assert h.exact_mass == pytest.approx(math.fsum(masses))
                assert h.exact_mass <= 1.0 and h.exact_share is not None
    assert checked > 10


async def test_a_reply_that_ends_at_once_is_labelled() -> None:
    """A rollout whose first token ends the turn gives the ending '' - labelled ends_reply."""
    engine = MarkovEngine()
    cfg = PlanConfig(horizons=("sentence",), rollouts=32, clustering="text", max_lookahead_tokens=8)
    prompt = [*chat_prompt(engine)[:-1], engine.tokenizer.encode(".")[0]]  # after ".": eos 0.2
    found = None
    async for event in generate(
        engine, prompt, Sampling(max_tokens=1, seed=3), cfg, TextClusterer()
    ).events():
        if isinstance(event, PlanFinished):
            found = event.plan
    assert found is not None
    empty = [c for c in found.snapshots[0].horizons["sentence"].candidates if c.text == ""]
    assert empty and all(c.ends_reply for c in empty)
    others = [c for c in found.snapshots[0].horizons["sentence"].candidates if c.text]
    assert any(not c.ends_reply for c in others)
