"""A bad `plan` object is a 400 naming the field, on every route that takes one."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from markov_server import MarkovServer

MESSAGES = [{"role": "user", "content": " Yes."}]

# (plan, the param the 400 names); every field of the plan request has at least one case.
BAD_PLANS: list[tuple[dict[str, Any], str]] = [
    ({"rollouts": 0}, "plan.rollouts"),
    ({"rollouts": 10_000}, "plan.rollouts"),
    ({"rollouts": 17}, "plan.rollouts"),  # the server's limit (16 by default)
    ({"rollouts": "many"}, "plan.rollouts"),
    ({"refresh": "never"}, "plan.refresh"),
    ({"refresh": 0}, "plan.refresh"),
    ({"horizons": ["century"]}, "plan.horizons[0]"),
    ({"horizons": []}, "plan.horizons"),
    ({"horizons": ["turn", "turn"]}, "plan.horizons"),
    ({"max_lookahead_tokens": 0}, "plan.max_lookahead_tokens"),
    ({"max_lookahead_tokens": 100_000}, "plan.max_lookahead_tokens"),
    ({"max_lookahead_tokens": 257}, "plan.max_lookahead_tokens"),  # the server's limit
    ({"include_rollouts": "sometimes"}, "plan.include_rollouts"),
    ({"id": "has spaces"}, "plan.id"),
    ({"id": ""}, "plan.id"),
    ({"id": "x" * 129}, "plan.id"),
    ({"previous_id": ""}, "plan.previous_id"),
    ({"previous_id": 7}, "plan.previous_id"),
    ({"clustering": "vibes"}, "plan.clustering"),
    ({"sampling": "lucky"}, "plan.sampling"),
    ({"refresh_policy": "sometimes"}, "plan.refresh_policy"),
    ({"colour": "blue"}, "plan.colour"),
    ({"horizons": ["sentence"], "refresh_every": {"turn": 2}}, "plan.refresh_every"),
    ({"refresh_every": {"turn": 0}}, "plan.refresh_every.turn"),
    ({"refresh_every": {"decade": 2}}, "plan.refresh_every.decade"),
    ({"refresh_every": [2]}, "plan.refresh_every"),
    ({"rollouts_in_flight": 0}, "plan.rollouts_in_flight"),
    ({"rollouts_in_flight": 1000}, "plan.rollouts_in_flight"),
    ({"fork_threshold": 1.5}, "plan.fork_threshold"),
    ({"pace": "fast"}, "plan.pace"),
    ({"max_hold_ms": -1}, "plan.max_hold_ms"),
    ({"max_hold_ms": 60_001}, "plan.max_hold_ms"),
    ({"fork_threshold": -0.1}, "plan.fork_threshold"),
]


def _case_id(case: tuple[dict[str, Any], str]) -> str:
    plan, _ = case
    return ",".join(f"{k}={v!r}"[:40] for k, v in plan.items())


@pytest.mark.parametrize(("plan", "param"), BAD_PLANS, ids=[_case_id(c) for c in BAD_PLANS])
async def test_invalid_plan_fields_are_400s(
    shared: MarkovServer, plan: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await shared.sdk.chat.completions.create(
            model=shared.model, messages=MESSAGES, max_tokens=4, extra_body={"plan": plan}
        )
    assert info.value.param == param
    assert info.value.type == "invalid_request_error"


@pytest.mark.parametrize(("plan", "param"), BAD_PLANS[:8], ids=[_case_id(c) for c in BAD_PLANS[:8]])
async def test_the_same_400s_on_streams_completions_and_analyze(
    shared: MarkovServer, plan: dict[str, Any], param: str
) -> None:
    """Refused before any response starts: a stream is a 400 too, not an error event."""
    bodies = {
        "/v1/chat/completions": {"messages": MESSAGES, "stream": True},
        "/v1/completions": {"prompt": " Yes.", "stream": False},
        "/v1/plans/analyze": {"messages": MESSAGES, "assistant": " No."},
    }
    for route, body in bodies.items():
        r = await shared.http.post(route, json={**body, "plan": plan})
        assert r.status_code == 400, (route, r.text)
        assert r.json()["error"]["param"] == param, route


async def test_every_plan_field_has_a_bad_case(shared: MarkovServer) -> None:
    """The plan request schema the server publishes: a new field needs a case above."""
    schema = (await shared.http.get("/openapi.json")).json()["components"]["schemas"]
    fields = set(schema["PlanRequest"]["properties"])
    covered = {key for plan, _ in BAD_PLANS for key in plan}
    assert fields <= covered, f"no 400 case for {sorted(fields - covered)}"


async def test_user_horizon_needs_a_chat(shared: MarkovServer) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await shared.sdk.completions.create(
            model=shared.model,
            prompt=" Yes.",
            max_tokens=4,
            extra_body={"plan": {"horizons": ["user"]}},
        )
    assert info.value.param == "plan.horizons"


@pytest.mark.parametrize("plan", [[1, 2], "sentence", 3])
async def test_a_plan_is_not_a_json_object(shared: MarkovServer, plan: object) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await shared.sdk.chat.completions.create(
            model=shared.model, messages=MESSAGES, max_tokens=4, extra_body={"plan": plan}
        )
    assert info.value.param == "plan"


@pytest.mark.parametrize("stream", [False, True])
async def test_a_taken_plan_id_is_a_400(markov: MarkovServer, stream: bool) -> None:
    plan = {"horizons": ["sentence"], "rollouts": 2, "id": "fixed-id"}
    body = {"messages": MESSAGES, "max_tokens": 4, "seed": 1, "plan": plan}
    first = await markov.http.post("/v1/chat/completions", json=body)
    assert first.status_code == 200, first.text
    assert first.json()["choices"][0]["plan"]["id"] == "fixed-id"
    again = await markov.http.post("/v1/chat/completions", json={**body, "stream": stream})
    assert again.status_code == 400
    assert again.json()["error"]["param"] == "plan.id"
    # n > 1 suffixes the id per choice; any of them taken refuses the request.
    many = {**body, "n": 2, "plan": {**plan, "id": "other-id"}}
    r = await markov.http.post("/v1/chat/completions", json=many)
    ids = [c["plan"]["id"] for c in r.json()["choices"]]
    assert len(set(ids)) == 2 and all(i.startswith("other-id") for i in ids)
    assert (await markov.http.post("/v1/chat/completions", json=many)).status_code == 400


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"assistant": ""}, "assistant"),
        ({"messages": []}, "messages"),
        ({"user": ""}, "user"),
        ({"temperature": 3}, "temperature"),
        ({"model": "gpt-17"}, "model"),
    ],
)
async def test_invalid_analyze_requests_are_400s(
    shared: MarkovServer, change: dict[str, Any], param: str
) -> None:
    body = {"messages": MESSAGES, "assistant": " No.", "plan": {"rollouts": 2}, **change}
    r = await shared.http.post("/v1/plans/analyze", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param
