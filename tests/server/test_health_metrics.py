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
    assert live.app.state.plans.has_clusterer("embedding")


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
