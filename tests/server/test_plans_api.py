"""Plans over the API through the official openai SDK, on the real engine."""

from __future__ import annotations

import math
from typing import Any

import httpx
import openai
import pytest
from live_server import LiveServer

PLAN = {"horizons": ["sentence", "turn"], "rollouts": 3, "max_lookahead_tokens": 24}
MESSAGES = [{"role": "user", "content": "Describe a cat in two short sentences."}]


def _plan(choice: Any) -> dict[str, Any]:
    extra = choice.model_extra or {}
    assert "plan" in extra, "choice carries no plan"
    return dict(extra["plan"])


def _check_plan_shape(plan: dict[str, Any], horizons: list[str]) -> None:
    assert plan["id"] and plan["object"] == "plan"
    assert plan["stored"] is True
    assert plan["snapshots"], "no snapshot"
    every = plan["config"]["refresh_every"]
    assert set(plan["snapshots"][0]["horizons"]) == set(horizons)  # the first plans them all
    for snapshot in plan["snapshots"]:
        # refresh_every thins long horizons; those due at every point are always there
        assert {h for h in horizons if every.get(h, 1) == 1} <= set(snapshot["horizons"])
        assert set(snapshot["horizons"]) <= set(horizons)
        assert snapshot["position"] >= 0 and snapshot["text_offset"] >= 0
        for h in snapshot["horizons"].values():
            total = sum(c["probability"] for c in h["candidates"])
            assert math.isclose(total + h["novel"], 1.0)
            assert h["fresh_rollouts"] + h["carried_rollouts"] == plan["config"]["rollouts"]
            assert h["entropy"] >= 0
            assert set(h["tokens_to_end"]) == {"mean", "p10", "p50", "p90"}
    for h in horizons:
        assert set(plan["comparison"][h]) >= {"n", "log_score", "top1_accuracy", "brier"}
        assert "tokens_to_end_mae" in plan["comparison"][h]
    stats = plan["stats"]
    assert stats["rollout_tokens"] > 0 and stats["wall_seconds"] > 0
    assert "carried_rollout_tokens" in stats
    assert "implicit" in plan and "forks" in plan and "realised" in plan


def test_planned_chat_returns_a_plan_per_choice(client: openai.OpenAI, model: str) -> None:
    short = [{"role": "user", "content": "What is 2+2? Answer in one short sentence."}]
    plan_cfg = {**PLAN, "max_lookahead_tokens": 32}
    r = client.chat.completions.create(
        model=model, messages=short, max_tokens=40, seed=1, n=2, extra_body={"plan": plan_cfg}
    )
    plans = [_plan(c) for c in r.choices]
    for plan in plans:
        _check_plan_shape(plan, ["sentence", "turn"])
    assert plans[0]["id"] != plans[1]["id"]
    assert plans[0]["text"] == r.choices[0].message.content
    scored = [s for s in plans[0]["scores"] if s["horizon"] == "sentence"]
    assert scored, "the realised sentence endings were not scored"


def test_plain_requests_carry_no_plan(client: openai.OpenAI, model: str) -> None:
    r = client.chat.completions.create(model=model, messages=MESSAGES, max_tokens=4)
    assert "plan" not in (r.choices[0].model_extra or {})


def test_streamed_plan_chunks_frame_the_text(client: openai.OpenAI, model: str) -> None:
    """What the stream promises: plan events are chunks of their own (empty choices), the
    text is never held back for them, and the complete plan comes last, after all text.
    Whether a snapshot overtakes the text is scheduling, not contract (plan pacing is
    issue #12's), so it is not asserted."""
    stream = client.chat.completions.create(
        model=model,
        messages=MESSAGES,
        max_tokens=48,
        seed=2,
        stream=True,
        extra_body={"plan": {**PLAN, "refresh": 4, "rollouts_in_flight": 3}},
    )
    kinds: list[str] = []
    text = ""
    final: dict[str, Any] | None = None
    for chunk in stream:
        plan = (chunk.model_extra or {}).get("plan")
        if plan is not None:
            assert chunk.choices == []
            assert plan["index"] == 0
            kinds.append(plan["type"])
            if plan["type"] == "plan":
                final = plan
        for c in chunk.choices:
            if c.delta.content:
                kinds.append("text")
                text += c.delta.content
    assert final is not None and kinds[-1] == "plan" and kinds.count("plan") == 1
    assert "text" in kinds and "snapshot" in kinds
    assert final["text"] == text
    assert len(final["snapshots"]) == kinds.count("snapshot")
    streamed_scores = kinds.count("score")
    assert streamed_scores == len(final["scores"])


def test_planned_text_completion(client: openai.OpenAI, model: str) -> None:
    r = client.completions.create(
        model=model,
        prompt="The sea is",
        max_tokens=24,
        seed=3,
        extra_body={"plan": {"horizons": ["sentence"], "rollouts": 2, "refresh": "sentence"}},
    )
    _check_plan_shape(_plan(r.choices[0]), ["sentence"])
    chunks = list(
        client.completions.create(
            model=model,
            prompt="The sea is",
            max_tokens=12,
            seed=3,
            stream=True,
            extra_body={"plan": {"horizons": ["sentence"], "rollouts": 2}},
        )
    )
    finals = [c for c in chunks if (c.model_extra or {}).get("plan", {}).get("type") == "plan"]
    assert len(finals) == 1


