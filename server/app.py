"""The FastAPI application: routes, error mapping, metrics and the engine's lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from planner import Planner, RolloutBudget, open_store
from planner.engine.protocol import Engine
from server import plan_metrics
from server.auth import AuthMiddleware
from server.backpressure import GENERATION_PATHS, Admission, AdmissionMiddleware
from server.chat.api_router import router as chat_router
from server.chat.protocol import ChatCompletionChunk
from server.completions.api_router import router as completions_router
from server.completions.protocol import CompletionResponse
from server.config import ServerConfig
from server.deadline import DeadlineMiddleware
from server.engine_holder import EngineHolder
from server.engine_watch import watch_engine
from server.errors import install_error_handlers
from server.health import router as health_router
from server.limits import BodyLimitMiddleware
from server.metrics import install_metrics
from server.openapi import install_openapi
from server.plans.api_router import router as plans_router
from server.ui.api_router import router as ui_router

log = logging.getLogger(__name__)


def vllm_factory(config: ServerConfig) -> Callable[[], Engine]:
    """Build the real engine (imported lazily: vLLM takes seconds to import)."""

    def build() -> Engine:
        from planner.engine.vllm_engine import VLLMEngine

        return VLLMEngine(config.engine)

    return build


def create_app(
    config: ServerConfig,
    engine_factory: Callable[[], Engine] | None = None,
    on_engine_failure: Callable[[], None] | None = None,
) -> FastAPI:
    """An app whose engine starts in the background once the server is up.

    ``on_engine_failure`` runs if the engine cannot start (the CLI stops the server, so
    the process exits non-zero instead of answering 503 for ever).
    """
    holder = EngineHolder(engine_factory or vllm_factory(config))
    store = open_store(config.store, ttl_seconds=config.plan_ttl_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Ready once the engine runs and the default clustering model is loaded: the first
        # planned requests used to wait ~10 s for it. (Loaded after the engine, not beside
        # it: importing vLLM and transformers' lazy modules from two threads at once fails,
        # "partially initialized module 'accelerate.hooks'".)
        starting = asyncio.create_task(holder.start(warm=planner.warm))
        app.state.engine_start = starting
        watching: list[asyncio.Task[None]] = []

        def started(task: asyncio.Task[None]) -> None:
            if task.cancelled():
                return
            if task.exception() is None:
                watching.append(asyncio.create_task(watch_engine(holder, on_engine_failure)))
            elif on_engine_failure:
                on_engine_failure()

        starting.add_done_callback(started)
        try:
            yield
        finally:
            if not starting.done():
                starting.cancel()
            for task in watching:
                task.cancel()
            holder.shutdown()
            await planner.close()

    budget = RolloutBudget(config.plan_limits.budget_slots)
    plan_metrics.watch_budget(budget)
    planner = Planner(
        store, config.plan_limits, on_store_error=plan_metrics.store_error, budget=budget
    )
    app = FastAPI(title="Foresight", version="0.1.0", lifespan=lifespan)
    app.state.config = config
    app.state.engine_holder = holder
    app.state.planner = planner
    app.state.admission = admission = Admission(
        config.max_running_cost, config.max_queued, on_abort=planner.keep_cancelled
    )
    install_openapi(app, chunks=[ChatCompletionChunk, CompletionResponse])
    install_error_handlers(app)
    install_metrics(app)
    _install_guards(app, config, admission)
    app.include_router(health_router)
    app.include_router(chat_router)
    app.include_router(completions_router)
    app.include_router(plans_router)
    app.include_router(ui_router)
    return app


def _install_guards(app: FastAPI, config: ServerConfig, admission: Admission) -> None:
    """Outermost first: CORS, auth, body size, deadline, admission (then metrics, routes)."""
    public = frozenset(config.public_paths)
    app.add_middleware(AdmissionMiddleware, admission=admission, public_paths=public)
    if config.request_timeout is not None:
        app.add_middleware(
            DeadlineMiddleware, seconds=config.request_timeout, paths=GENERATION_PATHS
        )
    app.add_middleware(BodyLimitMiddleware, limit=config.max_body_bytes)
    app.add_middleware(AuthMiddleware, keys=config.api_keys, public_paths=public)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_credentials=True,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["authorization", "content-type"],
        )
