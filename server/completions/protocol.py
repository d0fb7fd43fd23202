"""Request and response models of /v1/completions (OpenAI shape)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from planner import PlanResult
from server.plans.protocol import PlanEvent, PlanField
from server.protocol import MAX_TOP_LOGPROBS, SamplingFields, Usage

PromptInput = str | list[str] | list[int] | list[list[int]]


class CompletionRequest(SamplingFields):
    prompt: PromptInput
    max_tokens: int | None = Field(16, ge=1)
    logprobs: int | None = Field(None, ge=0, le=MAX_TOP_LOGPROBS)
    echo: bool = False
    plan: PlanField = None
    suffix: str | None = None


class CompletionLogprobs(BaseModel):
    tokens: list[str]
    token_logprobs: list[float | None]
    top_logprobs: list[dict[str, float] | None]
    text_offset: list[int]


class CompletionChoice(BaseModel):
    index: int
    text: str
    logprobs: CompletionLogprobs | None = None
    finish_reason: str | None
    plan: PlanResult | None = Field(None, description="the choice's plan (planned requests)")


class CompletionResponse(BaseModel):
    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage | None = None
    system_fingerprint: str | None = None
    plan: PlanEvent | None = Field(
        None, description="a plan event (choices is then empty); planned streams only"
    )
