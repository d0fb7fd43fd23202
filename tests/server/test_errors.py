"""Bad input gets a 400 (404 for unknown routes) in the OpenAI error shape, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from live_server import LiveServer

MESSAGES = [{"role": "user", "content": "Hi"}]


def _assert_error_shape(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    assert "Traceback" not in error["message"] and "/work" not in error["message"]
    assert ".py" not in error["message"]
    return dict(error)


@pytest.fixture(scope="module")
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=60) as client:
        yield client


@pytest.mark.parametrize("route", ["/v1/chat/completions", "/v1/completions"])
@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"[1, 2, 3]", b'"a string"', b"42", b"null"],
    ids=["malformed", "empty", "array", "string", "number", "null"],
)
def test_bodies_that_are_not_json_objects(http: httpx.Client, route: str, body: bytes) -> None:
    r = http.post(route, content=body, headers={"content-type": "application/json"})
    error = _assert_error_shape(r, 400)
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
def test_out_of_range_values_name_the_param(
    client: openai.OpenAI, model: str, kwargs: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=model, messages=MESSAGES, **kwargs)
    assert info.value.status_code == 400
    assert info.value.param == param


def test_wrong_message_types(client: openai.OpenAI, model: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=model, messages=[{"role": "wizard", "content": "x"}])  # type: ignore[list-item]
    assert info.value.param is not None and info.value.param.startswith("messages[0]")
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=model, messages=[])
    assert info.value.param == "messages"


def test_missing_required_field(http: httpx.Client) -> None:
    r = http.post("/v1/chat/completions", json={"max_tokens": 3})
    error = _assert_error_shape(r, 400)
    assert error["param"] == "messages"
    r = http.post("/v1/completions", json={"max_tokens": 3})
    assert _assert_error_shape(r, 400)["param"] == "prompt"


def test_unknown_model(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-17", messages=MESSAGES)
    assert info.value.param == "model"
    assert info.value.code == "model_not_found"
    assert "gpt-17" in info.value.message


def test_max_tokens_beyond_context_gives_both_numbers(
    client: openai.OpenAI, model: str, live: LiveServer
) -> None:
    context = live.engine.max_model_len
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=model, messages=MESSAGES, max_tokens=context + 10)
    assert info.value.param == "max_tokens"
    assert info.value.code == "context_length_exceeded"
    assert str(context) in info.value.message
    assert str(context + 10) in info.value.message
    with pytest.raises(openai.BadRequestError) as info:
        client.completions.create(model=model, prompt="Hi", max_tokens=context)
    assert info.value.param == "max_tokens"


def test_prompt_longer_than_context(client: openai.OpenAI, model: str, live: LiveServer) -> None:
    long_text = "word " * (live.engine.max_model_len + 50)
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": long_text}]
        )
    assert info.value.param == "messages"
    assert info.value.code == "context_length_exceeded"
    with pytest.raises(openai.BadRequestError) as info:
        client.completions.create(model=model, prompt=long_text, max_tokens=1)
    assert info.value.param == "prompt"


def test_bad_token_prompts(client: openai.OpenAI, model: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.completions.create(model=model, prompt=[10**9], max_tokens=1)
    assert info.value.param == "prompt"
    with pytest.raises(openai.BadRequestError) as info:
        client.completions.create(model=model, prompt="", max_tokens=1)
    assert info.value.param == "prompt"


def test_unknown_route_and_method(http: httpx.Client) -> None:
    error = _assert_error_shape(http.get("/v1/nothing-here"), 404)
    assert error["type"] == "not_found_error"
    _assert_error_shape(http.get("/v1/chat/completions"), 405)


def test_server_still_serves_after_bad_requests(client: openai.OpenAI, model: str) -> None:
    r = client.chat.completions.create(model=model, messages=MESSAGES, max_tokens=2)
    assert r.choices[0].message.content is not None