def test_plan_resources_round_trip(client: openai.OpenAI, model: str, live: LiveServer) -> None:
    r = client.chat.completions.create(
        model=model, messages=MESSAGES, max_tokens=16, seed=4, extra_body={"plan": PLAN}
    )
    plan = _plan(r.choices[0])
    with httpx.Client(base_url=live.url, timeout=30) as http:
        got = http.get(f"/v1/plans/{plan['id']}").json()
        assert got["snapshots"] == plan["snapshots"] and got["scores"] == plan["scores"]
        listed = http.get("/v1/plans", params={"conversation": plan["conversation"]}).json()
        ids = [p["id"] for p in listed["data"]]
        assert plan["id"] in ids
        created = [p["created"] for p in listed["data"]]
        assert created == sorted(created, reverse=True)
        assert http.delete(f"/v1/plans/{plan['id']}").json()["deleted"] is True
        gone = http.get(f"/v1/plans/{plan['id']}")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "plan_not_found"
        assert http.delete(f"/v1/plans/{plan['id']}").status_code == 404


def test_second_turn_is_scored_against_the_first_turns_prediction(
    client: openai.OpenAI, model: str
) -> None:
    plan_cfg = {"horizons": ["turn", "user"], "rollouts": 3, "max_lookahead_tokens": 32}
    first = client.chat.completions.create(
        model=model, messages=MESSAGES, max_tokens=32, seed=5, extra_body={"plan": plan_cfg}
    )
    first_plan = _plan(first.choices[0])
    reply = first.choices[0].message.content or ""
    messages = [
        *MESSAGES,
        {"role": "assistant", "content": reply},
        {"role": "user", "content": "Thanks! Now describe a dog."},
    ]
    second = client.chat.completions.create(
        model=model, messages=messages, max_tokens=8, seed=6, extra_body={"plan": plan_cfg}
    )
    previous = _plan(second.choices[0])["previous_turn"]
    assert previous["plan_id"] == first_plan["id"]
    assert previous["assistant_matches"] is True
    assert previous["model_logprob"] < 0 and previous["model_tokens"] > 0
    assert previous["user"] == "Thanks! Now describe a dog."
    for prediction in previous["predictions"]:
        assert 0.0 <= prediction["probability"] <= 1.0
        assert prediction["log_score"] < 0
    stored = client.get(f"/plans/{first_plan['id']}", cast_to=httpx.Response).json()
    assert stored["next_turn"]["plan_id"] == first_plan["id"]


def test_analyze_plans_along_a_given_text(client: openai.OpenAI, model: str) -> None:
    body = {
        "model": model,
        "messages": MESSAGES,
        "assistant": "A cat is a small furry animal. It likes to sleep in the sun.",
        "user": "What about dogs?",
        "plan": {
            "horizons": ["sentence", "turn", "user"],
            "rollouts": 3,
            "max_lookahead_tokens": 24,
            "include_rollouts": True,
        },
    }
    plan = client.post("/plans/analyze", body=body, cast_to=httpx.Response).json()["plan"]
    assert plan["text"] == body["assistant"]
    assert [s["trigger"] for s in plan["snapshots"]][:2] == ["start", "sentence"]
    assert plan["snapshots"][1]["text_offset"] == len("A cat is a small furry animal.")
    assert plan["snapshots"][0]["rollouts"] and len(plan["snapshots"][0]["rollouts"]) == 3
    sentences = [u["text"] for u in plan["realised"]["sentence"]]
    assert sentences == ["A cat is a small furry animal.", "It likes to sleep in the sun."]
    horizons = {s["horizon"] for s in plan["scores"]}
    assert {"sentence", "turn", "user"} <= horizons
    user_scores = [s for s in plan["scores"] if s["horizon"] == "user"]
    assert all(s["model_logprob"] is not None and s["model_logprob"] < 0 for s in user_scores)


@pytest.mark.parametrize(
    ("plan", "param"),
    [
        ({"rollouts": 0}, "plan.rollouts"),
        ({"rollouts": 10_000}, "plan.rollouts"),
        ({"rollouts": "many"}, "plan.rollouts"),
        ({"refresh": "never"}, "plan.refresh"),
        ({"refresh": 0}, "plan.refresh"),
        ({"horizons": ["century"]}, "plan.horizons[0]"),
        ({"horizons": []}, "plan.horizons"),
        ({"horizons": ["turn", "turn"]}, "plan.horizons"),
        ({"max_lookahead_tokens": 0}, "plan.max_lookahead_tokens"),
        ({"max_lookahead_tokens": 100_000}, "plan.max_lookahead_tokens"),
        ({"include_rollouts": "sometimes"}, "plan.include_rollouts"),
        ({"id": "has spaces"}, "plan.id"),
        ({"clustering": "vibes"}, "plan.clustering"),
        ({"colour": "blue"}, "plan.colour"),
        ({"horizons": ["sentence"], "refresh_every": {"turn": 2}}, "plan.refresh_every"),
        ({"refresh_every": {"turn": 0}}, "plan.refresh_every.turn"),
        ({"refresh_every": {"decade": 2}}, "plan.refresh_every.decade"),
        ({"rollouts_in_flight": 0}, "plan.rollouts_in_flight"),
    ],
)
def test_invalid_plan_fields_are_400s(
    client: openai.OpenAI, model: str, plan: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model=model, messages=MESSAGES, max_tokens=4, extra_body={"plan": plan}
        )
    assert info.value.param == param


def test_user_horizon_needs_a_chat(client: openai.OpenAI, model: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.completions.create(
            model=model, prompt="Hi", max_tokens=4, extra_body={"plan": {"horizons": ["user"]}}
        )
    assert info.value.param == "plan.horizons"


def test_a_plan_is_not_a_json_object(client: openai.OpenAI, model: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model=model, messages=MESSAGES, max_tokens=4, extra_body={"plan": [1, 2]}
        )
    assert info.value.param == "plan"
