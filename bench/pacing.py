"""Measure plan.pace and what each horizon costs, on one ``foresight serve`` (real engine).

Pacing: the same seeded requests plain, with pace ``text`` and with pace ``plan`` at each
``--holds`` bound, in turn per prompt (so a busy neighbour hits all alike). Per snapshot, its lead:
when the text passing its position reached the client minus when the snapshot did
(positive: the plan came first); per request, TTFT, ITL and the text and plan times.
Horizons: sentence; sentence + turn; sentence + turn + user (pace ``text``): the rollout
tokens and the wall time each adds. Run: ``python -m bench.pacing --json out.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any

import httpx

from bench.http_load import chat_body, stream_chat
from bench.servers import EngineArgs, foresight_command, free_port, scratch_dir, started
from bench.stats import latency_summary, summary
from bench.table import write_json
from planner.engine.config import EngineConfig
from planner.engine.model_cache import prepare_default_model

PROMPTS = (
    "Write a short story about a lighthouse keeper.",
    "Explain how a bicycle works to a child.",
    "Describe a walk through a forest in autumn.",
)
HORIZON_SETS = (("sentence",), ("sentence", "turn"), ("sentence", "turn", "user"))


async def _stream(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    """One streamed chat (``bench.http_load.stream_chat``) and each snapshot's lead."""
    result = await stream_chat(client, body)
    if result.error is not None or result.timing is None:
        raise RuntimeError(f"pacing request failed: {result.error}")
    timing = result.timing
    leads = []
    for arrived, offset, _ in result.snapshots:
        passed = next((t for n, t in result.chars if n > offset), None)
        if passed is not None:  # a snapshot at the end of the text has nothing to lead
            leads.append(passed - arrived)
    s = latency_summary([timing])
    return {
        "tokens": timing.tokens,
        "ttft": s["ttft_seconds"]["p50"],
        "itl_mean": s["itl_seconds"]["mean"],
        "itl_p90": s["itl_seconds"]["p90"],
        "text_seconds": timing.text_seconds,
        "completion_seconds": timing.completion_seconds,
        "leads": leads,
        "late": result.late,
        "snapshots": len(result.snapshots),
        "rollout_tokens": result.rollout_tokens,
    }


def _pool(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    leads = [x for r in rows for x in r.get("leads", [])]

    def mean(key: str) -> float:
        return sum(r[key] for r in rows) / len(rows)

    return {
        "requests": len(rows),
        "ttft_mean": mean("ttft"),
        "itl_mean": mean("itl_mean"),
        "text_seconds_mean": mean("text_seconds"),
        "completion_seconds_mean": mean("completion_seconds"),
        "snapshot_lead_seconds": summary(leads),
        "share_leading": sum(x > 0 for x in leads) / len(leads) if leads else None,
        "late": sum(r.get("late", 0) for r in rows),
        "snapshots": sum(r.get("snapshots", 0) for r in rows),
        "rollout_tokens_mean": mean("rollout_tokens") if rows[0]["rollout_tokens"] else None,
    }


async def _run(
    url: str, max_tokens: int, prompts: Sequence[str], holds: Sequence[int]
) -> dict[str, Any]:
    out: dict[str, Any] = {"pacing": {}, "horizons": {}}
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(1800.0)) as client:
        model = str((await client.get("/v1/models")).json()["data"][0]["id"])
        await _stream(client, chat_body(model, PROMPTS[0], 16, 0, {"rollouts": 2}))  # warm-up
        arms: dict[str, dict[str, Any] | None] = {"plain": None, "text": {"pace": "text"}}
        for hold in holds:
            arms[f"plan{hold}"] = {"pace": "plan", "max_hold_ms": hold}
        rows: dict[str, list[dict[str, Any]]] = {kind: [] for kind in arms}
        for i, prompt in enumerate(prompts):
            for kind, plan in arms.items():
                r = await _stream(client, chat_body(model, prompt, max_tokens, i, plan))
                rows[kind].append(r)
                print(kind, i, json.dumps(r), flush=True)
        out["pacing"] = {k: _pool(v) for k, v in rows.items()}
        out["pacing_rows"] = rows
        print(json.dumps(out["pacing"]), flush=True)
        hrows: dict[str, list[dict[str, Any]]] = {"+".join(h): [] for h in HORIZON_SETS}
        for i, prompt in enumerate(prompts[:2]):
            for h in HORIZON_SETS:
                hplan: dict[str, Any] = {"pace": "text", "horizons": list(h)}
                r = await _stream(client, chat_body(model, prompt, max_tokens, i, hplan))
                hrows["+".join(h)].append(r)
                print("+".join(h), i, json.dumps(r), flush=True)
        out["horizons"] = {k: _pool(v) for k, v in hrows.items()}
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--prompts", type=int, default=3)
    p.add_argument("--holds", default="1000,5000", help="plan.max_hold_ms values, each an arm")
    p.add_argument("--json", metavar="PATH")
    a = p.parse_args(argv)
    args = EngineArgs.from_config(EngineConfig(model=str(prepare_default_model())))
    port, scratch = free_port(), scratch_dir()
    with started(foresight_command(args, port, scratch), port, "/ready", f"{scratch}/log") as url:
        result = asyncio.run(
            _run(url, a.max_tokens, PROMPTS[: a.prompts], [int(h) for h in a.holds.split(",")])
        )
    print(json.dumps({k: v for k, v in result.items() if k != "pacing_rows"}, indent=2))
    if a.json:
        write_json(result, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
