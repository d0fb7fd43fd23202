"""The main sequence as the planner sees it: tokens, text, boundaries, logprobs."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from planner.boundaries import Boundary
from planner.boundary_tracker import BoundaryTracker
from planner.config import Horizon
from planner.engine.protocol import Delta, TokenLogprob
from planner.text_index import TextIndex


@dataclass(frozen=True)
class Realised:
    """What the main text did after a position, for one horizon."""

    text: str
    tokens: int
    ends_reply: bool = False  # the ending closes the assistant's reply


@dataclass
class MainText:
    """Everything emitted so far; grows as deltas arrive."""

    eos_ids: frozenset[int]
    tokens: list[int] = field(default_factory=list)
    index: TextIndex = field(default_factory=TextIndex)
    logprobs: list[TokenLogprob | None] = field(default_factory=list)
    finished: bool = False
    ended_turn: bool = False  # finished with the end-of-turn token (not cut by max_tokens)
    ends: dict[str, list[int]] = field(default_factory=lambda: {"sentence": [], "paragraph": []})
    _tracker: BoundaryTracker = field(default_factory=BoundaryTracker)

    @property
    def text(self) -> str:
        return self.index.text

    def add(self, delta: Delta) -> list[Boundary]:
        """Record a delta; returns sentence/paragraph ends that just became certain."""
        self.tokens += delta.token_ids
        self.index.add(len(delta.token_ids), delta.text)
        self.logprobs += delta.logprobs or [None] * len(delta.token_ids)
        new = self._tracker.feed(delta.text)
        if delta.finish_reason is not None:
            self.finished = True
            self.ended_turn = bool(self.tokens) and self.tokens[-1] in self.eos_ids
            if self.ended_turn:
                new += self._tracker.close()
        for b in new:
            self.ends[b.kind].append(b.offset)
        return new

    def offset(self, position: int) -> int:
        return self.index.offset_at(position)

    def unit_start(self, horizon: Horizon, chars: int) -> int:
        """Character offset where the unit in progress at ``chars`` began."""
        if horizon not in self.ends:
            return 0
        ends = self.ends[horizon]
        i = bisect.bisect_right(ends, chars) - 1
        return ends[i] if i >= 0 else 0

    def context_before(self, position: int) -> str:
        """Main text of the paragraph in progress at ``position`` (segmentation context)."""
        chars = self.offset(position)
        return self.text[self.unit_start("paragraph", chars) : chars]

    def realised(self, horizon: Horizon, position: int) -> Realised | None:
        """The ending that really followed ``position``, once it is known."""
        chars = self.offset(position)
        if horizon in self.ends:
            for end in self.ends[horizon]:
                if end > chars:
                    n = self.index.tokens_to_cover(end) - position
                    last = self.ended_turn and not self.text[end:].strip()
                    return Realised(self.text[chars:end], n, last)
            if self.ended_turn:
                return Realised(self.text[chars:].strip(), len(self.tokens) - position, True)
            return None
        if horizon == "turn" and self.ended_turn:
            return Realised(self.text[chars:], len(self.tokens) - position, True)
        return None  # the user's reply is only known from the next request

    def token_text(self, position: int) -> str | None:
        """Text of the token at ``position`` when the deltas tell it exactly."""
        if not 0 <= position < len(self.tokens):
            return None
        lp = self.logprobs[position]
        if lp is not None:
            return lp.text
        return self.text[self.offset(position) : self.offset(position + 1)]
