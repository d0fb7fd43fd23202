"""HTTP route for /v1/chat/completions (thin: parse, delegate, return)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from server.chat.protocol import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
)
from server.chat.serving import create_chat_completion
from server.dependencies import cancel_on_disconnect, engine_of, planner_of, server_config, tenant
from server.limits import check_messages, check_sampling
from server.openapi import streamed

router = APIRouter()


@router.post(
    "/v1/chat/completions",
    response_model=None,
    responses=streamed(ChatCompletionResponse, ChatCompletionChunk),
)
@cancel_on_disconnect
async def chat_completions(body: ChatCompletionRequest, raw: Request) -> Response:
    config = server_config(raw)
    check_sampling(body, config)
    check_messages([m.text() for m in body.messages], config)
    return await create_chat_completion(
        engine_of(raw), body, config, planner_of(raw), tenant=tenant(raw)
    )
