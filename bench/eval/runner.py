"""Plan each conversation on the engine and append its row: the plan as the planner
reports it, and the ceiling's scores beside it. Nothing here aggregates."""

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
from planner.climatology import Climatology
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
    climatology: Climatology,
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
            climatology=climatology,
        )
    else:
        config = settings.plan_config(prompt.horizons or settings.horizons)
        gen = generate(
            engine, prompt_ids, sampling, config, clusterer, request_id=rid, climatology=climatology
        )
    return prompt_ids, sampling, gen


async def plan_one(
    engine: Engine,
    prompt: EvalPrompt,
    settings: EvalSettings,
    clusterer: Clusterer,
    climatology: Climatology,
) -> dict[str, Any]:
    """One conversation's row: its plan, and (if asked) the ceiling's energy scores."""
    began = time.perf_counter()
    prompt_ids, sampling, gen = await _planned(engine, prompt, settings, clusterer, climatology)
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


def refill(climatology: Climatology, rows: Sequence[dict[str, Any]]) -> None:
    """A resumed run's climatology: the endings its finished rows realised, in run order."""
    for row in rows:
        if "plan" not in row:
            continue
        plan = Plan.model_validate(row["plan"])
        for h in plan.config.horizons:
            climatology.add(h, [s.realised for s in plan.scores if s.horizon == h])


async def run_all(
    engine: Engine,
    prompts: Sequence[EvalPrompt],
    settings: EvalSettings,
    clusterer: Clusterer,
    results: Results,
    progress: TextIO = sys.stderr,
) -> None:
    """Plan every conversation not yet in ``results``, appending each row as it finishes.

    A conversation the engine refuses (too long for the context, say) gets a row with its
    error, so the run goes on and the report says which one failed and why.
    """
    climatology = Climatology()
    refill(climatology, results.rows)
    todo = [p for p in prompts if p.id not in results.done]
    bar = tqdm(total=len(prompts), initial=len(prompts) - len(todo), file=progress, unit="conv")
    try:
        for prompt in todo:
            bar.set_postfix_str(prompt.id)
            try:
                row = await plan_one(engine, prompt, settings, clusterer, climatology)
            except InvalidRequestError as exc:
                row = {"id": prompt.id, "kind": prompt.kind, "mode": prompt.mode, "error": str(exc)}
            results.append(row)
            bar.update(1)
            await asyncio.sleep(0)
    finally:
        bar.close()
