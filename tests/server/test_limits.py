"""Request caps: 413 for a big body before it is read in full, 400 naming each capped field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from guarded_app import CHAT, PLANNED, guarded

ROUTE = "/v1/chat/completions"


def _error(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return dict(error)


async def test_a_body_over_the_cap_is_a_413_by_its_length_or_as_it_streams(
    tmp_path: Path,
) -> None:
    async with guarded(tmp_path, max_body_bytes=1000) as (_, http, _engine):
        big = {**CHAT, "messages": [{"role": "user", "content": " The" * 400}]}
        error = _error(await http.post(ROUTE, json=big), 413)
        assert "1000 bytes" in error["message"]
        sent = 0

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
            nonlocal sent
            for _ in range(100):
                sent += 100
                yield b" " * 100

        r = await http.post(ROUTE, content=chunks(), headers={"content-type": "application/json"})
        _error(r, 413)
        assert (await http.post(ROUTE, json=CHAT)).status_code == 200


@pytest.mark.parametrize(
    ("change", "param", "says"),
    [
        ({"n": 9}, "n", "at most 8 on this server"),
        ({"max_tokens": 65}, "max_tokens", "at most 64 on this server"),
        ({"max_completion_tokens": 65}, "max_completion_tokens", "at most 64 on this server"),
        ({"stop": ["x" * 257]}, "stop[0]", "at most 256 characters"),
        ({"stop": ["."] * 17}, "stop", "at most 16"),
        ({"messages": [{"role": "user", "content": " The"}] * 513}, "messages", "at most 512"),
        (
            {"messages": [{"role": "user", "content": " The" * 60_000}]},
            "messages[0].content",
            "at most 200000 characters",
        ),
        ({"plan": {"rollouts": 100}}, "plan.rollouts", "at most 16 on this server"),
        ({"plan": {"rollouts": 1000}}, "plan.rollouts", "at most 16 on this server"),
        (
            {"plan": {"max_lookahead_tokens": 5000}},
            "plan.max_lookahead_tokens",
            "at most 256 on this server",
        ),
        ({"plan": {"horizons": ["user"] * 5}}, "plan.horizons", "must not repeat"),
        ({"plan": {"horizons": ["week"]}}, "plan.horizons[0]", "sentence"),
    ],
)
async def test_each_cap_is_a_400_naming_its_field_and_the_limit(
    tmp_path: Path, change: dict[str, Any], param: str, says: str
) -> None:
    async with guarded(tmp_path, max_tokens=64) as (_, http, _engine):
        error = _error(await http.post(ROUTE, json={**CHAT, **change}), 400)
        assert error["param"] == param
        assert says in error["message"], error["message"]
        assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "must be a JSON object"),
        (b"null", "must be a JSON object"),
        (b"{not json", "not valid JSON"),
        (b'{"messages": [1, 2, ', "not valid JSON"),
    ],
)
async def test_empty_null_and_malformed_bodies_say_so_without_a_bogus_param(
    tmp_path: Path, body: bytes, says: str
) -> None:
    async with guarded(tmp_path) as (_, http, _engine):
        r = await http.post(ROUTE, content=body, headers={"content-type": "application/json"})
        error = _error(r, 400)
        assert says in error["message"] and error["param"] is None
        assert "None" not in error["message"]


async def test_plan_true_means_the_server_defaults_and_false_no_plan(tmp_path: Path) -> None:
    async with guarded(tmp_path) as (_, http, _engine):
        body = {**CHAT, "plan": True}
        r = await http.post(ROUTE, json=body)
        assert r.status_code == 200, r.text
        plan = r.json()["choices"][0]["plan"]
        assert plan["object"] == "plan" and plan["snapshots"]
        r = await http.post(ROUTE, json={**CHAT, "plan": False})
        assert r.status_code == 200 and "plan" not in r.json()["choices"][0]


async def test_an_unknown_previous_plan_is_a_404_naming_the_field(tmp_path: Path) -> None:
    async with guarded(tmp_path) as (_, http, _engine):
        body = {**PLANNED, "plan": {**PLANNED["plan"], "previous_id": "no-such-plan"}}
        error = _error(await http.post(ROUTE, json=body), 404)
        assert error["param"] == "plan.previous_id" and "no-such-plan" in error["message"]
        done = (await http.post(ROUTE, json=PLANNED)).json()["choices"][0]["plan"]["id"]
        body["plan"]["previous_id"] = done
        assert (await http.post(ROUTE, json=body)).status_code == 200
