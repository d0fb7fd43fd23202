"""Where sentences and paragraphs end in (possibly still streaming) model output.

Sentence splitting is pysbd's, one line at a time. On top of it: certainty (an end counts
once the next unit has begun, or the stream ended), opaque fenced code blocks, paragraph
breaks, and fixes for the pysbd quirks that model output runs into.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, get_args

import pysbd

# Of the horizons (planner.config.Horizon) only these two are text boundaries; turn ends
# come from end-of-turn tokens, not from this module.
BoundaryKind = Literal["sentence", "paragraph"]
_KINDS: tuple[str, ...] = get_args(BoundaryKind)

# A fence opens or closes a code block only at the start of a line; unlike CommonMark, any
# indent counts, since models indent fences inside list items by four spaces too.
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})([^\n]*)", re.M)
_BLANK = re.compile(r"\s*\n[ \t]*\n")  # from the end of a paragraph through the blank line
_LINE = re.compile(r"[^\n]*\S[^\n]*")
# pysbd never splits after three or more of these ("Wow!!! Next"), but it does after one.
_BANG_RUN = re.compile(r"[!?]{3,}")
# Glued to a sentence end, these belong to it; pysbd sometimes starts the next "sentence"
# with them ('Yes."' -> 'Yes.' + '"', '**Note.** Text' -> '**Note.' + '** Text').
_CLOSERS = frozenset(".!?…。！？\"'”’)]}»*_")
# pysbd takes sequential "N." in a line for an inline list and splits before the numbers
# ("Go to step 2. Then step 3." -> "Go to step " + "2. Then step " + "3."). Lists in model
# output have one item per line, which splits anyway; pysbd sees every such N as 0.
_LIST_NUMBER = re.compile(r"(?<!\d)\d{1,2}(?=[.)](?:\s|$))")
# pysbd splits after "..." before a capital but never after "…".
_ELLIPSIS = re.compile(r"…(?=\s+[A-Z])")
_NEXT_WORD = re.compile(r"\s*[A-Za-z']*")  # the first word of what follows an end
# A "sentence" that is only a list marker ("1.", "b)") belongs to the sentence after it.
_MARKER = re.compile(r"\(?(\d{1,3}|[a-zA-Z]|[ivxIVX]+)[.)]")
_PAIRS = (("“", "”"), ("(", ")"), ("[", "]"), ("«", "»"))
# A sentence can only end after one of these (\w covers CJK text; "。" is not in \w).
_ACTIVE = re.compile(r"[^\w \t,'’-]")
_LOOKBEHIND = 24  # chars before new text in which BoundaryTracker looks for one


# pysbd compiles its patterns through re's cache. numpy.f2py (imported by scipy, which
# the server loads) shrinks that cache to 50 for the whole process, and pysbd then
# recompiles on every call: about 15x slower. Put the default size back before segmenting.
_RE_CACHE_SIZE = 512


def _keep_regex_cache() -> None:
    if re._MAXCACHE < _RE_CACHE_SIZE:  # type: ignore[attr-defined]
        re._MAXCACHE = _RE_CACHE_SIZE  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Boundary:
    """The end of a sentence or paragraph in a text.

    ``text[:offset]`` is the text up to and including the unit (its final punctuation and
    closing quotes; not the whitespace after it). ``certain`` is True when later text or
    the end of the stream confirms the unit is over.
    """

    kind: BoundaryKind
    offset: int
    certain: bool


def possible_end_after(text: str, start: int = 0) -> int | None:
    """The offset just past the first character of ``text[start:]`` after which a sentence
    could end (punctuation, a closing quote or bracket, a line break), or None: an end is
    never found anywhere else, so text without one needs no segmenting."""
    m = _ACTIVE.search(text, start)
    return None if m is None else m.end()


def _segmenter() -> pysbd.Segmenter:
    # One per call or tracker: segment() keeps the text on the instance, so sharing one
    # between threads would mix texts up, and making one costs well under a microsecond.
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def _blocks(text: str, start: int) -> Iterator[tuple[int, int, bool]]:
    """Split ``text[start:]`` into (begin, end, is_code) runs of prose and fenced code."""
    pos, fence, opened = start, "", 0
    for m in _FENCE.finditer(text, start):
        marker, info = m.group(1), m.group(2)
        if not fence:
            if marker[0] == "`" and "`" in info:  # ```inline``` code, not a fence
                continue
            if m.start() > pos:
                yield pos, m.start(), False
            fence, opened = marker, m.start()
        elif marker[0] == fence[0] and len(marker) >= len(fence) and not info.strip():
            yield opened, m.end(1), True
            fence, pos = "", m.end(1)
    if fence:
        yield opened, len(text), True
    elif pos < len(text):
        yield pos, len(text), False


def _confirmed(text: str, end: int) -> bool:
    """Whether the text after a unit end shows that the unit is over: the next has begun.

    After an abbreviation pysbd decides on the first character of the next word, except for
    "I", "I'm" and "I'll" ("etc. I" splits, "etc. I think" does not), so such a word must
    be complete first.
    """
    m = _NEXT_WORD.match(text, end)
    stop = m.end() if m else end
    return stop < len(text) or text[end:stop].lstrip() not in ("", "I", "I'", "I'l")


def _unbalanced(s: str) -> bool:
    """Whether ``s`` leaves a quote or bracket open (pysbd never splits inside a closed one)."""
    return s.count('"') % 2 == 1 or any(s.count(o) > s.count(c) for o, c in _PAIRS)


def _line_ends(seg: pysbd.Segmenter, text: str, a: int, b: int, final: bool) -> list[int]:
    """Sentence end offsets in the line ``text[a:b]``; the last one is the line's end."""
    line = text[a:b]
    size = len(line.rstrip())
    if line.lstrip().startswith("|"):  # a table row is one unit, whatever its cells hold
        return [a + size]
    # Same-length rewrites, so pysbd's spans still index the original line.
    src = _ELLIPSIS.sub("!", line)  # not ".": "Ok. I think" reads as an abbreviation
    src = _BANG_RUN.sub(lambda m: m[0][0] + " " * (len(m[0]) - 1), src)
    src = _LIST_NUMBER.sub(lambda m: "0" * len(m[0]), src)
    ends: list[int] = []
    prev = start = 0
    while start < size:
        origin = cursor = start
        start = size  # no re-split unless one is asked for below
        _keep_regex_cache()
        for span in seg.segment(src[origin:]):
            first = origin + span.start
            if first < cursor:  # pysbd placed a repeated sentence at an earlier copy of it
                continue
            cursor = first + len(span.sent)
            end = core = first + len(span.sent.rstrip())
            while end < size and line[end] in _CLOSERS:
                end += 1
            if end <= prev or end >= size or _MARKER.fullmatch(line[prev:end].strip()):
                continue  # "1." alone is a list marker, not a sentence
            unbalanced = _unbalanced(line[prev:end])
            if unbalanced and _unbalanced(line[prev:core]) and b == len(text) and not final:
                break  # a closing quote may yet undo this split ('He said "Stop. Go." Then')
            ends.append(a + end)
            prev = end
            # What pysbd makes of the rest depends on what precedes it: a stray quote pairs
            # with a later one, the closers taken from it above or an abbreviation glued to
            # the end ("再见。Dr. Smith") throw it off. Re-split the rest on its own, as
            # BoundaryTracker does.
            if unbalanced or end > core or not line[end].isspace():
                start = end
                break
    ends.append(a + size)
    return ends


