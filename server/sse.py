"""Server-sent events in the OpenAI streaming format (``data: {...}`` … ``data: [DONE]``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel
from sse_starlette import EventSourceResponse

from server.errors import error_payload

log = logging.getLogger(__name__)


async def _frames(
    events: AsyncIterator[BaseModel | dict[str, Any]],
) -> AsyncIterator[dict[str, str]]:
    import json

    try:
        async for event in events:
            if isinstance(event, BaseModel):
                data = event.model_dump_json(exclude_none=False)
            else:
                data = json.dumps(event)
            yield {"data": data}
    except Exception as exc:
        # Headers are gone already; the OpenAI SDK raises on an `error` event.
        log.warning("stream failed: %s", exc)
        yield {"data": json.dumps(error_payload(exc))}
    yield {"data": "[DONE]"}


def sse_response(events: AsyncIterator[BaseModel | dict[str, Any]]) -> EventSourceResponse:
    """Stream events; a client disconnect cancels the iterator (and so the engine work)."""
    return EventSourceResponse(_frames(events), sep="\n", ping=15)
