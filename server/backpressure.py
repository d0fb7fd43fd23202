"""Admission: bounded work in flight and a bounded queue; beyond both, an immediate 429.

Work is counted in cost units, not requests, because a planned request keeps K rollouts
per horizon decoding beside its text. The rule (``cost_of``):

    plain request            cost = n
    planned request          cost = n × (1 + K × H)     K = plan.rollouts, H = len(horizons)
    POST /v1/plans/analyze   cost = 1 + K × H

Requests are admitted while the admitted cost stays within ``capacity`` (a single request
dearer than the whole capacity is admitted alone, never starved). Others wait in FIFO order,
at most ``max_queued`` of them; one more is refused at once with 429 and ``Retry-After``.
A queued request whose client disconnects leaves the queue at once and never runs.
While the server drains (SIGTERM), every new request is refused with 503.
"""

from __future__ import annotations

import asyncio
import collections
import json
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from planner import DEFAULT_HORIZONS, PlanConfig
from server.late_errors import ResponseWatch, error_body, send_json_error

GENERATION_PATHS = frozenset({"/v1/chat/completions", "/v1/completions", "/v1/plans/analyze"})
RETRY_AFTER_BUSY = 1  # seconds
RETRY_AFTER_DRAINING = 5
_DEFAULT_K = PlanConfig.model_fields["rollouts"].default


def cost_of(path: str, body: Any) -> int:
    """Cost units of one request body (see the module docstring); 1 if it is not a dict."""
    if not isinstance(body, dict):
        return 1
    n = body.get("n", 1)
    n = n if isinstance(n, int) and 1 <= n <= 1024 else 1
    plan = body.get("plan")
    if path == "/v1/plans/analyze":
        plan, n = plan if plan is not None else True, 1
    if plan is None or plan is False:
        return n
    plan = plan if isinstance(plan, dict) else {}
    k = plan.get("rollouts", _DEFAULT_K)
    k = k if isinstance(k, int) and 1 <= k <= 4096 else _DEFAULT_K
    horizons = plan.get("horizons", DEFAULT_HORIZONS)
    h = len(horizons) if isinstance(horizons, list) and 0 < len(horizons) <= 4 else 3
    return n * (1 + k * h)


class Admission:
    """Cost-bounded admission with a bounded FIFO queue (one per app, on its event loop)."""

    def __init__(
        self, capacity: int, max_queued: int, on_abort: Callable[[], None] | None = None
    ) -> None:
        self.capacity = capacity
        self.on_abort = on_abort  # before the abort: the planner keeps cancelled plans
        self.max_queued = max_queued
        self.admitted_cost = 0
        self.admitted = 0
        self.draining = False
        self.aborting = False  # set when the grace is over: admitted requests are cancelled
        self._queue: collections.deque[tuple[int, asyncio.Future[None]]] = collections.deque()
        self.tasks: set[asyncio.Task[Any]] = set()  # admitted requests, for abort at shutdown

    @property
    def queued(self) -> int:
        return len(self._queue)

    def _fits(self, cost: int) -> bool:
        return self.admitted == 0 or self.admitted_cost + cost <= self.capacity

    def try_admit(self, cost: int) -> asyncio.Future[None] | None:
        """Admit now (None), queue (a future to await), or raise ``Refused``."""
        if self.draining:
            raise Refused(503, "The server is shutting down; retry on another replica.")
        if not self._queue and self._fits(cost):
            self._take(cost)
            return None
        if len(self._queue) >= self.max_queued:
            raise Refused(
                429,
                f"The server is at capacity ({self.admitted} requests running, "
                f"{len(self._queue)} queued); retry shortly.",
            )
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((cost, waiter))
        return waiter

    def forget(self, cost: int, waiter: asyncio.Future[None]) -> None:
        """A queued request gave up (deadline, disconnect): out of the queue, or give back."""
        if waiter.done() and not waiter.cancelled():
            self.release(cost)
            return
        self._queue = collections.deque(e for e in self._queue if e[1] is not waiter)
        self._wake()

    def _take(self, cost: int) -> None:
        self.admitted_cost += cost
        self.admitted += 1

    def release(self, cost: int) -> None:
        self.admitted_cost -= cost
        self.admitted -= 1
        self._wake()

    def _wake(self) -> None:
        while self._queue and self._fits(self._queue[0][0]):
            cost, waiter = self._queue.popleft()
            if not waiter.done():
                self._take(cost)
                waiter.set_result(None)

    def drain(self) -> None:
        """Refuse new requests from now on; queued ones still run (they were accepted)."""
        self.draining = True

    def abort_all(self) -> int:
        """Cancel every admitted request (each ends with an error); returns how many."""
        self.aborting = True
        if self.on_abort is not None:
            self.on_abort()
        for task in self.tasks:
            task.cancel()
        return len(self.tasks)


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def _refuse(send: Send, refused: Refused) -> None:
    busy = refused.status == 429
    error = error_body(
        refused.message,
        "rate_limit_error" if busy else "service_unavailable",
        "server_busy" if busy else "shutting_down",
    )
    retry = RETRY_AFTER_BUSY if busy else RETRY_AFTER_DRAINING
    await send_json_error(send, refused.status, error, {"retry-after": str(retry)})


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


