"""The ``foresight`` command: ``serve``, ``model prepare``, ``chat``, ``bench`` and ``eval``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from planner import DEFAULT_TTL_SECONDS, PlanLimits
from planner.engine.model_cache import default_model_dir, prepare_default_model, verify
from server.engine_args import DefaultsFormatter, add_engine_args, engine_config
from server.serve_options import add_guard_args, guard_settings

log = logging.getLogger(__name__)


def _rollout_budget(args: argparse.Namespace) -> int | None:
    """``--rollout-budget``, or its deprecated old name (with one warning)."""
    old: int | None = args.max_rollouts_in_flight
    if old is not None:
        log.warning("--max-rollouts-in-flight is deprecated; use --rollout-budget")
        return old
    budget: int | None = args.rollout_budget
    return budget


def _serve(args: argparse.Namespace) -> int:
    import uvicorn
    from pydantic import ValidationError

    from server.app import create_app
    from server.config import ServerConfig
    from server.shutdown import DrainingServer
    from server.uvicorn_server import quiet_probe_logs

    try:
        config = ServerConfig(
            engine=engine_config(args),
            host=args.host,
            port=args.port,
            max_n=args.max_n,
            log_level=args.log_level,
            store=args.store,
            plan_ttl_seconds=args.plan_ttl,
            plan_limits=PlanLimits(
                max_rollouts=args.max_rollouts,
                max_lookahead_tokens=args.max_lookahead,
                rollout_budget=_rollout_budget(args),
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
    quiet_probe_logs()
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


def _add_chat(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # Listed for --help only: main() hands `chat` and its arguments to the SDK's terminal
    # chat (also shipped as `foresight-chat`), which owns its options.
    sub.add_parser(
        "chat",
        add_help=False,
        help="chat in the terminal, with each reply's live plan beside it "
        "(the SDK's foresight-chat; foresight chat --help lists its options)",
    )


def _bench(args: argparse.Namespace) -> int:
    # Imported here: only the benchmark knows both layers, and only this subcommand needs it.
    from bench.command import run

    return run(args, engine_config)


def _add_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = sub.add_parser(
        "bench",
        formatter_class=DefaultsFormatter,
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
        help="2 prompts, 32 tokens, naive only where a target needs it, within --time-budget",
    )  # fmt: skip
    bench.add_argument(
        "--time-budget", type=float, metavar="SECONDS",
        help="end within this long, engine start included: stages that would not fit are "
        "skipped and named (default: 300 with --quick, none otherwise)",
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
    load.add_argument(
        "--no-baselines", action="store_true",
        help="skip the plain streams and the one-at-a-time planned streams run beside the load",
    )  # fmt: skip
    add_engine_args(bench)
    bench.set_defaults(func=_bench, gpu_memory_utilization=0.15)


def _eval(args: argparse.Namespace) -> int:
    # Imported here, as the bench is: only this subcommand needs it (and matplotlib).
    from bench.eval.command import run

    return run(args, engine_config)


def _add_eval(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from bench.eval.settings import DEFAULT_CONCURRENCY  # a constant: no engine, no matplotlib

    ev = sub.add_parser(
        "eval",
        formatter_class=DefaultsFormatter,
        help="plan a set of conversations and report what the plans show",
        description="Plan each conversation (the default set ships with Foresight), score "
        "every horizon against climatology (the other conversations' endings), persistence "
        "and a second set of K rollouts, and "
        "write report.json, PNG figures and report.html to --out. Rows are appended to "
        "results.jsonl as they finish: run the same command again to continue a stopped run.",
    )
    ev.add_argument(
        "--prompts", metavar="FILE", help="JSONL conversations (default: the shipped set)"
    )
    ev.add_argument("--out", metavar="DIR", required=True, help="where results and the report go")
    ev.add_argument("--rollouts", type=int, default=8, help="K")
    ev.add_argument("--max-tokens", type=int, default=64, help="tokens per generated reply")
    ev.add_argument("--lookahead", type=int, default=48, help="plan.max_lookahead_tokens")
    ev.add_argument("--refresh", type=int, default=8, help="refresh every N tokens")
    ev.add_argument(
        "--horizons", help="horizons of generated replies (default sentence,paragraph,turn; "
        "followed turns plan 'user')"
    )  # fmt: skip
    ev.add_argument("--clustering", choices=["embedding", "text"], default="embedding")
    ev.add_argument(
        "--no-ceiling", action="store_true", help="skip the second set of K rollouts (faster)"
    )
    ev.add_argument(
        "--concurrency", type=int, default=DEFAULT_CONCURRENCY,
        help="conversations planned at once on the engine (it batches their rollouts); "
        "rows do not depend on it, so a stopped run may continue with another value",
    )  # fmt: skip
    add_engine_args(ev)
    ev.set_defaults(func=_eval, gpu_memory_utilization=0.15)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="foresight", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve", help="serve the OpenAI-compatible API", formatter_class=DefaultsFormatter
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0: all)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind")
    serve.add_argument("--max-n", type=int, default=16, help="largest n a request may ask for")
    serve.add_argument("--log-level", default="info", help="uvicorn's log level")
    plans = serve.add_argument_group("plans")
    plans.add_argument(
        "--store",
        help="plan store: sqlite:///path/plans.db or redis://host:port/db "
        "(default: SQLite in $FORESIGHT_DATA_DIR or ~/.local/share/foresight)",
    )
    # Defaults come from the typed objects that own them, so they are written once.
    limits = PlanLimits()
    plans.add_argument(
        "--plan-ttl", type=float, default=DEFAULT_TTL_SECONDS, help="plan lifetime, s"
    )
    plans.add_argument(
        "--max-rollouts", type=int, default=limits.max_rollouts, help="largest plan.rollouts"
    )
    plans.add_argument(
        "--max-lookahead", type=int, default=limits.max_lookahead_tokens, help="largest lookahead"
    )
    budget = plans.add_mutually_exclusive_group()
    budget.add_argument(
        "--rollout-budget",
        type=int,
        help="rollouts decoding at once across all plans, shared max-min fairly; a plan "
        "whose share is short gets fewer rollouts per refresh, marked degraded "
        "(default: twice --max-rollouts)",
    )
    budget.add_argument(
        "--max-rollouts-in-flight",
        type=int,
        help="deprecated: the old name of --rollout-budget (logs a warning)",
    )
    plans.add_argument(
        "--horizons",
        default=",".join(limits.allowed_horizons),
        help="horizons requests may ask for (comma-separated)",
    )
    add_guard_args(serve)
    add_engine_args(serve)
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
    _add_eval(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["chat"]:
        # Imported here: the SDK and rich are for this subcommand only.
        from foresight_client.terminal import main as chat

        return chat(args_list[1:], prog="foresight chat")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(args_list)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
