"""The ``foresight`` command: ``serve``, ``model prepare``, ``chat`` and ``bench``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from planner.engine.config import EngineConfig
from planner.engine.model_cache import default_model_dir, prepare_default_model, verify
from server.serve_options import add_guard_args, guard_settings


def _add_engine_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("engine (passed to vLLM)")
    g.add_argument("--model", help="local HF-format model directory (default: prepared SmolLM2)")
    g.add_argument("--served-model-name", help="name clients use (default: the directory name)")
    g.add_argument("--tensor-parallel-size", type=int, default=1)
    g.add_argument("--pipeline-parallel-size", type=int, default=1)
    g.add_argument("--distributed-executor-backend", choices=["mp", "ray", "uni"])
    g.add_argument("--max-model-len", type=int, default=4096)
    g.add_argument(
        "--gpu-memory-utilization",
        type=float,
        help="share of accelerator memory (on CPU: of host RAM) for the engine; default 0.3 on CPU",
    )
    g.add_argument("--block-size", type=int, help="KV block size in tokens (CPU default 32)")
    g.add_argument("--max-num-seqs", type=int)
    g.add_argument("--dtype", default="auto")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--enable-prefix-caching", action=argparse.BooleanOptionalAction, default=True)
    g.add_argument("--enforce-eager", action=argparse.BooleanOptionalAction, default=True)
    g.add_argument(
        "--scheduling-policy",
        choices=["priority", "fcfs"],
        default="priority",
        help="priority lets the main text go ahead of rollouts",
    )


def _engine_config(args: argparse.Namespace) -> EngineConfig:
    model = args.model or str(prepare_default_model(say=print))
    return EngineConfig(
        model=model,
        served_model_name=args.served_model_name,
        tensor_parallel_size=args.tensor_parallel_size,
        pipeline_parallel_size=args.pipeline_parallel_size,
        distributed_executor_backend=args.distributed_executor_backend,
        max_model_len=args.max_model_len,
        gpu_memory_utilization=args.gpu_memory_utilization,
        enable_prefix_caching=args.enable_prefix_caching,
        enforce_eager=args.enforce_eager,
        block_size=args.block_size,
        dtype=args.dtype,
        max_num_seqs=args.max_num_seqs,
        scheduling_policy=args.scheduling_policy,
        seed=args.seed,
    )


def _serve(args: argparse.Namespace) -> int:
    import uvicorn
    from pydantic import ValidationError

    from planner.config import PlanLimits
    from server.app import create_app
    from server.config import ServerConfig
    from server.shutdown import DrainingServer

    try:
        config = ServerConfig(
            engine=_engine_config(args),
            host=args.host,
            port=args.port,
            max_n=args.max_n,
            log_level=args.log_level,
            store=args.store,
            plan_ttl_seconds=args.plan_ttl,
            plan_limits=PlanLimits(
                max_rollouts=args.max_rollouts,
                max_lookahead_tokens=args.max_lookahead,
                max_rollouts_in_flight=args.max_rollouts_in_flight,
                allowed_horizons=tuple(h.strip() for h in args.horizons.split(",") if h.strip()),
            ),
            **guard_settings(args),
        )
    except (OSError, ValueError, ValidationError) as exc:
        print(f"foresight serve: {exc}", file=sys.stderr)
        return 2
    server: uvicorn.Server | None = None

    def stop() -> None:
        if server is not None:
            server.should_exit = True

    app = create_app(config, on_engine_failure=stop)
    server = DrainingServer(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level=config.log_level,
            timeout_graceful_shutdown=5,
        ),
        admission=app.state.admission,
        grace=config.shutdown_grace,
    )
    server.run()
    error = app.state.engine_holder.error
    if error:
        print(f"foresight serve: the engine failed to start: {error}", file=sys.stderr)
        return 1
    return 0


def _prepare(args: argparse.Namespace) -> int:
    if args.check:
        problem = verify(default_model_dir(), checksums=True)
        print(problem or f"ok: {default_model_dir()}")
        return 1 if problem else 0
    path = prepare_default_model(force=args.force, say=print)
    print(path)
    return 0


def _chat(args: argparse.Namespace) -> int:
    # Imported here: the SDK and rich are for this subcommand only.
    from foresight_client.terminal import run_chat

    # main() logs at INFO; httpx's per-request lines would scribble over the live view.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    refresh = int(args.refresh) if args.refresh.isdigit() else args.refresh
    return run_chat(
        base_url=args.base_url,
        model=args.model,
        horizons=[h.strip() for h in args.horizons.split(",") if h.strip()],
        rollouts=args.rollouts,
        max_tokens=args.max_tokens,
        refresh=refresh,
        lookahead=args.lookahead,
    )


def _add_chat(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    chat = sub.add_parser(
        "chat", help="chat in the terminal, with each reply's live plan beside it"
    )
    chat.add_argument("--base-url", help="server URL (default: $FORESIGHT_BASE_URL or :8000)")
    chat.add_argument("--model", help="model name (default: the server's)")
    chat.add_argument("--rollouts", type=int, default=4, help="plan.rollouts")
    chat.add_argument(
        "--horizons", default="sentence,turn,user", help="plan.horizons (comma-separated)"
    )
    chat.add_argument("--max-tokens", type=int, default=128, help="longest reply in tokens")
    chat.add_argument(
        "--refresh", default="sentence", help="plan.refresh: sentence, token, or every N tokens"
    )
    chat.add_argument("--lookahead", type=int, help="plan.max_lookahead_tokens")
    chat.set_defaults(func=_chat)


def _bench(args: argparse.Namespace) -> int:
    # Imported here: the benchmark (and rich, tqdm) are for this subcommand only.
    import dataclasses

    from planner.bench import run as bench_run
    from planner.bench.core import BenchSettings
    from planner.bench.table import render, write_json

    try:
        prompts = bench_run.load_prompts(args.prompts)
        # Load mode plans one configuration: the server's default horizons unless given.
        horizons = args.horizons or ("sentence,paragraph,turn" if args.load else None)
        plan_configs = bench_run.configs(
            horizons,
            args.refresh,
            every=[bench_run.parse_refresh_every(e) for e in args.refresh_every or []] or [None],
            in_flight=bench_run.parse_counts(args.in_flight) if args.in_flight else [None],
            rollouts=args.rollouts,
            max_lookahead_tokens=args.lookahead,
            clustering=args.clustering,
        )
        if args.load:
            return _bench_load(args, prompts, bench_run.plan_body(plan_configs[0]))
        engine = _engine_config(args)
        settings = BenchSettings(
            configs=plan_configs,
            prompts=prompts,
            max_tokens=args.max_tokens or 128,
            seed=args.seed,
            sweep_batches=bench_run.sweep_batches(args.sweep_batches),
            sweep_tokens=args.sweep_tokens or 64,
            naive=args.naive,
            extra={"quick": args.quick, "engine": dataclasses.asdict(engine)},
        )
    except (OSError, ValueError) as exc:
        print(f"foresight bench: {exc}", file=sys.stderr)
        return 2
    if args.quick:
        settings = bench_run.quick_settings(settings, args.max_tokens, args.sweep_tokens)
    report = bench_run.run_on_new_engine(engine, settings, args.clustering)
    if args.vllm_openai:  # after the bench engine is shut down: one engine at a time
        from planner.bench.servers import EngineArgs
        from server.loadgen import compare_servers

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


def _bench_load(args: argparse.Namespace, prompts: list[str], plan: dict[str, object]) -> int:
    import asyncio

    from planner.bench.table import render_load, write_json
    from server.loadgen import run_load

    # main() logs at INFO; httpx's per-request lines would scribble over the progress bar.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    report = asyncio.run(
        run_load(
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


def _add_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = sub.add_parser(
        "bench",
        help="measure plain, planned and naive generation side by side on one engine",
        description="Calibration sweep, then per configuration and prompt: plain, foresight "
        "and naive generation, interleaved; prints a table, writes JSON. See docs/benchmarks.md.",
    )
    bench.add_argument("--rollouts", type=int, default=8, help="K")
    bench.add_argument(
        "--horizons", help="comma-separated; with --refresh, one configuration "
        "(default: the three target configurations)"
    )  # fmt: skip
    bench.add_argument("--refresh", help="sentence, token, or every N tokens")
    bench.add_argument("--lookahead", type=int, default=64, help="plan.max_lookahead_tokens")
    bench.add_argument("--clustering", choices=["embedding", "text"], default="embedding")
    bench.add_argument(
        "--in-flight",
        metavar="N[,N...]",
        help="plan.rollouts_in_flight (default: the plan's); several values measure each",
    )
    bench.add_argument(
        "--refresh-every",
        metavar="H=N,...",
        action="append",
        help="plan.refresh_every, e.g. turn=4,paragraph=2, or 'every' for all horizons at "
        "every refresh point (default: the plan's); repeat it to measure each",
    )
    bench.add_argument("--prompts", metavar="FILE", help="one user message per line")
    bench.add_argument("--max-tokens", type=int, help="tokens per generation (default 128)")
    bench.add_argument("--json", metavar="PATH", help="write the report here")
    bench.add_argument(
        "--quick", action="store_true",
        help="2 prompts, 48 tokens, naive only where a target needs it (< 3 minutes)",
    )  # fmt: skip
    bench.add_argument("--sweep-batches", default="1,2,4,8,16,32,64")
    bench.add_argument("--sweep-tokens", type=int, help="tokens per sweep request (default 64)")
    bench.add_argument(
        "--naive", choices=["auto", "all", "none"], default="auto",
        help="auto: skip naive where refresh is token (K fresh rollouts per token)",
    )  # fmt: skip
    bench.add_argument(
        "--vllm-openai", action="store_true",
        help="also compare vLLM's OpenAI server with `foresight serve` (subprocesses, no plan)",
    )  # fmt: skip
    bench.add_argument("--server-requests", type=int, default=8, help="per server")
    load = bench.add_argument_group("load mode (drives a running server; starts nothing)")
    load.add_argument("--load", action="store_true", help="N concurrent planned streams")
    load.add_argument("--base-url", help="server URL (default http://127.0.0.1:8000)")
    load.add_argument("--concurrency", type=int, default=4, help="streams at once")
    load.add_argument("--requests", type=int, help="total requests (default 2 x concurrency)")
    _add_engine_args(bench)
    bench.set_defaults(func=_bench, gpu_memory_utilization=0.15)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="foresight", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the OpenAI-compatible API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--max-n", type=int, default=16, help="largest n a request may ask for")
    serve.add_argument("--log-level", default="info")
    plans = serve.add_argument_group("plans")
    plans.add_argument(
        "--store",
        help="plan store: sqlite:///path/plans.db or redis://host:port/db "
        "(default: SQLite in $FORESIGHT_DATA_DIR or ~/.local/share/foresight)",
    )
    plans.add_argument("--plan-ttl", type=float, default=7 * 24 * 3600.0, help="seconds")
    plans.add_argument("--max-rollouts", type=int, default=16, help="largest plan.rollouts")
    plans.add_argument("--max-lookahead", type=int, default=256, help="largest lookahead")
    plans.add_argument(
        "--max-rollouts-in-flight", type=int, default=32, help="rollout requests at once, all plans"
    )
    plans.add_argument(
        "--horizons",
        default="sentence,paragraph,turn,user",
        help="horizons requests may ask for (comma-separated)",
    )
    add_guard_args(serve)
    _add_engine_args(serve)
    serve.set_defaults(func=_serve)

    model = sub.add_parser("model", help="manage the default model")
    model_sub = model.add_subparsers(dest="model_command", required=True)
    prepare = model_sub.add_parser(
        "prepare", help="convert the packaged GGUF to a cached safetensors model"
    )
    prepare.add_argument("--force", action="store_true", help="convert again even if cached")
    prepare.add_argument("--check", action="store_true", help="only verify the cached model")
    prepare.set_defaults(func=_prepare)
    _add_chat(sub)
    _add_bench(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
