"""The CPU KV-cache default: the model's bytes per token times the contexts it must hold."""

from __future__ import annotations

import pytest
from transformers import AutoConfig

from planner.engine.config import DEFAULT_CPU_MEMORY_SHARE, EngineConfig
from planner.engine.kv_cache import (
    KV_CACHE_CONTEXTS,
    bytes_per_token,
    default_cpu_kv_cache_bytes,
    machine_memory_bytes,
)
from planner.engine.model_cache import prepare_default_model


@pytest.fixture(scope="module")
def model_dir() -> str:
    return str(prepare_default_model())


def test_bytes_per_token_of_the_default_model(model_dir: str) -> None:
    # SmolLM2-135M: 30 layers, 3 KV heads of 64, bf16 -> 2 x 30 x 3 x 64 x 2 bytes
    config = AutoConfig.from_pretrained(model_dir)
    assert bytes_per_token(config) == 23_040
    assert bytes_per_token(config, "float32") == 46_080


def test_the_default_holds_a_fixed_number_of_full_contexts(model_dir: str) -> None:
    size = default_cpu_kv_cache_bytes(EngineConfig(model=model_dir, max_model_len=4096))
    assert size == 23_040 * 4096 * KV_CACHE_CONTEXTS  # 1.41 GiB, not a share of RAM
    assert size is not None and size < DEFAULT_CPU_MEMORY_SHARE * machine_memory_bytes()


def test_a_chosen_size_or_share_wins(model_dir: str) -> None:
    assert default_cpu_kv_cache_bytes(EngineConfig(model=model_dir, kv_cache_memory_bytes=5)) == 5
    # A memory share asks for vLLM's own rule: RAM x share minus what the process holds.
    assert (
        default_cpu_kv_cache_bytes(EngineConfig(model=model_dir, gpu_memory_utilization=0.2))
        is None
    )


def test_the_machine_caps_it(model_dir: str) -> None:
    huge = EngineConfig(model=model_dir, max_model_len=10_000_000)
    size = default_cpu_kv_cache_bytes(huge)
    assert size == int(DEFAULT_CPU_MEMORY_SHARE * machine_memory_bytes())
