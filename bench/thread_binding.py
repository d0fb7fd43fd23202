"""Measure vLLM's CPU thread binding: ``foresight serve`` under each VLLM_CPU_OMP_THREADS_BIND.

vLLM's CPU worker binds its OpenMP threads to core 0 and keeps core 1 for the rest unless
told otherwise. Each setting gets its own server (started in turn: A B A B ..., so that a
busy neighbour on a shared machine hits both sides alike) and the same requests: a plain
greedy reply alone, a planned reply alone (the API process then clusters and segments),
and a plain reply while a planned one streams beside it (the engine shares the batch and
the API process is busy). Run: ``python -m bench.thread_binding --runs 3 --json out.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import httpx

from bench.http_load import StreamResult, chat_body, stream_chat
from bench.servers import EngineArgs, foresight_command, free_port, scratch_dir, started
from bench.stats import latency_summary
from bench.table import write_json
from planner.engine.config import EngineConfig
from planner.engine.model_cache import prepare_default_model

BIND_ENV = "VLLM_CPU_OMP_THREADS_BIND"
PROMPT = "Write a long story about a lighthouse keeper who finds a message in a bottle."
PLAN = {"horizons": ["sentence"], "rollouts": 8}


def _measure(result: StreamResult) -> dict[str, Any]:
    if result.error is not None or result.timing is None:
        return {"error": result.error}
    t = result.timing
    s = latency_summary([t])
    return {
        "tokens": t.tokens,
        "text_seconds": t.text_done - t.start,
        "completion_seconds": t.completion_seconds,
        "tokens_per_second": t.tokens / (t.text_done - t.start),
        "ttft": s["ttft_seconds"]["p50"],
        "itl_mean": s["itl_seconds"]["mean"],
    }


async def _requests(url: str, max_tokens: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(900.0)) as client:
        model = str((await client.get("/v1/models")).json()["data"][0]["id"])

        def body(plan: dict[str, Any] | None, temperature: float) -> dict[str, Any]:
            b = chat_body(model, PROMPT, max_tokens, 1, plan)
            b["temperature"] = temperature
            return b

        await stream_chat(client, body(None, 0.0))  # warm-up
        await stream_chat(client, body(PLAN, 0.7))  # warm-up: the clusterer loads
        plain = await stream_chat(client, body(None, 0.0))
        planned = await stream_chat(client, body(PLAN, 0.7))
        busy_plain, busy_planned = await asyncio.gather(
            stream_chat(client, body(None, 0.0)), stream_chat(client, body(PLAN, 0.7))
        )
    return {
        "plain": _measure(plain),
        "planned": _measure(planned),
        "plain_beside_planned": _measure(busy_plain),
        "planned_beside_plain": _measure(busy_planned),
    }


def run(settings: Sequence[str], runs: int, max_tokens: int) -> list[dict[str, Any]]:
    config = EngineConfig(model=str(prepare_default_model()))
    args = EngineArgs.from_config(config)
    out = []
    for i in range(runs):
        for setting in settings:
            env_before = os.environ.get(BIND_ENV)
            if setting == "default":
                os.environ.pop(BIND_ENV, None)
            else:
                os.environ[BIND_ENV] = setting
            try:
                port = free_port()
                scratch = scratch_dir()
                cmd = foresight_command(args, port, scratch)
                with started(cmd, port, "/ready", f"{scratch}/server.log") as url:
                    measured = asyncio.run(_requests(url, max_tokens))
            finally:
                if env_before is None:
                    os.environ.pop(BIND_ENV, None)
                else:
                    os.environ[BIND_ENV] = env_before
            row = {"run": i, "bind": setting, **measured}
            print(json.dumps(row), flush=True)
            out.append(row)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument(
        "--settings", default="default,0-1", help="VLLM_CPU_OMP_THREADS_BIND values, in turn"
    )
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--json", metavar="PATH")
    a = p.parse_args(argv)
    rows = run(a.settings.split(","), a.runs, a.max_tokens)
    if a.json:
        write_json(rows, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
