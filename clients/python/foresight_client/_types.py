"""Parameter types of the request methods (typed ``**params``, shared by both clients)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from foresight_client._models import PlanOptions

#: A chat message as the OpenAI API takes it: ``{"role": "user", "content": "..."}``.
MessageParam = Mapping[str, Any]
#: ``True`` plans with the server's defaults; a dict or PlanOptions sets fields.
PlanParam = PlanOptions | Mapping[str, Any] | bool | None


class SamplingParams(TypedDict, total=False):
    """Sampling fields both completion routes take (OpenAI names and meanings)."""

    max_tokens: int
    temperature: float
    top_p: float
    top_k: int
    seed: int
    stop: str | Sequence[str]
    n: int
    presence_penalty: float
    frequency_penalty: float
    repetition_penalty: float
    #: Any further body fields, sent as given.
    extra_body: Mapping[str, Any]


class ChatParams(SamplingParams, total=False):
    """Fields of ``/v1/chat/completions`` beyond the shared sampling ones."""

    max_completion_tokens: int
    logprobs: bool
    top_logprobs: int


class CompletionParams(SamplingParams, total=False):
    """Fields of ``/v1/completions`` beyond the shared sampling ones."""

    logprobs: int


class AnalyzeParams(TypedDict, total=False):
    """Sampling fields of ``/v1/plans/analyze`` (the rollouts use them)."""

    temperature: float
    top_p: float
    top_k: int
    seed: int
