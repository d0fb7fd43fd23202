"""Stable keys that recognise a conversation when an OpenAI client resends it next turn."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence


def _digest(messages: Sequence[dict[str, str]]) -> str:
    canonical = json.dumps(
        [[m["role"], m["content"]] for m in messages], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def conversation_id(messages: Sequence[dict[str, str]]) -> str:
    """Same for every turn of one conversation: a hash of it up to its first user message."""
    first_user = next((i for i, m in enumerate(messages) if m["role"] == "user"), len(messages) - 1)
    return "conv-" + _digest(messages[: first_user + 1])[:32]


def turn_key(messages: Sequence[dict[str, str]]) -> str:
    """Identifies the exact message prefix an assistant turn answered."""
    return "turn-" + _digest(messages)[:40]


def continued_turn(messages: Sequence[dict[str, str]]) -> tuple[str, str, str] | None:
    """(turn key of the earlier request, its assistant reply, the new user message).

    None unless the conversation ends with an assistant message and then a user message,
    as a client's next turn does.
    """
    if len(messages) < 3:
        return None
    assistant, user = messages[-2], messages[-1]
    if assistant["role"] != "assistant" or user["role"] != "user":
        return None
    return turn_key(messages[:-2]), assistant["content"], user["content"]
