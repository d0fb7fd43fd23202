"""Each error answer becomes the right exception, with the OpenAI error fields on it."""

from __future__ import annotations

import foresight_client as fc
import httpx
import pytest
from sdk_helpers import Scripted, error


@pytest.mark.parametrize(
    ("status", "type_", "cls"),
    [
        (400, "invalid_request_error", fc.BadRequestError),
        (401, "authentication_error", fc.AuthenticationError),
        (403, "permission_error", fc.PermissionDeniedError),
        (404, "not_found_error", fc.NotFoundError),
        (409, "conflict", fc.ConflictError),
        (422, "invalid_request_error", fc.BadRequestError),
        (429, "rate_limit_error", fc.RateLimitError),
        (500, "server_error", fc.InternalServerError),
        (502, "server_error", fc.InternalServerError),
        (503, "service_unavailable", fc.OverloadedError),
        (529, "overloaded_error", fc.OverloadedError),
        (418, "teapot", fc.APIError),
    ],
)
def test_each_status_maps_to_its_exception(status: int, type_: str, cls: type[fc.APIError]) -> None:
    answer = error(status, "it went wrong", type_, param="plan.rollouts", code="some_code")
    server = Scripted(answer)
    with server.client(max_retries=0) as client, pytest.raises(cls) as info:
        client.chat([{"role": "user", "content": "Hi"}])
    err = info.value
    assert type(err) is cls
    assert isinstance(err, fc.APIError) and isinstance(err, fc.ForesightError)
    assert (err.status_code, err.type, err.param, err.code) == (
        status,
        type_,
        "plan.rollouts",
        "some_code",
    )
    assert err.message == "it went wrong"
    assert err.response is not None and err.body["error"]["message"] == "it went wrong"
    assert str(err) == f"{status} it went wrong (param: plan.rollouts)"


def test_overloaded_is_a_server_error() -> None:
    assert issubclass(fc.OverloadedError, fc.InternalServerError)
    assert issubclass(fc.APITimeoutError, fc.APIConnectionError)
    assert not issubclass(fc.APIConnectionError, fc.APIError)


def test_an_error_body_that_is_not_json() -> None:
    server = Scripted(httpx.Response(502, text="Bad Gateway from the proxy"))
    with server.client(max_retries=0) as client, pytest.raises(fc.InternalServerError) as info:
        client.health()
    err = info.value
    assert err.message == "Bad Gateway from the proxy" and err.param is None and err.type is None
    assert err.body == "Bad Gateway from the proxy"


def test_an_empty_error_body_uses_the_reason_phrase() -> None:
    server = Scripted(httpx.Response(404))
    with server.client(max_retries=0) as client, pytest.raises(fc.NotFoundError) as info:
        client.plans.get("gone")
    assert info.value.message == "Not Found"


def test_connection_errors_and_timeouts() -> None:
    refused = Scripted(httpx.ConnectError("connection refused"))
    with refused.client(max_retries=0) as client, pytest.raises(fc.APIConnectionError) as info:
        client.health()
    assert type(info.value) is fc.APIConnectionError and "refused" in str(info.value)
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert info.value.request is not None and info.value.request.url.path == "/health"
    slow = Scripted(httpx.ReadTimeout("timed out"))
    with slow.client(max_retries=0) as client, pytest.raises(fc.APITimeoutError):
        client.health()


async def test_async_errors_are_the_same() -> None:
    server = Scripted(error(404, "No plan with id 'x'.", "not_found_error", code="plan_not_found"))
    async with server.async_client(max_retries=0) as client:
        with pytest.raises(fc.NotFoundError) as info:
            await client.plans.get("x")
    assert info.value.code == "plan_not_found" and info.value.status_code == 404
    refused = Scripted(httpx.ConnectError("refused"))
    async with refused.async_client(max_retries=0) as client:
        with pytest.raises(fc.APIConnectionError):
            await client.models()
