"""Stable keys that recognise a conversation when an OpenAI client resends it next turn.

Every key is derived with the tenant (the identity of the API key that sent the messages;
None without auth), so two tenants who open with the same messages never share a
conversation or a previous-turn lookup. Without a tenant the keys are those of a server
without auth, as they always were, so plans stored before tenancy are still found.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence


def _digest(messages: Sequence[dict[str, str]], tenant: str | None) -> str:
    rows = [[m["role"], m["content"]] for m in messages]
    # An object never serialises like the bare list of an unowned conversation.
    tree: object = rows if tenant is None else {"tenant": tenant, "messages": rows}
    canonical = json.dumps(tree, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def conversation_id(messages: Sequence[dict[str, str]], *, tenant: str | None) -> str:
    """Same for every turn of one conversation: a hash of it up to its first user message."""
    first_user = next((i for i, m in enumerate(messages) if m["role"] == "user"), len(messages) - 1)
    return "conv-" + _digest(messages[: first_user + 1], tenant)[:32]


def turn_key(messages: Sequence[dict[str, str]], *, tenant: str | None) -> str:
    """Identifies the exact message prefix an assistant turn answered."""
    return "turn-" + _digest(messages, tenant)[:40]


def continued_turn(
    messages: Sequence[dict[str, str]], *, tenant: str | None
) -> tuple[str, str, str] | None:
    """(turn key of the earlier request, its assistant reply, the new user message).

    None unless the conversation ends with an assistant message and then a user message,
    as a client's next turn does.
    """
    if len(messages) < 3:
        return None
    assistant, user = messages[-2], messages[-1]
    if assistant["role"] != "assistant" or user["role"] != "user":
        return None
    return turn_key(messages[:-2], tenant=tenant), assistant["content"], user["content"]
