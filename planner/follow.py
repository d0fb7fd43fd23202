"""Plan along a text that is given instead of generated (an existing reply, and its answer)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from planner.budget import RolloutBudget
from planner.climatology import Climatology
from planner.clustering import Clusterer
from planner.config import PlanConfig
from planner.engine.protocol import Delta, Engine, Sampling
from planner.generation import IMPLICIT_TOP_N, PlannedGeneration
from planner.user_reply import assistant_turn_ids, user_reply


async def given_deltas(
    engine: Engine, prompt_ids: Sequence[int], tokens: Sequence[int]
) -> list[Delta]:
    """One delta per token of the given text, with the model's logprobs at each position."""
    tok = engine.tokenizer
    logprobs = await engine.prompt_logprobs([*prompt_ids, *tokens], len(prompt_ids), IMPLICIT_TOP_N)
    deltas, previous = [], ""
    for i, token in enumerate(tokens):
        text = tok.decode(tokens[: i + 1])
        last = i == len(tokens) - 1
        deltas.append(
            Delta(
                token_ids=[token],
                text=text[len(previous) :],
                logprobs=[logprobs[i]],
                finish_reason="stop"
                if last and token in tok.eos_token_ids
                else ("length" if last else None),
            )
        )
        previous = text
    return deltas


async def follow(
    engine: Engine,
    prompt_ids: Sequence[int],
    assistant: str,
    config: PlanConfig,
    clusterer: Clusterer,
    *,
    sampling: Sampling,
    user: str | None = None,
    budget: RolloutBudget | None = None,
    climatology: Climatology | None = None,
) -> PlannedGeneration:
    """Plan at each refresh of ``assistant`` (a complete turn) and score against it.

    With ``user``, the user's real next message is the realised ``user`` horizon, scored
    against the rollouts' predicted replies, with the model's own log-probability of it.
    """
    tokens = assistant_turn_ids(engine, assistant)
    deltas = await given_deltas(engine, prompt_ids, tokens)
    reply = None
    if user is not None:
        reply = await user_reply(engine, [*prompt_ids, *tokens], user)
    return PlannedGeneration(
        engine,
        prompt_ids,
        _replay(deltas),
        sampling,
        config,
        clusterer,
        budget=budget,
        user_reply=reply,
        climatology=climatology,
    )


async def _replay(deltas: Sequence[Delta]) -> AsyncIterator[Delta]:
    for delta in deltas:
        yield delta
        await asyncio.sleep(0)
