"""Plan the conversations on the engine, several at once, and append each row as its
conversation finishes: the plan as the planner reports it, and the ceiling's scores beside
it. Nothing here aggregates.

Invariant: a row depends on its conversation alone (its seeds are derived from the
conversation's id, and no state passes between conversations; the climatology baseline is
computed by the report, leave-one-out), so the order conversations are planned or finish
in changes nothing but floating-point batch effects in the engine.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any, TextIO

from tqdm import tqdm

from bench.eval.ceiling import ceiling_scores
from bench.eval.prompts import EvalPrompt
from bench.eval.results import Results
from bench.eval.settings import FOLLOW_HORIZONS, EvalSettings
from planner import Plan
from planner.clustering import Clusterer
from planner.engine.protocol import Delta, Engine, Sampling
from planner.errors import InvalidRequestError
from planner.events import PlanFinished, TextDelta
from planner.follow import follow
from planner.generation import PlannedGeneration, generate
from planner.pool import derive_seed


async def _planned(
    engine: Engine,
    prompt: EvalPrompt,
    settings: EvalSettings,
    clusterer: Clusterer,
) -> tuple[list[int], Sampling, PlannedGeneration]:
    tok = engine.tokenizer
    prompt_ids = tok.encode_rendered(tok.render_chat(prompt.context, add_generation_prompt=True))
    sampling = Sampling(
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        seed=derive_seed(settings.seed, "eval", prompt.id),
    )
    rid = f"eval-{uuid.uuid4().hex[:12]}"
    if prompt.mode == "follow":
        config = settings.plan_config(prompt.horizons or FOLLOW_HORIZONS)
        assistant, user = (m["content"] for m in prompt.messages[-2:])
        gen = await follow(
            engine,
            prompt_ids,
            assistant,
            config,
            clusterer,
            sampling=sampling,
            user=user,
        )
    else:
        config = settings.plan_config(prompt.horizons or settings.horizons)
        gen = generate(engine, prompt_ids, sampling, config, clusterer, request_id=rid)
    return prompt_ids, sampling, gen


async def plan_one(
    engine: Engine,
    prompt: EvalPrompt,
    settings: EvalSettings,
    clusterer: Clusterer,
) -> dict[str, Any]:
    """One conversation's row: its plan, and (if asked) the ceiling's energy scores."""
    began = time.perf_counter()
    prompt_ids, sampling, gen = await _planned(engine, prompt, settings, clusterer)
    deltas: list[Delta] = []
    plan: Plan | None = None
    async for event in gen.events():
        if isinstance(event, TextDelta):
            deltas.append(event.delta)
        elif isinstance(event, PlanFinished):
            plan = event.plan
    if plan is None:
        raise RuntimeError(f"{prompt.id}: the planned generation ended without a plan")
    ceiling = []
    if settings.ceiling:
        found = await ceiling_scores(engine, prompt_ids, deltas, plan, sampling, clusterer)
        ceiling = [c.__dict__ for c in found]
    return {
        "id": prompt.id,
        "kind": prompt.kind,
        "mode": prompt.mode,
        "seconds": time.perf_counter() - began,
        "plan": plan.model_dump(mode="json"),
        "ceiling": ceiling,
    }


async def _row(
    engine: Engine, prompt: EvalPrompt, settings: EvalSettings, clusterer: Clusterer
) -> dict[str, Any]:
    try:
        return await plan_one(engine, prompt, settings, clusterer)
    except InvalidRequestError as exc:
        return {"id": prompt.id, "kind": prompt.kind, "mode": prompt.mode, "error": str(exc)}


async def run_all(
    engine: Engine,
    prompts: Sequence[EvalPrompt],
    settings: EvalSettings,
    clusterer: Clusterer,
    results: Results,
    progress: TextIO = sys.stderr,
    concurrency: int = 1,
) -> None:
    """Plan every conversation not yet in ``results``, ``concurrency`` at a time on the one
    engine (it batches their rollouts), appending each row as it finishes, in any order.

    A conversation the engine refuses (too long for the context, say) gets a row with its
    error, so the run goes on and the report says which one failed and why. If the run is
    cancelled, conversations still being planned are dropped (planned again on resume).
    """
    if concurrency < 1:
        raise ValueError("--concurrency must be at least 1")
    todo = [p for p in prompts if p.id not in results.done]
    queue = list(reversed(todo))
    bar = tqdm(total=len(prompts), initial=len(prompts) - len(todo), file=progress, unit="conv")
    planning: list[str] = []

    async def worker() -> None:
        while queue:
            prompt = queue.pop()
            planning.append(prompt.id)
            bar.set_postfix_str(",".join(planning))
            row = await _row(engine, prompt, settings, clusterer)
            planning.remove(prompt.id)
            # One synchronous write: rows of conversations finishing together never interleave.
            results.append(row)
            bar.update(1)

    workers = [asyncio.create_task(worker()) for _ in range(min(concurrency, len(todo)))]
    try:
        await asyncio.gather(*workers)  # the first error (or cancellation) stops the run
    finally:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        bar.close()
