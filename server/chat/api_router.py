"""HTTP route for /v1/chat/completions (thin: parse, delegate, return)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from server.chat.protocol import ChatCompletionRequest
from server.chat.serving import create_chat_completion
from server.dependencies import cancel_on_disconnect, engine_of, plans_of, server_config

router = APIRouter()


@router.post("/v1/chat/completions")
@cancel_on_disconnect
async def chat_completions(body: ChatCompletionRequest, raw: Request) -> Response:
    return await create_chat_completion(engine_of(raw), body, server_config(raw), plans_of(raw))
