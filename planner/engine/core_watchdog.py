"""vLLM's EngineCore (and its workers) must not outlive the process that owns the engine.

vLLM starts the core with ``multiprocessing`` (fork by default on CPU, spawn where CUDA
is initialised) and stops it from its owner's shutdown; an owner killed by SIGKILL never
runs that, and the core went on at full CPU. ``install()`` makes the core's entry point
this module's ``run_engine_core`` (and a worker's ``worker_main``), which starts a thread
that watches the parent: once it is gone (the process is re-parented, ``getppid()``
changes) the thread sends its own process SIGTERM (vLLM's clean exit) and, if that has
not ended it within ``KILL_AFTER`` seconds, an alarm signal ends it. A thread, not
``PR_SET_PDEATHSIG``: that signal fires when the *thread* that forked the process
exits, and the owner builds its engine in a worker thread. Works with fork and spawn
alike (spawn pickles these functions by name).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

POLL = 0.5  # seconds between two looks at the parent
KILL_AFTER = 5  # seconds the process gets to exit on SIGTERM before SIGALRM ends it

_originals: dict[str, Any] = {}  # the entry points vLLM had before ``install()``


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL)
    # The backstop is SIGALRM's default action (the kernel ends the process), not this
    # thread: once SIGTERM has started interpreter shutdown, a daemon thread never runs
    # again, and a process stuck in shutdown would live on.
    signal.alarm(KILL_AFTER)
    os.kill(os.getpid(), signal.SIGTERM)


def _watch_parent() -> None:
    watch = threading.Thread(target=_watch, args=(os.getppid(),), name="parent-watch")
    watch.daemon = True
    watch.start()


def run_engine_core(*args: Any, **kwargs: Any) -> Any:
    """vLLM's ``EngineCoreProc.run_engine_core`` with a parent watch (runs in the core)."""
    _watch_parent()
    install()  # spawned: nothing is patched here yet (and the core's workers need it)
    return _originals["core"](*args, **kwargs)


def worker_main(*args: Any, **kwargs: Any) -> Any:
    """vLLM's ``WorkerProc.worker_main`` with a parent watch (runs in a worker)."""
    _watch_parent()
    install()  # spawned: nothing is patched here yet
    return _originals["worker"](*args, **kwargs)


def install() -> None:
    """Route vLLM's EngineCore and worker entry points through this module (idempotent)."""
    from vllm.v1.engine.core import EngineCoreProc
    from vllm.v1.executor.multiproc_executor import WorkerProc

    if not _originals:
        _originals["core"] = EngineCoreProc.run_engine_core
        _originals["worker"] = WorkerProc.worker_main
        EngineCoreProc.run_engine_core = staticmethod(run_engine_core)
        WorkerProc.worker_main = staticmethod(worker_main)
