"""The user's real next message as the `user` horizon's realised ending, with the model's
own log-probability of it (computed in one place for following a text and for scoring a
previous turn)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from planner.engine.protocol import Engine


@dataclass(frozen=True)
class UserReply:
    """What the user really said after the assistant's turn."""

    text: str
    header_tokens: int  # the chat template's user header before it
    reply_tokens: int  # the message and its end-of-turn token
    logprob: float | None  # the model's log p of the reply; None if it does not fit

    @property
    def tokens(self) -> int:
        """Tokens from the end of the assistant's turn through the end of the reply."""
        return self.header_tokens + self.reply_tokens


async def user_reply(engine: Engine, turn_ids: Sequence[int], user: str) -> UserReply:
    """``user`` as the reply to ``turn_ids`` (prompt + assistant turn, end-of-turn included).

    The log-probability uses ``prompt_logprobs``, which skips the prefix cache: it is asked
    once per scored reply, never for rollouts.
    """
    tok = engine.tokenizer
    header = tok.user_header_ids()
    reply = [*tok.encode(user), min(tok.eos_token_ids)]
    context = [*turn_ids, *header]
    logprob = None
    if len(context) + len(reply) <= engine.max_model_len:
        scored = await engine.prompt_logprobs([*context, *reply], len(context))
        logprob = sum(lp.logprob for lp in scored)
    return UserReply(user.strip(), len(header), len(reply), logprob)


def assistant_turn_ids(engine: Engine, assistant: str) -> list[int]:
    """The token ids of a given assistant turn, end-of-turn included."""
    tok = engine.tokenizer
    return [*tok.encode(assistant), min(tok.eos_token_ids)]
