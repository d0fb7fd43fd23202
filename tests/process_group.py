"""A command run as a subprocess in its own process group, its output kept in a file.

For tests that start ``foresight serve`` or ``foresight bench`` as a subprocess: a wait
follows the process's own signal (``/ready``, or a line of its output) for as long as a slow
machine under load needs, and when it gives up the failure says why, with the tail of the
output; leaving the ``with`` block kills the whole group, vLLM's engine core included.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

import httpx
import pytest

# vLLM's engine starts in ~30 s on a quiet machine here; a slow AVX2 machine with another
# engine busy beside it takes minutes. The bound only decides how long a broken start takes
# to be reported, so it is generous. (Tests that wait this long raise their pytest timeout.)
ENGINE_START_SECONDS = 900.0
TAIL_LINES = 40


class ProcessGroup:
    """``command`` in a new session (so its own process group), stdout and stderr to ``log``."""

    def __init__(
        self, command: Sequence[str], log: Path, env: dict[str, str] | None = None
    ) -> None:
        self.command = list(command)
        self.log = log
        self.env = {**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"}
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ProcessGroup:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,  # its own group: whatever it spawns is in it
            )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = TAIL_LINES) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def fail(self, why: str) -> None:
        """Fail the test with ``why`` and the last lines the process wrote."""
        pytest.fail(f"{why}; last {TAIL_LINES} lines of {self.log}:\n{self.tail()}")

    def wait_for(
        self, ready: Callable[[], bool], what: str, timeout: float = ENGINE_START_SECONDS
    ) -> float:
        """Poll ``ready`` until it holds; the seconds waited. Fails, with the output's tail,
        when the process exits first or ``timeout`` passes."""
        assert self.proc is not None, "not started"
        began = time.monotonic()
        while not ready():
            if self.proc.poll() is not None:
                self.fail(f"exited with {self.proc.returncode} before {what}")
            if time.monotonic() - began > timeout:
                self.fail(f"no sign of {what} after {timeout:.0f} s")
            time.sleep(0.5)
        return time.monotonic() - began

    def wait_for_line(self, text: str, timeout: float = ENGINE_START_SECONDS) -> float:
        """Wait until the output contains ``text`` (a stage the process announces)."""
        return self.wait_for(lambda: text in self.output(), repr(text), timeout)

    def wait_ready(self, url: str, timeout: float = ENGINE_START_SECONDS) -> float:
        """Wait until ``url``/ready answers 200 (the server's engine can serve); fails at
        once if the server reports its engine failed."""

        def ready() -> bool:
            try:
                r = httpx.get(f"{url}/ready", timeout=5)
            except httpx.TransportError:
                return False  # not listening yet
            if r.status_code != 200 and r.json().get("status") == "failed":
                self.fail(f"{url}/ready says the engine failed")
            return r.status_code == 200

        return self.wait_for(ready, f"{url}/ready answering 200", timeout)

    def group_alive(self) -> bool:
        """Whether a process of the group (the leader or what it spawned) still runs.

        Zombies do not count: an orphan killed with the group waits for PID 1 to reap it,
        which in some containers never happens.
        """
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                # "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after ")".
                state, _, pgrp = stat.read_text().rpartition(")")[2].split()[:3]
                if int(pgrp) == self.pid and state != "Z":
                    return True
        return False

    def kill(self) -> None:
        """SIGKILL every process of the group and reap the leader."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=60)
