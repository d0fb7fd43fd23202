"""Turn request fields into engine sampling settings, checking them against the context."""

from __future__ import annotations

from planner.engine.protocol import Sampling
from planner.errors import ContextLengthError, InvalidRequestError
from server.plans.protocol import AnalyzeRequest
from server.protocol import SamplingFields


def build_sampling(
    request: SamplingFields,
    *,
    prompt_tokens: int,
    max_model_len: int,
    max_tokens: int | None,
    max_tokens_param: str,
    prompt_param: str,
    logprobs: int | None,
) -> Sampling:
    """Sampling for one choice; raises 400s that name the offending parameter."""
    room = max_model_len - prompt_tokens
    if room < 1:
        raise ContextLengthError(
            f"This model's maximum context length is {max_model_len} tokens. However, your "
            f"prompt has {prompt_tokens} tokens, which leaves no room for a completion. "
            "Please shorten the prompt.",
            param=prompt_param,
        )
    if max_tokens is None:
        max_tokens = room
    elif max_tokens > room:
        raise ContextLengthError(
            f"This model's maximum context length is {max_model_len} tokens. However, you "
            f"requested {prompt_tokens + max_tokens} tokens ({prompt_tokens} in the prompt, "
            f"{max_tokens} in the completion). Please reduce '{max_tokens_param}' to at most "
            f"{room} or shorten the prompt.",
            param=max_tokens_param,
        )
    stop = request.stop
    stops = (stop,) if isinstance(stop, str) else tuple(stop or ())
    if any(s == "" for s in stops):
        raise InvalidRequestError("Stop sequences must not be empty.", param="stop")
    top_k = request.top_k if request.top_k is not None else 0
    return Sampling(
        max_tokens=max_tokens,
        temperature=1.0 if request.temperature is None else request.temperature,
        top_p=1.0 if request.top_p is None else request.top_p,
        top_k=0 if top_k == -1 else top_k,
        seed=request.seed,
        stop=stops,
        logprobs=logprobs,
        presence_penalty=request.presence_penalty or 0.0,
        frequency_penalty=request.frequency_penalty or 0.0,
        repetition_penalty=request.repetition_penalty or 1.0,
    )


def choice_seed(seed: int | None, index: int) -> int | None:
    """Choice i of a seeded request uses seed + i, as vLLM does for ``n`` > 1."""
    return None if seed is None else seed + index


def analysis_sampling(request: AnalyzeRequest) -> Sampling:
    """Rollout sampling for /v1/plans/analyze (no main text is generated)."""
    top_k = request.top_k or 0
    return Sampling(
        max_tokens=1,
        temperature=1.0 if request.temperature is None else request.temperature,
        top_p=1.0 if request.top_p is None else request.top_p,
        top_k=0 if top_k == -1 else top_k,
        seed=request.seed,
    )
