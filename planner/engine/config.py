"""Engine configuration: one typed object, validated once at start-up."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Literal

DEFAULT_CPU_MEMORY_SHARE = 0.3  # of host RAM; vLLM's CPU default (0.92) starves the host
DEFAULT_CPU_BLOCK_SIZE = 32  # the CPU default of 128 keeps short prompts out of the prefix cache
# A Hugging Face repository id, "org/name": what vLLM downloads (or finds in its cache).
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def is_hub_id(model: str) -> bool:
    """True if ``model`` names a Hugging Face repository rather than a local directory.

    Only a path that exists is a local directory; anything else shaped "org/name" (no
    leading ``/``, ``.`` or ``~``, one slash) is passed to vLLM unchanged.
    """
    return not os.path.exists(model) and _HUB_ID.fullmatch(model) is not None


@dataclass
class EngineConfig:
    """Arguments for the embedded vLLM engine that matter for correctness and scale."""

    model: str
    served_model_name: str | None = None
    tensor_parallel_size: int = 1
    pipeline_parallel_size: int = 1
    distributed_executor_backend: Literal["mp", "ray", "uni"] | None = None
    max_model_len: int | None = 4096
    gpu_memory_utilization: float | None = None  # None: a per-platform default
    enable_prefix_caching: bool = True
    enforce_eager: bool = True
    block_size: int | None = None  # None: a per-platform default
    dtype: str = "auto"
    max_num_seqs: int | None = None
    scheduling_policy: Literal["priority", "fcfs"] = "priority"
    # Logprobs of the distribution tokens are really sampled from (after temperature, top-k,
    # top-p and penalties), so a candidate's log p and the implicit comparison are of the
    # rollouts' own distribution; at temperature 1 without truncation it equals the raw one.
    logprobs_mode: Literal["processed_logprobs", "raw_logprobs"] = "processed_logprobs"
    seed: int = 0
    # None: on CPU, sized to the model (see kv_cache.py) unless a memory share is given
    kv_cache_memory_bytes: int | None = None

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("model must be a local model directory or a Hugging Face id")
        if not is_hub_id(self.model) and not os.path.isdir(self.model):
            raise ValueError(
                f"model directory not found: {self.model} (a Hugging Face id is written org/name)"
            )
        for name in ("tensor_parallel_size", "pipeline_parallel_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.max_model_len is not None and self.max_model_len < 16:
            raise ValueError("max_model_len must be >= 16")
        share = self.gpu_memory_utilization
        if share is not None and not 0.0 < share <= 1.0:
            raise ValueError("gpu_memory_utilization must be in (0, 1]")
        if self.block_size is not None and (self.block_size < 1 or self.block_size % 16):
            raise ValueError("block_size must be a positive multiple of 16")
        if self.max_num_seqs is not None and self.max_num_seqs < 1:
            raise ValueError("max_num_seqs must be >= 1")
        if self.kv_cache_memory_bytes is not None and self.kv_cache_memory_bytes < 1:
            raise ValueError("kv_cache_memory_bytes must be >= 1")

    @property
    def name(self) -> str:
        """The model name clients use in requests (a hub id stays whole, as in vLLM)."""
        if self.served_model_name:
            return self.served_model_name
        if is_hub_id(self.model):
            return self.model
        return os.path.basename(os.path.normpath(self.model))
