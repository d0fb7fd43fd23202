"""Graceful shutdown: SIGTERM drains, a second SIGTERM (or the end of the grace) aborts.

On the first SIGTERM (or SIGINT) the server keeps listening, so ``/ready`` can answer 503
and new requests get a 503 with ``Retry-After``; requests already admitted (running or
queued) run on. When none is left, or ``grace`` seconds have passed, or a second signal
arrives, whatever still runs is cancelled (each ends with an error, a stream with an
error event and ``[DONE]``; its plan is stored as far as it got, marked ``cancelled``),
then uvicorn stops: the lifespan closes the engine and, once those plans are written
(``Planner.close`` waits for them, within a bound), the plan store; the process exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from types import FrameType

import uvicorn

from server.backpressure import Admission
from server.uvicorn_server import ForesightServer

log = logging.getLogger(__name__)
ABORT_WAIT = 5.0  # seconds cancelled requests get to write their error and finish


class DrainingServer(ForesightServer):
    """``uvicorn.Server`` that drains on SIGTERM instead of closing its socket at once."""

    def __init__(self, config: uvicorn.Config, admission: Admission, grace: float) -> None:
        super().__init__(config)
        self.admission = admission
        self.grace = grace
        self.signals = 0
        self._drain: asyncio.Task[None] | None = None
        self._abort = asyncio.Event()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Runs in the main thread (the loop's) between two bytecodes; not re-raised at
        # exit as uvicorn does, so a drained server exits 0.
        self.signals += 1
        loop = asyncio.get_event_loop()
        if self.signals == 1:
            loop.call_soon_threadsafe(self.start_drain)
        else:
            log.warning("second signal: aborting the requests still running")
            loop.call_soon_threadsafe(self._abort.set)

    def start_drain(self) -> None:
        """Stop taking requests; finish (or, past the grace, abort) the rest, then exit."""
        if self._drain is None:
            self.admission.drain()
            self._drain = asyncio.get_running_loop().create_task(self._run_drain())

    async def _run_drain(self) -> None:
        adm = self.admission
        log.info("draining: %d requests in flight, %.0f s grace", len(adm.tasks), self.grace)
        end = time.monotonic() + self.grace
        while (adm.tasks or adm.queued) and time.monotonic() < end and not self._abort.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._abort.wait(), 0.1)
        if adm.tasks or adm.queued:
            log.warning("aborting %d requests at the end of the drain", adm.abort_all())
            end = time.monotonic() + ABORT_WAIT
            while adm.tasks and time.monotonic() < end:
                await asyncio.sleep(0.05)
        self.should_exit = True
