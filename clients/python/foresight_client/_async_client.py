"""The asynchronous client: ``_client.py`` with ``await``, method for method."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import httpx
from pydantic import BaseModel

from foresight_client import _calls
from foresight_client._base_client import BaseClient, build_request, log_retry, parse_response
from foresight_client._exceptions import ForesightError, status_error, transport_error
from foresight_client._models import ChatCompletion, Completion, Health, ModelCard, PlanDeleted
from foresight_client._plan import Plan
from foresight_client._retry import next_delay
from foresight_client._streaming import AsyncChatStream
from foresight_client._types import MessageParam, PlanParam

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from foresight_client._types import AnalyzeParams, ChatParams, CompletionParams

T = TypeVar("T")
_sleep = anyio.sleep  # tests replace it; anyio (httpx's own dependency) also runs on trio


class AsyncClient(BaseClient):
    """The async mirror of ``Client``. Close it (or use ``async with``) when done."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        model: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            api_key=api_key,
            model=model,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
        )
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=self._headers(),
            timeout=self.timeout,
            transport=transport,
        )
        self.plans = AsyncPlans(self)
        """Plans as resources: ``get``, ``list``, ``delete``, ``analyze``."""

    async def chat(
        self,
        messages: Sequence[MessageParam | BaseModel],
        *,
        model: str | None = None,
        plan: PlanParam = None,
        **params: Unpack[ChatParams],
    ) -> ChatCompletion:
        """A chat completion; with ``plan``, each choice carries its Plan."""
        return await self._call(_calls.chat(messages, self._model(model), plan, params))

    def stream_chat(
        self,
        messages: Sequence[MessageParam | BaseModel],
        *,
        model: str | None = None,
        plan: PlanParam = None,
        **params: Unpack[ChatParams],
    ) -> AsyncChatStream:
        """A streamed chat completion: ``async with`` / ``async for`` it for typed events."""
        call = _calls.chat(messages, self._model(model), plan, params, stream=True)
        return AsyncChatStream(lambda: self._send(call, stream=True))

    async def complete(
        self,
        prompt: str | Sequence[str] | Sequence[int],
        *,
        model: str | None = None,
        plan: PlanParam = None,
        **params: Unpack[CompletionParams],
    ) -> Completion:
        """A text completion of ``prompt`` (a string, strings, or token ids)."""
        return await self._call(_calls.complete(prompt, self._model(model), plan, params))

    async def models(self) -> builtins.list[ModelCard]:
        """The served models (one)."""
        return await self._call(_calls.models())

    async def health(self) -> Health:
        """Liveness; raises if the server does not answer."""
        return await self._call(_calls.health())

    async def close(self) -> None:
        """Release the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _call(self, call: _calls.Call[T]) -> T:
        response = await self._send(call)
        return parse_response(response, call)

    async def _send(self, call: _calls.Call[Any], *, stream: bool = False) -> httpx.Response:
        """Send with retries; a success response (open if ``stream``) or the error raised."""
        request = build_request(self._http, call)
        attempt = 0
        while True:
            error: ForesightError
            try:
                response = await self._http.send(request, stream=stream)
                if stream and not response.is_success:
                    try:
                        await response.aread()
                    finally:
                        await response.aclose()
            except httpx.TransportError as exc:
                error = transport_error(exc, request)
                error.__cause__ = exc
            else:
                if response.is_success:
                    return response
                error = status_error(response)
            delay = next_delay(attempt, self.max_retries, error)
            if delay is None:
                raise error
            log_retry(request, error, delay)
            await _sleep(delay)
            attempt += 1


class AsyncPlans:
    """Plans as resources (``client.plans``), async."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get(self, plan_id: str) -> Plan:
        """A stored plan; NotFoundError if there is none (or it expired)."""
        return await self._client._call(_calls.get_plan(plan_id))

    async def list(self, conversation: str, *, limit: int | None = None) -> builtins.list[Plan]:
        """A conversation's plans (``Plan.conversation``), newest first."""
        return await self._client._call(_calls.list_plans(conversation, limit))

    async def delete(self, plan_id: str) -> PlanDeleted:
        """Delete a stored plan; NotFoundError if there is none."""
        return await self._client._call(_calls.delete_plan(plan_id))

    async def analyze(
        self,
        messages: Sequence[MessageParam | BaseModel],
        assistant: str,
        *,
        user: str | None = None,
        model: str | None = None,
        plan: PlanParam = None,
        **params: Unpack[AnalyzeParams],
    ) -> Plan:
        """Plan along a given ``assistant`` reply without generating (and score the
        ``user`` horizon against ``user``, the next message, if given)."""
        call = _calls.analyze(messages, assistant, user, self._client._model(model), plan, params)
        return await self._client._call(call)
