"""Engine configuration: one typed object, validated once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

DEFAULT_CPU_MEMORY_SHARE = 0.3  # of host RAM; vLLM's CPU default (0.92) starves the host
DEFAULT_CPU_BLOCK_SIZE = 32  # the CPU default of 128 keeps short prompts out of the prefix cache


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

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("model must be a path to a local model directory")
        looks_like_path = os.path.sep in self.model or os.path.exists(self.model)
        if looks_like_path and not os.path.isdir(self.model):
            raise ValueError(f"model directory not found: {self.model}")
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

    @property
    def name(self) -> str:
        """The model name clients use in requests."""
        return self.served_model_name or os.path.basename(os.path.normpath(self.model))
