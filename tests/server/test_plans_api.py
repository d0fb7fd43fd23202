"""Plans over the API through the official openai SDK, on the in-process Markov engine."""

from __future__ import annotations

import json
from typing import Any

import httpx
from markov_server import MarkovServer
from plan_shape import check_plan_shape, plan_of

PLAN = {"horizons": ["sentence", "turn"], "rollouts": 3, "max_lookahead_tokens": 24}
MESSAGES = [{"role": "user", "content": " Yes."}]


async def test_planned_chat_returns_a_plan_per_choice(markov: MarkovServer) -> None:
    r = await markov.sdk.chat.completions.create(
        model=markov.model, messages=MESSAGES, max_tokens=40, seed=1, n=2, extra_body={"plan": PLAN}
    )
    plans = [plan_of(c) for c in r.choices]
    for plan, choice in zip(plans, r.choices, strict=True):
        check_plan_shape(plan, ["sentence", "turn"])
        assert plan["text"] == choice.message.content
        assert plan["model"] == markov.model
    assert plans[0]["id"] != plans[1]["id"]
    assert plans[0]["conversation"] == plans[1]["conversation"]
    scored = [s for s in plans[0]["scores"] if s["horizon"] == "sentence"]
    assert scored, "the realised sentence endings were not scored"
    # Planning never changes the text: the same request without a plan says the same.
    plain = await markov.sdk.chat.completions.create(
        model=markov.model, messages=MESSAGES, max_tokens=40, seed=1, n=2
    )
    assert [c.message.content for c in plain.choices] == [c.message.content for c in r.choices]


async def test_plain_requests_carry_no_plan(markov: MarkovServer) -> None:
    r = await markov.http.post("/v1/chat/completions", json={"messages": MESSAGES, "max_tokens": 4})
    assert "plan" not in r.json() and "plan" not in r.json()["choices"][0]
    r = await markov.http.post("/v1/completions", json={"prompt": " Yes.", "max_tokens": 4})
    assert "plan" not in r.json() and "plan" not in r.json()["choices"][0]


async def test_streamed_plan_events_of_every_type(markov: MarkovServer) -> None:
    """What the README promises of a planned stream, for two choices and every event type."""
    plan = {**PLAN, "refresh": "token", "fork_threshold": 0.0, "clustering": "text"}
    body = {"messages": MESSAGES, "max_tokens": 10, "seed": 1, "n": 2, "stream": True}
    r = await markov.http.post("/v1/chat/completions", json={**body, "plan": plan})
    frames = r.text.split("\n\n")
    assert frames[-2:] == ["data: [DONE]", ""]
    chunks = [json.loads(f.removeprefix("data: ")) for f in frames[:-2]]
    events: dict[int, list[dict[str, Any]]] = {0: [], 1: []}
    texts = {0: "", 1: ""}
    for chunk in chunks:
        if "plan" in chunk:
            assert chunk["choices"] == [] and chunk["object"] == "chat.completion.chunk"
            event = chunk["plan"]
            assert set(event) >= {"index", "id", "type"}
            events[event["index"]].append(event)
        for c in chunk["choices"]:
            texts[c["index"]] += c["delta"]["content"] or ""
    kinds_seen: set[str] = set()
    for index, seen in events.items():
        *stream, final = seen
        assert final["type"] == "plan", "the last plan chunk of a choice is the whole plan"
        kinds_seen.update(e["type"] for e in stream)
        assert {e["id"] for e in seen} == {final["id"]}
        assert final["text"] == texts[index]
        check_plan_shape(final, ["sentence", "turn"])
        kinds = [e["type"] for e in stream]
        assert kinds.count("snapshot") == len(final["snapshots"])
        assert kinds.count("score") == len(final["scores"])
        assert kinds.count("fork") == len(final["forks"]) > 0
        snapshots = [e["snapshot"] for e in stream if e["type"] == "snapshot"]
        assert sorted(snapshots, key=lambda s: s["position"]) == final["snapshots"]
    assert kinds_seen == {"snapshot", "score", "fork"}
    assert events[0][-1]["id"] != events[1][-1]["id"]


async def test_streamed_plan_through_the_sdk(markov: MarkovServer) -> None:
    stream = await markov.sdk.chat.completions.create(
        model=markov.model,
        messages=MESSAGES,
        max_tokens=24,
        seed=2,
        stream=True,
        extra_body={"plan": {**PLAN, "refresh": 4, "rollouts_in_flight": 3}},
    )
    kinds: list[str] = []
    text = ""
    final: dict[str, Any] | None = None
    async for chunk in stream:
        plan = (chunk.model_extra or {}).get("plan")
        if plan is not None:
            assert chunk.choices == [] and plan["index"] == 0
            kinds.append(plan["type"])
            final = plan if plan["type"] == "plan" else final
        text += "".join(c.delta.content or "" for c in chunk.choices)
    assert final is not None and kinds[-1] == "plan" and kinds.count("plan") == 1
    assert final["text"] == text
    assert len(final["snapshots"]) == kinds.count("snapshot")
    assert final["snapshots"][0]["trigger"] == "start"


async def test_planned_text_completion(markov: MarkovServer) -> None:
    plan = {"horizons": ["sentence"], "rollouts": 2, "refresh": "sentence"}
    r = await markov.sdk.completions.create(
        model=markov.model, prompt=" Yes.", max_tokens=24, seed=3, extra_body={"plan": plan}
    )
    check_plan_shape(plan_of(r.choices[0]), ["sentence"])
    assert plan_of(r.choices[0])["text"] == r.choices[0].text
    chunks = [
        c
        async for c in await markov.sdk.completions.create(
            model=markov.model,
            prompt=" Yes.",
            max_tokens=12,
            seed=3,
            stream=True,
            extra_body={"plan": plan},
        )
    ]
    finals = [c for c in chunks if (c.model_extra or {}).get("plan", {}).get("type") == "plan"]
    assert len(finals) == 1 and finals[0].choices == []
    assert chunks.index(finals[0]) == len(chunks) - 1


