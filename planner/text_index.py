"""Token positions ↔ character offsets of streamed text, from the deltas that built it."""

from __future__ import annotations

import bisect


class TextIndex:
    """Text grown from (tokens, text) deltas, with offsets known at every delta edge.

    A delta usually carries one token; when it carries several, the text inside it is not
    split between them. Both maps are conservative: ``offset_at`` a position inside the
    delta is the delta's start (text of later tokens never counts as before a refresh
    point: a refresh never sees its future), ``tokens_to_cover`` an offset inside it is
    the delta's end (a boundary is never placed early).
    """

    def __init__(self) -> None:
        self.text = ""
        self._tokens: list[int] = [0]  # cumulative token counts at delta edges
        self._chars: list[int] = [0]  # cumulative character counts at the same edges

    @property
    def tokens(self) -> int:
        return self._tokens[-1]

    def add(self, n_tokens: int, text: str) -> None:
        self.text += text
        if n_tokens == 0:  # text released late by the detokenizer (held-back stop strings)
            self._chars[-1] = len(self.text)
            return
        self._tokens.append(self._tokens[-1] + n_tokens)
        self._chars.append(len(self.text))

    def offset_at(self, tokens: int) -> int:
        """Characters of text the first ``tokens`` tokens surely produced: the offset of the
        last delta edge at or before ``tokens`` (inside a multi-token delta, its start)."""
        i = bisect.bisect_right(self._tokens, tokens) - 1
        return self._chars[max(i, 0)]

    def tokens_to_cover(self, chars: int) -> int:
        """The fewest tokens whose text reaches ``chars`` characters."""
        i = bisect.bisect_left(self._chars, chars)
        if i >= len(self._chars):
            return self._tokens[-1]
        return self._tokens[i]
