"""HTTP load for ``foresight bench``: streamed chat requests, timed as a client sees them.

Two uses: ``run_load`` drives N concurrent planned streams at a running server (TTFT, ITL,
how far the plan trails the text, errors); ``compare_servers`` runs the same plain requests
through vLLM's own OpenAI server and through ``foresight serve`` (one after the other) to show
what our server layer costs. SSE is parsed by hand (``data:`` lines): httpx-sse is not a
dependency. Requests ask for ``logprobs`` so each chunk says how many tokens it carries.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.servers import EngineArgs, foresight_command, free_port, scratch_dir, started
from bench.servers import vllm_command as vllm_openai_command
from bench.stats import Timing, latency_summary, ratio, summary


@dataclass
class StreamResult:
    """One streamed chat completion."""

    timing: Timing | None = None
    # (arrival, text_offset of the snapshot, the server's own refresh-to-snapshot seconds)
    snapshots: list[tuple[float, int, float]] = field(default_factory=list)
    chars: list[tuple[int, float]] = field(default_factory=list)  # (text length so far, arrival)
    degraded: int = 0  # snapshots the server marked degraded (fewer rollouts than asked)
    late: int = 0  # snapshots the server marked late (they trailed the text)
    rollout_tokens: int | None = None  # from the final plan event
    error: str | None = None

    def snapshot_lags(self) -> list[float]:
        """Per snapshot: its arrival minus the arrival of the text up to its position.

        This is how far the plan trails the text the client already has; position 0 counts
        from the request start.
        """
        if self.timing is None:
            return []
        lags = []
        for arrived, offset, _ in self.snapshots:
            at = self.timing.start if offset == 0 else None
            for length, t in self.chars:
                if at is None and length >= offset:
                    at = t
            if at is not None:
                lags.append(arrived - at)
        return lags


async def stream_chat(client: httpx.AsyncClient, body: dict[str, Any]) -> StreamResult:
    """POST one streaming chat request and time its chunks."""
    result = StreamResult()
    arrivals: list[tuple[float, int]] = []
    length = 0
    start = time.perf_counter()
    try:
        async with client.stream("POST", "/v1/chat/completions", json=body) as resp:
            if resp.status_code != 200:
                result.error = f"HTTP {resp.status_code}: {(await resp.aread())[:200]!r}"
                return result
            async for line in resp.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                now, chunk = time.perf_counter(), json.loads(data)
                if "error" in chunk:
                    result.error = str(chunk["error"].get("message"))
                    continue
                plan = chunk.get("plan") or {}
                if plan.get("type") == "snapshot":
                    snap = plan["snapshot"]
                    result.snapshots.append((now, snap["text_offset"], snap["latency_seconds"]))
                    result.degraded += bool(snap.get("degraded"))
                    result.late += bool(snap.get("late"))
                elif plan.get("type") == "plan":
                    result.rollout_tokens = (plan.get("stats") or {}).get("rollout_tokens")
                for choice in chunk.get("choices") or []:
                    text = (choice.get("delta") or {}).get("content") or ""
                    n = len(((choice.get("logprobs") or {}).get("content")) or [])
                    if n or text:
                        arrivals.append((now, n or 1))
                        length += len(text)
                        result.chars.append((length, now))
    except (httpx.HTTPError, json.JSONDecodeError, KeyError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    text_done = arrivals[-1][0] if arrivals else start
    result.timing = Timing(start, arrivals, text_done, time.perf_counter())
    return result


def chat_body(
    model: str, prompt: str, max_tokens: int, seed: int, plan: dict[str, Any] | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "seed": seed,
        "stream": True,
        "logprobs": True,
    }
    if plan is not None:
        body["plan"] = plan
    return body


def _stats(results: Sequence[StreamResult], wall: float) -> dict[str, Any]:
    ok = [r for r in results if r.error is None and r.timing is not None]
    timings = [r.timing for r in ok if r.timing is not None]
    tokens = sum(t.tokens for t in timings)
    errors = [r.error for r in results if r.error is not None]
    return {
        "requests": len(results),
        "errors": len(errors),
        "error_examples": errors[:3],
        "tokens": tokens,
        "wall_seconds": wall,
        "tokens_per_second": tokens / wall if wall > 0 else None,
        **latency_summary(timings),
        "snapshot_lag_seconds": summary([lag for r in ok for lag in r.snapshot_lags()]),
        "snapshot_latency_seconds": summary([s[2] for r in ok for s in r.snapshots]),
        "completion_seconds": summary([t.completion_seconds for t in timings]),
        "snapshots": sum(len(r.snapshots) for r in ok),
        "degraded_snapshots": sum(r.degraded for r in ok),
        "streams_without_snapshots": sum(not r.snapshots for r in ok),
    }


async def _model(client: httpx.AsyncClient) -> str:
    resp = await client.get("/v1/models")
    resp.raise_for_status()
    return str(resp.json()["data"][0]["id"])


async def run_load(
    base_url: str,
    prompts: Sequence[str],
    *,
    concurrency: int,
    requests: int,
    max_tokens: int,
    plan: dict[str, Any] | None,
    seed: int = 0,
    model: str | None = None,
    progress: bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """``requests`` streamed chat requests, ``concurrency`` at a time, with a progress bar.

    ``transport`` replaces the network (tests pass an ``httpx.MockTransport``).
    """
    from tqdm import tqdm

    limits = httpx.Limits(max_connections=concurrency + 2)
    timeout = httpx.Timeout(600.0, connect=10.0)
    async with httpx.AsyncClient(
        base_url=base_url, timeout=timeout, limits=limits, transport=transport
    ) as client:
        model = model or await _model(client)
        gate = asyncio.Semaphore(concurrency)
        bar = tqdm(total=requests, desc="load", unit="req", disable=not progress)
        done: list[StreamResult] = []

        async def one(i: int) -> StreamResult:
            async with gate:
                body = chat_body(model, prompts[i % len(prompts)], max_tokens, seed + i, plan)
                result = await stream_chat(client, body)
            done.append(result)
            bar.update(1)
            bar.set_postfix(errors=sum(r.error is not None for r in done))
            return result

        start = time.perf_counter()
        results = await asyncio.gather(*(one(i) for i in range(requests)))
        wall = time.perf_counter() - start
        bar.close()
    return {"base_url": base_url, "concurrency": concurrency, "plan": plan, **_stats(results, wall)}


async def compare_load(
    base_url: str,
    prompts: Sequence[str],
    *,
    concurrency: int,
    requests: int,
    max_tokens: int,
    plan: dict[str, Any],
    seed: int = 0,
    progress: bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """The planned load beside its two baselines, one after the other on the same server:
    the same requests without a plan at the same concurrency (what the plan costs the
    text), and planned streams one at a time (how far a plan trails when it is alone).

    The ratios are the issue's load targets: main-text ITL planned / plain at the same
    concurrency, and snapshot lag p90 at ``concurrency`` / single stream.
    """
    load = functools.partial(
        run_load, base_url, prompts,
        max_tokens=max_tokens, seed=seed, progress=progress, transport=transport,
    )  # fmt: skip
    plain = await load(concurrency=concurrency, requests=requests, plan=None)
    single = await load(concurrency=1, requests=min(requests, concurrency), plan=plan)
    planned = await load(concurrency=concurrency, requests=requests, plan=plan)
    itl, plain_itl = planned["itl_seconds"], plain["itl_seconds"]
    lag, single_lag = planned["snapshot_lag_seconds"], single["snapshot_lag_seconds"]
    return {
        **planned,
        "baselines": {"plain": plain, "single": single},
        "ratios": {
            "itl_mean_vs_plain": ratio(itl["mean"], plain_itl["mean"]),
            "itl_p90_vs_plain": ratio(itl["p90"], plain_itl["p90"]),
            "snapshot_lag_p90_vs_single": ratio(lag["p90"], single_lag["p90"]),
        },
    }


async def _sequential(
    base_url: str, prompts: Sequence[str], n: int, max_tokens: int, seed: int
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(600.0)) as client:
        model = await _model(client)
        await stream_chat(client, chat_body(model, prompts[0], 8, seed, None))  # warm-up
        start, results = time.perf_counter(), []
        for i in range(n):
            body = chat_body(model, prompts[i % len(prompts)], max_tokens, seed + i, None)
            results.append(await stream_chat(client, body))
        return _stats(results, time.perf_counter() - start)


def compare_servers(
    args: EngineArgs, prompts: Sequence[str], *, requests: int, max_tokens: int, seed: int = 0
) -> dict[str, Any]:
    """The same plain requests (one at a time, same seeds) through each server in turn."""
    out: dict[str, Any] = {}
    scratch = scratch_dir()
    servers = {
        "vllm-openai": (vllm_openai_command(args, port := free_port()), port, "/health"),
        "foresight": (foresight_command(args, port2 := free_port(), scratch), port2, "/ready"),
    }
    for name, (command, p, ready) in servers.items():
        with started(command, p, ready, f"{scratch}/{name}.log") as url:
            out[name] = asyncio.run(_sequential(url, prompts, requests, max_tokens, seed))
    ours, theirs = out["foresight"], out["vllm-openai"]
    out["ratios"] = {
        "ttft_p50": ratio(ours["ttft_seconds"]["p50"], theirs["ttft_seconds"]["p50"]),
        "itl_p50": ratio(ours["itl_seconds"]["p50"], theirs["itl_seconds"]["p50"]),
        "itl_mean": ratio(ours["itl_seconds"]["mean"], theirs["itl_seconds"]["mean"]),
        "throughput": ratio(ours["tokens_per_second"], theirs["tokens_per_second"]),
    }
    out["logs"] = scratch
    return out
