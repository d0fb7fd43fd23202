"""Engine token logprobs in the two OpenAI response shapes (chat and legacy completions)."""

from __future__ import annotations

from collections.abc import Sequence

from planner.engine.protocol import TokenLogprob
from server.chat.protocol import ChoiceLogprobs, TokenLogprobEntry, TopLogprob
from server.completions.protocol import CompletionLogprobs


def _bytes(text: str) -> list[int]:
    return list(text.encode("utf-8"))


def chat_logprobs(entries: Sequence[TokenLogprob], top_n: int) -> ChoiceLogprobs:
    """``choices[i].logprobs`` of a chat completion."""
    return ChoiceLogprobs(
        content=[
            TokenLogprobEntry(
                token=e.text,
                logprob=e.logprob,
                bytes=_bytes(e.text),
                top_logprobs=[
                    TopLogprob(token=text, logprob=lp, bytes=_bytes(text))
                    for _, lp, text in e.top[:top_n]
                ],
            )
            for e in entries
        ]
    )


def completion_logprobs(
    entries: Sequence[TokenLogprob], top_n: int, text_start: int = 0
) -> CompletionLogprobs:
    """``choices[i].logprobs`` of a text completion; offsets count from ``text_start``."""
    offsets: list[int] = []
    position = text_start
    for e in entries:
        offsets.append(position)
        position += len(e.text)
    return CompletionLogprobs(
        tokens=[e.text for e in entries],
        token_logprobs=[e.logprob for e in entries],
        top_logprobs=[{text: lp for _, lp, text in e.top[:top_n]} for e in entries],
        text_offset=offsets,
    )
