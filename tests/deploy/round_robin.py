"""A tiny round-robin front for tests: one entry point over several Foresight replicas.

Each request goes to the next replica in turn, whatever its X-Foresight-Conversation
header says, so that consecutive turns of a conversation land on different replicas
(the worst case for plan sharing). A replica that refuses the connection is skipped, as
a load balancer's health check would; once a response has begun it is never retried.
``served`` records which replica answered each request.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class RoundRobinFront:
    """An ASGI app forwarding each request to the next of ``backends`` (base URLs)."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.served: list[str] = []
        self.affinity: list[str | None] = []  # each request's X-Foresight-Conversation
        self._next = itertools.cycle(range(len(backends)))
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(600.0, connect=2.0))
        self.app = Starlette(
            routes=[Route("/{path:path}", self._forward, methods=["GET", "POST", "DELETE"])]
        )

    async def _forward(self, request: Request) -> Response:
        body = await request.body()
        self.affinity.append(request.headers.get("x-foresight-conversation"))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        for _ in self.backends:
            backend = self.backends[next(self._next)]
            outgoing = self._http.build_request(
                request.method,
                f"{backend}{request.url.path}",
                params=request.query_params,
                headers=headers,
                content=body,
            )
            try:
                upstream = await self._http.send(outgoing, stream=True)
            except httpx.ConnectError:
                continue  # that replica is gone: the next one
            self.served.append(backend)
            return StreamingResponse(
                self._relay(upstream),
                status_code=upstream.status_code,
                headers={k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP},
                background=BackgroundTask(upstream.aclose),
            )
        return Response('{"error": {"message": "no replica answers"}}', status_code=502)

    @staticmethod
    async def _relay(upstream: httpx.Response) -> AsyncIterator[bytes]:
        async for chunk in upstream.aiter_raw():
            yield chunk

    async def aclose(self) -> None:
        await self._http.aclose()
