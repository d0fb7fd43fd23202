"""BoundaryTracker: boundaries found in streamed deltas, however the text is split."""

from __future__ import annotations

import pytest
from test_boundaries import pieces

from planner.boundaries import (
    Boundary,
    BoundaryKind,
    first_end_after,
    paragraph_ends,
    sentence_ends,
)
from planner.boundary_tracker import BoundaryTracker

STREAM = (
    "Dr. Smith arrived at 3 p.m. today, e.g. for the U.S. meeting. Pi is 3.14, roughly! "
    'Wait... what? He said "Stop. Go home." Then he left.\n\n'
    "Steps:\n1. Install it.\n2. Run `make test`. It takes 2.5 min.\n\n"
    "```python\nx = 1. y = 2.\n\nprint(x)\n```\n"
    "Done now… Really. 你好。再见。 Ça va? Très bien.\n\n"
    "| a. | b. |\n|---|---|\n\nApples, pears, etc. I think so. Mail a.b@c.com now!!! Bye"
)


def one_shot(text: str) -> list[Boundary]:
    both = sentence_ends(text, final=True) + paragraph_ends(text, final=True)
    return sorted(both, key=lambda b: (b.offset, b.kind != "sentence"))


def stream(tracker: BoundaryTracker, text: str, size: int) -> list[Boundary]:
    got = []
    for i in range(0, len(text), size):
        got += tracker.feed(text[i : i + size])
    return got + tracker.close()


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 16, 10_000])
def test_tracker_matches_one_shot_however_split(size: int) -> None:
    tracker = BoundaryTracker()
    assert stream(tracker, STREAM, size) == one_shot(STREAM)
    assert tracker.text == STREAM


def test_tracker_reports_each_boundary_once_in_order() -> None:
    got = stream(BoundaryTracker(), STREAM, 1)
    keys = [(b.offset, b.kind != "sentence") for b in got]
    assert keys == sorted(set(keys))
    assert all(b.certain for b in got)
    assert {b.kind for b in got} == {"sentence", "paragraph"}


def test_tracker_deltas_split_mid_word_and_mid_ellipsis() -> None:
    tracker = BoundaryTracker()
    fed = [tracker.feed(d) for d in ["Wai", "t..", ". wh", "at? Re", "ally! Th", "en"]]
    assert fed == [
        [],
        [],
        [],
        [Boundary("sentence", 13, True)],
        [Boundary("sentence", 21, True)],
        [],
    ]
    assert tracker.close() == [Boundary("sentence", 26, True), Boundary("paragraph", 26, True)]


def test_tracker_never_reports_an_end_that_later_text_undoes() -> None:
    # Mid-stream, pysbd would split 'He said "Stop.' and 'etc. I'; the full text does not.
    tracker = BoundaryTracker(kinds=("sentence",))
    text = 'He said "Stop. Go home." Then, apples, pears, etc. I think so. Bye'
    got = stream(tracker, text, 1)
    assert pieces(text, got) == [
        'He said "Stop. Go home."',
        "Then, apples, pears, etc. I think so.",
        "Bye",
    ]


def test_tracker_paragraph_and_sentence_end_together() -> None:
    tracker = BoundaryTracker()
    assert tracker.feed("First part.\n\n") == []
    assert tracker.feed("Second part") == [
        Boundary("sentence", 11, True),
        Boundary("paragraph", 11, True),
    ]


def test_tracker_waits_for_I_to_be_a_whole_word() -> None:
    tracker = BoundaryTracker(kinds=("sentence",))
    assert [tracker.feed(d) for d in ["Thanks.", " I", "'l", "l do it"]] == [
        [],
        [],
        [],
        [Boundary("sentence", 7, True)],
    ]


def test_tracker_kinds() -> None:
    got = stream(BoundaryTracker(kinds=("paragraph",)), STREAM, 5)
    assert got == [b for b in one_shot(STREAM) if b.kind == "paragraph"]


def test_tracker_close() -> None:
    tracker = BoundaryTracker()
    assert tracker.feed("Done.\n\n") == []
    assert tracker.close() == [Boundary("sentence", 5, True), Boundary("paragraph", 5, True)]
    assert tracker.close() == []
    with pytest.raises(RuntimeError):
        tracker.feed("more")
    assert BoundaryTracker().close() == []  # nothing was said: nothing ends


def test_rollout_and_main_text_agree() -> None:
    # A rollout that reproduces the main text must see the same ends the main text does.
    kinds: tuple[BoundaryKind, ...] = ("sentence", "paragraph")
    for kind in kinds:
        ends = [b.offset for b in one_shot(STREAM) if b.kind == kind]
        for junction in range(0, len(STREAM), 5):
            expected = next(e for e in ends if e > junction) - junction
            got = first_end_after(kind, STREAM[:junction], STREAM[junction:], final=True)
            assert got == expected, (kind, STREAM[:junction])


def test_segmenting_restores_a_regex_cache_shrunk_by_another_library() -> None:
    # numpy.f2py sets re._MAXCACHE = 50 process-wide; pysbd then recompiles every pattern.
    import re

    saved = re._MAXCACHE  # type: ignore[attr-defined]
    try:
        re._MAXCACHE = 50  # type: ignore[attr-defined]
        assert [b.offset for b in sentence_ends("One. Two. Three")] == [4, 9]
        assert re._MAXCACHE >= 512  # type: ignore[attr-defined]
    finally:
        re._MAXCACHE = saved  # type: ignore[attr-defined]
