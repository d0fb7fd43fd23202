"""Where sentences and paragraphs end in streamed model output (planner.boundaries)."""

from __future__ import annotations

import pytest

from planner.boundaries import (
    Boundary,
    BoundaryKind,
    first_end_after,
    paragraph_ends,
    possible_end_after,
    sentence_ends,
)
from planner.boundary_tracker import BoundaryTracker


def pieces(text: str, ends: list[Boundary]) -> list[str]:
    """The units the boundaries cut ``text`` into, without surrounding whitespace."""
    out, start = [], 0
    for b in ends:
        out.append(text[start : b.offset].strip())
        start = b.offset
    return out


CODE = "Here is code:\n```python\nx = 1. y = 2.\n\nprint(x)\n```\nDone now. Bye now"

SENTENCES = [
    # (text, final, the sentences that are certain)
    pytest.param(
        "Dr. Smith went to Washington. He arrived at 3 p.m. today.",
        True,
        ["Dr. Smith went to Washington.", "He arrived at 3 p.m. today."],
        id="title-and-time-abbreviations",
    ),
    pytest.param(
        "I live in the U.S. It is big.",
        True,
        ["I live in the U.S.", "It is big."],
        id="abbreviation-ends-sentence",
    ),
    pytest.param("Use e.g. apples. Or pears.", True, ["Use e.g. apples.", "Or pears."], id="e.g."),
    pytest.param(
        "I like Mr. Smith. St. Louis is nice.",
        True,
        ["I like Mr. Smith.", "St. Louis is nice."],
        id="mr-st",
    ),
    pytest.param(
        "Meet at 5 p.m. I will bring the docs.",
        True,
        ["Meet at 5 p.m.", "I will bring the docs."],
        id="p.m.-then-I",
    ),
    pytest.param(
        "Pi is 3.14 roughly. It costs $3.50 now. Get v2.0.1 today.",
        True,
        ["Pi is 3.14 roughly.", "It costs $3.50 now.", "Get v2.0.1 today."],
        id="decimals-money-versions",
    ),
    pytest.param(
        "Wait... what? Really!", True, ["Wait... what?", "Really!"], id="ellipsis-mid-sentence"
    ),
    pytest.param(
        "Wait... What is that?", True, ["Wait...", "What is that?"], id="ellipsis-then-capital"
    ),
    pytest.param(
        "Hmm… I see. Ok.", True, ["Hmm…", "I see.", "Ok."], id="unicode-ellipsis-like-ascii"
    ),
    pytest.param(
        "What?! No way. Really?? Yes!",
        True,
        ["What?!", "No way.", "Really??", "Yes!"],
        id="question-exclamation",
    ),
    pytest.param(
        "Wow!!! That is great.", True, ["Wow!!!", "That is great."], id="three-exclamations"
    ),
    pytest.param(
        'He said "Stop." Then left.',
        True,
        ['He said "Stop."', "Then left."],
        id="closing-quote-belongs-to-sentence",
    ),
    pytest.param(
        "She said “Go home.” He did.",
        True,
        ["She said “Go home.”", "He did."],
        id="curly-quotes",
    ),
    pytest.param(
        'He said "Stop. Go home." Then left.',
        True,
        ['He said "Stop. Go home."', "Then left."],
        id="sentences-inside-a-quote",
    ),
    # pysbd keeps a dialogue tag with the quotes before it; a reader would too.
    pytest.param(
        'He shouted "No." "Why?" she asked. Ok then',
        False,
        ['He shouted "No." "Why?" she asked.'],
        id="dialogue-tag",
    ),
    pytest.param('He said "Stop. Go', False, [], id="no-end-inside-open-quote"),
    pytest.param(
        "(This is it.) Next one. More soon", False, ["(This is it.)", "Next one."], id="parentheses"
    ),
    pytest.param(
        "**Note.** Text here. More soon", False, ["**Note.**", "Text here."], id="markdown-bold"
    ),
    pytest.param("Ça va? Très bien.", True, ["Ça va?", "Très bien."], id="accents"),
    pytest.param("你好。再见。", True, ["你好。", "再见。"], id="cjk-final"),
    pytest.param("你好。再见。", False, ["你好。"], id="cjk-streaming"),
    pytest.param(
        "再见。Dr. Smith left. Ok then",
        False,
        ["再见。", "Dr. Smith left."],
        id="cjk-glued-to-abbreviation",
    ),
    pytest.param("no punctuation at all", False, [], id="no-punctuation-streaming"),
    pytest.param("no punctuation at all", True, ["no punctuation at all"], id="no-punctuation"),
    pytest.param(
        "- item one\n- item two\n- item three",
        True,
        ["- item one", "- item two", "- item three"],
        id="bullet-list",
    ),
    pytest.param(
        "1. First step\n2. Second step\n3. Done",
        True,
        ["1. First step", "2. Second step", "3. Done"],
        id="numbered-list",
    ),
    pytest.param(
        "Go to step 2. Then go to step 3. Done.",
        True,
        ["Go to step 2.", "Then go to step 3.", "Done."],
        id="numbers-ending-sentences",
    ),
    pytest.param(
        "Visit https://example.com/a.b for info. Mail a.b@c.com now. Ok.",
        True,
        ["Visit https://example.com/a.b for info.", "Mail a.b@c.com now.", "Ok."],
        id="url-and-email",
    ),
    pytest.param(
        CODE,
        False,
        ["Here is code:", "```python\nx = 1. y = 2.\n\nprint(x)\n```", "Done now."],
        id="code-block-is-one-unit",
    ),
    pytest.param("Run:\n```sh\nls. cd.\n\nmore", False, ["Run:"], id="code-block-still-open"),
    pytest.param(
        "Steps:\n    ```bash\n    echo hi. bye.\n    ```\n- next item",
        True,
        ["Steps:", "```bash\n    echo hi. bye.\n    ```", "- next item"],
        id="indented-code-block",
    ),
    pytest.param(
        "| a. | b. |\n|---|---|\n| 1. | 2. |\nDone.",
        True,
        ["| a. | b. |", "|---|---|", "| 1. | 2. |", "Done."],
        id="table-rows",
    ),
    pytest.param("## Heading\nText here.", True, ["## Heading", "Text here."], id="heading-line"),
    pytest.param("Title line\n\nBody text", False, ["Title line"], id="blank-line-ends-sentence"),
    pytest.param("Hello world.", False, [], id="end-of-text-not-certain"),
    pytest.param("Hello world. ", False, [], id="trailing-space-not-certain"),
    pytest.param("See Dr.", False, [], id="abbreviation-at-end-of-text"),
    # pysbd's char spans put the second copy of a repeated sentence over the first one.
    pytest.param(
        "I live in the U.S. I live in the U.S. I",
        False,
        ["I live in the U.S."],
        id="repeated-sentence",
    ),
    # pysbd would split "etc. I" but not "etc. I think": "I" has to be complete first.
    pytest.param("Sure. I", False, [], id="I-incomplete"),
    pytest.param("Sure. I think", False, ["Sure."], id="I-complete"),
    pytest.param("Sure. W", False, ["Sure."], id="other-word-may-be-incomplete"),
    pytest.param(
        "Apples, pears, etc. I think so. Ok then",
        False,
        ["Apples, pears, etc. I think so."],
        id="etc.-I",
    ),
    pytest.param(
        "  Leading space. Next.", True, ["Leading space.", "Next."], id="leading-whitespace"
    ),
]


