"""Liveness, readiness, the model list and Prometheus metrics, on the in-process app.

Metrics live in the process-wide registry that every app of the session shares, so the
tests compare before and after.
"""

from __future__ import annotations

import contextlib
import re
import threading
from pathlib import Path

import httpx
import openai
from markov_engine import MarkovEngine
from markov_server import BASE_URL, MarkovServer, markov_config, serve, wait_ready


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_ready_flips_from_503_to_200_and_back_when_stopping(tmp_path: Path) -> None:
    release = threading.Event()  # the factory runs in a worker thread
    engine = MarkovEngine()

    def slow() -> MarkovEngine:
        release.wait(timeout=60)
        return engine

    async with serve(markov_config(tmp_path / "plans.db"), slow) as (app, http):
        starting = await http.get("/ready")
        assert starting.status_code == 503 and starting.json() == {"status": "starting"}
        assert (await http.get("/health")).json() == {"status": "ok"}
        release.set()
        statuses = await wait_ready(http, app)
        assert statuses[-1] == 200
        assert (await http.get("/ready")).json() == {"status": "ready"}
    # The lifespan has ended: the engine is stopped and the app refuses work.
    assert engine.stopped
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as after:
        stopping = await after.get("/ready")
        assert stopping.status_code == 503 and stopping.json() == {"status": "stopping"}
        r = await after.post("/v1/completions", json={"prompt": " Yes", "max_tokens": 1})
        assert r.status_code == 503 and "shutting down" in r.json()["error"]["message"]
        assert (await after.get("/health")).json() == {"status": "ok"}


async def test_models_lists_the_served_model(shared: MarkovServer) -> None:
    models = await shared.sdk.models.list()
    assert [m.id for m in models.data] == [shared.model]
    card = (await shared.http.get("/v1/models")).json()["data"][0]
    assert card["object"] == "model" and card["owned_by"] == "foresight"
    assert card["max_model_len"] == shared.engine.max_model_len


async def test_metrics_count_requests_tokens_and_latency(markov: MarkovServer) -> None:
    before = (await markov.http.get("/metrics")).text
    route = "/v1/chat/completions"
    ok_before = metric(before, "foresight_http_requests_total", route=route, status="200")
    bad_before = metric(before, "foresight_http_requests_total", route=route, status="400")
    tokens_before = metric(before, "foresight_generated_tokens_total", endpoint="chat")
    prompt_before = metric(before, "foresight_prompt_tokens_total", endpoint="chat")
    ttft_before = metric(before, "foresight_time_to_first_token_seconds_count", endpoint="chat")
    missing_before = metric(before, "foresight_http_requests_total", status="404")

    r = await markov.sdk.chat.completions.create(
        model=markov.model, messages=[{"role": "user", "content": " Yes."}], max_tokens=4, seed=1
    )
    with contextlib.suppress(openai.BadRequestError):
        await markov.sdk.chat.completions.create(model=markov.model, messages=[], max_tokens=4)
    await markov.http.get("/v1/plans/plan-none")
    await markov.http.get("/no/such/route/42")

    after = (await markov.http.get("/metrics")).text
    assert metric(after, "foresight_http_requests_total", route=route, status="200") == (
        ok_before + 1
    )
    assert metric(after, "foresight_http_requests_total", route=route, status="400") == (
        bad_before + 1
    )
    assert r.usage is not None
    generated = metric(after, "foresight_generated_tokens_total", endpoint="chat")
    assert generated == tokens_before + r.usage.completion_tokens
    prompt = metric(after, "foresight_prompt_tokens_total", endpoint="chat")
    assert prompt == prompt_before + r.usage.prompt_tokens
    ttft = metric(after, "foresight_time_to_first_token_seconds_count", endpoint="chat")
    assert ttft == ttft_before + 1
    assert metric(after, "foresight_requests_running") == 0
    assert metric(after, "foresight_requests_waiting") == 0
    assert re.search(r"^foresight_http_request_duration_seconds_bucket", after, re.M)
    # Routes are labelled by template, never by raw path (ids would explode cardinality).
    assert 'route="/v1/plans/{plan_id}"' in after and "plan-none" not in after
    assert 'route="unmatched"' in after and "/no/such/route" not in after
    assert metric(after, "foresight_http_requests_total", status="404") == missing_before + 2


async def test_plan_metrics_follow_the_plan(markov: MarkovServer) -> None:
    """The plan counters grow by what the finished plan reports about itself."""
    names = [
        "foresight_plans_total",
        "foresight_plan_refreshes_total",
        "foresight_rollouts_started_total",
        "foresight_rollouts_carried_total",
        "foresight_rollouts_aborted_total",
        "foresight_rollout_tokens_total",
        "foresight_carried_rollout_tokens_total",
        "foresight_rollout_prompt_tokens_total",
        "foresight_rollout_cached_prompt_tokens_total",
        "foresight_plan_forks_total",
    ]
    horizons = ["sentence", "paragraph", "turn"]
    before = (await markov.http.get("/metrics")).text
    plan_cfg = {"horizons": horizons, "rollouts": 3, "max_lookahead_tokens": 16, "refresh": 2}
    r = await markov.sdk.chat.completions.create(
        model=markov.model,
        messages=[{"role": "user", "content": " Yes."}],
        max_tokens=24,
        seed=5,
        extra_body={"plan": {**plan_cfg, "fork_threshold": 0.0, "clustering": "text"}},
    )
    plan = (r.choices[0].model_extra or {})["plan"]
    after = (await markov.http.get("/metrics")).text
    grown = {n: metric(after, n) - metric(before, n) for n in names}
    stats = plan["stats"]
    assert grown == {
        "foresight_plans_total": 1,
        "foresight_plan_refreshes_total": len(plan["snapshots"]),
        "foresight_rollouts_started_total": stats["rollouts_started"],
        "foresight_rollouts_carried_total": stats["rollouts_carried"],
        "foresight_rollouts_aborted_total": stats["rollouts_aborted"],
        "foresight_rollout_tokens_total": stats["rollout_tokens"],
        "foresight_carried_rollout_tokens_total": stats["carried_rollout_tokens"],
        "foresight_rollout_prompt_tokens_total": stats["rollout_prompt_tokens"],
        "foresight_rollout_cached_prompt_tokens_total": stats["rollout_cached_prompt_tokens"],
        "foresight_plan_forks_total": len(plan["forks"]),
    }
    assert plan["forks"] and stats["rollouts_carried"] > 0  # refresh every 2 tokens carries
    for h in horizons:
        planned = sum(h in s["horizons"] for s in plan["snapshots"])
        name = "foresight_plan_horizon_refreshes_total"
        assert metric(after, name, horizon=h) - metric(before, name, horizon=h) == planned
    scored = len(plan["scores"])
    name = "foresight_plan_log_score_count"
    assert metric(after, name) - metric(before, name) == scored
    top1 = metric(after, "foresight_plan_top1_total") - metric(before, "foresight_plan_top1_total")
    assert top1 == scored
