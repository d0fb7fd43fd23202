"""Liveness, readiness and the model list."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from server.dependencies import engine_of, holder_of, server_config
from server.protocol import ModelCard, ModelList

router = APIRouter()
_STARTED = int(time.time())


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    """Readiness: 200 once the engine can serve, 503 before and while stopping."""
    holder = holder_of(request)
    draining = request.app.state.admission.draining
    if holder.ready and not draining:
        return JSONResponse({"status": "ready"})
    stopping = holder.stopping or draining
    status = "stopping" if stopping else ("failed" if holder.error else "starting")
    return JSONResponse({"status": status}, status_code=503)


@router.get("/v1/models")
async def models(request: Request) -> ModelList:
    engine = engine_of(request)
    card = ModelCard(
        id=engine.model_name,
        created=_STARTED,
        root=server_config(request).engine.model,
        max_model_len=engine.max_model_len,
    )
    return ModelList(data=[card])