async def _admitted(waiter: asyncio.Future[None], receive: Receive, read: list[Message]) -> bool:
    """Wait for the queue to admit the request: True once admitted, False if the client
    disconnected first. The body has been read, so the next message can only be the
    disconnect; one that arrives anyway is kept in ``read`` for the route to replay."""
    if read and read[-1]["type"] == "http.disconnect":
        return False  # it left while its body was being read
    watch = asyncio.ensure_future(receive())
    racing: set[asyncio.Future[Any]] = {waiter, watch}
    try:
        await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not watch.done():
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
    if watch.done() and not watch.cancelled() and watch.exception() is None:
        read.append(watch.result())
        return waiter.done() or read[-1]["type"] != "http.disconnect"
    return True


class AdmissionMiddleware:
    """Admit generation requests by cost; refuse everything but public paths while draining."""

    def __init__(self, app: ASGIApp, admission: Admission, public_paths: frozenset[str]) -> None:
        self.app = app
        self.admission = admission
        self.public = public_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.public:
            await self.app(scope, receive, send)
            return
        adm = self.admission
        if scope["path"] not in GENERATION_PATHS or scope["method"] != "POST":
            if adm.draining:
                await _refuse(send, Refused(503, "The server is shutting down."))
            else:
                await self.app(scope, receive, send)
            return
        raw, messages = await _read_body(receive)
        try:
            cost = cost_of(scope["path"], json.loads(raw))
        except (ValueError, RecursionError):  # bad JSON: the route answers 400; cost 1
            cost = 1
        try:
            waiter = adm.try_admit(cost)
        except Refused as refused:
            await _refuse(send, refused)
            return
        task = asyncio.current_task()
        assert task is not None
        adm.tasks.add(task)  # queued or running: shutdown waits for it, or cancels it

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        watch = ResponseWatch(send)
        try:
            if waiter is not None:
                try:
                    admitted = await _admitted(waiter, receive, messages)
                except BaseException:
                    adm.forget(cost, waiter)
                    raise
                if not admitted:
                    adm.forget(cost, waiter)  # nobody to answer: out of the queue, unrun
                    return
            try:
                await self.app(scope, replay, watch.send)
            finally:
                adm.release(cost)
        except asyncio.CancelledError:
            if not adm.aborting:
                raise
            task.uncancel()
            error = error_body(
                "The server shut down before this request finished; it was cancelled.",
                "service_unavailable",
                "cancelled_at_shutdown",
            )
            await watch.end_with(503, error)
        finally:
            adm.tasks.discard(task)
