"""The Python SDK against a real server on the real engine: sync and async clients."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator

import foresight_client as fc
import pytest
from live_server import LiveServer

PLAN = fc.PlanOptions(horizons=["sentence", "turn"], rollouts=3, max_lookahead_tokens=24)
# Not the first message of tests/server: conversations (and their plans) are found by hash.
MESSAGES = [{"role": "user", "content": "Describe a kitten in two short sentences."}]


@pytest.fixture(scope="module")
def sdk(live: LiveServer, model: str) -> Iterator[fc.Client]:
    with fc.Client(base_url=live.url, model=model, max_retries=0) as client:
        yield client


def _check_plan(plan: fc.Plan | None, horizons: list[str]) -> fc.Plan:
    assert isinstance(plan, fc.Plan) and plan.id and plan.stored
    assert plan.snapshots, "no snapshot"
    assert sorted(plan.snapshots[0].horizons) == sorted(horizons)  # the first plans all
    for snap in plan.snapshots:
        assert "sentence" in snap.horizons and set(snap.horizons) <= set(horizons)
        for h in snap.horizons.values():
            assert math.isclose(sum(c.probability for c in h.candidates) + h.novel, 1.0)
            assert h.fresh_rollouts + h.carried_rollouts == plan.config.rollouts
    assert set(plan.comparison) <= set(horizons)
    assert plan.stats.rollout_tokens > 0
    rows = plan.rows()
    assert len(rows) == sum(len(snap.horizons) for snap in plan.snapshots)
    assert fc.Plan.model_validate_json(plan.to_json()) == plan
    return plan


def test_health_and_models(sdk: fc.Client, model: str) -> None:
    assert sdk.health().status == "ok"
    (card,) = sdk.models()
    assert card.id == model and card.max_model_len


def test_chat_with_a_plan(sdk: fc.Client) -> None:
    short = [{"role": "user", "content": "What is 2+2? Answer in one short sentence."}]
    reply = sdk.chat(short, plan=PLAN.model_copy(update={"refresh": 4}), max_tokens=32, seed=1)
    plan = _check_plan(reply.plan, ["sentence", "turn"])
    assert plan.text == reply.text and reply.usage is not None
    # A sampled reply may end or be cut (bf16 batch rounding varies it): both are valid.
    assert reply.choices[0].finish_reason in ("stop", "length")
    sentences = [s for s in plan.scores if s.horizon == "sentence"]
    sentence = plan.comparison["sentence"]  # endings that close the reply are counted apart
    assert sentence.n + sentence.ends_reply_n == len(sentences)
    if plan.realised.get("sentence"):
        assert sentences, "a sentence ended but no snapshot's prediction of it was scored"
    rows = {(r["position"], r["horizon"]): r for r in plan.rows()}
    for score in plan.scores:
        assert rows[(score.position, score.horizon)]["log_score"] == score.log_score


def test_plain_chat_has_no_plan(sdk: fc.Client) -> None:
    reply = sdk.chat(MESSAGES, max_tokens=4)
    assert reply.plan is None and reply.text


def test_streamed_chat_yields_typed_events_and_the_final_plan(sdk: fc.Client) -> None:
    plan = PLAN.model_copy(update={"refresh": 4})
    events: list[fc.StreamEvent] = []
    with sdk.stream_chat(MESSAGES, plan=plan, max_tokens=24, seed=2) as stream:
        for event in stream:
            events.append(event)
    kinds = [e.type for e in events]
    assert kinds[-1] == "usage" and "plan" in kinds and "text" in kinds and "snapshot" in kinds
    final = _check_plan(stream.plan, ["sentence", "turn"])
    assert final.text == stream.text
    assert kinds.count("snapshot") == len(final.snapshots)
    streamed = [e.snapshot for e in events if isinstance(e, fc.SnapshotEvent)]
    # Each snapshot is streamed when it is ready, which is not always in position order.
    assert sorted(streamed, key=lambda s: s.position) == final.snapshots
    assert stream.usage is not None and stream.usage.completion_tokens == final.completion_tokens
    assert stream.response is not None and stream.response.is_closed


def test_breaking_out_of_a_stream_closes_it_and_the_server_goes_on(sdk: fc.Client) -> None:
    stream = sdk.stream_chat(MESSAGES, plan=PLAN, max_tokens=32, seed=3)
    for event in stream:
        if isinstance(event, fc.TextDelta) and event.text:
            break
    assert stream.response is not None and stream.response.is_closed
    assert sdk.chat(MESSAGES, max_tokens=2).text


def test_text_completion_with_a_plan(sdk: fc.Client) -> None:
    done = sdk.complete("The sea is", plan={"horizons": ["sentence"], "rollouts": 2}, max_tokens=16)
    _check_plan(done.plan, ["sentence"])
    assert done.text == done.plan.text  # type: ignore[union-attr]


def test_plan_resources(sdk: fc.Client) -> None:
    plan = sdk.chat(MESSAGES, plan=PLAN, max_tokens=12, seed=4).plan
    assert plan is not None and plan.conversation
    got = sdk.plans.get(plan.id)
    assert got.snapshots == plan.snapshots and got.scores == plan.scores
    listed = sdk.plans.list(plan.conversation, limit=50)
    assert plan.id in [p.id for p in listed]
    created = [p.created for p in listed]
    assert created == sorted(created, reverse=True)  # type: ignore[type-var]
    assert sdk.plans.delete(plan.id) == fc.PlanDeleted(id=plan.id, deleted=True)
    with pytest.raises(fc.NotFoundError) as info:
        sdk.plans.get(plan.id)
    assert info.value.code == "plan_not_found" and info.value.status_code == 404
    with pytest.raises(fc.NotFoundError):
        sdk.plans.delete(plan.id)


def test_analyze_a_given_reply(sdk: fc.Client) -> None:
    assistant = "A cat is a small furry animal. It likes to sleep in the sun."
    plan = sdk.plans.analyze(
        MESSAGES,
        assistant,
        user="What about dogs?",
        plan={"horizons": ["sentence", "turn", "user"], "rollouts": 2, "max_lookahead_tokens": 24},
        seed=5,
    )
    assert plan.text == assistant
    assert [u.text for u in plan.realised["sentence"]] == [
        "A cat is a small furry animal.",
        "It likes to sleep in the sun.",
    ]
    assert {"sentence", "turn", "user"} <= {s.horizon for s in plan.scores}


def test_two_turns_show_the_previous_turn(sdk: fc.Client) -> None:
    plan = fc.PlanOptions(horizons=["turn", "user"], rollouts=3, max_lookahead_tokens=24)
    first = sdk.chat(MESSAGES, plan=plan, max_tokens=24, seed=6)
    assert first.plan is not None and first.plan.previous_turn is None
    messages = [
        *MESSAGES,
        first.choices[0].message,  # a response message goes back as it is
        {"role": "user", "content": "Thanks! Now describe a dog."},
    ]
    with sdk.stream_chat(messages, plan=plan, max_tokens=8, seed=7) as stream:
        stream.until_done()
    previous = stream.plan.previous_turn  # type: ignore[union-attr]
    assert isinstance(previous, fc.NextTurn)
    assert previous.plan_id == first.plan.id and previous.assistant_matches
    assert previous.user == "Thanks! Now describe a dog."
    assert previous.model_logprob is not None and previous.model_logprob < 0
    assert all(0.0 <= p.probability <= 1.0 for p in previous.predictions)
    stored = sdk.plans.get(first.plan.id)
    assert stored.next_turn is not None and stored.next_turn.plan_id == first.plan.id


def test_a_bad_plan_is_a_bad_request_naming_the_field(sdk: fc.Client) -> None:
    with pytest.raises(fc.BadRequestError) as info:
        sdk.chat(MESSAGES, plan={"rollouts": 10_000}, max_tokens=4)
    err = info.value
    assert err.param == "plan.rollouts" and err.status_code == 400
    assert err.type == "invalid_request_error"
    with pytest.raises(fc.BadRequestError) as info:
        sdk.chat(MESSAGES, model="no-such-model", max_tokens=4)
    assert info.value.param == "model" and info.value.code == "model_not_found"


def test_a_duplicate_plan_id_is_a_400_streaming_or_not(sdk: fc.Client) -> None:
    # The id is checked before any response starts, so a stream gets a plain 400 too.
    plan_id = f"sdk-{uuid.uuid4().hex[:8]}"
    planned = PLAN.model_copy(update={"id": plan_id})
    sdk.chat(MESSAGES, plan=planned, max_tokens=4)
    with pytest.raises(fc.BadRequestError) as info:
        sdk.chat(MESSAGES, plan=planned, max_tokens=4)
    assert info.value.param == "plan.id" and info.value.status_code == 400
    with pytest.raises(fc.BadRequestError) as info:
        sdk.stream_chat(MESSAGES, plan=planned, max_tokens=4).until_done()
    assert info.value.param == "plan.id" and info.value.status_code == 400


async def test_the_async_client_does_the_same(live: LiveServer, model: str) -> None:
    async with fc.AsyncClient(base_url=f"{live.url}/v1", max_retries=0) as client:
        assert (await client.health()).status == "ok"
        assert [m.id for m in await client.models()] == [model]
        reply = await client.chat(MESSAGES, plan=PLAN, max_tokens=16, seed=8)
        plan = _check_plan(reply.plan, ["sentence", "turn"])
        kinds: list[str] = []
        async with client.stream_chat(MESSAGES, plan=PLAN, max_tokens=16, seed=9) as stream:
            async for event in stream:
                kinds.append(event.type)
        assert "snapshot" in kinds and stream.plan is not None and stream.plan.text == stream.text
        assert stream.response is not None and stream.response.is_closed
        done = await client.complete("Once upon a time", max_tokens=4)
        assert done.text and done.plan is None
        assert (await client.plans.get(plan.id)).id == plan.id
        assert plan.id in [p.id for p in await client.plans.list(plan.conversation or "")]
        analyzed = await client.plans.analyze(
            MESSAGES, "Cats purr.", plan={"horizons": ["sentence"], "rollouts": 2}
        )
        assert analyzed.text == "Cats purr."
        assert (await client.plans.delete(plan.id)).deleted
        with pytest.raises(fc.BadRequestError) as info:
            await client.chat(MESSAGES, plan={"rollouts": 0}, max_tokens=4)
        assert info.value.param == "plan.rollouts"


def test_rows_of_a_real_plan_are_json_ready(sdk: fc.Client) -> None:
    plan = sdk.chat(MESSAGES, plan=PLAN, max_tokens=12, seed=10).plan
    assert plan is not None
    rows = fc.plan_rows(plan)
    assert json.loads(json.dumps(rows)) == rows
    assert {r["horizon"] for r in rows} == {"sentence", "turn"}
