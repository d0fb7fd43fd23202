"""The real app on the synthetic Markov engine, in-process: HTTP-layer tests in seconds.

``serve`` builds ``server.app.create_app`` with an engine factory and its own store, runs
the app's lifespan (engine start, clustering warm-up, store close) on the test loop and
hands out an ``httpx.AsyncClient`` over ``httpx.ASGITransport``: no socket, no vLLM.
``markov_server`` also waits for ``/ready`` and adds the official ``openai.AsyncOpenAI`` on
that client; the fixtures in ``tests/server/conftest.py`` use it. ASGITransport buffers a
response before returning it, so streams arrive whole (their order intact); client
disconnects cannot be tested here (the real-engine suites do).

The lifespan warms the default embedding clusterer; its model loads once per process
(``planner.clustering`` keeps it), so only the first app of a session pays those seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
from fastapi import FastAPI
from markov_engine import MarkovEngine

from planner.engine.config import EngineConfig
from planner.engine.protocol import Engine, Sampling
from server.app import create_app
from server.config import ServerConfig

BASE_URL = "http://foresight.test"
READY_TIMEOUT = 120.0  # the first app of a process loads the embedding model


@dataclass
class MarkovServer:
    """A ready app on a ``MarkovEngine``: raw HTTP, the official SDK, and the engine."""

    app: FastAPI
    engine: MarkovEngine
    http: httpx.AsyncClient
    sdk: openai.AsyncOpenAI
    model: str
    ready_statuses: list[int]  # /ready answers seen while starting


def markov_config(store: Path | str) -> ServerConfig:
    """A server configuration for the Markov engine: a SQLite file or a store URL."""
    url = f"sqlite:///{store}" if isinstance(store, Path) else store
    engine = EngineConfig(model="synthetic/markov-test", max_model_len=MarkovEngine().max_model_len)
    return ServerConfig(engine=engine, max_n=8, store=url)


async def wait_ready(http: httpx.AsyncClient, app: FastAPI) -> list[int]:
    """Poll /ready until 200; give up with the holder's error, if any, or after a timeout."""
    statuses: list[int] = []
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        statuses.append((await http.get("/ready")).status_code)
        if statuses[-1] == 200:
            return statuses
        if app.state.engine_holder.error:
            raise RuntimeError(f"the engine failed to start: {app.state.engine_holder.error}")
        await asyncio.sleep(0.005)
    raise TimeoutError(f"the app did not become ready in {READY_TIMEOUT} s; /ready said {statuses}")


@contextlib.asynccontextmanager
async def serve(
    config: ServerConfig, factory: Callable[[], Engine]
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app with its lifespan running, and a client on it (not yet waited for)."""
    app = create_app(config, engine_factory=factory)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=60) as http:
            yield app, http


@contextlib.asynccontextmanager
async def markov_server(
    store: Path | str, engine: MarkovEngine | None = None
) -> AsyncIterator[MarkovServer]:
    """A ready app on ``engine`` (a new ``MarkovEngine`` by default) and ``store``."""
    engine = engine or MarkovEngine()
    async with serve(markov_config(store), lambda: engine) as (app, http):
        statuses = await wait_ready(http, app)
        sdk = openai.AsyncOpenAI(  # openai accepts an httpx client beside its own httpx2
            base_url=f"{BASE_URL}/v1",
            api_key="unused",
            max_retries=0,
            http_client=http,  # type: ignore[arg-type]
        )
        yield MarkovServer(app, engine, http, sdk, engine.model_name, statuses)


@dataclass
class Sampled:
    """What the Markov engine itself produces for one request."""

    text: str
    token_ids: list[int]
    finish_reason: str | None


async def sample(prompt_ids: list[int], **sampling: object) -> Sampled:
    """Run one request on a fresh ``MarkovEngine``: the expected output of a seeded or greedy
    request, since each request draws from its own ``default_rng(seed)``."""
    settings = Sampling(**sampling)  # type: ignore[arg-type]
    deltas = [d async for d in MarkovEngine().generate("expected", prompt_ids, settings)]
    tokens = [t for d in deltas for t in d.token_ids]
    return Sampled("".join(d.text for d in deltas), tokens, deltas[-1].finish_reason)


def chat_ids(messages: list[dict[str, str]]) -> list[int]:
    """The prompt token ids of a chat on the Markov engine (its own template)."""
    tok = MarkovEngine().tokenizer
    return tok.encode_rendered(tok.render_chat(messages, add_generation_prompt=True))
