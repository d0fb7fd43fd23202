"""A throwaway ``redis-server`` on a free loopback port, for tests.

    server = RedisServer.start()      # raises RuntimeError if redis-server is missing
    store = RedisPlanStore(server.url, prefix="test-x")
    ...
    server.stop()

Nothing is persisted (``--save '' --appendonly no``) and its working directory is a
temporary one, removed on ``stop()``. Also usable as a context manager.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

START_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One running redis-server process; ``url`` points at its db 0."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, workdir: Path) -> None:
        self.process = process
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._workdir = workdir

    @classmethod
    def start(cls, binary: str = "redis-server") -> RedisServer:
        """Start a server and wait until it answers PING (retrying if the port was taken)."""
        path = shutil.which(binary)
        if path is None:
            raise RuntimeError(
                f"{binary!r} not found on PATH: the Redis plan-store tests need a real "
                "Redis server (Debian/Ubuntu: apt-get install redis-server)"
            )
        last_output = ""
        for _ in range(3):  # another process may grab the free port before redis binds it
            workdir = Path(tempfile.mkdtemp(prefix="foresight-redis-"))
            port = _free_port()
            args = [path, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
            args += ["--appendonly", "no", "--dir", str(workdir), "--daemonize", "no"]
            # Log to a file, not a pipe: an unread pipe could fill up and stall the server.
            log = workdir / "redis.log"
            with log.open("wb") as out:
                process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
            server = cls(process, port, workdir)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and process.poll() is None:
                if _answers_ping(port):
                    return server
                time.sleep(0.02)
            last_output = log.read_text(errors="replace")
            server.stop()
        raise RuntimeError(f"redis-server did not start:\n{last_output[-2000:]}")

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Stop the server (idempotent) and remove its working directory."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