def _unit_ends(
    seg: pysbd.Segmenter, text: str, final: bool, start: int = 0, since: int = 0
) -> Iterator[tuple[int, bool]]:
    """Yield (offset, ends_paragraph) for every unit end in ``text[start:]``, in order.

    The last one is the end of the content, certain or not. Lines that end at or before
    ``since`` are not segmented.
    """
    last = start
    for a, b, code in _blocks(text, start):
        if code:
            ends = [a + len(text[a:b].rstrip())]
        else:
            # pysbd splits at every newline anyway; one line at a time keeps its list-numbering
            # heuristics from reaching across lines and is cheaper.
            ends = [
                end
                for m in _LINE.finditer(text, a, b)
                if m.end() > since
                for end in _line_ends(seg, text, m.start(), m.end(), final)
            ]
        for end in ends:
            if end > last:
                last = end
                yield end, _BLANK.match(text, end) is not None


def _certain_ends(text: str, kind: BoundaryKind, final: bool) -> list[Boundary]:
    if kind not in _KINDS:
        raise ValueError(f"unknown boundary kind {kind!r}; expected one of {_KINDS}")
    limit = len(text.rstrip())
    out = []
    for end, para in _unit_ends(_segmenter(), text, final):
        if not (final or _confirmed(text, end)):
            break
        if kind == "sentence" or para or end == limit:
            out.append(Boundary(kind, end, True))
    return out


def sentence_ends(text: str, *, final: bool = False) -> list[Boundary]:
    """Certain sentence ends in ``text``, in order.

    A sentence end is certain once the next sentence has begun (when that begins with "I",
    once that word is complete: "etc. I" would split, "etc. I think" does not), or when
    ``final`` (the stream ended; then the end of the content is one too). A fenced code block
    is one opaque unit; a line break ends a sentence (list items, headings, table rows).
    """
    return _certain_ends(text, "sentence", final)


def paragraph_ends(text: str, *, final: bool = False) -> list[Boundary]:
    """Certain paragraph ends in ``text``, in order.

    A paragraph ends at a blank line outside fenced code blocks; the offset is just after
    the last non-whitespace character before it. Certain once the text after the blank line
    has begun (as for sentences), or when ``final`` (then the end of the content is one too).
    """
    return _certain_ends(text, "paragraph", final)


def first_end_after(
    kind: BoundaryKind, context: str, continuation: str, *, final: bool
) -> int | None:
    """Offset into ``continuation`` where the unit in progress at the junction ends.

    ``context`` is the text already emitted (the whole text is fine: segmentation starts at
    the line holding the junction), ``continuation`` a rollout of it. Only an end after the
    junction counts: if the context ends at a boundary, even one that only the continuation
    confirms ("Hello." or "Hello. " + " World. Bye" -> the end of "World."), the unit in
    progress is the next one. Returns None while the end is not certain; with ``final`` (the
    rollout ended its turn) the end of the continuation's content ends every unit, so the
    result is never None.
    """
    if kind not in _KINDS:
        raise ValueError(f"unknown boundary kind {kind!r}; expected one of {_KINDS}")
    text, junction = context + continuation, len(context)
    limit = len(text.rstrip())
    for end, para in _unit_ends(_segmenter(), text, final, since=junction):
        if not (final or _confirmed(text, end)):
            break
        if end > junction and (kind == "sentence" or para or end == limit):
            return end - junction
    return 0 if final else None
