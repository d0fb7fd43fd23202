"""Client and AsyncClient against a scripted server: what they send, what they parse."""

from __future__ import annotations

import json

import foresight_client as fc
import httpx
import pytest
from sdk_helpers import BASE, PLAN, Scripted, chat_body, error, plan_body, sse, text_chunk


def test_chat_parses_the_plan_into_typed_objects() -> None:
    server = Scripted(httpx.Response(200, json=chat_body()))
    with server.client() as client:
        reply = client.chat([{"role": "user", "content": "Hi"}], plan=True, max_tokens=16)
    assert isinstance(reply, fc.ChatCompletion)
    plan = reply.plan
    assert isinstance(plan, fc.Plan) and plan.id == PLAN["id"]
    assert reply.text == PLAN["text"] == plan.text
    snap = plan.snapshots[1]
    assert isinstance(snap, fc.Snapshot) and snap.trigger == "interval"
    sentence = snap.horizons["sentence"]
    assert isinstance(sentence, fc.HorizonSnapshot)
    assert isinstance(sentence.top, fc.Candidate)
    assert sum(c.probability for c in sentence.candidates) + sentence.novel == pytest.approx(1.0)
    assert isinstance(sentence.tokens_to_end, fc.TokensToEnd)
    assert isinstance(plan.snapshots[0].rollouts[0], fc.RolloutView)  # type: ignore[index]
    assert isinstance(plan.snapshots[0].implicit, fc.Implicit)
    assert isinstance(plan.scores[0], fc.Score) and isinstance(plan.forks[0], fc.Fork)
    assert isinstance(plan.comparison["sentence"], fc.Comparison)
    assert plan.comparison["sentence"].n == PLAN["comparison"]["sentence"]["n"]
    assert isinstance(plan.realised["sentence"][0], fc.Unit)
    assert isinstance(plan.implicit, fc.ImplicitSummary)
    assert isinstance(plan.stats, fc.PlanStats) and plan.stats.rollout_tokens > 0
    assert isinstance(plan.config, fc.PlanConfig) and plan.config.rollouts == 2
    previous = plan.previous_turn
    assert isinstance(previous, fc.NextTurn) and previous.user == "Another one?"
    assert isinstance(previous.predictions[0], fc.TurnPrediction)
    assert isinstance(previous.comparison, fc.Comparison)
    assert reply.usage == fc.Usage(prompt_tokens=57, completion_tokens=10, total_tokens=67)


def test_chat_sends_messages_plan_and_sampling_fields() -> None:
    server = Scripted(httpx.Response(200, json=chat_body()))
    plan = fc.PlanOptions(horizons=["sentence", "user"], rollouts=3, refresh=4)
    with server.client(model="default-model") as client:
        client.chat(
            [{"role": "user", "content": "Hi"}, fc.ChatMessage(content="Hello")],
            plan=plan,
            max_tokens=8,
            seed=1,
            stop=("\n", "."),
            temperature=None,  # type: ignore[typeddict-item]
            extra_body={"top_k": 5},
        )
    request = server.requests[0]
    assert request.method == "POST" and request.url == f"{BASE}/v1/chat/completions"
    assert server.json() == {
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
        ],
        "model": "default-model",
        "plan": {"horizons": ["sentence", "user"], "rollouts": 3, "refresh": 4},
        "max_tokens": 8,
        "seed": 1,
        "stop": ["\n", "."],
        "top_k": 5,
    }


@pytest.mark.parametrize(
    ("plan", "sent"),
    [
        (None, None),
        (False, None),
        (True, {}),
        ({"rollouts": 2, "colour": "blue"}, {"rollouts": 2, "colour": "blue"}),
        (fc.PlanOptions(id="p-1", include_rollouts=True), {"id": "p-1", "include_rollouts": True}),
    ],
)
def test_plan_argument_forms(plan: fc.PlanOptions | dict | bool | None, sent: dict | None) -> None:
    server = Scripted(httpx.Response(200, json={"choices": []}))
    with server.client() as client:
        client.chat([{"role": "user", "content": "Hi"}], plan=plan, model="m")
    assert server.json().get("plan") == sent
    assert server.json()["model"] == "m"


