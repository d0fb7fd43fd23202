"""What the rollouts agree on (planner.consensus), by hand."""

from __future__ import annotations

import pytest

from planner.consensus import base_rate, consensus, recall, terms


def test_terms_leave_out_function_words() -> None:
    assert terms("The cat sat on the mat in 1999.") == {"cat", "sat", "mat", "1999"}


def test_consensus_lists_shared_terms_and_shapes() -> None:
    endings = [
        " Paris is the capital, with 2 million people.",
        " It is Paris, home to 2 million.",
        " Paris?",
        "",
    ]
    c = consensus(endings, [False, False, False, True])
    assert c is not None
    found = {t.term: (t.share, t.kind) for t in c.terms}
    assert found == {"paris": (0.75, "name"), "2": (0.5, "number"), "million": (0.5, "word")}
    assert (c.ends_reply_share, c.question_share, c.list_share, c.share) == (0.25, 0.25, 0.0, 0.5)
    assert c.median_words == pytest.approx(4.0)  # 8, 7, 1, 0 words
    assert consensus([], []) is None


def test_names_are_told_from_words() -> None:
    c = consensus(["We met Anna.", "Then Anna left.", "- Anna\n- Bob"], [False] * 3)
    assert c is not None
    assert [(t.term, t.kind) for t in c.terms] == [("anna", "name")]
    assert c.list_share == pytest.approx(1 / 3)


def test_recall_against_what_came_and_other_texts() -> None:
    assert recall(["paris", "2"], "Paris has 3 million.") == 0.5
    assert recall([], "anything") is None
    assert base_rate(["paris"], ["Paris!", "Rome."]) == 0.5
    assert base_rate(["paris"], None) is None
