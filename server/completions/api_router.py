"""HTTP route for /v1/completions (thin: parse, delegate, return)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from server.completions.protocol import CompletionRequest
from server.completions.serving import create_completion
from server.dependencies import cancel_on_disconnect, engine_of, plans_of, server_config
from server.limits import check_prompt, check_sampling
from server.plans.lookup import check_previous

router = APIRouter()


@router.post("/v1/completions")
@cancel_on_disconnect
async def completions(body: CompletionRequest, raw: Request) -> Response:
    config = server_config(raw)
    check_sampling(body, config)
    check_prompt(body.prompt, config)
    if body.plan is not None:
        await check_previous(plans_of(raw), body.plan.previous_id)
    return await create_completion(engine_of(raw), body, config, plans_of(raw))
