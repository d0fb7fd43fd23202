"""The snapshot as data: ``refresh_reason`` is a closed set, each value documented, and
plans stored while it was free text still read."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from planner.plan import RefreshReason, Snapshot


def _snapshot(**fields: Any) -> dict[str, Any]:
    base = {
        "position": 0,
        "text_offset": 0,
        "trigger": "start",
        "preceding_token": None,
        "horizons": {},
        "latency_seconds": 0.0,
    }
    return {**base, **fields}


def test_the_schema_lists_and_documents_every_refresh_reason() -> None:
    prop = Snapshot.model_json_schema()["properties"]["refresh_reason"]
    assert prop["enum"] == list(get_args(RefreshReason))
    for reason in get_args(RefreshReason):
        assert f"'{reason}'" in prop["description"]


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ("fixed; all carried over", "fixed"),
        ("adaptive: next token nearly certain (p=0.97)", "adaptive: next token nearly certain"),
        ("adaptive: usual (entropy 0.42 nats); all carried over", "adaptive: usual"),
        ("adaptive: no next-token distribution", "adaptive: no next-token distribution"),
    ],
)
def test_free_text_reasons_of_plans_stored_before_still_read(stored: str, read: str) -> None:
    assert Snapshot.model_validate(_snapshot(refresh_reason=stored)).refresh_reason == read


def test_an_unknown_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="refresh_reason"):
        Snapshot.model_validate(_snapshot(refresh_reason="because"))
