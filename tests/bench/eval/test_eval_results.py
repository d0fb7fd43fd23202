"""The rows on disk: a row cut short by a kill is dropped, other settings are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.eval.results import RESULTS, Results, ResultsError


def test_a_row_cut_short_is_dropped_and_truncated(tmp_path: Path) -> None:
    results = Results(tmp_path, {"k": 1})
    results.append({"id": "a"})
    results.append({"id": "b"})
    with (tmp_path / RESULTS).open("a") as f:
        f.write('{"id": "c", "plan": {"te')  # the kill came mid-write

    again = Results(tmp_path, {"k": 1})
    assert again.done == {"a", "b"}
    again.append({"id": "c"})
    lines = (tmp_path / RESULTS).read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a", "b", "c"]


def test_other_settings_are_refused_by_name(tmp_path: Path) -> None:
    Results(tmp_path, {"rollouts": 8, "seed": 0}).append({"id": "a"})
    with pytest.raises(ResultsError, match="other settings \\(rollouts\\)"):
        Results(tmp_path, {"rollouts": 4, "seed": 0})
    assert (tmp_path / RESULTS).read_text().count("\n") == 1  # kept
