"""HTTP route for /v1/chat/completions (thin: parse, delegate, return)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from server.chat.protocol import ChatCompletionRequest
from server.chat.serving import create_chat_completion
from server.dependencies import cancel_on_disconnect, engine_of, plans_of, server_config
from server.limits import check_messages, check_sampling
from server.plans.lookup import check_previous

router = APIRouter()


@router.post("/v1/chat/completions")
@cancel_on_disconnect
async def chat_completions(body: ChatCompletionRequest, raw: Request) -> Response:
    config = server_config(raw)
    check_sampling(body, config)
    check_messages([m.text() for m in body.messages], config)
    if body.plan is not None:
        await check_previous(plans_of(raw), body.plan.previous_id)
    return await create_chat_completion(engine_of(raw), body, config, plans_of(raw))
