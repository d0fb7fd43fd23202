"""What a person sees when `foresight serve` starts: one "ready" line, no probe noise.

uvicorn says "running" as soon as it listens, a minute or more before the engine can
serve; Foresight says "ready" once ``/ready`` answers 200. Health probes, readiness
polls and Prometheus scrapes arrive every few seconds and would bury every other
access-log line, so they are left out of it (unless they fail).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from typing import Any

import uvicorn

#: Paths polled by orchestrators and scrapers, not by people.
PROBE_PATHS = frozenset({"/health", "/ready", "/metrics"})


class QuietProbes(logging.Filter):
    """Drops uvicorn access-log lines of probe paths, keeping their server errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn.access records: (client, method, path with query, http version, status)
        if not isinstance(args, tuple) or len(args) != 5:
            return True
        path, status = str(args[2]).split("?", 1)[0], args[4]
        if path not in PROBE_PATHS:
            return True
        # A /ready 503 is the expected answer while the engine starts.
        return isinstance(status, int) and status >= 500 and path != "/ready"


def quiet_probe_logs() -> None:
    """Install the filter on uvicorn's access logger (once per process, at start-up)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QuietProbes) for f in access.filters):
        access.addFilter(QuietProbes())


def ready_url(host: str, sockets: list[socket.socket]) -> str:
    """The URL a person would open: the bound port (also when 0 was asked for)."""
    port = sockets[0].getsockname()[1] if sockets else 0
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class ForesightServer(uvicorn.Server):
    """uvicorn's server that prints "Foresight ready on http://HOST:PORT" once ready."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.should_exit:
            return
        bound = [s for server in self.servers for s in server.sockets]
        url = ready_url(self.config.host, bound)
        self._announcing = asyncio.create_task(self._announce(url))

    async def _announce(self, url: str) -> None:
        app: Any = self.config.app
        starting = getattr(app.state, "engine_start", None)
        if starting is None:
            return
        try:
            await asyncio.shield(starting)
        except (Exception, asyncio.CancelledError):  # reported by the app and the CLI
            return
        if app.state.engine_holder.ready:
            name = app.state.config.engine.name
            print(f"Foresight ready on {url} (model {name})", file=sys.stdout, flush=True)
