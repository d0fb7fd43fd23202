"""What the planner needs from an engine: sampling settings, streamed deltas, aborts.

The real engine (`VLLMEngine`) and the synthetic test engine implement the same
`Engine` protocol, so every planner code path runs unchanged on both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

FinishReason = Literal["stop", "length", "abort"]


@dataclass(frozen=True)
class Sampling:
    """Sampling settings of one engine request (OpenAI semantics)."""

    max_tokens: int = 16
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0  # 0 disables top-k
    seed: int | None = None
    stop: tuple[str, ...] = ()
    stop_token_ids: tuple[int, ...] = ()
    logprobs: int | None = None  # top-N alternatives per generated token; 0 = sampled only
    ignore_eos: bool = False
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    repetition_penalty: float = 1.0
    banned_token_ids: tuple[int, ...] = ()  # never sampled (masked before temperature)

    def with_(self, **changes: object) -> Sampling:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class TokenLogprob:
    """Log-probability of one generated token and its top alternatives."""

    token_id: int
    logprob: float
    text: str
    top: tuple[tuple[int, float, str], ...] = ()  # (token_id, logprob, text), best first


@dataclass
class Delta:
    """New output of one request since the previous delta."""

    token_ids: list[int]
    text: str
    logprobs: list[TokenLogprob] | None = None
    finish_reason: FinishReason | None = None
    stop_reason: int | str | None = None
    num_cached_tokens: int = 0  # prompt tokens served from the prefix cache
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.finish_reason is not None


class Tokenizer(Protocol):
    """The tokenizer surface the planner and server use."""

    @property
    def eos_token_ids(self) -> frozenset[int]: ...

    @property
    def vocab_size(self) -> int: ...

    def encode(self, text: str) -> list[int]: ...

    def decode(self, token_ids: Sequence[int]) -> str: ...

    def render_chat(self, messages: Sequence[dict[str, str]], add_generation_prompt: bool) -> str:
        """The chat template applied to messages, as text with special tokens."""
        ...

    def encode_rendered(self, text: str) -> list[int]:
        """Token ids of text that may contain special tokens (a rendered chat)."""
        ...

    def user_header_ids(self) -> list[int]:
        """Tokens that follow an assistant turn's end token and open the user's turn."""
        ...


class Engine(Protocol):
    """An async token generator shared by the main sequence and all rollouts."""

    @property
    def tokenizer(self) -> Tokenizer: ...

    @property
    def model_name(self) -> str: ...

    @property
    def max_model_len(self) -> int: ...

    def generate(
        self, request_id: str, prompt_ids: Sequence[int], sampling: Sampling, *, priority: int = 0
    ) -> AsyncIterator[Delta]:
        """Stream deltas until the request finishes; closing the iterator aborts it.

        Lower ``priority`` values are scheduled first.
        """
        ...

    async def abort(self, request_id: str) -> None:
        """Stop a running request; unknown or finished ids are ignored."""
        ...

    async def prompt_logprobs(
        self, token_ids: Sequence[int], start: int, top_n: int = 0
    ) -> list[TokenLogprob]:
        """log p(token_ids[i] | token_ids[:i]) for i in [start, len), with the top-N there."""
        ...
