"""Prometheus metrics of the HTTP layer (``foresight_`` prefix).

vLLM's own engine metrics (``vllm:`` prefix) register in the same default
registry, so ``GET /metrics`` serves both.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest
from starlette.routing import Match

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

HTTP_REQUESTS = Counter(
    "foresight_http_requests_total",
    "HTTP requests by route and status.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "foresight_http_request_duration_seconds",
    "Time from request to the last byte of the response.",
    ["route"],
    buckets=_LATENCY_BUCKETS,
)
TTFT = Histogram(
    "foresight_time_to_first_token_seconds",
    "Time from request arrival to the first generated token.",
    ["endpoint"],
    buckets=_LATENCY_BUCKETS,
)
TOKENS_GENERATED = Counter(
    "foresight_generated_tokens_total", "Completion tokens generated (main text).", ["endpoint"]
)
PROMPT_TOKENS = Counter("foresight_prompt_tokens_total", "Prompt tokens processed.", ["endpoint"])
REQUESTS_RUNNING = Gauge(
    "foresight_requests_running", "Generation requests that have produced their first token."
)
REQUESTS_WAITING = Gauge(
    "foresight_requests_waiting", "Generation requests admitted but waiting for a first token."
)


def _route_of(request: Request) -> str:
    # Label by route template, never by raw path: ids in paths would explode cardinality.
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match == Match.FULL:
            return str(getattr(route, "path", "unmatched"))
    return "unmatched"


def install_metrics(app: FastAPI) -> None:
    """Count and time every HTTP request; serve ``GET /metrics``."""

    @app.middleware("http")
    async def _observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        route = _route_of(request)
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            HTTP_REQUESTS.labels(route, request.method, str(status)).inc()
            HTTP_LATENCY.labels(route).observe(time.perf_counter() - start)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(_generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


class GenerationTracker:
    """Moves one request through waiting → running and records its first-token time."""

    def __init__(self, endpoint: str, prompt_tokens: int) -> None:
        self.endpoint = endpoint
        self._start = time.perf_counter()
        self._state = "waiting"
        REQUESTS_WAITING.inc()
        PROMPT_TOKENS.labels(endpoint).inc(prompt_tokens)

    def tokens(self, count: int) -> None:
        """Count generated tokens; the first call marks the first token."""
        if count <= 0:
            return
        if self._state == "waiting":
            TTFT.labels(self.endpoint).observe(time.perf_counter() - self._start)
            REQUESTS_WAITING.dec()
            REQUESTS_RUNNING.inc()
            self._state = "running"
        TOKENS_GENERATED.labels(self.endpoint).inc(count)

    def close(self) -> None:
        """The request is over (finished, failed or cancelled)."""
        if self._state == "waiting":
            REQUESTS_WAITING.dec()
        elif self._state == "running":
            REQUESTS_RUNNING.dec()
        self._state = "closed"
