"""The whole benchmark on an already-built engine: calibration sweep, then per configuration
plain, foresight and naive for each prompt in turn (interleaved, so machine noise hits all
three alike)."""

from __future__ import annotations

import asyncio
import datetime
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bench import measure, plan_error
from bench.report import build_run, check_targets
from bench.stats import SweepPoint
from planner.clustering import Clusterer
from planner.config import PlanConfig
from planner.engine.protocol import Engine, Sampling

SWEEP_BATCHES = (1, 2, 4, 8, 16, 32, 64)
DEFAULT_PROMPTS = (
    "Write a detailed paragraph about the history of the printing press.",
    "Explain how a bicycle works, step by step, in several sentences.",
    "Describe a walk through a forest in autumn.",
    "Give some advice to someone who is starting to learn the piano.",
)
# About 64 prompt tokens once the chat template is applied, as the calibration asks for.
SWEEP_PROMPT = (
    "Summarise in plain words what a compiler does, how it differs from an interpreter, "
    "and why programmers care about the difference when they write and ship software."
)
NaiveMode = Literal["auto", "all", "none"]


@dataclass
class BenchSettings:
    """What to measure. ``naive="auto"`` skips naive where it refreshes at every token (K
    fresh rollouts per emitted token: minutes per prompt, and no target needs it)."""

    configs: Sequence[PlanConfig]
    prompts: Sequence[str] = DEFAULT_PROMPTS
    max_tokens: int = 128
    seed: int = 0
    temperature: float = 1.0
    sweep_batches: Sequence[int] = SWEEP_BATCHES
    sweep_tokens: int = 64
    sweep_prompt: str = SWEEP_PROMPT
    naive: NaiveMode = "auto"
    naive_only_for_targets: bool = False  # --quick: naive only where a target needs speedup
    token_refresh_tokens: int | None = None  # max_tokens where refresh="token" (None: same)
    extra: dict[str, Any] = field(default_factory=dict)  # recorded as given (engine args, ...)
    # Plan error (bench.plan_error): sentence starts per prompt, plans per setting and prefix.
    plan_error_prefixes: int = 2
    plan_error_repeats: int = 3
    reference_rollouts: int = plan_error.REFERENCE_ROLLOUTS
    # A ``time.perf_counter()`` by which the run must end (--quick: 5 minutes from the
    # command's start, engine start included); a stage that would end past it is skipped.
    deadline: float | None = None


@dataclass
class StageClock:
    """Which stages fit before the deadline: a stage starts only if the time left is at
    least the mean time of the stages so far (the first always starts)."""

    deadline: float | None
    say: Callable[[str], None]
    took: list[float] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def allows(self, stage: str) -> bool:
        if self.deadline is None or not self.took:
            return True
        need = sum(self.took) / len(self.took)
        left = self.deadline - time.perf_counter()
        if left >= need:
            return True
        self.skipped.append(stage)
        self.say(
            f"{stage}: skipped, {max(left, 0):.0f} s left of the time budget and a stage "
            f"takes {need:.0f} s (--time-budget to change it)"
        )
        return False

    def timed(self, began: float) -> None:
        self.took.append(time.perf_counter() - began)


def _wants_naive(settings: BenchSettings, config: PlanConfig) -> bool:
    if settings.naive == "none":
        return False
    if settings.naive_only_for_targets:
        return config.horizons == ("sentence", "paragraph", "turn") and config.refresh != "token"
    return settings.naive == "all" or config.refresh != "token"


def chat_ids(engine: Engine, text: str) -> list[int]:
    tok = engine.tokenizer
    rendered = tok.render_chat([{"role": "user", "content": text}], add_generation_prompt=True)
    return tok.encode_rendered(rendered)


