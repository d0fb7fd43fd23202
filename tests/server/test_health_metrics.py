"""Liveness, readiness, the model list and Prometheus metrics."""

from __future__ import annotations

import contextlib
import re

import httpx
import openai
from live_server import LiveServer


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_ready_flipped_from_503_to_200(live: LiveServer) -> None:
    assert live.ready_statuses[0] == 503
    assert live.ready_statuses[-1] == 200
    assert httpx.get(f"{live.url}/ready").status_code == 200
    assert httpx.get(f"{live.url}/health").json() == {"status": "ok"}


def test_ready_means_the_default_clustering_model_is_loaded(live: LiveServer) -> None:
    """/ready waits for it, so that the first planned requests do not (they used to wait
    ~10 s for it to load)."""
    assert live.app.state.planner.has_clusterer("embedding")


def test_models_lists_the_served_model(client: openai.OpenAI, live: LiveServer) -> None:
    models = client.models.list()
    assert [m.id for m in models.data] == [live.engine.model_name]


def test_metrics_count_requests_tokens_and_latency(
    client: openai.OpenAI, model: str, live: LiveServer
) -> None:
    before = httpx.get(f"{live.url}/metrics").text
    route = "/v1/chat/completions"
    ok_before = _metric(before, "foresight_http_requests_total", route=route, status="200")
    bad_before = _metric(before, "foresight_http_requests_total", route=route, status="400")
    tokens_before = _metric(before, "foresight_generated_tokens_total", endpoint="chat")
    ttft_before = _metric(before, "foresight_time_to_first_token_seconds_count", endpoint="chat")

    r = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hi"}], max_tokens=4, seed=1
    )
    with contextlib.suppress(openai.BadRequestError):
        client.chat.completions.create(model=model, messages=[], max_tokens=4)

    after = httpx.get(f"{live.url}/metrics").text
    assert (
        _metric(after, "foresight_http_requests_total", route=route, status="200") == ok_before + 1
    )
    assert (
        _metric(after, "foresight_http_requests_total", route=route, status="400") == bad_before + 1
    )
    assert r.usage is not None
    generated = _metric(after, "foresight_generated_tokens_total", endpoint="chat")
    assert generated == tokens_before + r.usage.completion_tokens
    ttft = _metric(after, "foresight_time_to_first_token_seconds_count", endpoint="chat")
    assert ttft == ttft_before + 1
    assert _metric(after, "foresight_requests_running") == 0
    assert _metric(after, "foresight_requests_waiting") == 0
    assert re.search(r"^foresight_http_request_duration_seconds_bucket", after, re.M)
    # vLLM's own engine metrics are served beside ours.
    assert re.search(r"^vllm:", after, re.M)


def test_plan_metrics_follow_the_plan(client: openai.OpenAI, model: str, live: LiveServer) -> None:
    """The plan counters grow by what the finished plan reports about itself."""
    names = [
        "foresight_plans_total",
        "foresight_plan_refreshes_total",
        "foresight_rollout_tokens_total",
        "foresight_rollout_prompt_tokens_total",
        "foresight_rollout_cached_prompt_tokens_total",
    ]
    horizons = ["sentence", "paragraph", "turn"]
    before = httpx.get(f"{live.url}/metrics").text
    r = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Name three colours."}],
        max_tokens=24,
        seed=5,
        extra_body={"plan": {"horizons": horizons, "rollouts": 2, "max_lookahead_tokens": 16}},
    )
    plan = (r.choices[0].model_extra or {})["plan"]
    after = httpx.get(f"{live.url}/metrics").text
    grown = {n: _metric(after, n) - _metric(before, n) for n in names}
    stats = plan["stats"]
    assert grown == {
        "foresight_plans_total": 1,
        "foresight_plan_refreshes_total": len(plan["snapshots"]),
        "foresight_rollout_tokens_total": stats["rollout_tokens"],
        "foresight_rollout_prompt_tokens_total": stats["rollout_prompt_tokens"],
        "foresight_rollout_cached_prompt_tokens_total": stats["rollout_cached_prompt_tokens"],
    }
    assert 0 < stats["rollout_cached_prompt_tokens"] < stats["rollout_prompt_tokens"]
    for h in horizons:
        planned = sum(h in s["horizons"] for s in plan["snapshots"])
        name = "foresight_plan_horizon_refreshes_total"
        assert _metric(after, name, horizon=h) - _metric(before, name, horizon=h) == planned
