"""The prompt file: the shipped default set, and bad input named by its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.eval.prompts import PromptError, default_path, load_prompts


def test_the_default_set_is_varied_and_has_turns_to_follow() -> None:
    prompts = load_prompts(default_path())
    assert len(prompts) >= 40
    kinds = {p.kind for p in prompts}
    assert {"facts", "how-to", "story", "dialogue", "code", "lists", "multi-turn"} <= kinds
    followed = [p for p in prompts if p.mode == "follow"]
    assert len(followed) >= 4  # the user horizon is scored on these
    for p in followed:
        assert [m["role"] for m in p.messages][-2:] == ["assistant", "user"]
        assert p.context[-1]["role"] == "user"


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


GOOD = json.dumps({"id": "a", "prompt": "Hello"})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "p.jsonl:3: not valid JSON"),
        (json.dumps({"prompt": "x", "horizons": ["turn", "chapter"]}), "unknown horizon 'chapter'"),
        (json.dumps({"prompt": "x", "horizons": "user"}), "'user' horizon needs a given assistant"),
        (json.dumps({"messages": [{"role": "user", "content": ""}]}), "non-empty text"),
        (json.dumps({"prompt": "x", "colour": 1}), "unknown field(s) colour"),
        (json.dumps({"id": "a", "prompt": "x"}), "the id 'a' is used twice"),
        (json.dumps([1, 2]), "expected a JSON object"),
    ],
)  # fmt: skip
def test_a_bad_line_is_named(tmp_path: Path, line: str, message: str) -> None:
    path = _write(tmp_path, GOOD, "# a comment", line)
    with pytest.raises(PromptError) as info:
        load_prompts(path)
    assert message in str(info.value)
    assert f"{path}:3" in str(info.value)


def test_a_missing_file_is_one_clear_message(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match=r"cannot read the prompts file .*nope\.jsonl"):
        load_prompts(tmp_path / "nope.jsonl")


def test_ids_default_to_the_line_and_modes_follow_the_roles(tmp_path: Path) -> None:
    turn = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "How are you?"},
    ]
    path = _write(tmp_path, json.dumps({"prompt": "x"}), json.dumps({"messages": turn}))
    first, second = load_prompts(path)
    assert (first.id, first.mode) == ("line-1", "generate")
    assert (second.id, second.mode, second.context) == ("line-2", "follow", turn[:1])