async def run_bench(
    engine: Engine,
    settings: BenchSettings,
    clusterer: Clusterer,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Measure everything in ``settings`` on ``engine``; returns the JSON report."""
    began = time.perf_counter()
    prompts = [chat_ids(engine, p) for p in settings.prompts]
    base = Sampling(max_tokens=settings.max_tokens, temperature=settings.temperature)
    base = base.with_(ignore_eos=True)  # equal lengths for plain and planned
    # Warm-up: one generation, and one clustering call (loads the embedding model's kernels).
    await measure.plain(engine, prompts[0], base.with_(max_tokens=8, seed=settings.seed))
    await asyncio.to_thread(clusterer.cluster, ["warm", "up"])

    say(f"limit: calibration sweep at batches {list(settings.sweep_batches)}")
    sweep_ids = chat_ids(engine, settings.sweep_prompt)
    sweep = await measure.sweep(engine, sweep_ids, settings.sweep_batches, settings.sweep_tokens)
    # The plan-error stage runs after the first configuration (the targets' own), so that a
    # time budget that cuts the run short keeps the two most asked-for results.
    clock = StageClock(settings.deadline, say)
    runs: list[dict[str, Any]] = []
    errors = None
    for index, config in enumerate(settings.configs):
        if clock.allows(_name(config)):
            stage = time.perf_counter()
            run = await _measure_config(
                engine, settings, config, prompts, base, clusterer, sweep, say
            )
            runs.append(run)
            clock.timed(stage)
        if index == 0 and _wants_plan_error(settings) and clock.allows("plan error"):
            stage = time.perf_counter()
            errors = await plan_error.measure(
                engine,
                prompts,
                base,
                plan_error.settings(settings.configs[0]),
                clusterer,
                per_prompt=settings.plan_error_prefixes,
                repeats=settings.plan_error_repeats,
                reference_rollouts=settings.reference_rollouts,
                say=say,
            )
            clock.timed(stage)
    report = {
        "version": 1,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "model": engine.model_name,
        "settings": {
            "prompts": list(settings.prompts),
            "max_tokens": settings.max_tokens,
            "seed": settings.seed,
            "temperature": settings.temperature,
            "ignore_eos": True,
            "naive": settings.naive,
            **settings.extra,
        },
        "limit": {
            "formula": "limit_seconds = sum over prompts of max(main_tokens * step(b), "
            "(main_tokens + rollout_tokens) * step(b) / b); b = limit_batch = 1 + rollouts; "
            "step = decode step (prefill excluded), linear in b between sweep points",
            "sweep_tokens": settings.sweep_tokens,
            "sweep": [
                {
                    "batch": p.batch,
                    "step_seconds": p.step_seconds,
                    "wall_step_seconds": p.wall_step_seconds,
                    "tokens_per_second": p.tokens_per_second,
                }
                for p in sweep
            ],
        },
        "runs": runs,
        "plan_error": errors,
        "skipped_stages": clock.skipped,
    }
    report["targets"] = check_targets(runs)
    report["bench_seconds"] = time.perf_counter() - began
    return report


async def _measure_config(
    engine: Engine,
    settings: BenchSettings,
    config: PlanConfig,
    prompts: Sequence[list[int]],
    base: Sampling,
    clusterer: Clusterer,
    sweep: Sequence[SweepPoint],
    say: Callable[[str], None],
) -> dict[str, Any]:
    name = _name(config)
    with_naive = _wants_naive(settings, config)
    plains, planneds, collisions, naives = [], [], [], []
    identical = 0
    for i, prompt in enumerate(prompts):
        sampling = base.with_(seed=settings.seed + i)
        if config.refresh == "token" and settings.token_refresh_tokens:
            sampling = sampling.with_(max_tokens=settings.token_refresh_tokens)
        kinds = "plain, foresight" + (", naive" if with_naive else "")
        say(f"{name}: prompt {i + 1}/{len(prompts)}: {kinds}")
        p = await measure.plain(engine, prompt, sampling)
        f = await measure.planned(engine, prompt, sampling, config, clusterer)
        plains.append(p.timing)
        planneds.append((f.timing, f.plan))
        collisions += p.collisions
        identical += [t for d in p.deltas for t in d.token_ids] == [
            t for d in f.deltas for t in d.token_ids
        ]
        if with_naive:
            # The foresight run's own text and refresh positions: naive does the same planning
            # work, from scratch each time, after the main text (not overlapped with it).
            positions = [s.position for s in f.plan.snapshots]
            n = await measure.naive(engine, prompt, sampling, config, f.deltas, positions)
            naives.append((p.timing.completion_seconds, n.refresh_seconds, n.rollout_tokens))
    return build_run(
        config, plains, planneds, collisions, sweep, naives if with_naive else None, identical
    )


def _name(config: PlanConfig) -> str:
    return f"K={config.rollouts} horizons={','.join(config.horizons)} refresh={config.refresh}"


def _wants_plan_error(settings: BenchSettings) -> bool:
    return settings.plan_error_prefixes > 0 and settings.plan_error_repeats > 0


def machine() -> dict[str, Any]:
    """Where it ran, and how busy the machine was (a load above the CPU count means noise)."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": list(load) if load else None,
    }
