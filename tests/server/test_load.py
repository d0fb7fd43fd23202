"""Load past capacity on the real engine: every request is served or refused, none lost.

A second app on the session's engine, with a small capacity (4 planned requests running,
2 queued), takes waves of planned streaming chats at rising concurrency. Each wave
prints ``requests=… ok=… rejected=… errors=… lost=…`` with p50/p99 time to first token
and snapshot latency; afterwards every completed plan must be readable.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from live_server import ExtraServer, LiveServer

PLAN = {"rollouts": 2, "horizons": ["sentence"], "clustering": "text"}
COST = 1 + 2 * 1  # server.backpressure.cost_of for PLAN
RUNNING, QUEUED = 4, 2
LEVELS = (2, 6, 12)


@dataclass
class Outcome:
    kind: str = "lost"  # ok, rejected, error, lost
    ttft: float | None = None
    snapshots: list[float] = field(default_factory=list)  # seconds from the request start
    plan_id: str | None = None


async def _one(http: httpx.AsyncClient, i: int) -> Outcome:
    body = {
        "messages": [{"role": "user", "content": f"Tell me fact number {i} about cats."}],
        "max_tokens": 24,
        "stream": True,
        "seed": i,
        "plan": PLAN,
    }
    out, start = Outcome(), time.perf_counter()
    try:
        async with http.stream("POST", "/v1/chat/completions", json=body) as r:
            if r.status_code in (429, 503):
                out.kind = "rejected"
                return out
            if r.status_code != 200:
                out.kind = "error"
                return out
            async for line in r.aiter_lines():
                if not line.startswith("data: "):
                    continue
                data, now = line.removeprefix("data: "), time.perf_counter() - start
                if data == "[DONE]":
                    if out.kind == "lost" and out.plan_id is not None:
                        out.kind = "ok"
                    break
                chunk = json.loads(data)
                if "error" in chunk:
                    out.kind = "error"
                plan = chunk.get("plan") or {}
                if plan.get("type") == "snapshot":
                    out.snapshots.append(now)
                elif plan.get("type") == "plan":
                    out.plan_id = plan["id"]
                for choice in chunk.get("choices") or []:
                    if out.ttft is None and (choice.get("delta") or {}).get("content"):
                        out.ttft = now
    except httpx.TransportError:
        out.kind = "lost"
    return out


def _pct(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.2f}s" if values else "-"


def test_waves_past_capacity_are_served_or_refused_never_lost(
    live: LiveServer, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'plans.db'}"
    server = ExtraServer(live, store, max_running_cost=RUNNING * COST, max_queued=QUEUED).start()

    async def wave(n: int) -> list[Outcome]:
        async with httpx.AsyncClient(base_url=server.url, timeout=300) as http:
            return list(await asyncio.gather(*(_one(http, i) for i in range(n))))

    async def readable(ids: list[str]) -> list[int]:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            return [(await http.get(f"/v1/plans/{i}")).status_code for i in ids]

    try:
        for n in LEVELS:
            outcomes = asyncio.run(wave(n))  # the client on its own loop
            kinds = [o.kind for o in outcomes]
            ok = [o for o in outcomes if o.kind == "ok"]
            ttfts = [o.ttft for o in ok if o.ttft is not None]
            snaps = [s for o in ok for s in o.snapshots]
            print(
                f"\nload concurrency={n} capacity={RUNNING}+{QUEUED}: requests={n} "
                f"ok={len(ok)} rejected={kinds.count('rejected')} errors={kinds.count('error')} "
                f"lost={kinds.count('lost')} ttft_p50={_pct(ttfts, 50)} ttft_p99={_pct(ttfts, 99)} "
                f"snapshot_p50={_pct(snaps, 50)} snapshot_p99={_pct(snaps, 99)}"
            )
            assert kinds.count("error") == 0 and kinds.count("lost") == 0, kinds
            if n <= RUNNING + QUEUED:
                assert len(ok) == n, kinds
            else:
                assert len(ok) >= RUNNING + QUEUED and kinds.count("rejected") >= 1, kinds
            ids = [o.plan_id for o in ok if o.plan_id is not None]
            assert asyncio.run(readable(ids)) == [200] * len(ids)
    finally:
        server.stop()
