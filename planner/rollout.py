"""One rollout: a sampled continuation of a prefix, and where each horizon ends in it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from planner.boundaries import Boundary
from planner.boundary_tracker import BoundaryTracker
from planner.config import Horizon
from planner.engine.protocol import Delta
from planner.stratify import Stratum
from planner.text_index import TextIndex

# A sentence end is certain only once the next sentence has begun, so a rollout must run
# a few tokens past the lookahead before "no end within the lookahead" is known.
CERTAINTY_SLACK = 3

Status = Literal["reached", "not_reached", "pending"]


@dataclass(frozen=True)
class Outcome:
    """How one rollout ends one horizon, seen from one position."""

    status: Status
    text: str = ""  # from the position to the end of the unit
    tokens: int = 0  # tokens from the position through the unit's last token
    logprob: float | None = None  # the model's log p of those tokens (None: not reported)
    ends_reply: bool = False  # the unit's end is the end of the assistant's reply

    @property
    def resolved(self) -> bool:
        return self.status != "pending"


PENDING = Outcome("pending")
NOT_REACHED = Outcome("not_reached")


@dataclass
class Rollout:
    """Tokens sampled after ``prompt + emitted[:start]``; grows while its request runs."""

    id: str
    start: int
    seed: int | None
    context: str  # main text of the unit in progress before ``start`` (segmentation context)
    tokens: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)  # per token, when the engine reports
    text: TextIndex = field(default_factory=TextIndex)
    ended: bool = False  # produced the end-of-turn token: no more assistant tokens exist
    running: bool = False  # an engine request is producing its tokens
    requests: int = 0  # engine requests used (1 + extensions)
    user_tokens: list[int] | None = None  # the user's reply, for the `user` horizon
    user_text: str = ""
    user_logprobs: list[float] = field(default_factory=list)
    user_ended: bool = False
    memberships: set[int] = field(default_factory=set)  # refresh positions it serves
    aborted: bool = False
    stratum: Stratum | None = None  # where its first token came from (stratified refreshes)
    _ends: dict[str, list[int]] = field(default_factory=dict)
    _tracker: BoundaryTracker = field(init=False)

    def __post_init__(self) -> None:
        self._tracker = BoundaryTracker()
        self._ends = {"sentence": [], "paragraph": []}
        self._note(self._tracker.feed(self.context))

    def _note(self, boundaries: list[Boundary]) -> None:
        shift = len(self.context)
        for b in boundaries:
            if b.offset > shift:
                self._ends[b.kind].append(b.offset - shift)

    def add(self, delta: Delta, eos_ids: frozenset[int]) -> None:
        """Append a delta of the assistant part."""
        self.tokens += delta.token_ids
        self.logprobs += [lp.logprob for lp in delta.logprobs or ()]
        self.text.add(len(delta.token_ids), delta.text)
        self._note(self._tracker.feed(delta.text))
        if delta.finish_reason == "stop" and self.tokens and self.tokens[-1] in eos_ids:
            self.ended = True
            self._note(self._tracker.close())

    def add_user(self, delta: Delta, eos_ids: frozenset[int]) -> None:
        """Append a delta of the user's reply (after the turn ended)."""
        assert self.user_tokens is not None
        self.user_tokens += delta.token_ids
        self.user_logprobs += [lp.logprob for lp in delta.logprobs or ()]
        self.user_text += delta.text
        if delta.finish_reason == "stop" and self.user_tokens and self.user_tokens[-1] in eos_ids:
            self.user_ended = True

    def agrees(self, emitted: list[int], upto: int) -> bool | None:
        """True if it reproduces ``emitted[start:upto]``; None if too short to tell yet."""
        need = upto - self.start
        if need <= 0:
            return True  # nothing emitted after its start yet to disagree with
        have = self.tokens[:need]
        if have != emitted[self.start : self.start + len(have)]:
            return False
        if len(have) == need:
            return True
        return False if self.ended else None

    def outcome(
        self,
        horizon: Horizon,
        position: int,
        consumed_chars: int,
        lookahead: int,
        header_tokens: int = 0,
    ) -> Outcome:
        """Where ``horizon`` ends after ``position`` (which this rollout agrees with).

        ``consumed_chars`` is the length of the main text between ``start`` and ``position``.
        """
        k = position - self.start
        ahead = len(self.tokens) - k
        if horizon in ("sentence", "paragraph"):
            for end in self._ends[horizon]:
                if end > consumed_chars:
                    n = self.text.tokens_to_cover(end) - k
                    if n > lookahead:
                        return NOT_REACHED
                    last = self.ended and not self.text.text[end:].strip()
                    # log p of the ending's tokens whatever follows them (so one text has
                    # one probability, whether or not this rollout's reply closed after it)
                    text = self.text.text[consumed_chars:end]
                    return Outcome("reached", text, n, self._logprob(k, n), last)
            if self.ended:
                text = self.text.text[consumed_chars:].strip()
                return Outcome("reached", text, ahead, self._logprob(k, ahead), True)
            return NOT_REACHED if ahead >= lookahead + CERTAINTY_SLACK else PENDING
        turn = self._turn(consumed_chars, ahead, lookahead)
        if horizon == "turn" or turn.status != "reached":
            return turn
        # horizon == "user": the reply that follows the turn's end and the user header.
        user = self.user_tokens
        if user is None:
            return PENDING
        if self.user_ended:
            # The header is the chat template's, not sampled: probability 1.
            reply = self.user_logprobs if len(self.user_logprobs) == len(user) else None
            logprob = None if turn.logprob is None or reply is None else turn.logprob + sum(reply)
            tokens = turn.tokens + header_tokens + len(user)
            return Outcome("reached", self.user_text.strip(), tokens, logprob)
        return NOT_REACHED if len(user) >= lookahead else PENDING

    def _turn(self, consumed_chars: int, ahead: int, lookahead: int) -> Outcome:
        if self.ended:
            if ahead > lookahead:
                return NOT_REACHED
            text = self.text.text[consumed_chars:]
            logprob = self._logprob(len(self.tokens) - ahead, ahead)
            return Outcome("reached", text, ahead, logprob, True)
        return NOT_REACHED if ahead >= lookahead else PENDING

    def _logprob(self, k: int, n: int) -> float | None:
        """Log p of ``tokens[k:k + n]`` given everything before them (None if not reported)."""
        if len(self.logprobs) < k + n:
            return None
        return math.fsum(self.logprobs[k : k + n])
