"""`foresight eval --concurrency N` on the real engine: wall and CPU seconds (this process and
its children, vLLM's engine core among them) for the same conversations at each N.

    PYTHONPATH=$PWD .venv/bin/python scripts/eval_concurrency.py OUT 4 4,2,1 [OFFSET]

plans 4 generated conversations of the default set (from OFFSET) at each level in turn, on
one engine, after one untimed warm-up conversation; 24-token replies and lookahead, K = 8,
a refresh every 8 tokens, embedding clustering, with the ceiling. Results: docs/eval/concurrency.md.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import time
from pathlib import Path

import psutil

from bench.eval.command import evaluate
from bench.eval.prompts import default_path, load_prompts
from bench.eval.results import Results
from bench.eval.settings import EvalSettings
from planner.clustering import make_clusterer
from planner.engine.config import EngineConfig
from planner.engine.model_cache import prepare_default_model
from planner.engine.vllm_engine import VLLMEngine


def cpu_seconds() -> float:
    me = psutil.Process()
    total = 0.0
    for p in (me, *me.children(recursive=True)):
        try:
            c = p.cpu_times()
            total += c.user + c.system
        except psutil.Error:
            pass
    return total


async def main(out: Path, n: int, levels: list[int], offset: int) -> None:
    generated = [p for p in load_prompts(default_path()) if p.mode == "generate"]
    prompts = generated[offset : offset + n]
    settings = EvalSettings(max_tokens=24, lookahead=24, refresh=8)
    engine = VLLMEngine(EngineConfig(model=str(prepare_default_model()), max_model_len=2048))
    try:
        clusterer = await asyncio.to_thread(make_clusterer, "embedding")
        warm = Results(out / "warm", {})
        await evaluate(engine, prompts[:1], settings, clusterer, warm, io.StringIO(), 1)
        for level in levels:
            c0, w0 = cpu_seconds(), time.perf_counter()
            res = Results(out / f"c{level}", {})
            await evaluate(engine, prompts, settings, clusterer, res, io.StringIO(), level)
            rows = [r for r in res.rows if "plan" in r]
            line = {
                "concurrency": level,
                "conversations": len(rows),
                "wall_s": round(time.perf_counter() - w0, 1),
                "cpu_s": round(cpu_seconds() - c0, 1),
                "tokens": sum(
                    r["plan"]["stats"]["rollout_tokens"] + r["plan"]["completion_tokens"]
                    for r in rows
                ),
                "load1": round(os.getloadavg()[0], 1),
            }
            print(json.dumps(line), flush=True)
    finally:
        engine.shutdown()


if __name__ == "__main__":
    offset = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    levels = [int(x) for x in sys.argv[3].split(",")]
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), levels, offset))
