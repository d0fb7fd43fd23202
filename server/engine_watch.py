"""Watch the running engine: if it dies, the server stops serving and exits non-zero.

A dead engine answers nothing again; a supervisor restarting the process is the cure,
so ``/ready`` turns 503 at once and ``on_failure`` stops the server (the CLI then exits
with status 1 because the holder records the error).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from server.engine_holder import EngineHolder

log = logging.getLogger(__name__)
HEALTH_INTERVAL = 2.0  # seconds between two health checks
HEALTH_TIMEOUT = 30.0  # a check that hangs this long counts as a death


async def watch_engine(
    holder: EngineHolder, on_failure: Callable[[], None] | None, interval: float = HEALTH_INTERVAL
) -> None:
    """Check the engine's health every ``interval`` seconds until it fails or shuts down."""
    while True:
        await asyncio.sleep(interval)
        if holder.stopping:
            return
        try:
            engine = holder.get()
        except Exception:
            continue  # still warming, or stopping
        check = getattr(engine, "check_health", None)
        if check is None:
            return
        try:
            await asyncio.wait_for(check(), HEALTH_TIMEOUT)
        except Exception as exc:
            if holder.stopping:
                return
            holder.fail(f"the engine stopped answering health checks ({type(exc).__name__})")
            if on_failure is not None:
                on_failure()
            return
