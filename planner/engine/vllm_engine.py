"""The real engine: a thin async adapter over vLLM's ``AsyncLLM``."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from planner.engine.config import (
    DEFAULT_CPU_BLOCK_SIZE,
    DEFAULT_CPU_MEMORY_SHARE,
    EngineConfig,
)
from planner.engine.kv_cache import default_cpu_kv_cache_bytes
from planner.engine.protocol import Delta, FinishReason, Sampling, TokenLogprob
from planner.engine.tokenizer import HFTokenizer
from planner.errors import EngineUnavailableError, InvalidRequestError

log = logging.getLogger(__name__)


def _engine_args(config: EngineConfig) -> Any:
    from vllm.engine.arg_utils import AsyncEngineArgs
    from vllm.platforms import current_platform

    on_cpu = current_platform.is_cpu()
    share = config.gpu_memory_utilization
    if share is None:
        share = DEFAULT_CPU_MEMORY_SHARE if on_cpu else 0.9
    block_size = config.block_size or (DEFAULT_CPU_BLOCK_SIZE if on_cpu else None)
    kwargs: dict[str, Any] = {
        "model": config.model,
        "served_model_name": [config.name],
        "tensor_parallel_size": config.tensor_parallel_size,
        "pipeline_parallel_size": config.pipeline_parallel_size,
        "distributed_executor_backend": config.distributed_executor_backend,
        "max_model_len": config.max_model_len,
        "gpu_memory_utilization": share,
        "enable_prefix_caching": config.enable_prefix_caching,
        "enforce_eager": config.enforce_eager,
        "dtype": config.dtype,
        "scheduling_policy": config.scheduling_policy,
        "seed": config.seed,
        "logprobs_mode": config.logprobs_mode,
        "disable_log_stats": False,
    }
    if block_size is not None:
        kwargs["block_size"] = block_size
    if config.max_num_seqs is not None:
        kwargs["max_num_seqs"] = config.max_num_seqs
    kv_bytes = default_cpu_kv_cache_bytes(config) if on_cpu else config.kv_cache_memory_bytes
    if kv_bytes is not None:
        kwargs["kv_cache_memory_bytes"] = kv_bytes
    return AsyncEngineArgs(**kwargs)


def _logprobs(
    raw: Any, tokenizer: HFTokenizer, token_ids: Sequence[int], top_n: int
) -> list[TokenLogprob]:
    out: list[TokenLogprob] = []
    for token_id, position in zip(token_ids, raw, strict=False):
        # vLLM adds the sampled token when it is outside the top N; keep only the top N.
        ranked = sorted(position.items(), key=lambda kv: kv[1].rank or 0)
        top = tuple(
            (tid, float(lp.logprob), lp.decoded_token or tokenizer.token_text(tid))
            for tid, lp in ranked
            if (lp.rank or 0) <= top_n
        )
        chosen = position[token_id]
        text = chosen.decoded_token or tokenizer.token_text(token_id)
        out.append(TokenLogprob(token_id, float(chosen.logprob), text, top))
    return out


class VLLMEngine:
    """Generates from token ids in an embedded ``AsyncLLM``; implements ``Engine``."""

    def __init__(self, config: EngineConfig) -> None:
        from vllm.v1.engine.async_llm import AsyncLLM

        from planner.engine import core_watchdog

        core_watchdog.install()  # the EngineCore dies with this process, even by SIGKILL
        self.config = config
        self._llm: Any = AsyncLLM.from_engine_args(_engine_args(config))
        hf = self._llm.get_tokenizer()
        gen_eos = self._llm.model_config.get_diff_sampling_param().get("stop_token_ids") or []
        self._tokenizer = HFTokenizer(hf, gen_eos)
        self._max_model_len = int(self._llm.model_config.max_model_len)
        self._priority = config.scheduling_policy == "priority"
        self._closed = False

    @property
    def tokenizer(self) -> HFTokenizer:
        return self._tokenizer

    @property
    def model_name(self) -> str:
        return self.config.name

    @property
    def max_model_len(self) -> int:
        return self._max_model_len

    @property
    def vllm(self) -> Any:
        """The underlying ``AsyncLLM`` (for metrics and health checks)."""
        return self._llm

    def _allowed(self, banned: Sequence[int]) -> list[int] | None:
        if not banned:
            return None
        out = set(range(self._tokenizer.vocab_size))
        return sorted(out.difference(banned))

    def _params(self, sampling: Sampling, **extra: Any) -> Any:
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind

        return SamplingParams(
            n=1,
            max_tokens=sampling.max_tokens,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            top_k=sampling.top_k,
            seed=sampling.seed,
            stop=list(sampling.stop) or None,
            stop_token_ids=list(sampling.stop_token_ids) or None,
            logprobs=sampling.logprobs,
            ignore_eos=sampling.ignore_eos,
            presence_penalty=sampling.presence_penalty,
            frequency_penalty=sampling.frequency_penalty,
            repetition_penalty=sampling.repetition_penalty,
            output_kind=RequestOutputKind.DELTA,
            # A ban is an exact -inf mask on the logits, before temperature and top-k/p.
            allowed_token_ids=self._allowed(sampling.banned_token_ids),
            **extra,
        )

    async def generate(
        self, request_id: str, prompt_ids: Sequence[int], sampling: Sampling, *, priority: int = 0
    ) -> AsyncIterator[Delta]:
        from vllm.inputs import TokensPrompt
        from vllm.v1.engine.exceptions import EngineDeadError

        if self._closed or self._llm.errored:
            raise EngineUnavailableError("the engine is not running")
        prompt = TokensPrompt(prompt_token_ids=list(prompt_ids))
        params = self._params(sampling)
        stream = self._llm.generate(
            prompt, params, request_id, priority=priority if self._priority else 0
        )
        try:
            async for out in stream:
                o = out.outputs[0]
                token_ids = list(o.token_ids)
                logprobs = None
                if sampling.logprobs is not None and o.logprobs is not None:
                    logprobs = _logprobs(o.logprobs, self._tokenizer, token_ids, sampling.logprobs)
                finish: FinishReason | None = None
                if o.finish_reason is not None:
                    finish = "abort" if o.finish_reason == "abort" else o.finish_reason
                yield Delta(
                    token_ids=token_ids,
                    text=o.text,
                    logprobs=logprobs,
                    finish_reason=finish,
                    stop_reason=o.stop_reason,
                    num_cached_tokens=int(out.num_cached_tokens or 0),
                )
        except EngineDeadError as exc:
            raise EngineUnavailableError("the engine stopped while generating") from exc
        except ValueError as exc:  # vLLM's request validation
            raise InvalidRequestError(str(exc)) from exc
        finally:
            # Closing the vLLM generator aborts the request if it is still running.
            await stream.aclose()

    async def abort(self, request_id: str) -> None:
        if not self._closed:
            await self._llm.abort(request_id)

    async def prompt_logprobs(
        self, token_ids: Sequence[int], start: int, top_n: int = 0
    ) -> list[TokenLogprob]:
        from vllm.inputs import TokensPrompt

        if not 0 < start <= len(token_ids):
            raise ValueError("start must be in (0, len(token_ids)]")
        # prompt_logprobs bypass the prefix cache in vLLM; only used where a given
        # text's probability is wanted, never on rollouts.
        params = self._params(Sampling(max_tokens=1, temperature=0.0), prompt_logprobs=top_n)
        final = None
        request_id = f"score-{uuid.uuid4().hex}"
        async for out in self._llm.generate(
            TokensPrompt(prompt_token_ids=list(token_ids)), params, request_id
        ):
            final = out
        assert final is not None and final.prompt_logprobs is not None
        positions = final.prompt_logprobs[start:]
        return _logprobs(positions, self._tokenizer, list(token_ids[start:]), top_n)

    async def check_health(self) -> None:
        if self._closed:
            raise EngineUnavailableError("the engine is shut down")
        try:
            await self._llm.check_health()
        except Exception as exc:
            raise EngineUnavailableError("the engine is not healthy") from exc

    def shutdown(self) -> None:
        """Stop the engine processes; safe to call twice."""
        if not self._closed:
            self._closed = True
            llm = self._llm
            llm.shutdown()
            # AsyncLLM.__del__ shuts down again; at interpreter exit, with module globals
            # gone, that raises. Once is enough: make the instance's later calls no-ops.
            llm.shutdown = lambda *args, **kwargs: None
