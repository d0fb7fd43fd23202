"""``foresight bench`` from parsed arguments to a printed report: one engine in this process,
or (``--load``) HTTP load on a running server, or (``--vllm-openai``) two servers compared.

``server/cli.py`` owns the arguments and imports this module inside the subcommand only, so
the server itself never loads the benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, Literal

from bench import options
from bench.suite import BenchSettings, run_bench
from bench.table import render, render_load, write_json
from planner.engine.config import EngineConfig


def run(
    args: argparse.Namespace, engine_config: Callable[[argparse.Namespace], EngineConfig]
) -> int:
    """Run the subcommand; ``engine_config`` turns the engine arguments into a config (it may
    prepare the default model). Bad input exits 2 before any engine starts."""
    began = time.perf_counter()
    try:
        prompts = options.load_prompts(args.prompts)
        # Load mode plans one configuration: the server's default horizons unless given.
        horizons = args.horizons or ("sentence,paragraph,turn" if args.load else None)
        plan_configs = options.configs(
            horizons,
            args.refresh,
            every=[options.parse_refresh_every(e) for e in args.refresh_every or []] or [None],
            in_flight=options.parse_counts(args.in_flight) if args.in_flight else [None],
            rollouts=args.rollouts,
            max_lookahead_tokens=args.lookahead,
            clustering=args.clustering,
        )
        if args.load:
            return _load(args, prompts, options.plan_body(plan_configs[0]))
        engine = engine_config(args)
        settings = BenchSettings(
            configs=plan_configs,
            prompts=prompts,
            max_tokens=args.max_tokens or 128,
            seed=args.seed,
            sweep_batches=options.sweep_batches(args.sweep_batches),
            sweep_tokens=args.sweep_tokens or 64,
            naive=args.naive,
            extra={"quick": args.quick, "engine": dataclasses.asdict(engine)},
        )
    except (OSError, ValueError) as exc:
        print(f"foresight bench: {exc}", file=sys.stderr)
        return 2
    if args.quick:
        settings = options.quick_settings(settings, args.max_tokens, args.sweep_tokens)
    budget = args.time_budget if args.time_budget is not None else (
        options.QUICK_TIME_BUDGET if args.quick else None
    )  # fmt: skip
    if budget is not None:
        settings.deadline = began + budget
        settings.extra["time_budget_seconds"] = budget
    report = run_on_new_engine(engine, settings, args.clustering)
    if args.vllm_openai:  # after the bench engine is shut down: one engine at a time
        from bench.http_load import compare_servers
        from bench.servers import EngineArgs

        report["servers"] = compare_servers(
            EngineArgs.from_config(engine),
            prompts,
            requests=args.server_requests,
            max_tokens=settings.max_tokens,
            seed=args.seed,
        )
    render(report)
    if args.json:
        write_json(report, args.json)
        print(f"wrote {args.json}")
    return 0


def _load(args: argparse.Namespace, prompts: list[str], plan: dict[str, Any]) -> int:
    from bench.http_load import compare_load, run_load

    # main() logs at INFO; httpx's per-request lines would scribble over the progress bar.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    run = run_load if args.no_baselines else compare_load
    report = asyncio.run(
        run(
            args.base_url or "http://127.0.0.1:8000",
            prompts,
            concurrency=args.concurrency,
            requests=args.requests or 2 * args.concurrency,
            max_tokens=args.max_tokens or 128,
            plan=plan,
            seed=args.seed,
        )
    )
    render_load(report)
    if args.json:
        write_json({"load": report}, args.json)
    return 1 if report["errors"] else 0


class Stages:
    """Says on stderr which stage the run is in, with the seconds since it began (the
    table and the JSON go to stdout and the file)."""

    def __init__(self) -> None:
        self.began = time.perf_counter()

    def __call__(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.began:5.0f} s] {message}", file=sys.stderr, flush=True)


def run_on_new_engine(
    engine_config: EngineConfig,
    settings: BenchSettings,
    clustering: Literal["embedding", "text"],
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Build one engine (vLLM spawns processes: call this from a ``__main__``-guarded entry),
    run the benchmark on it, and shut it down."""
    from planner.clustering import make_clusterer
    from planner.engine.vllm_engine import VLLMEngine

    tell = say or Stages()

    async def go() -> dict[str, Any]:
        # SIGTERM stops the run like Ctrl-C does: the engine is shut down on the way out.
        # (The default action would end this process alone and leave vLLM's engine core
        # process running, orphaned.)
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        began = time.perf_counter()
        tell("engine: starting")
        engine = VLLMEngine(engine_config)
        try:
            tell(f"engine: ready in {time.perf_counter() - began:.0f} s")
            return await run_bench(engine, settings, make_clusterer(clustering), tell)
        finally:
            engine.shutdown()

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    try:
        report = asyncio.run(go())
    except asyncio.CancelledError:
        raise SystemExit(128 + signal.SIGTERM) from None
    report["machine"]["load_average_start"] = list(load) if load else None
    return report