@pytest.mark.parametrize(("text", "final", "expected"), SENTENCES)
def test_sentence_ends(text: str, final: bool, expected: list[str]) -> None:
    ends = sentence_ends(text, final=final)
    assert pieces(text, ends) == expected
    assert all(b.kind == "sentence" and b.certain for b in ends)
    # The offset is right after the unit's last character, never inside the gap after it.
    assert all(not text[b.offset - 1].isspace() for b in ends)


PARAGRAPHS = [
    pytest.param("Para one.\n\nPara two.", False, ["Para one."], id="streaming"),
    pytest.param("Para one.\n\nPara two.", True, ["Para one.", "Para two."], id="final"),
    pytest.param("Para one.\n\n", False, [], id="nothing-after-blank-line"),
    pytest.param("Para one.\n \t\nPara two", False, ["Para one."], id="blank-line-with-spaces"),
    pytest.param(
        "Line one.\nLine two.\n\nNext one",
        False,
        ["Line one.\nLine two."],
        id="single-newline-is-not-a-paragraph",
    ),
    pytest.param(
        "```\na\n\nb\n```\n\nAfter it",
        False,
        ["```\na\n\nb\n```"],
        id="blank-line-in-code-block",
    ),
    pytest.param(
        "Intro:\n\n```py\nx = 1\n\ny = 2", False, ["Intro:"], id="blank-line-in-open-code-block"
    ),
    pytest.param("\n\nHello there", False, [], id="leading-blank-lines"),
    pytest.param("\n\nHello there", True, ["Hello there"], id="leading-blank-lines-final"),
    pytest.param("One.  \n\n\n\nTwo more", False, ["One."], id="several-blank-lines"),
]


