"""HTTP route for /v1/completions (thin: parse, delegate, return)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from server.completions.protocol import CompletionRequest, CompletionResponse
from server.completions.serving import create_completion
from server.dependencies import cancel_on_disconnect, engine_of, planner_of, server_config, tenant
from server.limits import check_prompt, check_sampling
from server.openapi import streamed

router = APIRouter()


@router.post(
    "/v1/completions",
    response_model=None,
    responses=streamed(CompletionResponse, CompletionResponse),
)
@cancel_on_disconnect
async def completions(body: CompletionRequest, raw: Request) -> Response:
    config = server_config(raw)
    check_sampling(body, config)
    check_prompt(body.prompt, config)
    return await create_completion(
        engine_of(raw), body, config, planner_of(raw), tenant=tenant(raw)
    )
