"""Timed single generations on an engine: plain, planned, naive, and the calibration sweep.

Every function takes the engine it runs on and must be awaited on that engine's loop.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bench.stats import SweepPoint, Timing
from planner.clustering import Clusterer
from planner.config import Horizon, PlanConfig
from planner.engine.protocol import Delta, Engine, Sampling
from planner.events import PlanFinished, TextDelta
from planner.generation import IMPLICIT_TOP_N, generate
from planner.implicit import collision_probability
from planner.main_text import MainText
from planner.plan import Plan
from planner.pool import derive_seed
from planner.rollout import CERTAINTY_SLACK, Rollout


def _rid(kind: str) -> str:
    return f"bench-{kind}-{uuid.uuid4().hex[:12]}"


@dataclass
class PlainRun:
    """A generation without a plan, with Σp² of the next-token distribution per position."""

    timing: Timing
    deltas: list[Delta]
    collisions: list[float] = field(default_factory=list)


async def plain(engine: Engine, prompt_ids: Sequence[int], sampling: Sampling) -> PlainRun:
    """The main text alone. It asks for the same top-20 logprobs a planned main sequence asks
    for (so both pay the same per-token cost), which also gives Σp² at every position."""
    params = sampling.with_(logprobs=max(sampling.logprobs or 0, IMPLICIT_TOP_N))
    deltas: list[Delta] = []
    arrivals: list[tuple[float, int]] = []
    start = time.perf_counter()
    async for delta in engine.generate(_rid("plain"), prompt_ids, params):
        arrivals.append((time.perf_counter(), len(delta.token_ids)))
        deltas.append(delta)
    done = time.perf_counter()
    collisions = [
        collision_probability([(tid, lp) for tid, lp, _ in tl.top])
        for d in deltas
        for tl in d.logprobs or []
        if tl.top
    ]
    return PlainRun(Timing(start, arrivals, done, done), deltas, collisions)


@dataclass
class PlannedRun:
    timing: Timing
    deltas: list[Delta]
    plan: Plan


async def planned(
    engine: Engine,
    prompt_ids: Sequence[int],
    sampling: Sampling,
    config: PlanConfig,
    clusterer: Clusterer,
) -> PlannedRun:
    """A planned generation; the text is timed from its TextDelta events as a client sees them."""
    gen = generate(engine, prompt_ids, sampling, config, clusterer, request_id=_rid("planned"))
    deltas: list[Delta] = []
    arrivals: list[tuple[float, int]] = []
    plan: Plan | None = None
    start = time.perf_counter()
    text_done = start
    async for event in gen.events():
        if isinstance(event, TextDelta):
            text_done = time.perf_counter()
            arrivals.append((text_done, len(event.delta.token_ids)))
            deltas.append(event.delta)
        elif isinstance(event, PlanFinished):
            plan = event.plan
    done = time.perf_counter()
    if plan is None:
        raise RuntimeError("the planned generation ended without a plan")
    return PlannedRun(Timing(start, arrivals, text_done, done), deltas, plan)


@dataclass
class NaiveRun:
    """Offline-style planning: K fresh rollouts per refresh, nothing carried, nothing overlapped."""

    refresh_seconds: list[float]
    rollout_tokens: int


async def naive(
    engine: Engine,
    prompt_ids: Sequence[int],
    sampling: Sampling,
    config: PlanConfig,
    deltas: Sequence[Delta],
    positions: Sequence[int],
) -> NaiveRun:
    """At each refresh position of the given text, K fresh rollouts at once; wait for all.

    Each rollout is its own engine request and stops as soon as every horizon is resolved
    at that position (the same stop rule the planner's rollouts follow, via ``Rollout``), so
    naive is not charged for tokens nobody needed. The ``user`` horizon is treated as
    ``turn`` (the user's reply is not sampled), which only makes naive cheaper.
    """
    main = MainText(engine.tokenizer.eos_token_ids)
    for delta in deltas:
        main.add(delta)
    seconds: list[float] = []
    tokens = 0
    for t in positions:
        start = time.perf_counter()
        counts = await asyncio.gather(
            *(
                _naive_rollout(
                    engine, [*prompt_ids, *main.tokens[:t]], sampling, config, main, t, i
                )
                for i in range(config.rollouts)
            )
        )
        seconds.append(time.perf_counter() - start)
        tokens += sum(counts)
    return NaiveRun(seconds, tokens)


async def _naive_rollout(
    engine: Engine,
    prompt: list[int],
    sampling: Sampling,
    config: PlanConfig,
    main: MainText,
    position: int,
    ordinal: int,
) -> int:
    seed = derive_seed(sampling.seed, "naive", position, ordinal)
    r = Rollout(id=_rid("naive"), start=position, seed=seed, context=main.context_before(position))
    horizons = {"turn" if h == "user" else h for h in config.horizons}
    lookahead = config.max_lookahead_tokens
    params = sampling.with_(
        max_tokens=lookahead + CERTAINTY_SLACK,
        seed=seed,
        ignore_eos=False,
        logprobs=None,
        stop=(),
        stop_token_ids=(),
    )
    await follow_rollout(engine, r, prompt, params, horizons, position, lookahead)
    return len(r.tokens)


async def follow_rollout(
    engine: Engine,
    rollout: Rollout,
    prompt: Sequence[int],
    params: Sampling,
    horizons: Iterable[Horizon],
    position: int,
    lookahead: int,
) -> None:
    """Decode ``rollout`` from ``prompt`` until every horizon's outcome is resolved (then
    the stream is closed, which aborts the request) or the engine stops it."""
    eos = engine.tokenizer.eos_token_ids
    wanted = tuple(horizons)
    stream = engine.generate(rollout.id, list(prompt), params)
    try:
        async for delta in stream:
            rollout.add(delta, eos)
            if all(rollout.outcome(h, position, 0, lookahead).resolved for h in wanted):
                break
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


async def _drain(
    engine: Engine, prompt_ids: Sequence[int], sampling: Sampling
) -> tuple[float, float]:
    """(arrival of the first token, arrival of the last)."""
    first = last = 0.0
    async for _ in engine.generate(_rid("sweep"), prompt_ids, sampling):
        last = time.perf_counter()
        first = first or last
    return first, last


async def sweep(
    engine: Engine, prompt_ids: Sequence[int], batches: Sequence[int], tokens: int
) -> list[SweepPoint]:
    """For each batch size b: b requests decode ``tokens`` tokens at once (ignoring EOS).

    The step is timed from the moment every request has its first token (all b decode in
    each step from then on) to the last token, over ``tokens - 1`` steps: the prefill is
    left out, so short sweeps do not overstate the step (which would flatter limit_ratio).
    ``wall_step_seconds`` = wall / tokens, prefill included, is kept beside it.
    """
    if tokens < 2:
        raise ValueError("the sweep needs at least 2 tokens per request")
    points = []
    for b in batches:
        sampling = Sampling(max_tokens=tokens, ignore_eos=True)
        start = time.perf_counter()
        spans = await asyncio.gather(
            *(_drain(engine, prompt_ids, sampling.with_(seed=i)) for i in range(b))
        )
        all_first, last = max(f for f, _ in spans), max(e for _, e in spans)
        step = (last - all_first) / (tokens - 1)
        points.append(SweepPoint(b, step, (last - start) / tokens))
    return points
