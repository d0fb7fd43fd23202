"""HTTP route for /v1/completions (thin: parse, delegate, return)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from server.completions.protocol import CompletionRequest
from server.completions.serving import create_completion
from server.dependencies import cancel_on_disconnect, engine_of, plans_of, server_config

router = APIRouter()


@router.post("/v1/completions")
@cancel_on_disconnect
async def completions(body: CompletionRequest, raw: Request) -> Response:
    return await create_completion(engine_of(raw), body, server_config(raw), plans_of(raw))