async def test_plan_resources_round_trip(markov: MarkovServer) -> None:
    r = await markov.sdk.chat.completions.create(
        model=markov.model, messages=MESSAGES, max_tokens=16, seed=4, extra_body={"plan": PLAN}
    )
    plan = plan_of(r.choices[0])
    http = markov.http
    got = (await http.get(f"/v1/plans/{plan['id']}")).json()
    assert got["snapshots"] == plan["snapshots"] and got["scores"] == plan["scores"]
    again = await markov.sdk.chat.completions.create(
        model=markov.model, messages=MESSAGES, max_tokens=16, seed=5, extra_body={"plan": PLAN}
    )
    assert plan_of(again.choices[0])["conversation"] == plan["conversation"]
    listed = (await http.get("/v1/plans", params={"conversation": plan["conversation"]})).json()
    assert listed["object"] == "list"
    assert {p["id"] for p in listed["data"]} == {plan["id"], plan_of(again.choices[0])["id"]}
    created = [p["created"] for p in listed["data"]]
    assert created == sorted(created, reverse=True)
    deleted = (await http.delete(f"/v1/plans/{plan['id']}")).json()
    assert deleted == {"id": plan["id"], "object": "plan.deleted", "deleted": True}
    gone = await http.get(f"/v1/plans/{plan['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "plan_not_found"
    assert (await http.delete(f"/v1/plans/{plan['id']}")).status_code == 404
    nobody = (await http.get("/v1/plans", params={"conversation": "conv-none"})).json()
    assert nobody["data"] == []
    assert (await http.get("/v1/plans")).status_code == 400  # the conversation is required


async def test_second_turn_is_scored_against_the_first_turns_prediction(
    markov: MarkovServer,
) -> None:
    plan_cfg = {
        "horizons": ["turn", "user"],
        "rollouts": 3,
        "max_lookahead_tokens": 32,
        "refresh_every": {},  # see test_a_refresh_point_where_no_horizon_is_due
        "clustering": "text",  # long user turns: embedding them is seconds of CPU, not HTTP
    }
    first = await markov.sdk.chat.completions.create(
        model=markov.model, messages=MESSAGES, max_tokens=32, seed=5, extra_body={"plan": plan_cfg}
    )
    first_plan = plan_of(first.choices[0])
    reply = first.choices[0].message.content or ""
    messages = [
        *MESSAGES,
        {"role": "assistant", "content": reply},
        {"role": "user", "content": " No."},
    ]
    second = await markov.sdk.chat.completions.create(
        model=markov.model, messages=messages, max_tokens=8, seed=6, extra_body={"plan": plan_cfg}
    )
    previous = plan_of(second.choices[0])["previous_turn"]
    assert previous["plan_id"] == first_plan["id"]
    assert previous["assistant_matches"] is True
    assert previous["model_logprob"] < 0 and previous["model_tokens"] > 0
    assert previous["user"].strip() == "No."
    assert previous["predictions"]
    for prediction in previous["predictions"]:
        assert 0.0 <= prediction["probability"] <= 1.0
        assert prediction["log_score"] < 0
    stored = (await markov.http.get(f"/v1/plans/{first_plan['id']}")).json()
    assert stored["next_turn"]["plan_id"] == first_plan["id"]


async def test_analyze_plans_along_a_given_text(markov: MarkovServer) -> None:
    body = {
        "model": markov.model,
        "messages": MESSAGES,
        "assistant": " The cat sat. The dog ran!",
        "user": " Yes.",
        "plan": {
            "horizons": ["sentence", "turn", "user"],
            "rollouts": 3,
            "max_lookahead_tokens": 24,
            "include_rollouts": True,
        },
    }
    r = await markov.sdk.post("/plans/analyze", body=body, cast_to=httpx.Response)
    plan = r.json()["plan"]
    assert plan["text"] == body["assistant"]
    assert [s["trigger"] for s in plan["snapshots"]][:2] == ["start", "sentence"]
    assert plan["snapshots"][1]["text_offset"] == len(" The cat sat.")
    assert plan["snapshots"][0]["rollouts"] and len(plan["snapshots"][0]["rollouts"]) == 3
    sentences = [u["text"] for u in plan["realised"]["sentence"]]
    assert sentences == ["The cat sat.", "The dog ran!"]
    assert {"sentence", "turn", "user"} <= {s["horizon"] for s in plan["scores"]}
    user_scores = [s for s in plan["scores"] if s["horizon"] == "user"]
    assert user_scores
    assert all(s["model_logprob"] is not None and s["model_logprob"] < 0 for s in user_scores)


async def test_a_refresh_point_where_no_horizon_is_due(markov: MarkovServer) -> None:
    """Greedy text ends a sentence every 4 tokens; 'turn' is planned at every 4th point
    only, and the points between take no snapshot (they used to crash the request)."""
    plan = {"horizons": ["turn"], "rollouts": 2, "max_lookahead_tokens": 16}
    body = {"messages": MESSAGES, "max_tokens": 24, "temperature": 0, "plan": plan}
    r = await markov.http.post("/v1/chat/completions", json=body)
    assert r.status_code == 200, r.text
    snapshots = r.json()["choices"][0]["plan"]["snapshots"]
    assert snapshots[0]["position"] == 0 and "turn" in snapshots[0]["horizons"]
