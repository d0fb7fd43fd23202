"""A Hugging Face tokenizer with the chat-template facts the planner needs."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from planner.errors import InvalidRequestError

# Placeholders used to locate the template's own text between turns.
_A = "\u2063assistant-probe\u2063"
_U = "\u2063user-probe\u2063"


class HFTokenizer:
    """Wraps a ``transformers`` tokenizer (the one vLLM loaded)."""

    def __init__(self, hf_tokenizer: Any, generation_eos_ids: Sequence[int] = ()) -> None:
        self._tok = hf_tokenizer
        ids = {i for i in generation_eos_ids if i is not None}
        if hf_tokenizer.eos_token_id is not None:
            ids.add(int(hf_tokenizer.eos_token_id))
        self._eos = frozenset(ids)

    @property
    def eos_token_ids(self) -> frozenset[int]:
        return self._eos

    @property
    def vocab_size(self) -> int:
        return len(self._tok)

    def encode(self, text: str) -> list[int]:
        return list(self._tok.encode(text, add_special_tokens=False))

    def encode_rendered(self, text: str) -> list[int]:
        # Special tokens in a rendered chat are parsed as such; the template already
        # wrote any BOS, so the tokenizer must not add one.
        return list(self._tok.encode(text, add_special_tokens=False))

    def decode(self, token_ids: Sequence[int]) -> str:
        return str(self._tok.decode(list(token_ids), skip_special_tokens=True))

    def token_text(self, token_id: int) -> str:
        return str(self._tok.decode([token_id], skip_special_tokens=False))

    def render_chat(self, messages: Sequence[dict[str, str]], add_generation_prompt: bool) -> str:
        if self._tok.chat_template is None:
            raise InvalidRequestError(
                "this model has no chat template; use /v1/completions", param="messages"
            )
        try:
            text = self._tok.apply_chat_template(
                list(messages), tokenize=False, add_generation_prompt=add_generation_prompt
            )
        except Exception as exc:  # jinja raises on conversations the template rejects
            raise InvalidRequestError(
                f"the chat template rejected these messages: {exc}", param="messages"
            ) from exc
        return str(text)

    @cached_property
    def _user_header(self) -> list[int]:
        base = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": _A}]
        with_user = [*base, {"role": "user", "content": _U}]
        text = self.render_chat(with_user, add_generation_prompt=False)
        between = text[text.index(_A) + len(_A) : text.index(_U)]
        # A generated turn ends with the end-of-turn token; drop its text, keep the rest.
        for eos in sorted(self._eos):
            eos_text = self.token_text(eos)
            if eos_text and between.startswith(eos_text):
                between = between[len(eos_text) :]
                break
        return self.encode_rendered(between)

    def user_header_ids(self) -> list[int]:
        return list(self._user_header)
