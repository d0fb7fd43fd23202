"""Sentence and paragraph ends on streamed text, found incrementally (see planner.boundaries).

Invariant: ``feed`` reports exactly the boundaries a one-shot scan of the whole text
reports, once each and in order, however the text is split into deltas.
"""

from __future__ import annotations

from collections.abc import Iterable

from planner.boundaries import (
    _KINDS,
    _LOOKBEHIND,
    Boundary,
    _confirmed,
    _segmenter,
    _unit_ends,
    possible_end_after,
)


class BoundaryTracker:
    """Incremental boundary detection over streamed text.

    ``feed`` returns the boundaries that became certain with that delta, each exactly once
    and in order: the ones a one-shot ``sentence_ends``/``paragraph_ends`` of the whole text
    gives, however the text is split into deltas. Only the text since the last certain
    sentence end is re-segmented, and only when a character that could end a sentence came
    shortly before the new text. ``feed`` after ``close`` raises RuntimeError.
    """

    def __init__(self, kinds: Iterable[str] = ("sentence", "paragraph")) -> None:
        self._kinds = frozenset(kinds)
        if not self._kinds <= set(_KINDS):
            raise ValueError(f"unknown boundary kinds {sorted(self._kinds - set(_KINDS))}")
        self._seg = _segmenter()
        self._done: list[str] = []  # settled text, before the last certain sentence end
        # Unsettled text, preceded by one settled character so that ^ in the fence regex
        # still sees whether the unsettled text starts a line.
        self._buf = ""
        self._skip = 0  # length of that settled prefix of _buf: 0 at the start, else 1
        self._base = 0  # offset of _buf[0] in the whole text
        self._content = 0  # end of the last non-whitespace in _buf
        self._closed = False

    @property
    def text(self) -> str:
        """All text fed so far."""
        return "".join(self._done) + self._buf[self._skip :]

    def feed(self, delta: str) -> list[Boundary]:
        """Append ``delta``; return the boundaries it made certain."""
        if self._closed:
            raise RuntimeError("BoundaryTracker.feed() after close()")
        # A new end needs a character that can end a sentence shortly before the new text:
        # pysbd decides on an end from little more than the word after it.
        window = max(self._skip, self._content - _LOOKBEHIND)
        self._buf += delta
        if delta.strip():
            self._content = len(self._buf) - (len(delta) - len(delta.rstrip()))
        if possible_end_after(self._buf, window) is not None:
            return self._scan(final=False)
        return []

    def close(self) -> list[Boundary]:
        """End of stream: the end of the remaining text becomes certain boundaries."""
        if self._closed:
            return []
        self._closed = True
        return self._scan(final=True)

    def _scan(self, *, final: bool) -> list[Boundary]:
        buf = self._buf
        limit, cut, out = len(buf.rstrip()), 0, []
        for end, para in _unit_ends(self._seg, buf, final, start=self._skip):
            if not (final or _confirmed(buf, end)):
                break
            at = self._base + end
            if "sentence" in self._kinds:
                out.append(Boundary("sentence", at, True))
            if "paragraph" in self._kinds and (para or end == limit):
                out.append(Boundary("paragraph", at, True))
            cut = end
        if cut:
            self._done.append(buf[self._skip : cut])
            self._buf, self._skip = buf[cut - 1 :], 1
            self._base += cut - 1
            self._content -= cut - 1
        return out
