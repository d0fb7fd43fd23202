"""``foresight eval`` from parsed arguments to ``report.json``, PNGs and ``report.html``:
one engine in this process (as ``foresight bench`` runs it), ``--concurrency``
conversations planned at once on it, each row appended as it finishes.

``server/cli.py`` owns the arguments and imports this module inside the subcommand only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from bench.eval.figures import draw_all
from bench.eval.page import write_page
from bench.eval.prompts import EvalPrompt, PromptError, default_path, load_prompts, parse_horizons
from bench.eval.report import build_report
from bench.eval.results import Results, ResultsError
from bench.eval.runner import run_all
from bench.eval.settings import DEFAULT_CONCURRENCY, GENERATE_HORIZONS, EvalSettings
from planner.clustering import Clusterer
from planner.engine.config import EngineConfig
from planner.engine.protocol import Engine


def settings_of(args: argparse.Namespace) -> EvalSettings:
    horizons = parse_horizons(args.horizons, "--horizons") if args.horizons else GENERATE_HORIZONS
    return EvalSettings(
        rollouts=args.rollouts,
        max_tokens=args.max_tokens,
        lookahead=args.lookahead,
        refresh=args.refresh,
        horizons=horizons,
        seed=args.seed,
        clustering=args.clustering,
        ceiling=not args.no_ceiling,
    )


def run(
    args: argparse.Namespace, engine_config: Callable[[argparse.Namespace], EngineConfig]
) -> int:
    """Run the subcommand. Bad input exits 2 with one message naming the line; rows
    already written stay, and a rerun with the same settings continues after them."""
    try:
        prompts_path = Path(args.prompts) if args.prompts else default_path()
        prompts = load_prompts(prompts_path)
        settings = settings_of(args)
        results = Results(args.out, {**settings.to_dict(), "prompts": str(prompts_path)})
    except (PromptError, ResultsError, ValueError) as exc:
        print(f"foresight eval: {exc}", file=sys.stderr)
        return 2
    if args.concurrency < 1:
        print("foresight eval: --concurrency must be at least 1", file=sys.stderr)
        return 2
    todo = [p for p in prompts if p.id not in results.done]
    began = time.perf_counter()
    if todo:
        try:
            engine = engine_config(args)
        except (OSError, ValueError) as exc:
            print(f"foresight eval: {exc}", file=sys.stderr)
            return 2
        print(f"foresight eval: {len(todo)} of {len(prompts)} conversations to plan "
              f"({len(prompts) - len(todo)} done in {results.path})", file=sys.stderr)  # fmt: skip
        code = _on_new_engine(engine, prompts, settings, results, args.concurrency)
        if code:
            return code
    meta = {
        "wall_seconds_this_invocation": time.perf_counter() - began,
        "concurrency_this_invocation": args.concurrency if todo else None,
    }
    try:
        path = write_outputs(results, prompts, settings, meta)
    except ReportError as exc:
        print(f"foresight eval: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path} (report.json, figures, results.jsonl in {results.dir})")
    return 0


def _on_new_engine(
    config: EngineConfig,
    prompts: Sequence[EvalPrompt],
    settings: EvalSettings,
    results: Results,
    concurrency: int,
) -> int:
    """Build one engine (vLLM spawns processes: call from a ``__main__``-guarded entry), plan
    what is left, and shut it down; Ctrl-C or SIGTERM stop it with the rows kept."""
    from planner.clustering import make_clusterer
    from planner.engine.vllm_engine import VLLMEngine

    async def go() -> None:
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        engine = VLLMEngine(config)
        try:
            clusterer = await asyncio.to_thread(make_clusterer, settings.clustering)
            await evaluate(engine, prompts, settings, clusterer, results, concurrency=concurrency)
        finally:
            engine.shutdown()

    try:
        asyncio.run(go())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print(f"foresight eval: stopped; {len(results.rows)} rows kept in {results.path} "
              "(run the same command again to continue)", file=sys.stderr)  # fmt: skip
        return 130
    return 0


async def evaluate(
    engine: Engine,
    prompts: Sequence[EvalPrompt],
    settings: EvalSettings,
    clusterer: Clusterer,
    results: Results,
    progress: TextIO = sys.stderr,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> None:
    """Plan every conversation not yet in ``results`` on an engine that is already built."""
    await asyncio.to_thread(clusterer.cluster, ["warm", "up"])
    await run_all(engine, prompts, settings, clusterer, results, progress, concurrency)


class ReportError(ValueError):
    """The report cannot be written as the run was made (its clusterer is missing)."""


def report_clusterer(mode: str) -> Clusterer:
    """The run's clusterer: energy scores are distances in its space, and the report scores
    the leave-one-out climatology in the same one, so it may not fall back to another."""
    from planner.clustering import make_clusterer

    clusterer = make_clusterer("text" if mode == "text" else "embedding")
    if clusterer.mode != mode:
        raise ReportError(
            f"the run clustered by {mode!r} but only {clusterer.mode!r} is available here: "
            "the report scores its climatology baseline in the run's space, and the packaged "
            "sentence encoder could not be loaded (see the warning above)"
        )
    return clusterer


def write_outputs(
    results: Results,
    prompts: Sequence[EvalPrompt],
    settings: EvalSettings,
    meta: dict[str, Any],
    clusterer: Clusterer | None = None,
) -> Path:
    """``report.json``, the PNGs and ``report.html`` from the rows of ``prompts``, scored
    with ``clusterer`` (default: the run's, see ``report_clusterer``)."""
    ids = {p.id for p in prompts}
    rows = [r for r in results.rows if r["id"] in ids]
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    meta = {
        **meta,
        "prompts": results.settings.get("prompts"),
        "prompt_count": len(prompts),
        "cpus": os.cpu_count(),
        "load_average_end": list(load) if load else None,
    }
    if clusterer is None:
        clusterer = report_clusterer(settings.clustering)
    report = build_report(rows, results.settings, meta, clusterer)
    (results.dir / "report.json").write_text(json.dumps(report, indent=1, allow_nan=False) + "\n")
    figures = draw_all(report, results.dir)
    return write_page(report, figures, results.dir)
