"""Retries: only 408/409/429/5xx and connection errors, capped backoff, Retry-After obeyed."""

from __future__ import annotations

import email.utils
import time

import foresight_client as fc
import httpx
import pytest
from foresight_client import _constants, _retry
from sdk_helpers import Scripted, error, record_sleeps

OK = httpx.Response(200, json={"status": "ok"})


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retried_statuses(status: int, monkeypatch: pytest.MonkeyPatch) -> None:
    slept = record_sleeps(monkeypatch)
    server = Scripted(error(status, "try again", "server_error"), OK)
    with server.client() as client:
        assert client.health().status == "ok"
    assert len(server.requests) == 2 and len(slept) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(status: int, monkeypatch: pytest.MonkeyPatch) -> None:
    slept = record_sleeps(monkeypatch)
    server = Scripted(error(status, "no", "invalid_request_error", param="plan.rollouts"), OK)
    with server.client(max_retries=5) as client, pytest.raises(fc.APIError):
        client.chat([{"role": "user", "content": "Hi"}], plan={"rollouts": 0})
    assert len(server.requests) == 1 and slept == []


def test_gives_up_after_max_retries_with_capped_exponential_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slept = record_sleeps(monkeypatch)
    monkeypatch.setattr(_retry.random, "random", lambda: 0.0)  # no jitter
    server = Scripted(error(500, "down", "server_error"))
    with server.client(max_retries=6) as client, pytest.raises(fc.InternalServerError):
        client.health()
    assert len(server.requests) == 7
    assert slept == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert max(slept) == _constants.MAX_RETRY_DELAY


def test_jitter_only_shortens_the_delay() -> None:
    err = fc.InternalServerError("x", status_code=500)
    delays = [_retry.retry_delay(2, err) for _ in range(200)]
    assert all(1.5 <= d <= 2.0 for d in delays) and len(set(delays)) > 1


def test_max_retries_zero_sends_once(monkeypatch: pytest.MonkeyPatch) -> None:
    slept = record_sleeps(monkeypatch)
    server = Scripted(error(503, "busy", "service_unavailable"), OK)
    with server.client(max_retries=0) as client, pytest.raises(fc.OverloadedError):
        client.health()
    assert len(server.requests) == 1 and slept == []
    with pytest.raises(ValueError):
        fc.Client(max_retries=-1)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"Retry-After": "0"}, 0.0),
        ({"retry-after-ms": "250"}, 0.25),
        ({"Retry-After": "1.5"}, 1.5),
    ],
)
def test_retry_after_is_respected(
    headers: dict[str, str], expected: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept = record_sleeps(monkeypatch)
    server = Scripted(error(429, "slow down", "rate_limit_error", headers=headers), OK)
    with server.client() as client:
        client.health()
    assert slept == [expected]


def test_retry_after_as_an_http_date(monkeypatch: pytest.MonkeyPatch) -> None:
    slept = record_sleeps(monkeypatch)
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    server = Scripted(error(503, "busy", "service_unavailable", headers={"Retry-After": when}), OK)
    with server.client() as client:
        client.health()
    assert len(slept) == 1 and 3.0 < slept[0] <= 5.0


@pytest.mark.parametrize("value", ["3600", "soon", "-4"])
def test_unusable_retry_after_falls_back_to_backoff(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept = record_sleeps(monkeypatch)
    server = Scripted(error(429, "slow", "rate_limit_error", headers={"Retry-After": value}), OK)
    with server.client() as client:
        client.health()
    assert len(slept) == 1 and slept[0] <= _constants.INITIAL_RETRY_DELAY


def test_connection_errors_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    slept = record_sleeps(monkeypatch)
    server = Scripted(httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), OK)
    with server.client() as client:
        assert client.health().status == "ok"
    assert len(server.requests) == 3 and len(slept) == 2


async def test_async_retries_mirror_the_sync_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    slept = record_sleeps(monkeypatch)
    server = Scripted(
        error(429, "slow", "rate_limit_error", headers={"Retry-After": "2"}),
        httpx.ConnectError("refused"),
        OK,
    )
    async with server.async_client() as client:
        assert (await client.health()).status == "ok"
    assert len(server.requests) == 3 and slept[0] == 2.0
    bad = Scripted(error(400, "no", "invalid_request_error"), OK)
    async with bad.async_client() as client:
        with pytest.raises(fc.BadRequestError):
            await client.health()
    assert len(bad.requests) == 1


def test_mid_stream_errors_are_never_retried() -> None:
    err = fc.BadRequestError("x", type="invalid_request_error")  # no status: mid-stream
    assert not _retry.should_retry(err)
    assert not _retry.should_retry(fc.InternalServerError("x", type="server_error"))
