"""Bad input gets a 400 (404 for unknown routes) in the OpenAI error shape, never a 500.

On the in-process app with the Markov engine (``shared`` in this directory's conftest):
validation is the HTTP layer's, whatever engine answers.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from markov_engine import MarkovEngine, MarkovTokenizer
from markov_server import MarkovServer, markov_config, serve, wait_ready

MESSAGES = [{"role": "user", "content": " Yes."}]


def assert_error_shape(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    assert "Traceback" not in error["message"] and "/work" not in error["message"]
    assert ".py" not in error["message"]
    return dict(error)


@pytest.mark.parametrize("route", ["/v1/chat/completions", "/v1/completions"])
@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"[1, 2, 3]", b'"a string"', b"42", b"null"],
    ids=["malformed", "empty", "array", "string", "number", "null"],
)
async def test_bodies_that_are_not_json_objects(
    shared: MarkovServer, route: str, body: bytes
) -> None:
    r = await shared.http.post(route, content=body, headers={"content-type": "application/json"})
    error = assert_error_shape(r, 400)
    assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"temperature": 2.5}, "temperature"),
        ({"temperature": -0.1}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"extra_body": {"top_k": -2}}, "top_k"),
        ({"n": 0}, "n"),
        ({"n": 99}, "n"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"presence_penalty": 3}, "presence_penalty"),
        ({"top_logprobs": 50, "logprobs": True}, "top_logprobs"),
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"seed": "abc"}, "seed"),
        ({"max_tokens": "many"}, "max_tokens"),
        ({"stop": ""}, "stop"),
    ],
)
async def test_out_of_range_values_name_the_param(
    shared: MarkovServer, kwargs: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await shared.sdk.chat.completions.create(model=shared.model, messages=MESSAGES, **kwargs)
    assert info.value.status_code == 400
    assert info.value.param == param
    assert_error_shape(info.value.response, 400)


async def test_wrong_message_types(shared: MarkovServer) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await shared.sdk.chat.completions.create(
            model=shared.model,
            messages=[{"role": "wizard", "content": "x"}],  # type: ignore[list-item]
        )
    assert info.value.param is not None and info.value.param.startswith("messages[0]")
    with pytest.raises(openai.BadRequestError) as info:
        await shared.sdk.chat.completions.create(model=shared.model, messages=[])
    assert info.value.param == "messages"


async def test_missing_required_field(shared: MarkovServer) -> None:
    r = await shared.http.post("/v1/chat/completions", json={"max_tokens": 3})
    assert assert_error_shape(r, 400)["param"] == "messages"
    r = await shared.http.post("/v1/completions", json={"max_tokens": 3})
    assert assert_error_shape(r, 400)["param"] == "prompt"


async def test_unknown_model(shared: MarkovServer) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await shared.sdk.chat.completions.create(model="gpt-17", messages=MESSAGES)
    assert info.value.param == "model"
    assert info.value.code == "model_not_found"
    assert "gpt-17" in info.value.message and shared.model in info.value.message


async def test_max_tokens_beyond_context_gives_both_numbers(shared: MarkovServer) -> None:
    context = shared.engine.max_model_len
    prompt = len(MarkovTokenizer().encode("<user> Yes.<eos><assistant>"))
    with pytest.raises(openai.BadRequestError) as info:
        await shared.sdk.chat.completions.create(
            model=shared.model, messages=MESSAGES, max_tokens=context + 10
        )
    assert info.value.param == "max_tokens"
    assert info.value.code == "context_length_exceeded"
    assert str(context) in info.value.message
    assert str(prompt + context + 10) in info.value.message  # the tokens requested in all
    assert f"at most {context - prompt}" in info.value.message
    with pytest.raises(openai.BadRequestError) as info:
        await shared.sdk.completions.create(model=shared.model, prompt=" Yes", max_tokens=context)
    assert info.value.param == "max_tokens"
    # One token less than the context fits exactly.
    r = await shared.sdk.completions.create(
        model=shared.model, prompt=" Yes", max_tokens=context - 1, temperature=0, stop=["."]
    )
    assert r.choices[0].finish_reason == "stop"


async def test_prompt_longer_than_context(shared: MarkovServer) -> None:
    long_text = " Yes" * (shared.engine.max_model_len + 50)
    with pytest.raises(openai.BadRequestError) as info:
        await shared.sdk.chat.completions.create(
            model=shared.model, messages=[{"role": "user", "content": long_text}]
        )
    assert info.value.param == "messages"
    assert info.value.code == "context_length_exceeded"
    with pytest.raises(openai.BadRequestError) as info:
        await shared.sdk.completions.create(model=shared.model, prompt=long_text, max_tokens=1)
    assert info.value.param == "prompt"
    assert info.value.code == "context_length_exceeded"


async def test_bad_token_prompts(shared: MarkovServer) -> None:
    for prompt in ([10**9], [shared.engine.tokenizer.vocab_size], [-1], ""):
        with pytest.raises(openai.BadRequestError) as info:
            await shared.sdk.completions.create(model=shared.model, prompt=prompt, max_tokens=1)
        assert info.value.param == "prompt", prompt


async def test_text_the_tokenizer_refuses_is_a_400(shared: MarkovServer) -> None:
    """The Markov tokenizer cannot encode "Hi": the engine's refusal reaches the client as a
    400 in the error shape, not a 500."""
    r = await shared.http.post("/v1/completions", json={"prompt": "Hi", "max_tokens": 1})
    assert assert_error_shape(r, 400)["type"] == "invalid_request_error"


async def test_unknown_route_and_method(shared: MarkovServer) -> None:
    error = assert_error_shape(await shared.http.get("/v1/nothing-here"), 404)
    assert error["type"] == "not_found_error"
    assert_error_shape(await shared.http.get("/v1/chat/completions"), 405)


async def test_server_still_serves_after_bad_requests(shared: MarkovServer) -> None:
    for body in (b"{not json", b"[]"):
        await shared.http.post("/v1/chat/completions", content=body)
    r = await shared.sdk.chat.completions.create(
        model=shared.model, messages=MESSAGES, max_tokens=2
    )
    assert r.choices[0].message.content is not None
    assert r.usage is not None and r.usage.completion_tokens <= 2


async def test_engine_not_ready_is_a_503_in_the_error_shape(tmp_path: Path) -> None:
    """While the engine starts, and after it failed to start, generation routes answer 503."""
    started = threading.Event()  # the factory runs in a worker thread

    def slow() -> MarkovEngine:
        started.wait(timeout=60)
        return MarkovEngine()

    async with serve(markov_config(tmp_path / "plans.db"), slow) as (app, http):
        r = await http.post("/v1/chat/completions", json={"messages": MESSAGES})
        assert assert_error_shape(r, 503)["type"] == "service_unavailable"
        assert (await http.get("/ready")).json() == {"status": "starting"}
        assert (await http.get("/health")).json() == {"status": "ok"}
        started.set()
        await wait_ready(http, app)

    def broken() -> MarkovEngine:
        raise RuntimeError("no such device")

    async with serve(markov_config(tmp_path / "plans2.db"), broken) as (_, http):
        while (ready := await http.get("/ready")).json() == {"status": "starting"}:
            await asyncio.sleep(0.01)
        assert ready.status_code == 503 and ready.json() == {"status": "failed"}
        r = await http.post("/v1/completions", json={"prompt": " Yes"})
        error = assert_error_shape(r, 503)
        assert "failed" in error["message"]
