"""The CPU engine's default KV-cache size: what the model needs, not a share of host RAM.

vLLM's CPU worker otherwise reserves ``gpu_memory_utilization`` × RAM minus what the
process already holds: 4.7–6.4 GiB on a 24 GiB machine for a 135M model that needs a
few hundred MiB. Here the cache holds ``KV_CACHE_CONTEXTS`` full-length contexts of the
model (bytes per token from its config), and never more than that share of the
machine's memory (the cgroup's limit in a container).

Per token, every layer keeps a key and a value of ``num_kv_heads × head_dim`` numbers::

    bytes_per_token = 2 × layers × kv_heads × head_dim × dtype bytes
    SmolLM2-135M (30 layers, 3 kv heads, head_dim 64, bf16): 23,040 B ≈ 22.5 KiB
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from planner.engine.config import DEFAULT_CPU_MEMORY_SHARE, EngineConfig

log = logging.getLogger(__name__)

#: Full-length contexts the default cache holds. Rollouts of one plan share their prompt's
#: blocks through the prefix cache and add only their lookahead, so 16 contexts carry
#: several planned streams at once (the K = 8 plan needs one prompt + 8 × 64 tokens).
KV_CACHE_CONTEXTS = 16

_DTYPE_BYTES = {"float32": 4, "float": 4, "bfloat16": 2, "float16": 2, "half": 2}
_CGROUP_LIMIT = Path("/sys/fs/cgroup/memory.max")


def machine_memory_bytes() -> int:
    """Physical memory, or the container's cgroup limit when that is lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        limit = _CGROUP_LIMIT.read_text().strip()
    except OSError:
        return total
    return min(total, int(limit)) if limit.isdigit() else total


def bytes_per_token(hf_config: Any, dtype: str = "auto") -> int:
    """KV-cache bytes one token takes across all layers, from a transformers config."""
    text = getattr(hf_config, "text_config", None) or hf_config
    layers = int(text.num_hidden_layers)
    heads = int(text.num_attention_heads)
    kv_heads = int(getattr(text, "num_key_value_heads", None) or heads)
    head_dim = int(getattr(text, "head_dim", None) or text.hidden_size // heads)
    if dtype == "auto":
        dtype = str(getattr(text, "dtype", None) or getattr(text, "torch_dtype", None) or "")
    size = _DTYPE_BYTES.get(dtype.removeprefix("torch."), 2)
    return 2 * layers * kv_heads * head_dim * size


def context_tokens(hf_config: Any, max_model_len: int | None) -> int:
    """The longest context the engine will serve: the configured one, else the model's."""
    if max_model_len is not None:
        return max_model_len
    text = getattr(hf_config, "text_config", None) or hf_config
    return int(getattr(text, "max_position_embeddings", 4096))


def default_cpu_kv_cache_bytes(config: EngineConfig) -> int | None:
    """The KV-cache size to give vLLM on CPU, or None to leave it to vLLM.

    None when the user chose a size or a memory share, or when the model's config
    cannot be read here (a hub id that is not cached yet): vLLM's own rule applies then.
    """
    if config.kv_cache_memory_bytes is not None:
        return config.kv_cache_memory_bytes
    if config.gpu_memory_utilization is not None:
        return None
    try:
        from transformers import AutoConfig

        hf_config = AutoConfig.from_pretrained(config.model)
    except (OSError, ValueError) as exc:
        log.warning("KV cache: cannot read the model's config (%s); vLLM sizes it", exc)
        return None
    per_token = bytes_per_token(hf_config, config.dtype)
    wanted = per_token * context_tokens(hf_config, config.max_model_len) * KV_CACHE_CONTEXTS
    ceiling = int(DEFAULT_CPU_MEMORY_SHARE * machine_memory_bytes())
    size = min(wanted, ceiling)
    log.info(
        "KV cache: %.2f GiB (%d contexts × %s tokens × %d B/token; at most %.0f%% of %.1f GiB)",
        size / 2**30,
        KV_CACHE_CONTEXTS,
        context_tokens(hf_config, config.max_model_len),
        per_token,
        100 * DEFAULT_CPU_MEMORY_SHARE,
        machine_memory_bytes() / 2**30,
    )
    return size
