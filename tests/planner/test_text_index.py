"""Token positions and character offsets of streamed text (planner.text_index)."""

from __future__ import annotations

from planner.text_index import TextIndex


def test_inside_a_multi_token_delta_offsets_go_back_and_tokens_go_forward() -> None:
    index = TextIndex()
    index.add(1, "The")
    index.add(3, " cat sat")  # three tokens in one delta: their split is unknown
    assert [index.offset_at(t) for t in range(5)] == [0, 3, 3, 3, 11]
    assert index.tokens_to_cover(3) == 1
    assert index.tokens_to_cover(4) == index.tokens_to_cover(11) == 4


def test_text_released_late_joins_the_last_delta() -> None:
    index = TextIndex()
    index.add(2, "Hi")
    index.add(0, " there")
    assert index.offset_at(2) == len("Hi there") and index.tokens == 2