def test_complete_and_resources() -> None:
    completion = {"id": "cmpl-1", "choices": [{"index": 0, "text": " blue", "plan": plan_body()}]}
    listed = {"object": "list", "data": [plan_body(), plan_body()]}
    models = {"object": "list", "data": [{"id": "SmolLM2", "created": 1, "max_model_len": 2048}]}
    server = Scripted(
        httpx.Response(200, json=completion),
        httpx.Response(200, json=plan_body()),
        httpx.Response(200, json=listed),
        httpx.Response(200, json={"id": "p/1", "object": "plan.deleted", "deleted": True}),
        httpx.Response(200, json={"plan": plan_body()}),
        httpx.Response(200, json=models),
        httpx.Response(200, json={"status": "ok"}),
    )
    with server.client() as client:
        done = client.complete("The sky is", plan={"horizons": ["sentence"]}, max_tokens=4)
        assert done.text == " blue" and isinstance(done.plan, fc.Plan)
        assert client.plans.get(PLAN["id"]).id == PLAN["id"]
        plans = client.plans.list("conv-1", limit=5)
        assert [p.id for p in plans] == [PLAN["id"]] * 2
        assert client.plans.delete("p/1").deleted is True
        analyzed = client.plans.analyze(
            [{"role": "user", "content": "Hi"}], "Hello.", user="Bye.", plan=True, seed=3
        )
        assert isinstance(analyzed, fc.Plan)
        assert client.models()[0].max_model_len == 2048
        assert client.health().status == "ok"
    sent = [(r.method, r.url.raw_path.decode()) for r in server.requests]
    assert sent == [
        ("POST", "/v1/completions"),
        ("GET", f"/v1/plans/{PLAN['id']}"),
        ("GET", "/v1/plans?conversation=conv-1&limit=5"),
        ("DELETE", "/v1/plans/p%2F1"),  # quoted: an id cannot change the route
        ("POST", "/v1/plans/analyze"),
        ("GET", "/v1/models"),
        ("GET", "/health"),
    ]
    assert server.json(0) == {
        "prompt": "The sky is",
        "max_tokens": 4,
        "plan": {"horizons": ["sentence"]},
    }
    assert server.json(4) == {
        "messages": [{"role": "user", "content": "Hi"}],
        "assistant": "Hello.",
        "user": "Bye.",
        "plan": {},
        "seed": 3,
    }


async def test_async_client_mirrors_the_sync_one() -> None:
    server = Scripted(
        httpx.Response(200, json=chat_body()),
        httpx.Response(200, json={"choices": [{"text": "x"}]}),
        httpx.Response(200, json=plan_body()),
        httpx.Response(200, json={"object": "list", "data": [plan_body()]}),
        httpx.Response(200, json={"id": "a", "deleted": True}),
        httpx.Response(200, json={"plan": plan_body()}),
        httpx.Response(200, json={"data": [{"id": "m"}]}),
        httpx.Response(200, json={"status": "ok"}),
    )
    async with server.async_client(model="m") as client:
        reply = await client.chat([{"role": "user", "content": "Hi"}], plan=True)
        assert reply.plan is not None and reply.plan.previous_turn is not None
        assert (await client.complete([1, 2, 3])).text == "x"
        assert (await client.plans.get("a")).id == PLAN["id"]
        assert len(await client.plans.list("conv")) == 1
        assert (await client.plans.delete("a")).deleted
        assert isinstance(
            await client.plans.analyze([{"role": "user", "content": "Q"}], "A"), fc.Plan
        )
        assert [m.id for m in await client.models()] == ["m"]
        assert (await client.health()).status == "ok"
    assert server.json(1) == {"prompt": [1, 2, 3], "model": "m"}
    assert [r.url.path for r in server.requests][-2:] == ["/v1/models", "/health"]


async def test_every_turn_of_a_conversation_carries_the_same_affinity_header() -> None:
    first = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    later = [*first, {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "?"}]
    other = [{"role": "user", "content": "Something else"}]

    def answer(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content).get("stream"):
            return httpx.Response(200, content=b"".join(sse(text_chunk("Hi"))))
        if request.url.path == "/v1/plans/analyze":
            return httpx.Response(200, json={"plan": plan_body()})
        return httpx.Response(200, json=chat_body())

    server = Scripted(answer)
    with server.client() as client:
        client.chat(first)
        client.chat(later)
        client.chat(other)
    async with server.async_client() as client:
        await client.chat(later)
        async with client.stream_chat(later) as stream:
            assert [e.type async for e in stream] == ["text"]
        await client.plans.analyze(first, "Hello!", user="?")
    keys = [r.headers.get("X-Foresight-Conversation") for r in server.requests]
    assert keys[0] is not None and keys[0].startswith("conv-")
    assert keys[1] == keys[3] == keys[4] == keys[5] == keys[0]
    assert keys[2] != keys[0]