@pytest.mark.parametrize(("text", "final", "expected"), PARAGRAPHS)
def test_paragraph_ends(text: str, final: bool, expected: list[str]) -> None:
    ends = paragraph_ends(text, final=final)
    assert pieces(text, ends) == expected
    assert all(b.kind == "paragraph" and b.certain for b in ends)
    assert all(not text[b.offset - 1].isspace() for b in ends)


FIRST_END_AFTER = [
    # (kind, context, continuation, final, offset into the continuation)
    pytest.param("sentence", "Hello", ". World is big", False, 1, id="ends-in-continuation"),
    pytest.param("sentence", "Hello", ". W", False, 1, id="next-sentence-begun"),
    pytest.param("sentence", "Hello", ". I", False, None, id="next-word-I-incomplete"),
    pytest.param("sentence", "Hello.", " World. Bye now", False, 7, id="context-ends-at-end"),
    pytest.param("sentence", "Hello. ", "World. Bye now", False, 6, id="context-ends-after-end"),
    pytest.param("sentence", "Hello", " world.", False, None, id="not-yet-certain"),
    pytest.param("sentence", "Hello", " world.", True, 7, id="rollout-ended"),
    pytest.param("sentence", "Hello.", "", True, 0, id="empty-final-rollout"),
    pytest.param(
        "sentence", "He met Dr", ". Smith today. Then he left", False, 14, id="abbreviation"
    ),
    pytest.param("sentence", "Wait..", ". what? Ok then", False, 7, id="ellipsis-split"),
    pytest.param("sentence", 'He said "Stop.', '" Then he left', False, 1, id="closing-quote"),
    pytest.param("sentence", "你好", "。再见。", False, 1, id="cjk"),
    pytest.param(
        "sentence", "```py\nx = 1", "\ny = 2\n```\nDone.", False, 10, id="inside-code-block"
    ),
    pytest.param(
        "sentence", "P1 done.\n\nP2 starts", " here. Then more", False, 6, id="whole-text-context"
    ),
    pytest.param("paragraph", "Intro. More", " text.\n\nNext one", False, 6, id="paragraph"),
    pytest.param("paragraph", "Intro", " text.\n\n", False, None, id="paragraph-not-certain"),
    pytest.param("paragraph", "Intro", " text.\n\n", True, 6, id="paragraph-rollout-ended"),
    pytest.param(
        "paragraph",
        "Para one.\n",
        "\nPara two.\n\nThree more",
        False,
        10,
        id="paragraph-that-context-finished",
    ),
]


@pytest.mark.parametrize(("kind", "context", "continuation", "final", "expected"), FIRST_END_AFTER)
def test_first_end_after(
    kind: BoundaryKind, context: str, continuation: str, final: bool, expected: int | None
) -> None:
    assert first_end_after(kind, context, continuation, final=final) == expected


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown boundary kind"):
        first_end_after("chapter", "a", "b", final=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown boundary kinds"):
        BoundaryTracker(kinds=("sentence", "turn"))


def test_a_sentence_can_end_only_after_punctuation_or_a_line_break() -> None:
    text = "Well, it's a cat-like thing\nthat sat. Then"
    assert possible_end_after(text) == text.index("\n") + 1
    assert possible_end_after(text, text.index("that")) == text.index(".") + 1
    assert possible_end_after("no end here, 'really'") is None
