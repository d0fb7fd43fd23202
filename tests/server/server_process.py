"""A `foresight serve` subprocess with the real engine, and its process tree.

For tests that signal or kill the server itself (the session's ``live`` server runs in
the test process and cannot be killed).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from live_server import free_port

START_TIMEOUT = 300.0
ENGINE_ARGS = ("--max-model-len", "2048", "--gpu-memory-utilization", "0.15")


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def shared_memory(pids: set[int]) -> set[Path]:
    """The /dev/shm segments (vLLM's ``psm_*`` queues) that processes ``pids`` map."""
    found = set()
    for pid in pids:
        try:
            maps = Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            continue
        for line in maps.splitlines():
            path = line.split(maxsplit=5)[-1]
            if path.startswith("/dev/shm/"):
                found.add(Path(path.removesuffix(" (deleted)")))
    return found


def alive(pids: set[int]) -> set[int]:
    """The pids of ``pids`` still running (zombies count as gone)."""
    out = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


class ServerProcess:
    """``python -m server.cli serve`` on a free port, in its own process group."""

    def __init__(self, store: str, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(store.removeprefix("sqlite:///")).with_suffix(f".{self.port}.log")
        self._out = self.log.open("w")
        cmd = [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port)]
        cmd += ["--store", store, *ENGINE_ARGS, *extra]
        self.proc = subprocess.Popen(
            cmd, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self) -> ServerProcess:
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    self._out.close()
                    raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
                try:
                    if client.get("/ready").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.5)
        raise TimeoutError("the server did not become ready")

    def signal(self, sig: int) -> None:
        os.kill(self.proc.pid, sig)

    def stop(self) -> None:
        """Kill whatever is left of the process group."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._out.close()