def test_configuration_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORESIGHT_BASE_URL", "http://env.test:9000/v1/")
    monkeypatch.setenv("FORESIGHT_API_KEY", "sk-env")
    server = Scripted(httpx.Response(200, json={"status": "ok"}))
    with fc.Client(transport=httpx.MockTransport(server)) as client:
        assert client.base_url == "http://env.test:9000"
        client.health()
    request = server.requests[0]
    assert str(request.url) == "http://env.test:9000/health"
    assert request.headers["authorization"] == "Bearer sk-env"
    assert request.headers["user-agent"] == f"foresight-client/{fc.__version__}"


def test_arguments_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORESIGHT_BASE_URL", "http://env.test")
    monkeypatch.setenv("FORESIGHT_API_KEY", "sk-env")
    server = Scripted(httpx.Response(200, json={"status": "ok"}))
    client = fc.Client(
        base_url="http://arg.test",
        api_key="sk-arg",
        default_headers={"X-Trace": "1"},
        transport=httpx.MockTransport(server),
    )
    with client:
        client.health()
    request = server.requests[0]
    assert request.url.host == "arg.test"
    assert request.headers["authorization"] == "Bearer sk-arg"
    assert request.headers["x-trace"] == "1"


def test_defaults_without_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORESIGHT_BASE_URL", raising=False)
    monkeypatch.delenv("FORESIGHT_API_KEY", raising=False)
    server = Scripted(httpx.Response(200, json={"status": "ok"}))
    with fc.Client(transport=httpx.MockTransport(server)) as client:
        assert client.base_url == "http://127.0.0.1:8000"
        assert client.max_retries == 2 and client.timeout.read == 600.0  # type: ignore[union-attr]
        client.health()
    assert "authorization" not in server.requests[0].headers


def test_models_keep_unknown_fields_and_tolerate_missing_optional_ones() -> None:
    body = plan_body()
    body["new_field"] = {"from": "a newer server"}
    body["snapshots"][0]["horizons"]["sentence"]["novelty"] = 0.5
    del body["stats"], body["implicit"], body["snapshots"][0]["implicit"]
    plan = fc.Plan.model_validate(body)
    assert plan.model_extra == {"new_field": {"from": "a newer server"}}
    assert plan.snapshots[0].horizons["sentence"].model_extra == {"novelty": 0.5}
    assert plan.stats == fc.PlanStats() and plan.snapshots[0].implicit is None
    assert json.loads(plan.to_json())["new_field"] == {"from": "a newer server"}
    bare = fc.Plan.model_validate({"id": "p"})
    assert (
        bare.snapshots == [] and bare.previous_turn is None and bare.stats.carried_fraction is None
    )


def test_a_success_with_an_unexpected_body_raises() -> None:
    server = Scripted(httpx.Response(200, text="<html>proxy page</html>"))
    with server.client() as client, pytest.raises(fc.APIResponseValidationError) as info:
        client.plans.get("p")
    assert info.value.status_code == 200 and "proxy page" in info.value.body


def test_empty_plan_id_is_refused_before_sending() -> None:
    server = Scripted(httpx.Response(200, json={}))
    with server.client() as client, pytest.raises(ValueError):
        client.plans.get("")
    assert server.requests == []


def test_plan_options_leave_validation_to_the_server() -> None:
    server = Scripted(
        error(400, "plan.rollouts must be at most 16.", "invalid_request_error", "plan.rollouts")
    )
    plan = fc.PlanOptions(rollouts=0, horizons=["century"])  # not refused client-side
    with server.client() as client, pytest.raises(fc.BadRequestError) as info:
        client.chat([{"role": "user", "content": "Hi"}], plan=plan)
    assert info.value.param == "plan.rollouts"
    assert server.json()["plan"] == {"rollouts": 0, "horizons": ["century"]}
