"""vLLM's EngineCore process must not outlive the process that owns the engine.

vLLM starts the core with ``multiprocessing`` (fork by default on CPU, spawn where CUDA
is initialised) and stops it from its owner's shutdown; an owner killed by SIGKILL never
runs that, and the core went on at full CPU. ``install()`` makes the core's entry point
this module's ``run_engine_core``, which starts a thread in the core that watches the
parent: once the parent is gone (the core is re-parented, ``getppid()`` changes) it
sends the core SIGTERM (vLLM's own clean exit) and, if that has not ended it within
``KILL_AFTER`` seconds, exits hard. A thread, not ``PR_SET_PDEATHSIG``: the death signal
fires when the *thread* that forked the core exits, and the owner builds its engine in
a worker thread. Works with fork and spawn alike (spawn pickles this function by name).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

POLL = 0.5  # seconds between two looks at the parent
KILL_AFTER = 5.0  # seconds the core gets to exit on SIGTERM before it exits hard

_original: Any = None


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(KILL_AFTER)
    os._exit(1)


def run_engine_core(*args: Any, **kwargs: Any) -> Any:
    """vLLM's ``EngineCoreProc.run_engine_core`` with a parent watch (runs in the core)."""
    from vllm.v1.engine.core import EngineCoreProc

    threading.Thread(target=_watch, args=(os.getppid(),), name="parent-watch", daemon=True).start()
    original = _original or EngineCoreProc.run_engine_core  # spawn: the class is untouched
    return original(*args, **kwargs)


def install() -> None:
    """Route vLLM's EngineCore start through ``run_engine_core`` (idempotent)."""
    global _original
    from vllm.v1.engine.core import EngineCoreProc

    if _original is None:
        _original = EngineCoreProc.run_engine_core
        EngineCoreProc.run_engine_core = staticmethod(run_engine_core)
